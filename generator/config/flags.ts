// The command line's publishing settings, validated by one schema like the config file's
// sections: every wrong flag reported at once (exit 2), each with what it takes. The values
// come out typed; the CLI merges them over the config file's once.

import { z } from 'zod';
import { UsageError } from '../util/errors.js';
import { durationSchema, httpUrlSchema, portSchema } from './atoms.js';
import { filterSpec, TARGETS, upstreamUrl, type Target } from './config.js';

const number = (what: string, integer: boolean) =>
  z
    .string()
    .refine(
      (t) => {
        const n = Number(t);
        return t.trim() !== '' && Number.isFinite(n) && n > 0 && (!integer || Number.isInteger(n));
      },
      `takes a positive ${integer ? 'whole ' : ''}number${what}`,
    )
    .transform(Number);

const flagsSchema = z.object({
  baseUrl: httpUrlSchema.optional(),
  target: z
    .string()
    .transform((t) =>
      t
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(TARGETS, { errorMap: () => ({ message: `takes a comma-separated list of ${TARGETS.join(', ')}` }) })).min(1, 'names no host'))
    .optional(),
  retain: number('', true).optional(),
  retainDays: number('', false).optional(),
  grace: durationSchema.optional(),
  now: z
    .string()
    .refine((t) => /^\d{4}-\d{2}-\d{2}/.test(t) && !Number.isNaN(Date.parse(t)), 'must be an ISO 8601 time such as 2026-11-23T12:00:00Z')
    .transform((t) => new Date(Date.parse(t)))
    .optional(),
  keep: number('', true).optional(),
  timeout: number(' of seconds', false).optional(),
  filter: z.array(filterSpec).optional(),
  upstreams: z.array(upstreamUrl).optional(),
  port: portSchema.optional(),
});

export interface ParsedFlags {
  baseUrl?: string;
  target?: Target[];
  retain?: number;
  retainDays?: number;
  grace?: string;
  now?: Date;
  keep?: number;
  timeout?: number;
  filter?: string[];
  upstreams?: string[];
  port?: number;
}

const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Validates the flags given (strings from the command line); one UsageError listing every problem. */
export function parseFlags(flags: Record<string, unknown>): ParsedFlags {
  const given = Object.fromEntries(Object.entries(flags).filter(([k, v]) => v !== undefined && k in flagsSchema.shape));
  const parsed = flagsSchema.safeParse(given);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const [key, index] = issue.path;
    const value = given[String(key)];
    const raw = Array.isArray(value) && index !== undefined ? (value as unknown[])[Number(index)] : value;
    const name = key === 'upstreams' ? 'upstream' : flagName(String(key));
    return `${name} ${issue.message}, got "${String(raw)}"`;
  });
  throw new UsageError([...new Set(problems)].join('\nerror: '));
}
