// The one schema for what the build hands the catalogue site: the catalog itself (validated with
// the catalog schema) and the site settings from staticstreams.yaml, resolved for this build.

import { z } from 'zod';
import { catalogSchema } from './catalog.js';

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
});

export type SiteInput = z.infer<typeof siteInputSchema>;

/** The name a site logo is published under in the output (logo.svg, logo.png…). */
export function publishedLogoName(file: string): string {
  const ext = /\.[^./\\]+$/.exec(file)?.[0] ?? '';
  return `logo${ext.toLowerCase().replace('.jpeg', '.jpg')}`;
}
