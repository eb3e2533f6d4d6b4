// Checks a large document against its schema one part at a time: the document with its big
// collection left unchecked, then each element of the collection with the element's schema.
// Same verdict as parsing the whole document, but only one element's parsed copy is alive at a
// time, so a catalogue of thousands of products makes short-lived garbage, not a second tree.

import { createHash } from 'node:crypto';
import { z, ZodError, type ZodRawShape } from 'zod';

/**
 * Parts that passed this very check (one document's schema) before, by a digest of their JSON:
 * kept by the fingerprint cache per version of the schemas, so an unchanged product is not
 * checked again.
 */
export interface ProvenParts {
  has(digest: string): boolean;
  add(digest: string): void;
}

/**
 * Throws the ZodError of the first failing part, its paths as they would be from the whole
 * document. With `proven`, a part whose JSON passed before is skipped and one that passes is added.
 */
export function checkInParts<T extends ZodRawShape>(schema: z.ZodObject<T>, doc: object, key: keyof T & string, proven?: ProvenParts): void {
  const collection = schema.shape[key];
  let element: z.ZodTypeAny;
  if (collection instanceof z.ZodArray) element = collection.element as z.ZodTypeAny;
  else if (collection instanceof z.ZodRecord) element = collection.valueSchema as z.ZodTypeAny;
  else throw new TypeError(`${key} is neither an array nor a record`);
  schema.extend({ [key]: collection instanceof z.ZodArray ? z.array(z.unknown()) : z.record(z.string(), z.unknown()) }).parse(doc);
  const parts = (doc as Record<string, unknown>)[key];
  const entries: [string | number, unknown][] = Array.isArray(parts) ? parts.map((v, i) => [i, v]) : Object.entries((parts ?? {}) as object);
  for (const [at, value] of entries) {
    const digest = proven && createHash('sha256').update(JSON.stringify(value)).digest('base64url');
    if (digest && proven.has(digest)) {
      proven.add(digest);
      continue;
    }
    const r = element.safeParse(value);
    if (!r.success) throw new ZodError(r.error.issues.map((issue) => ({ ...issue, path: [key, at, ...issue.path] })));
    if (digest) proven.add(digest);
  }
}
