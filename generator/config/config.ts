// The one schema for staticstreams.yaml: per-product overrides (aliases, titles, support,
// requirements) and build defaults. Loaded and validated at the edge; everything else gets typed data.

import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { UsageError } from '../util/errors.js';
import { parseWith } from '../util/friendly.js';
import { aliasSchema, durationSchema, httpUrlSchema } from './atoms.js';
import { STATE_PATH } from '../formats/state.js';
import { filterProblem } from './filters.js';
import { VERSION_FORMATS } from '../simplestreams/version-key.js';

const productOverride = z
  .object({
    /** Extra aliases for the product (the client adds /ARCH to each). */
    aliases: z.array(aliasSchema).default([]),
    /** false drops the generated os/release/variant and os/release aliases. */
    default_aliases: z.boolean().default(true),
    release_title: z.string().min(1).optional(),
    release_codename: z.string().min(1).optional(),
    supported: z.boolean().optional(),
    support_eol: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'support_eol is a date written YYYY-MM-DD')
      .optional(),
    requirements: z.record(z.string(), z.string({ invalid_type_error: 'requirement values are strings: quote them ("false")' })).default({}),
  })
  .strict();

const siteSettings = z
  .object({
    /** Shown in the header and the page titles. */
    title: z.string().min(1).max(200).default('LXD and Incus images'),
    /** One sentence under the title and in the page description. */
    description: z.string().max(1000).default('A simplestreams image server for LXD and Incus.'),
    /** Path to an image (svg, png, jpg, webp), relative to the config file; copied into the output. */
    logo: z
      .string()
      .min(1)
      .regex(/\.(svg|png|jpe?g|webp|gif)$/i, 'the logo is an .svg, .png, .jpg, .webp or .gif file')
      .optional(),
    /** The remote name the commands on the site use (`lxc remote add NAME …`). */
    remote_name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/i, 'remote names are letters, digits and -')
      .optional(),
    /** Products whose newest version is older than this many days get a "stale" badge. */
    stale_after_days: z.number().int().positive().default(90),
  })
  .strict();

const retention = z
  .object({
    /** Keep at most this many versions per product (the newest is always kept). */
    keep: z.number().int().positive().optional(),
    /** Drop versions built more than this many days ago (the newest is always kept). */
    days: z.number().positive().optional(),
    /** How long dropped files and superseded products files stay downloadable. */
    grace: durationSchema.default('6h'),
  })
  .strict();

const objectStorage = z
  .object({
    /** The bucket image files are uploaded to. */
    bucket: z.string().min(1),
    /** Where clients download the bucket's objects: object KEY is at PUBLIC_URL/KEY. */
    public_url: z
      .string()
      .url()
      .regex(/^https?:\/\//, 'public_url is an http(s) URL'),
    /** The S3 API endpoint (R2, GCS, MinIO…); leave out for AWS S3. */
    endpoint: z.string().url().optional(),
    /** The bucket's region (R2: auto); default AWS_REGION, else us-east-1. */
    region: z.string().min(1).optional(),
    /** A key prefix inside the bucket, ending in / (e.g. lxd/). */
    prefix: z
      .string()
      .regex(/^$|^[A-Za-z0-9._~+-][A-Za-z0-9._~+/-]*\/$/, 'prefix is empty or a path ending in / (letters, digits, . _ ~ + - /), with no leading /')
      .default(''),
    /** Address the bucket as ENDPOINT/BUCKET (MinIO and most self-hosted servers need it). */
    force_path_style: z.boolean().default(false),
    /** After each upload: read the object back and hash it (read-back), or compare sizes only (size). */
    verify: z.enum(['read-back', 'size']).default('read-back'),
    /** Files larger than this go up in parts of this size (5 MiB to 5 GiB). */
    part_size_mib: z.number().int().min(5).max(5120).default(8),
    /** Files uploaded at a time. */
    concurrency: z.number().int().min(1).max(32).default(4),
    /**
     * --target bucket: `many` publishers may commit at once (the store must enforce conditional
     * writes: it is probed); `one` is the user's promise of a single publisher at a time, for a
     * store that does not.
     */
    publishers: z.enum(['many', 'one']).default('many'),
  })
  .strict();

/** An upstream to mirror, as the config and the command line give it. */
export const upstreamUrl = z.string().regex(/^https?:\/\/\S+$/i, 'is not an http(s) URL: give the base URL of a simplestreams image server');
/** One KEY=GLOB mirror filter (config/filters.ts). */
export const filterSpec = z.string().superRefine((spec, ctx) => {
  const problem = filterProblem(spec);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const mirror = z
  .object({
    /** Upstream image servers (base URLs) to mirror; URLs on the command line replace these. */
    upstreams: z.array(upstreamUrl).default([]),
    /** KEY=GLOB filters (os, release, arch, variant, type, alias): the same key repeated means either. */
    filter: z.array(filterSpec).default([]),
    /** Copy the N newest versions of each selected product (default: all). */
    keep: z.number().int().positive().optional(),
    /** Seconds without progress before a request is cut off and retried. */
    timeout: z.number().positive().default(30),
    /** Retries of a request after a time-out, a dropped connection, 429 or 5xx. */
    retries: z.number().int().min(0).max(20).default(4),
    /** Files downloaded at a time. */
    concurrency: z.number().int().min(1).max(32).default(4),
    /** OpenPGP public keys to check the upstreams' signed chains against (relative to the config file). */
    keyring: z.string().min(1).optional(),
    /** required: refuse an upstream not signed throughout; preferred: check what is signed; off: check nothing. */
    signatures: z.enum(['required', 'preferred', 'off']).optional(),
  })
  .strict();

const signing = z
  .object({
    /**
     * An armored OpenPGP secret key (`gpg --armor --export-secret-keys`), relative to the config
     * file. STATICSTREAMS_SIGNING_KEY (the key's text, as a CI secret holds it) and --sign-key
     * FILE take precedence; a passphrase comes only from STATICSTREAMS_SIGNING_PASSPHRASE.
     */
    key_file: z.string().min(1),
  })
  .strict();

export const TARGETS = ['netlify', 'cloudflare', 'nginx', 'caddy', 'bucket'] as const;
export type Target = (typeof TARGETS)[number];

export const configSchema = z
  .object({
    /** Absolute URL the tree is published at, e.g. https://images.example.org */
    base_url: httpUrlSchema.optional(),
    /** Hosts to generate header rules and edge code for. */
    targets: z.array(z.enum(TARGETS)).min(1).default(['netlify']),
    /** Folder for server config that must not be published (nginx, Caddy, Netlify edge function). */
    server_config: z.string().min(1).optional(),
    /** Architecture an alias import endpoint serves when the client names none (Debian name). */
    default_arch: z.string().min(1).default('amd64'),
    /** Which versions to keep, and the grace period of files that are dropped. */
    retention: retention.default({}),
    /**
     * The shape of new version keys (default YYYYMMDD_HH:MM, what images.linuxcontainers.org
     * writes and OpenNebula parses). A product already published keeps its shape.
     */
    version_format: z.enum(VERSION_FORMATS).optional(),
    /** Publish squashfs deltas (xdelta3) from each product's previous version to each new one. */
    deltas: z.boolean().default(false),
    /** Publish what is inside each container image: its package list (manifest), an SPDX SBOM, and the changes from the version before. */
    manifests: z.boolean().default(true),
    /** Also serve LXC's `download` template: rootfs.tar.xz + meta.tar.xz per container version, and meta/1.0/index-*. */
    lxc: z.boolean().default(false),
    /**
     * A private tree: every path answers 401 without a user of this htpasswd file (bcrypt, as
     * `htpasswd -B` writes it; relative to the config file). nginx, Caddy, Cloudflare Pages and `serve`.
     */
    auth: z
      .object({ htpasswd: z.string().min(1) })
      .strict()
      .optional(),
    /** Sign the tree (OpenPGP): see `signing`. */
    signing: signing.optional(),
    /** Keep image files on an S3-compatible bucket instead of in the output; /images/ redirects there. */
    object_storage: objectStorage.optional(),
    /** The catalogue website's title, description, logo and remote name. */
    site: siteSettings.default({}),
    /** `staticstreams mirror`: the upstreams, filters and how many versions to copy. */
    mirror: mirror.default({}),
    /** Overrides keyed by a product pattern os:release:arch:variant, each part exact or `*`. */
    products: z
      .record(z.string().regex(/^[^:]+:[^:]+:[^:]+:[^:]+$/, 'product patterns are os:release:arch:variant, each part a name or *'), productOverride)
      .default({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ObjectStorageSettings = z.infer<typeof objectStorage>;
export type SiteSettings = z.infer<typeof siteSettings>;
export type MirrorSettings = z.infer<typeof mirror>;
export type ProductOverride = z.infer<typeof productOverride>;

export const DEFAULT_CONFIG: Config = configSchema.parse({});

/** Validates an already-parsed config object; throws one UsageError listing every problem, each with a fix. */
export function parseConfig(data: unknown, source = 'staticstreams.yaml'): Config {
  return parseWith(configSchema, data ?? {}, source, { fail: (_issues, text) => new UsageError(text.replace(/\n(?=[^ ])/g, '\nerror: ')) });
}

export async function loadConfig(file: string, required: boolean): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_CONFIG;
    throw new UsageError(`cannot read the config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // Loaded only when there is a config file to read: a build without one starts faster.
  const { parseDocument } = await import('yaml');
  const doc = parseDocument(text);
  if (doc.errors.length) throw new UsageError(`${file}: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const config = parseConfig(doc.toJS({ maxAliasCount: 100 }), file);
  // The logo and the signing key are named relative to the config file; everything after this sees absolute paths.
  if (config.signing) config.signing.key_file = path.resolve(path.dirname(file), config.signing.key_file);
  if (config.auth) config.auth.htpasswd = path.resolve(path.dirname(file), config.auth.htpasswd);
  if (config.mirror.keyring) config.mirror.keyring = path.resolve(path.dirname(file), config.mirror.keyring);
  if (config.site.logo) {
    config.site.logo = path.resolve(path.dirname(file), config.site.logo);
    try {
      await access(config.site.logo, constants.R_OK);
    } catch (e) {
      throw new UsageError(
        `${file}: site.logo: cannot read ${config.site.logo} (${(e as NodeJS.ErrnoException).code})\n  fix: give site.logo a path relative to the config file`,
      );
    }
  }
  return config;
}

/**
 * The settings a published tree was built with (recorded in its staticstreams-state.json), as a
 * config: what `prune` uses when no config file is given. Undefined when the tree records none.
 */
export async function loadRecordedConfig(tree: string): Promise<Config | undefined> {
  const file = path.join(tree, STATE_PATH);
  let settings: unknown;
  try {
    settings = (JSON.parse(await readFile(file, 'utf8')) as { settings?: unknown }).settings;
  } catch {
    return undefined;
  }
  if (settings === undefined) return undefined;
  const config = parseConfig(settings, `${file} (settings)`);
  // The logo was published into the tree; the pruned tree copies it from there.
  if (config.site.logo) config.site.logo = path.resolve(tree, config.site.logo);
  return config;
}

/** The overrides that apply to a product key, merged in file order (aliases accumulate). */
export function overridesFor(config: Config, key: string): ProductOverride {
  const parts = key.split(':');
  const merged: ProductOverride = { aliases: [], default_aliases: true, requirements: {} };
  for (const [pattern, o] of Object.entries(config.products)) {
    const p = pattern.split(':');
    if (!p.every((seg, i) => seg === '*' || seg.toLowerCase() === parts[i]?.toLowerCase())) continue;
    merged.aliases.push(...o.aliases);
    merged.default_aliases = o.default_aliases && merged.default_aliases;
    Object.assign(merged.requirements, o.requirements);
    for (const k of ['release_title', 'release_codename', 'supported', 'support_eol'] as const) {
      if (o[k] !== undefined) (merged as Record<string, unknown>)[k] = o[k];
    }
  }
  return merged;
}
