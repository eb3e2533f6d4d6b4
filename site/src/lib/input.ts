// Loads what the build handed over (settings + catalog) once per site build, validated with
// the site-input schema, which checks the catalog with the catalog schema.

import { readFileSync } from 'node:fs';
import { siteInputSchema, type SiteInput } from '../../../generator/formats/site-input.js';
import { groupProducts, type ProductGroup } from '../../../generator/formats/groups.js';

declare const __STATICSTREAMS_SITE_INPUT__: string | undefined;

let loaded: { input: SiteInput; groups: ProductGroup[] } | undefined;

function inputFile(): string {
  const file = typeof __STATICSTREAMS_SITE_INPUT__ === 'string' ? __STATICSTREAMS_SITE_INPUT__ : process.env.STATICSTREAMS_SITE_INPUT;
  if (!file) throw new Error('the site is built by `staticstreams build`; to run Astro directly set STATICSTREAMS_SITE_INPUT to a site-input JSON file');
  return file;
}

export function siteData(): { input: SiteInput; groups: ProductGroup[] } {
  if (!loaded) {
    const file = inputFile();
    const parsed = siteInputSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`${file}: ${issue.path.join('.')}: ${issue.message}`);
    }
    loaded = { input: parsed.data, groups: groupProducts(parsed.data.catalog) };
  }
  return loaded;
}
