// The schema of what clients parse — index.json and the products file — with the exact types
// Go's JSON decoder needs (one wrong type breaks the whole remote). Rendered streams are checked
// against it before anything is published.

import { z } from 'zod';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const stringMap = z.record(z.string(), z.string());

const item = z
  .object({ ftype: z.string().min(1), path: z.string().regex(/^(?!\/)(?!.*\.\.)[^\s]+$/), sha256, size: z.number().int().nonnegative(), combined_type: z.enum(['container', 'virtual-machine']).optional() })
  .catchall(z.unknown())
  .superRefine((value, ctx) => {
    for (const [k, v] of Object.entries(value)) {
      if (k.startsWith('combined_') && k.endsWith('sha256') && !sha256.safeParse(v).success) ctx.addIssue({ code: 'custom', message: `${k} must be 64 lowercase hex` });
    }
  });

export const productsFileSchema = z.object({
  content_id: z.string(),
  datatype: z.literal('image-downloads'),
  format: z.literal('products:1.0'),
  products: z.record(z.string(), z.object({
    aliases: z.string().regex(/^[^\s]*$/),
    arch: z.string().min(1),
    os: z.string().min(1),
    release: z.string().min(1),
    release_title: z.string(),
    release_codename: z.string().optional(),
    variant: z.string().min(1),
    supported: z.boolean().optional(),
    support_eol: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
    requirements: stringMap.optional(),
    lxd_requirements: stringMap.optional(),
    versions: z.record(z.string().regex(/^\d{8}_\d{4}$/), z.object({ items: z.record(z.string(), item) })),
  })),
});

export const indexFileSchema = z.object({
  format: z.literal('index:1.0'),
  index: z.record(z.string(), z.object({ datatype: z.literal('image-downloads'), path: z.string(), format: z.literal('products:1.0'), products: z.array(z.string()).min(1) })),
});
