// A build's settings, resolved once from what the caller gave (flags, library options) over the
// config file: one clock, durations in milliseconds, the retention a build and a mirror's keep
// together imply, which derived files to make. Below this, nothing reads both flags and config.
// Pure: the clock is an input.

import path from 'node:path';
import { parseDuration } from '../util/duration.js';
import { UsageError } from '../util/errors.js';
import type { Config, Target } from './config.js';

/** What the caller gave; undefined means "as the config says". */
export interface GivenSettings {
  out: string;
  now?: Date;
  baseUrl?: string;
  targets?: Target[];
  serverConfig?: string;
  deltas?: boolean;
  lxc?: boolean;
  manifests?: boolean;
  retain?: number;
  retainDays?: number;
  /** A mirror's --keep: a build keeps no more versions than it copies. */
  mirrorKeep?: number;
  grace?: string;
  dryRun?: boolean;
  site?: boolean;
  /** --sign-key FILE: an OpenPGP secret key to sign the tree with. */
  signKey?: string;
  /** The environment (STATICSTREAMS_SIGNING_KEY, STATICSTREAMS_SIGNING_PASSPHRASE). */
  env?: Record<string, string | undefined>;
}

/** Where the signing key comes from: a file, or the text of an environment variable. */
export type KeySource = { file: string; passphrase?: string } | { env: string; text: string; passphrase?: string };

export interface Settings {
  /** The one clock of the build: retention, grace periods, the site's build date. */
  now: Date;
  baseUrl?: string;
  targets: Target[];
  serverConfigDir: string;
  /** Squashfs deltas / LXC's files asked for. */
  deltas: boolean;
  lxc: boolean;
  /** What this run makes of them (nothing in a dry run). */
  make: { deltas: boolean; lxc: boolean; manifests: boolean };
  retention: { keep?: number; days?: number };
  grace: { text: string; ms: number };
  dryRun: boolean;
  site: boolean;
  /** Sign the tree with this key (read and checked before anything is written). */
  signing?: KeySource;
  /** A private tree: the htpasswd file of its users (auth.htpasswd). */
  htpasswd?: string;
}

export const SIGNING_KEY_ENV = 'STATICSTREAMS_SIGNING_KEY';
export const SIGNING_PASSPHRASE_ENV = 'STATICSTREAMS_SIGNING_PASSPHRASE';

/** The key to sign with: --sign-key FILE, else STATICSTREAMS_SIGNING_KEY, else the config's signing.key_file. */
export function keySource(given: Pick<GivenSettings, 'signKey' | 'env'>, config: Config): KeySource | undefined {
  const env = given.env ?? {};
  const passphrase = env[SIGNING_PASSPHRASE_ENV] !== undefined ? { passphrase: env[SIGNING_PASSPHRASE_ENV] } : {};
  if (given.signKey) return { file: given.signKey, ...passphrase };
  const text = env[SIGNING_KEY_ENV];
  // Set but empty: an unset CI secret, or a key file never written. Signing must not switch off quietly.
  if (text !== undefined && text.trim() === '')
    throw new UsageError(
      `${SIGNING_KEY_ENV} is set but empty (an unset CI secret?): the tree would not be signed\n  fix: give it the armored secret key (gpg --armor --export-secret-keys KEYID), or unset it to build without signing`,
    );
  if (text !== undefined) return { env: SIGNING_KEY_ENV, text, ...passphrase };
  if (config.signing) return { file: config.signing.key_file, ...passphrase };
  return undefined;
}

/** The default server-config folder: a sibling of the output named after it (dist → dist-server-config). */
export function defaultServerConfigDir(out: string): string {
  const resolved = path.resolve(out);
  return path.join(path.dirname(resolved), `${path.basename(resolved)}-server-config`);
}

/** With --target bucket the tree is served at the bucket's public URL and prefix: the base URL when none is given. */
function bucketBaseUrl(targets: readonly Target[], config: Config): string | undefined {
  const storage = config.object_storage;
  if (!targets.includes('bucket') || !storage) return undefined;
  return `${storage.public_url.replace(/\/+$/, '')}/${storage.prefix}`.replace(/\/+$/, '');
}

/** `clock`: the time when the caller gave none. */
export function resolveBuild(given: GivenSettings, config: Config, clock: () => Date = () => new Date()): Settings {
  const dryRun = given.dryRun === true;
  const keeps = [given.retain ?? config.retention.keep, given.mirrorKeep].filter((n): n is number => n !== undefined);
  const grace = given.grace ?? config.retention.grace;
  const days = given.retainDays ?? config.retention.days;
  const signing = keySource(given, config);
  return {
    now: given.now ?? clock(),
    ...((given.baseUrl ?? config.base_url ?? bucketBaseUrl(given.targets ?? config.targets, config))
      ? { baseUrl: given.baseUrl ?? config.base_url ?? bucketBaseUrl(given.targets ?? config.targets, config) }
      : {}),
    targets: given.targets ?? config.targets,
    serverConfigDir: given.serverConfig ?? config.server_config ?? defaultServerConfigDir(given.out),
    deltas: given.deltas ?? config.deltas,
    lxc: given.lxc ?? config.lxc,
    make: {
      deltas: (given.deltas ?? config.deltas) && !dryRun,
      lxc: (given.lxc ?? config.lxc) && !dryRun,
      manifests: (given.manifests ?? config.manifests) && !dryRun,
    },
    retention: { ...(keeps.length ? { keep: Math.min(...keeps) } : {}), ...(days !== undefined ? { days } : {}) },
    grace: { text: grace, ms: parseDuration(grace, '--grace') },
    dryRun,
    site: given.site !== false,
    ...(signing ? { signing } : {}),
    ...(config.auth ? { htpasswd: config.auth.htpasswd } : {}),
  };
}
