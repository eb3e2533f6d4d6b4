// Loads what the build handed over (settings + catalog) once per site build, validated with
// the site-input schema, which checks the catalog with the catalog schema.

import { readFileSync } from 'node:fs';
import { siteInputSchema, type SiteInput } from '../../../generator/formats/site-input.js';
import { groupProducts, type ProductGroup } from '../../../generator/formats/groups.js';
import { parseWith } from '../../../generator/util/friendly.js';

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
    // Every problem at once, each with its field (the build hands over what it checked: a problem is a bug).
    const input = parseWith(siteInputSchema, JSON.parse(readFileSync(file, 'utf8')), file);
    loaded = { input, groups: groupProducts(input.catalog) };
  }
  return loaded;
}
