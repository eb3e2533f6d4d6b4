// A build's settings, resolved once from what the caller gave (flags, library options) over the
// config file: one clock, durations in milliseconds, the retention a build and a mirror's keep
// together imply, which derived files to make. Below this, nothing reads both flags and config.
// Pure: the clock is an input.

import path from 'node:path';
import { parseDuration } from '../util/duration.js';
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
  retain?: number;
  retainDays?: number;
  /** A mirror's --keep: a build keeps no more versions than it copies. */
  mirrorKeep?: number;
  grace?: string;
  dryRun?: boolean;
  site?: boolean;
}

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
  make: { deltas: boolean; lxc: boolean };
  retention: { keep?: number; days?: number };
  grace: { text: string; ms: number };
  dryRun: boolean;
  site: boolean;
}

/** The default server-config folder: a sibling of the output named after it (dist → dist-server-config). */
export function defaultServerConfigDir(out: string): string {
  const resolved = path.resolve(out);
  return path.join(path.dirname(resolved), `${path.basename(resolved)}-server-config`);
}

/** `clock`: the time when the caller gave none. */
export function resolveBuild(given: GivenSettings, config: Config, clock: () => Date = () => new Date()): Settings {
  const dryRun = given.dryRun === true;
  const keeps = [given.retain ?? config.retention.keep, given.mirrorKeep].filter((n): n is number => n !== undefined);
  const grace = given.grace ?? config.retention.grace;
  const days = given.retainDays ?? config.retention.days;
  return {
    now: given.now ?? clock(),
    ...((given.baseUrl ?? config.base_url) ? { baseUrl: given.baseUrl ?? config.base_url } : {}),
    targets: given.targets ?? config.targets,
    serverConfigDir: given.serverConfig ?? config.server_config ?? defaultServerConfigDir(given.out),
    deltas: given.deltas ?? config.deltas,
    lxc: given.lxc ?? config.lxc,
    make: { deltas: (given.deltas ?? config.deltas) && !dryRun, lxc: (given.lxc ?? config.lxc) && !dryRun },
    retention: { ...(keeps.length ? { keep: Math.min(...keeps) } : {}), ...(days !== undefined ? { days } : {}) },
    grace: { text: grace, ms: parseDuration(grace, '--grace') },
    dryRun,
    site: given.site !== false,
  };
}
