// The one schema for what the build hands the catalogue site: the catalog itself (validated with
// the catalog schema) and the site settings from staticstreams.yaml, resolved for this build.

import { z } from 'zod';
import { catalogSchema } from './catalog.js';

const named = z.object({ name: z.string(), version: z.string() });
const moved = z.object({ name: z.string(), from: z.string(), to: z.string() });

/** What the catalogue shows of packages: each product's newest list, and each version's changes ("product version" →). */
export const sitePackagesSchema = z.object({
  packages: z.record(z.string(), z.object({ version: z.string(), database: z.enum(['dpkg', 'apk', 'rpm']), packages: z.array(named) })),
  changes: z.record(
    z.string(),
    z.object({ from: z.string(), added: z.array(named), removed: z.array(named), upgraded: z.array(moved), downgraded: z.array(moved) }),
  ),
});

export type SitePackages = z.infer<typeof sitePackagesSchema>;

export const siteInputSchema = z.object({
  format: z.literal('staticstreams-site-input:1'),
  /** When the site was built (the "stale" badge counts from here, then from the visitor's clock). */
  builtAt: z.string().datetime(),
  settings: z.object({
    title: z.string().min(1),
    description: z.string(),
    /** Path of the copied logo inside the output, e.g. "logo.svg". */
    logo: z
      .string()
      .regex(/^logo\.[a-z]+$/)
      .optional(),
    remoteName: z.string().regex(/^[a-z0-9][a-z0-9-]*$/i),
    staleAfterDays: z.number().int().positive(),
    /** A private tree (auth.htpasswd): commands carry USER:PASSWORD placeholders. */
    private: z.boolean().default(false),
  }),
  catalog: catalogSchema,
  described: sitePackagesSchema.default({ packages: {}, changes: {} }),
});

export type SiteInput = z.infer<typeof siteInputSchema>;

/** The name a site logo is published under in the output (logo.svg, logo.png…). */
export function publishedLogoName(file: string): string {
  const ext = /\.[^./\\]+$/.exec(file)?.[0] ?? '';
  return `logo${ext.toLowerCase().replace('.jpeg', '.jpg')}`;
}
