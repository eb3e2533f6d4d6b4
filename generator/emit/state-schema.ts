// The schema of staticstreams-state.json, the small file a published tree carries for the next
// run: the files kept only for the grace period (dropped versions, superseded products files),
// with when they were dropped. A run past `since + grace` leaves them out (or deletes them
// from object storage).

import { z } from 'zod';

export const STATE_PATH = 'staticstreams-state.json';

export const graceEntrySchema = z.object({
  path: z.string().regex(/^(?!\/)(?!.*\.\.)[^\s]+$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  /** When the file stopped being listed (ISO 8601). */
  since: z.string().datetime(),
  /** Why it is only kept for the grace period. */
  reason: z.string(),
});

export const stateSchema = z.object({
  format: z.literal('staticstreams-state:1'),
  grace: z.array(graceEntrySchema),
});

export type GraceEntry = z.infer<typeof graceEntrySchema>;
export type PublishedState = z.infer<typeof stateSchema>;

export function renderState(grace: GraceEntry[]): string {
  const state: PublishedState = { format: 'staticstreams-state:1', grace: [...grace].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
  stateSchema.parse(state);
  return `${JSON.stringify(state, null, 1)}\n`;
}
