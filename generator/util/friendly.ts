// Turns a schema's validation failure into every problem at once, each with where it is (the
// dotted field path, or the caller's way of naming a place), what is wrong in plain words, and a
// fix line — "did you mean" for a misspelt key, the allowed values for an enum, the expected type
// otherwise; a schema's own message wins over a generic one. `parseWith` is the one way every
// input is parsed: staticstreams.yaml, flags, metadata.yaml, a tree's files, the site input.

import { z, type ZodError, type ZodIssue, type ZodTypeAny } from 'zod';

export interface FriendlyIssue {
  /** Dotted path of the field, or "(top)". */
  field: string;
  message: string;
  fix: string;
}

/** The keys an object schema at `path` allows (through defaults, optionals, effects and records). */
function keysAt(schema: ZodTypeAny, path: (string | number)[]): string[] {
  let s: ZodTypeAny | undefined = schema;
  const unwrap = (t: ZodTypeAny): ZodTypeAny => {
    if (t instanceof z.ZodDefault) return unwrap(t._def.innerType);
    if (t instanceof z.ZodOptional || t instanceof z.ZodNullable) return unwrap(t.unwrap());
    if (t instanceof z.ZodEffects) return unwrap(t.innerType());
    return t;
  };
  for (const part of path) {
    if (!s) return [];
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, ZodTypeAny>)[String(part)];
    else if (s instanceof z.ZodRecord) s = s.valueSchema as ZodTypeAny;
    else if (s instanceof z.ZodArray) s = s.element as ZodTypeAny;
    else return [];
  }
  if (!s) return [];
  s = unwrap(s);
  return s instanceof z.ZodObject ? Object.keys(s.shape as object) : [];
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const here = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = here;
    }
  }
  return row[b.length]!;
}

export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestScore) [best, bestScore] = [c, d];
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

const fieldOf = (path: readonly (string | number)[]) => path.join('.') || '(top)';

/** Zod's own wording for a wrong or missing type: anything else is a schema's message, kept. */
const generic = (message: string) => message === 'Required' || /^Expected .*, received /.test(message);

function explain(issue: ZodIssue, schema: ZodTypeAny, place: (path: (string | number)[]) => string): FriendlyIssue[] {
  const field = place(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = keysAt(schema, issue.path);
      return issue.keys.map((key) => {
        const guess = closest(key, known);
        const at = place([...issue.path, key]);
        return {
          field: at,
          message: 'is not a setting staticstreams knows',
          fix: guess ? `did you mean ${fieldOf([...issue.path, guess])}?` : `remove it${known.length ? ` (settings here: ${known.join(', ')})` : ''}`,
        };
      });
    }
    case 'invalid_type':
      if (!generic(issue.message)) return [{ field, message: issue.message, fix: `correct ${field}` }];
      if (issue.received === 'undefined') return [{ field, message: 'is required', fix: `add ${field} (${issue.expected})` }];
      return [{ field, message: `is a ${issue.received}, expected a ${issue.expected}`, fix: `write ${field} as a ${issue.expected}` }];
    case 'invalid_enum_value':
      return [{ field, message: `${JSON.stringify(issue.received)} is not allowed`, fix: `use one of: ${issue.options.map(String).join(', ')}` }];
    case 'invalid_string':
      if (issue.validation === 'url') return [{ field, message: 'is not a URL', fix: `write ${field} as an absolute URL, e.g. https://images.example.org` }];
      return [{ field, message: issue.message, fix: `correct ${field}` }];
    case 'invalid_literal':
      return [{ field, message: issue.message, fix: `write ${JSON.stringify(issue.expected)}` }];
    default:
      return [{ field, message: issue.message, fix: `correct ${field}` }];
  }
}

/** Every problem of a failed `schema.safeParse`, in plain words with a fix each; `place` names a field (default: its dotted path). */
export function friendlyIssues(error: ZodError, schema: ZodTypeAny, place: (path: (string | number)[]) => string = fieldOf): FriendlyIssue[] {
  return error.issues.flatMap((issue) => explain(issue, schema, place));
}

export interface ParseWith {
  /** How a field is named in messages (default: its dotted path). */
  place?: (path: (string | number)[]) => string;
  /** The error thrown for the problems (default: one Error holding them as text). */
  fail?: (issues: FriendlyIssue[], text: string) => Error;
}

/**
 * Parses `data` (from `where`) with `schema`: the value, or every problem at once, each with its
 * field, what is wrong and a fix, thrown as `fail` makes it (a usage error, a build error, …).
 */
export function parseWith<S extends ZodTypeAny>(schema: S, data: unknown, where: string, { place = fieldOf, fail }: ParseWith = {}): z.output<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data as z.output<S>;
  const issues = friendlyIssues(parsed.error, schema, place);
  const text = formatIssues(where, issues);
  throw fail ? fail(issues, text) : new Error(text);
}

/** One text block: "SOURCE: FIELD: MESSAGE\n  fix: FIX" per problem. */
export function formatIssues(source: string, issues: FriendlyIssue[]): string {
  return issues.map((i) => `${source}: ${i.field}: ${i.message}\n  fix: ${i.fix}`).join('\n');
}
