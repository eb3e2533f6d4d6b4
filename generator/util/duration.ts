// Durations as people write them on the command line and in the config: 90s, 30m, 6h, 7d.

import { UsageError } from './errors.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export const DURATION = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/;

/** Milliseconds in a duration such as "6h"; `what` names the setting in the error. */
export function parseDuration(text: string, what: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new UsageError(`${what} must be a duration such as 90m, 6h or 2d, got "${text}"`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
