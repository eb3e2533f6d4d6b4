// The rules an input obeys whether it comes from staticstreams.yaml or from a flag: one schema
// each, used by both (config/config.ts, config/flags.ts), so a value is accepted or refused —
// and reported — the same way wherever it is given.

import { z } from 'zod';
import { aliasProblem } from '../simplestreams/names.js';
import { DURATION } from '../util/duration.js';

/** An alias clients accept. */
export const aliasSchema = z.string().superRefine((alias, ctx) => {
  const problem = aliasProblem(alias);
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

/** An absolute http(s) URL (a base URL: clients and browsers reach the tree over http(s) only); one issue, whatever is wrong. */
export const httpUrlSchema = z.string().superRefine((u, ctx) => {
  let ok = /^https?:\/\/[^\s/]+/i.test(u);
  try {
    new URL(u);
  } catch {
    ok = false;
  }
  if (!ok) ctx.addIssue({ code: z.ZodIssueCode.invalid_string, validation: 'url', message: 'must be an absolute http(s) URL' });
});

/** A duration such as 90m, 6h or 2d. */
export const durationSchema = z.string().regex(DURATION, 'must be a duration such as 90m, 6h or 2d');

/** A TCP port, as a flag's text. */
export const portSchema = z
  .string()
  .refine((t) => /^\d{1,5}$/.test(t.trim()) && Number(t) <= 65535, 'must be a port number (0 to 65535)')
  .transform(Number);
