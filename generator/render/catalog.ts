// Builds catalog.json from a plan: every product, version (newest first), image and file.
// Pure; validated against the catalog schema before it is written.

import type { Plan, PlannedVersion } from '../plan/products.js';
import { lxcOf } from '../plan/lxc.js';
import { MANIFEST_FTYPES } from '../formats/manifest.js';
import { catalogSchema, type Catalog, type CatalogSigning } from '../formats/catalog.js';
import { checkInParts, type ProvenParts } from '../util/check-parts.js';
import { newestCreation, type StreamsFiles } from './streams.js';
import { absoluteUrl, buildImportMap, importPathForAlias, importPathForImage } from './cdn/import-map.js';

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

/** `trust`: a signed tree's key, and a mirror's upstreams with the key each was signed by. */
export function renderCatalog(
  plan: Plan,
  streams: StreamsFiles,
  baseUrl?: string,
  trust: { signing?: CatalogSigning; upstreams?: Catalog['upstreams'] } = {},
): { catalog: Catalog; text: string; validate(proven?: ProvenParts): void } {
  const catalog: Catalog = {
    format: 'staticstreams-catalog:1',
    ...(baseUrl ? { baseUrl: baseUrl.replace(/\/+$/, '') } : {}),
    updated: iso(newestCreation(plan)),
    streams: { index: streams.indexPath, products: streams.productsPath },
    aliasEndpoints: {},
    ...(trust.signing ? { signing: trust.signing } : {}),
    ...(trust.upstreams?.length ? { upstreams: trust.upstreams } : {}),
    products: plan.products.map((p) => ({
      key: p.key,
      os: p.os,
      release: p.release,
      variant: p.variant,
      arch: p.arch,
      architecture: p.canonicalArch,
      aliases: p.aliases,
      releaseTitle: p.releaseTitle,
      ...(p.releaseCodename ? { releaseCodename: p.releaseCodename } : {}),
      ...(p.supported !== undefined ? { supported: p.supported } : {}),
      ...(p.supportEol ? { supportEol: p.supportEol } : {}),
      requirements: p.requirements,
      versions: [...p.versions].reverse().map((v) => ({
        version: v.key,
        images: v.images.map((i) => ({
          type: i.type,
          fingerprint: i.fingerprint,
          size: i.size,
          clients: i.clients,
          created: iso(i.created),
          ...(i.serial ? { serial: i.serial } : {}),
          ...(i.description ? { description: i.description } : {}),
          files: i.files.map((f) => ({ path: f.file.path, ftype: f.ftype, sha256: f.file.sha256, size: f.file.size })),
        })),
        ...lxcField(v),
        ...manifestField(v),
      })),
    })),
  };
  if (catalog.baseUrl) {
    const base = catalog.baseUrl;
    const map = buildImportMap(catalog, null);
    for (const p of catalog.products) {
      for (const v of p.versions) {
        for (const i of v.images) if (map.images[i.fingerprint]) i.directUrl = absoluteUrl(base, importPathForImage(i.fingerprint));
      }
    }
    catalog.aliasEndpoints = Object.fromEntries(
      Object.keys(map.aliases)
        .sort()
        .map((a) => [a, absoluteUrl(base, importPathForAlias(a))]),
    );
  }
  // Checked before anything is published (after a no-change build's early return, which writes nothing).
  return { catalog, text: `${JSON.stringify(catalog, null, 1)}\n`, validate: (proven) => checkInParts(catalogSchema, catalog, 'products', proven) };
}

/** The paths of a version's manifest items, when it has them. */
function manifestField(v: PlannedVersion): { manifest?: NonNullable<Catalog['products'][number]['versions'][number]['manifest']> } {
  const at = (ftype: string) => v.items.find((i) => i.ftype === ftype)?.file.path;
  const [text, packages, sbom, changes] = [MANIFEST_FTYPES.manifest, MANIFEST_FTYPES.json, MANIFEST_FTYPES.sbom, MANIFEST_FTYPES.changes].map(at);
  if (!text || !packages || !sbom) return {};
  return { manifest: { text, packages, sbom, ...(changes ? { changes } : {}) } };
}

/** The folder of a version's LXC files, when it has them. */
function lxcField(v: PlannedVersion): { lxc?: { dir: string } } {
  const lxc = lxcOf(v);
  return lxc ? { lxc: { dir: lxc.dir } } : {};
}
