// The simplestreams index and products files in two strictnesses:
// - `productsFileSchema` / `indexFileSchema`: what we write, with the exact types Go's JSON
//   decoder needs (one wrong type breaks the whole remote); rendered streams are checked
//   against it before anything is published.
// - `acceptedProductsSchema`: what LXD and Incus accept and we can carry over from a tree made
//   by another tool (incus-simplestreams, simplestream-maintainer, an older staticstreams):
//   any version key whose first 8 characters are a date, optional titles and aliases, unknown
//   fields ignored, as the clients do.

import { z } from 'zod';
import { isValidVersionKey } from './version-key.js';

export const SHA256 = /^[0-9a-f]{64}$/;
const sha256 = z.string().regex(SHA256, 'must be 64 lowercase hex digits');
const stringMap = z.record(z.string(), z.string());

/** True for a path listed in a tree that stays inside it (relative, no `..`, no URL). */
export function insideTree(rel: string): boolean {
  return rel !== '' && !rel.startsWith('/') && !/^[a-z][a-z0-9+.-]*:/i.test(rel) && !rel.split('/').includes('..');
}
const treePath = z.string().refine(insideTree, 'must be a relative path inside the tree (no leading /, no .., no URL)');

const wholeBytes = 'must be a whole number of bytes: a wrong type breaks the whole remote';

/** One item as LXD and Incus accept it (`verify` checks each item with it before its file). */
export const acceptedItemSchema = z
  .object({
    ftype: z.string({ required_error: 'is missing', invalid_type_error: 'must be a string' }).min(1),
    path: treePath,
    sha256,
    size: z.number({ required_error: 'is missing', invalid_type_error: wholeBytes }).int(wholeBytes).nonnegative(wholeBytes),
    combined_type: z.enum(['container', 'virtual-machine']).optional(),
  })
  .catchall(z.unknown())
  .superRefine((value, ctx) => {
    for (const [k, v] of Object.entries(value)) {
      if (k.startsWith('combined_') && k.endsWith('sha256') && !sha256.safeParse(v).success)
        ctx.addIssue({ code: 'custom', path: [k], message: 'must be 64 lowercase hex' });
    }
  });
const item = acceptedItemSchema;

export type StreamItem = z.infer<typeof item>;

const acceptedVersionKey = z
  .string()
  .refine(isValidVersionKey, 'is not a version key clients accept (its first 8 characters must be a date, YYYYMMDD): they skip the version');

const version = z.object({ items: z.record(z.string(), item) }).catchall(z.unknown());

export const productsFileSchema = z.object({
  content_id: z.string(),
  datatype: z.literal('image-downloads'),
  format: z.literal('products:1.0'),
  products: z.record(
    z.string(),
    z.object({
      aliases: z.string().regex(/^[^\s]*$/),
      arch: z.string().min(1),
      os: z.string().min(1),
      release: z.string().min(1),
      release_title: z.string(),
      release_codename: z.string().optional(),
      variant: z.string().min(1),
      supported: z.boolean().optional(),
      support_eol: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/)
        .optional(),
      requirements: stringMap.optional(),
      lxd_requirements: stringMap.optional(),
      // ours are YYYYMMDD_HHMM; a version carried over from another tool keeps its key
      versions: z.record(acceptedVersionKey, version),
    }),
  ),
});

const required = (field: string) =>
  z.string({ required_error: `${field} is missing (clients sort and name images by it)` }).min(1, `${field} is empty (clients sort and name images by it)`);

/** A map of names to strings: a wrong type breaks the whole remote in Go's decoder. */
const acceptedStringMap = z.record(
  z.string(),
  z.string({ invalid_type_error: 'must map names to strings ("false", not false): a wrong type breaks the whole remote' }),
  { invalid_type_error: 'must map names to strings ("false", not false): a wrong type breaks the whole remote' },
);

/** One product as LXD and Incus accept it (`verify` checks each product with it; versions are checked with their files). */
export const acceptedProductSchema = z
  .object({
    aliases: z
      .string({ invalid_type_error: 'must be one comma-separated string: a wrong type breaks the whole remote' })
      .regex(/^[^\s]*$/, 'must be one comma-joined string without spaces')
      .optional(),
    arch: required('arch'),
    os: required('os'),
    release: required('release'),
    release_title: z.string().optional(),
    release_codename: z.string().optional(),
    // Clients read a missing variant as "" (carried over as "default").
    variant: z.string({ invalid_type_error: 'must be a string' }).optional(),
    supported: z.boolean({ invalid_type_error: 'must be true or false: a wrong type breaks the whole remote' }).optional(),
    // Any string is accepted (clients only show it); a malformed date is dropped when carried over.
    support_eol: z.string().optional(),
    requirements: acceptedStringMap.optional(),
    lxd_requirements: acceptedStringMap.optional(),
    versions: z.record(acceptedVersionKey, version),
  })
  .catchall(z.unknown());

export const acceptedProductsSchema = z
  .object({
    datatype: z.literal('image-downloads'),
    products: z.record(z.string(), acceptedProductSchema),
  })
  .catchall(z.unknown());

export type AcceptedProductsFile = z.infer<typeof acceptedProductsSchema>;

export const indexFileSchema = z.object({
  format: z.literal('index:1.0'),
  index: z.record(
    z.string(),
    z.object({ datatype: z.literal('image-downloads'), path: z.string(), format: z.literal('products:1.0'), products: z.array(z.string()).min(1) }),
  ),
});

/** One entry of index.json as the clients read it: its datatype, the products file's path, the products it lists. */
export const acceptedIndexEntrySchema = z.object({ datatype: z.string(), path: treePath, products: z.array(z.string()).optional() }).catchall(z.unknown());

/** What the clients need of index.json to find the products file(s); the rest is ignored. */
export const acceptedIndexSchema = z
  .object({
    format: z.literal('index:1.0'),
    index: z.record(z.string(), acceptedIndexEntrySchema),
  })
  .catchall(z.unknown());
