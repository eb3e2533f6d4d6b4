// The schema of staticstreams-state.json, the small file a published tree carries for the next
// run: the files kept only for the grace period (dropped versions, superseded products files),
// with when they were dropped. A run past `since + grace` leaves them out (or deletes them
// from object storage). It also records the settings the tree was built with (a config-shaped
// object: base URL, targets, site branding, retention, object storage), so that `prune` run
// without the config file rebuilds the site and rules as the build made them.

import { z } from 'zod';
import { SHA256 } from '../simplestreams/schema.js';

export const STATE_PATH = 'staticstreams-state.json';

export const graceEntrySchema = z.object({
  path: z.string().regex(/^(?!\/)(?!.*\.\.)[^\s]+$/),
  sha256: z.string().regex(SHA256),
  size: z.number().int().nonnegative(),
  /** When the file stopped being listed (ISO 8601). */
  since: z.string().datetime(),
  /** Why it is only kept for the grace period. */
  reason: z.string(),
});

/** A withdrawn version (staticstreams withdraw): kept out of every later build of the tree. */
export const withdrawnSchema = z.object({
  product: z.string(),
  version: z.string(),
  fingerprints: z.array(z.string().regex(SHA256)),
  since: z.string().datetime(),
});

export const stateSchema = z.object({
  format: z.literal('staticstreams-state:1'),
  grace: z.array(graceEntrySchema),
  /** Versions withdrawn from the tree: a build that meets one of their images again leaves it out. */
  withdrawn: z.array(withdrawnSchema).optional(),
  /** The build's settings, in the config file's shape (validated by the config schema when used). */
  settings: z.record(z.unknown()).optional(),
});

export type GraceEntry = z.infer<typeof graceEntrySchema>;
export type PublishedState = z.infer<typeof stateSchema>;

export function renderState(grace: GraceEntry[], settings?: Record<string, unknown>, withdrawn: z.infer<typeof withdrawnSchema>[] = []): string {
  const state: PublishedState = {
    format: 'staticstreams-state:1',
    grace: [...grace].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    ...(withdrawn.length ? { withdrawn: [...withdrawn].sort((a, b) => (`${a.product} ${a.version}` < `${b.product} ${b.version}` ? -1 : 1)) } : {}),
    ...(settings ? { settings } : {}),
  };
  stateSchema.parse(state);
  return `${JSON.stringify(state, null, 1)}\n`;
}

/** The auth a tree was built with, as its state records it: the users' file, never a hash. */
export function recordedAuth(state: PublishedState | null | undefined): { htpasswd: string } | undefined {
  const auth = state?.settings?.auth as { htpasswd?: unknown } | undefined;
  return typeof auth?.htpasswd === 'string' ? { htpasswd: auth.htpasswd } : undefined;
}
