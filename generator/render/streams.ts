// Serializes a plan into the simplestreams files clients read: streams/v1/index.json, a
// content-addressed products file (and the same under its fixed name images.json), and LXC's
// index when the tree holds LXC files. Pure and deterministic: same plan, same bytes.

import { createHash } from 'node:crypto';
import { LXC_INDEX_PATHS, renderLxcIndex } from './lxc.js';
import type { Plan, PlannedItem, PlannedProduct } from '../plan/products.js';
import { indexFileSchema, productsFileSchema } from '../simplestreams/schema.js';
import { checkInParts, type ProvenParts } from '../util/check-parts.js';
import { byEntryKey } from '../util/compare.js';

export interface StreamsFiles {
  /** Output-relative path → file content. */
  files: Map<string, string>;
  indexPath: string;
  productsPath: string;
  /** RFC 2822 date of the newest image (not the wall clock, so output stays reproducible). */
  updated: string;
  /** Checks the rendered files against what the clients' JSON decoders need (throws); run before publishing. */
  /** Checks the rendered files against the schemas; `proven`: products that passed before (not checked again). */
  validate(proven?: ProvenParts): void;
}

export const INDEX_PATH = 'streams/v1/index.json';
/**
 * The products under the fixed name web UIs (the Incus and LXD UIs' custom servers), marketplaces
 * (OpenNebula) and plugins fetch; index.json keeps naming the content-addressed file, so the
 * clients' consistency is unchanged.
 */
export const FIXED_PRODUCTS_PATH = 'streams/v1/images.json';

export function rfc2822(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toUTCString().replace('GMT', '+0000');
}

function itemJson(item: PlannedItem): Record<string, unknown> {
  return {
    ftype: item.ftype,
    path: item.file.path,
    sha256: item.file.sha256,
    size: item.file.size,
    ...(item.combinedType ? { combined_type: item.combinedType } : {}),
    ...(item.deltaBase ? { delta_base: item.deltaBase } : {}),
    ...Object.fromEntries(Object.entries(item.combined).sort(byEntryKey)),
  };
}

function productJson(p: PlannedProduct): Record<string, unknown> {
  const hasRequirements = Object.keys(p.requirements).length > 0;
  return {
    aliases: p.aliases.join(','),
    arch: p.arch,
    os: p.os,
    release: p.release,
    ...(p.releaseCodename ? { release_codename: p.releaseCodename } : {}),
    release_title: p.releaseTitle,
    variant: p.variant,
    ...(p.supported !== undefined ? { supported: p.supported } : {}),
    ...(p.supportEol ? { support_eol: p.supportEol } : {}),
    // lxd_requirements, when present at all, makes LXD ignore requirements: omit both when empty.
    ...(hasRequirements ? { requirements: p.requirements, lxd_requirements: p.requirements } : {}),
    versions: Object.fromEntries(p.versions.map((v) => [v.key, { items: Object.fromEntries(v.items.map((i) => [i.key, itemJson(i)])) }])),
  };
}

export function newestCreation(plan: Plan): number {
  let newest = 0;
  for (const p of plan.products) for (const v of p.versions) for (const i of v.images) newest = Math.max(newest, i.created);
  return newest;
}

export function renderStreams(plan: Plan): StreamsFiles {
  const updated = rfc2822(newestCreation(plan));
  const products = {
    content_id: 'images',
    datatype: 'image-downloads',
    format: 'products:1.0',
    products: Object.fromEntries(plan.products.map((p) => [p.key, productJson(p)])),
    updated,
  };
  const productsText = `${JSON.stringify(products, null, 1)}\n`;
  // Clients cache products files by basename: the name must change whenever the content does.
  const productsPath = `streams/v1/images-${createHash('sha256').update(productsText).digest('hex').slice(0, 16)}.json`;
  const index = {
    format: 'index:1.0',
    index: {
      images: {
        datatype: 'image-downloads',
        path: productsPath,
        format: 'products:1.0',
        products: plan.products.map((p) => p.key),
        updated,
      },
    },
    updated,
  };
  const files = new Map<string, string>([
    [productsPath, productsText],
    [FIXED_PRODUCTS_PATH, productsText],
    [INDEX_PATH, `${JSON.stringify(index, null, 1)}\n`],
  ]);
  // LXC's index, when the tree holds LXC files.
  const lxcIndex = renderLxcIndex(plan.products);
  if (lxcIndex) for (const p of LXC_INDEX_PATHS) files.set(p, lxcIndex);
  const validate = (proven?: ProvenParts) => {
    // product by product: a catalogue of thousands is not copied whole by the check
    checkInParts(productsFileSchema, products, 'products', proven);
    indexFileSchema.parse(index);
  };
  return { files, indexPath: INDEX_PATH, productsPath, updated, validate };
}
