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

/**
 * The absolute http(s) URL a tree is served at (a base URL): clients and browsers reach it over
 * http(s) only. It is written into catalog.json, every page, the feeds and the state file, so it
 * carries no user:password (the clients' URL with credentials is the user's to type), and no
 * query or fragment (every path is joined to it). One issue, whatever is wrong.
 */
export const httpUrlSchema = z.string().superRefine((u, ctx) => {
  let url: URL | undefined;
  try {
    url = /^https?:\/\/[^\s/]+/i.test(u) ? new URL(u) : undefined;
  } catch {
    url = undefined;
  }
  const problem = !url
    ? 'must be an absolute http(s) URL'
    : url.username || url.password
      ? 'must not hold a user or password: it is published in catalog.json and on every page (give the credentials to the clients only: lxc remote add NAME https://USER:PASSWORD@HOST)'
      : url.search || url.hash || /[?#]/.test(u)
        ? 'must not hold a query (?…) or fragment (#…): every path of the tree is joined to it'
        : undefined;
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.invalid_string, validation: 'url', message: problem });
});

/** A duration such as 90m, 6h or 2d. */
export const durationSchema = z.string().regex(DURATION, 'must be a duration such as 90m, 6h or 2d');

/** A TCP port, as a flag's text. */
export const portSchema = z
  .string()
  .refine((t) => /^\d{1,5}$/.test(t.trim()) && Number(t) <= 65535, 'must be a port number (0 to 65535)')
  .transform(Number);
