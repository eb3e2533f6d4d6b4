// The one schema for catalog.json, the machine-readable list of everything published.
// The build validates what it writes against it; the catalogue site reads through it.

import { z } from 'zod';
import { SHA256 } from '../simplestreams/schema.js';

const sha256 = z.string().regex(SHA256);
// eslint-disable-next-line no-control-regex -- control characters are exactly what the pattern refuses
const relPath = z.string().regex(/^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[^\u0000-\u001f\u007f\\]+$/, 'a relative path inside the output');

export const catalogFileSchema = z.object({
  path: relPath,
  ftype: z.string(),
  sha256,
  size: z.number().int().nonnegative(),
});

export const catalogImageSchema = z.object({
  type: z.enum(['container', 'virtual-machine']),
  fingerprint: sha256,
  size: z.number().int().nonnegative(),
  clients: z.array(z.enum(['lxd', 'incus'])).min(1),
  created: z.string().datetime(),
  serial: z.string().optional(),
  description: z.string().optional(),
  /** Absolute URL for `lxc image import` (unified images, when a base URL is set). */
  directUrl: z.string().url().optional(),
  files: z.array(catalogFileSchema).min(1),
});

export const catalogVersionSchema = z.object({
  version: z.string().regex(/^\d{8}/),
  images: z.array(catalogImageSchema).min(1),
  /** With LXC's files (--lxc): the folder holding meta.tar.xz and rootfs.tar.xz. */
  lxc: z.object({ dir: relPath }).optional(),
  /** What is inside the version's container image: its package list (text and JSON), SBOM, and the changes from the version before. */
  manifest: z
    .object({
      text: relPath,
      packages: relPath,
      sbom: relPath,
      changes: relPath.optional(),
    })
    .optional(),
});

export const catalogProductSchema = z.object({
  key: z.string(),
  os: z.string(),
  release: z.string(),
  variant: z.string(),
  arch: z.string(),
  architecture: z.string(),
  aliases: z.array(z.string()),
  releaseTitle: z.string(),
  releaseCodename: z.string().optional(),
  supported: z.boolean().optional(),
  supportEol: z.string().optional(),
  requirements: z.record(z.string(), z.string()),
  versions: z.array(catalogVersionSchema).min(1),
});

/** Where a signed tree publishes its public key: armored, and binary (what `gpgv --keyring` reads). */
export const PUBLIC_KEY_PATHS = { armored: 'signing-key.asc', binary: 'signing-key.gpg' } as const;

const fingerprint = z.string().regex(/^[0-9A-F]{40}(?:[0-9A-F]{24})?$/, 'an OpenPGP fingerprint, upper-case hex');

export const catalogSigningSchema = z.object({
  /** The signing key's primary fingerprint. */
  fingerprint,
  userIds: z.array(z.string()),
  /** The public key (armored) and the same as a binary keyring. */
  key: relPath,
  keyring: relPath,
  /** The clear-signed index a verifier starts from. */
  index: relPath,
});

export const catalogSchema = z.object({
  format: z.literal('staticstreams-catalog:1'),
  baseUrl: z.string().url().optional(),
  updated: z.string().datetime(),
  streams: z.object({ index: relPath, products: relPath }),
  /** alias → absolute URL of its architecture-negotiating import endpoint. */
  aliasEndpoints: z.record(z.string(), z.string().url()).default({}),
  /** A signed tree: its key, and where the chain starts. */
  signing: catalogSigningSchema.optional(),
  /** A mirror: each upstream whose signed chain was checked, and by which key it was signed. */
  upstreams: z
    .array(
      z.object({
        url: z.string().url(),
        signer: fingerprint.optional(),
        /** The `updated` time of the upstream's signed index this tree was mirrored from: an older one is a replay. */
        updated: z.string().datetime().optional(),
      }),
    )
    .optional(),
  products: z.array(catalogProductSchema),
});

export type Catalog = z.infer<typeof catalogSchema>;
export type CatalogSigning = z.infer<typeof catalogSigningSchema>;
export type CatalogProduct = z.infer<typeof catalogProductSchema>;

/** Clock skew tolerated before a date counts as "in the future" (as for an image's creation_date). */
const FUTURE_TOLERANCE_MS = 24 * 3600 * 1000;

/**
 * The first image a catalogue dates after `nowMs` (past the skew tolerated), as `product version`
 * and its date: such a catalogue (unsigned, from a tree or an upstream) is not used for dates.
 */
export function futureDated(catalog: Catalog, nowMs: number): string | undefined {
  for (const p of catalog.products)
    for (const v of p.versions)
      for (const i of v.images) if (Date.parse(i.created) > nowMs + FUTURE_TOLERANCE_MS) return `${p.key} ${v.version} (created ${i.created})`;
  return undefined;
}
