// The commit of a tree that lives in a bucket (`--target bucket`): `staticstreams/live.json`, the
// one object every publisher changes with compare-and-swap (If-Match on the ETag it read). It
// names, for each file a publisher reads to build on top of the tree (index.json, its signed
// forms, catalog.json, staticstreams-state.json), the content-addressed copy that holds this
// commit's version of it: the fixed-name files clients read are copies written after the
// commit, so a publisher that dies between the two leaves clients the tree before it, whole,
// and the next one reads the commit itself. Pure.

import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Where the commit and its content-addressed files live, under the bucket's prefix. */
export const LIVE_PATH = 'staticstreams/live.json';
export const COMMITTED_DIR = 'staticstreams/committed/';

const committedPath = z.string().regex(/^staticstreams\/committed\/[0-9a-f]{64}$/);

export const liveSchema = z.object({
  format: z.literal('staticstreams-live:1'),
  /** Tree path (streams/v1/index.json, …) → the content-addressed object holding this commit's text. */
  files: z.record(z.string(), committedPath),
  /** When it was committed (ISO 8601), and by which publisher (host and pid, for people). */
  committed: z.string().datetime(),
  by: z.string().max(200),
});

export type Live = z.infer<typeof liveSchema>;

/** The content-addressed path of a text. */
export const committedPathOf = (text: string | Uint8Array): string => `${COMMITTED_DIR}${createHash('sha256').update(text).digest('hex')}`;

export function renderLive(files: Record<string, string>, committed: Date, by: string): string {
  const live: Live = {
    format: 'staticstreams-live:1',
    files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))),
    committed: committed.toISOString(),
    by,
  };
  liveSchema.parse(live);
  return `${JSON.stringify(live, null, 1)}\n`;
}
