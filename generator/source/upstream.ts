// Reads an upstream image server to mirror — any simplestreams tree LXD or Incus can use (ours,
// incus-simplestreams', simplestream-maintainer's, images.linuxcontainers.org's) — as untrusted
// input: index.json and every image-downloads products file it lists, each bounded in size and
// time, validated with what the clients accept (simplestreams/schema.ts), and then refused when
// a name could carry markup or a header break, a path could leave the tree (also once
// percent-decoded), or a size or count is beyond any real server. Every problem at once.

import { BuildError, BuildFailed } from '../util/errors.js';
import { catalogSchema, futureDated, type Catalog } from '../formats/catalog.js';
import { INDEX_PATH } from '../render/streams.js';
import { insideTree, type AcceptedProductsFile } from '../simplestreams/schema.js';
import { KNOWN_FTYPES } from '../simplestreams/ftypes.js';
import { MANIFEST_FTYPES } from '../formats/manifest.js';
import { itemPathProblem } from '../simplestreams/item-paths.js';
import { useCredentials, type HttpLimits } from './http.js';
import { openTreeSource } from './source.js';
import { decodedPath, readTree } from './tree.js';
import { count } from '../util/format.js';
import { byEntryKey } from '../util/compare.js';
import type { Keyring } from '../signing/openpgp.js';
import { readSignedChain, sameJson, SIGNED_INDEX_PATH } from './signed-chain.js';

export interface Upstream {
  /** The base URL, ending in /. */
  base: string;
  products: AcceptedProductsFile;
  /** The upstream's catalog.json when it is a staticstreams tree (creation dates, descriptions). */
  catalog: Catalog | null;
  /** What was left out, for the user (items of an ftype no client reads), and an unsigned chain under `preferred`. */
  warnings: string[];
  /** The key the upstream's signed chain verified against (with a keyring). */
  signer?: string;
  /** The `updated` time of its signed index (ISO 8601), when the chain verified and says one. */
  updated?: string;
  /** What was read and why (for progress lines): which documents dates come from. */
  notes: string[];
}

/** --signatures: `required` fails an upstream whose chain is not signed throughout; `preferred` checks what is signed. */
export type SignaturePolicy = 'required' | 'preferred' | 'off';
export const SIGNATURE_POLICIES: readonly SignaturePolicy[] = ['required', 'preferred', 'off'];

export interface UpstreamTrust {
  keyring?: Keyring;
  policy: SignaturePolicy;
  /** The policy was given (flag or config), not the default: only then is `off` taken for an upstream recorded as signed. */
  explicit?: boolean;
  /** What the previous output recorded of this upstream: whose key signed it, and when its signed index was updated. */
  recorded?: { signer?: string; updated?: string };
}

/**
 * Walks the upstream's signed chain with the keyring: a signature that does not verify (a changed
 * byte, another key) refuses the upstream under any policy; a missing signature or an unsigned
 * link in the chain is refused under `required` and a warning under `preferred`. Returns the
 * signed documents (index text with its `.json` paths, products payloads) to read instead of the
 * unsigned ones.
 */
async function checkUpstreamChain(base: string, read: (rel: string) => Promise<string | null>, trust: UpstreamTrust, warnings: string[]) {
  const fix = 'the upstream is not what its signer published (tampered, or being updated): try again later, or report it to the upstream';
  const chain = await readSignedChain(read, trust.keyring!);
  const required = trust.policy === 'required';
  const recorded = trust.recorded?.signer;
  if (!chain.signed) {
    const message = `${base}${SIGNED_INDEX_PATH}: not found: the upstream is not signed`;
    if (recorded)
      throw new BuildError(
        `${message}, but the previous run found it signed by ${recorded}: a stripped signature is refused`,
        'try again later (it may be being updated), or ask the upstream why; a mirror of an upstream that stopped signing on purpose starts in a new output folder',
      );
    if (required) throw new BuildError(message, 'mirror it with --signatures preferred (check what is signed) or off, or ask the upstream to sign its tree');
    warnings.push(`${message}; mirrored without a signature check (--signatures required refuses it)`);
    return null;
  }
  const bad = chain.problems.filter((p) => p.kind === 'bad');
  if (bad.length) throw new BuildFailed(bad.map((p) => new BuildError(`${base}${p.where}: ${p.message}`, fix)));
  for (const p of chain.problems.filter((q) => q.kind === 'unsigned-link')) {
    if (required)
      throw new BuildError(`${base}${p.where}: ${p.message}`, 'mirror it with --signatures preferred, or ask the upstream to sign its products files');
    warnings.push(`${base}${p.where}: ${p.message}; its products are mirrored unchecked (--signatures required refuses this)`);
  }
  return chain;
}

/** The `updated` time of a signed index payload, as ISO 8601 (undefined when it says none). */
function signedUpdated(payload: string | undefined): string | undefined {
  try {
    const updated = (JSON.parse(payload ?? '') as { updated?: unknown }).updated;
    const ms = typeof updated === 'string' ? Date.parse(updated) : NaN;
    return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
  } catch {
    return undefined;
  }
}

/** Bounds no real server comes near; beyond them the upstream is refused. */
export const UPSTREAM_BOUNDS = {
  indexBytes: 4 * 2 ** 20,
  productsBytes: 256 * 2 ** 20,
  itemBytes: 2 ** 40,
  products: 100_000,
  versionsPerProduct: 10_000,
  itemsPerVersion: 200,
};

/** Control characters, markup and quoting: none belongs in a key, name or alias. */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const UNSAFE = /[\u0000-\u001f\u007f<>"'`\\]/;
const ALIAS = /^[A-Za-z0-9][A-Za-z0-9._+~/:-]*$/;

/** A URL given for an upstream, as a base ending in / (a trailing streams/v1/index.json is dropped). */
export function upstreamBase(spec: string): string {
  let url: URL;
  try {
    // https://USER:PASSWORD@host/ (a private upstream): the credentials go with its requests only.
    url = new URL(useCredentials(spec));
  } catch {
    throw new BuildError(`${spec}: not a URL`, 'give the http(s) URL the upstream is served at, e.g. https://images.example.org/');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new BuildError(`${spec}: only http(s) upstreams can be mirrored`, 'give the http(s) URL the upstream is served at');
  url.search = '';
  url.hash = '';
  const base = url.href.replace(/streams\/v1\/index\.json$/, '');
  return base.endsWith('/') ? base : `${base}/`;
}

/** Where each listed path was first seen, with what content: one path, one file. */
type Listed = Map<string, { sha256: string; size: number; place: string }>;

/** What a hostile products file could do that the schema lets through. */
function hostile(products: AcceptedProductsFile, where: string, listed: Listed): BuildError[] {
  const problems: BuildError[] = [];
  const fix = 'this upstream cannot be mirrored as it is: report it to its maintainers, or mirror only other products (--filter)';
  const refuse = (place: string, what: string) => problems.push(new BuildError(`${where}: ${place}: ${what}`, fix));
  const name = (place: string, value: string) => {
    if (UNSAFE.test(value)) refuse(place, `${JSON.stringify(value)} holds a control character, markup or a quote`);
  };
  const entries = Object.entries(products.products);
  if (entries.length > UPSTREAM_BOUNDS.products) refuse('products', `${entries.length} products, more than ${UPSTREAM_BOUNDS.products}`);
  for (const [key, p] of entries.slice(0, UPSTREAM_BOUNDS.products)) {
    name(`product ${JSON.stringify(key)}`, key);
    for (const field of ['os', 'release', 'arch', 'variant', 'release_title', 'release_codename'] as const) {
      const value = p[field];
      if (typeof value === 'string') name(`product ${key}, field ${field}`, value);
    }
    for (const alias of p.aliases ? p.aliases.split(',') : [])
      if (!ALIAS.test(alias)) refuse(`product ${key}, field aliases`, `${JSON.stringify(alias)} is not an alias a client can type`);
    const versions = Object.entries(p.versions);
    if (versions.length > UPSTREAM_BOUNDS.versionsPerProduct)
      refuse(`product ${key}`, `${versions.length} versions, more than ${UPSTREAM_BOUNDS.versionsPerProduct}`);
    for (const [vkey, v] of versions.slice(0, UPSTREAM_BOUNDS.versionsPerProduct)) {
      name(`product ${key}, version ${JSON.stringify(vkey)}`, vkey);
      const items = Object.entries(v.items);
      if (items.length > UPSTREAM_BOUNDS.itemsPerVersion)
        refuse(`product ${key}, version ${vkey}`, `${items.length} items, more than ${UPSTREAM_BOUNDS.itemsPerVersion}`);
      for (const [ikey, item] of items) {
        const place = `product ${key}, version ${vkey}, item ${ikey}`;
        name(place, ikey);
        name(`${place}, field ftype`, item.ftype);
        if (!insideTree(decodedPath(item.path)) || UNSAFE.test(item.path) || /[?#]/.test(item.path))
          refuse(`${place}, field path`, `${JSON.stringify(item.path)} leaves the tree (once percent-decoded) or is no plain path`);
        else {
          const problem = itemPathProblem(decodedPath(item.path));
          if (problem) refuse(`${place}, field path`, `${JSON.stringify(item.path)} ${problem}`);
        }
        const same = listed.get(item.path);
        if (same && (same.sha256 !== item.sha256 || same.size !== item.size))
          refuse(`${place}, field path`, `${JSON.stringify(item.path)} is listed again with another sha256 or size (first at ${same.place})`);
        else if (!same) listed.set(item.path, { sha256: item.sha256, size: item.size, place });
        if (item.size > UPSTREAM_BOUNDS.itemBytes) refuse(`${place}, field size`, `${item.size} bytes, more than 1 TiB`);
      }
    }
  }
  return problems;
}

/** Reads the upstream at `spec` (its base URL): every image-downloads products file, merged. */
export async function readUpstream(spec: string, limits: HttpLimits, trust: UpstreamTrust = { policy: 'off' }, now: Date = new Date()): Promise<Upstream> {
  const base = upstreamBase(spec);
  const fix = 'check the URL: it is the folder holding streams/v1/index.json';
  const at = (rel: string) => new URL(rel, base).href;
  const warnings: string[] = [];
  const notes: string[] = [];
  const source = openTreeSource(base, { http: limits, fix });
  const checking = trust.keyring !== undefined && trust.policy !== 'off';
  if (trust.recorded?.signer && !checking) {
    if (!(trust.policy === 'off' && trust.explicit))
      throw new BuildError(
        `${base}: the previous run checked this upstream's signatures (signed by ${trust.recorded.signer}), and this run has no keyring to check them`,
        'give --keyring FILE (or mirror.keyring) with that public key, or --signatures off to stop checking on purpose',
      );
    warnings.push(`${base}: signed by ${trust.recorded.signer} when last mirrored; not checked now (--signatures off)`);
  }
  const chain = checking
    ? await checkUpstreamChain(
        base,
        (rel) => source.readText(rel, rel.endsWith('index.sjson') ? UPSTREAM_BOUNDS.indexBytes : UPSTREAM_BOUNDS.productsBytes),
        trust,
        warnings,
      )
    : null;
  const updated = signedUpdated(chain?.indexPayload);
  const before = trust.recorded?.updated;
  if (updated && before && Date.parse(updated) < Date.parse(before))
    throw new BuildError(
      `${base}${SIGNED_INDEX_PATH}: signed with the time ${updated}, older than ${before}, the one the previous run mirrored: an older signed tree served again (a replay, or a stale cache)`,
      'try again later; if the upstream really went back, mirror it into a new output folder',
    );
  if (chain?.index !== undefined) {
    const served = await source.readText(INDEX_PATH, UPSTREAM_BOUNDS.indexBytes).catch(() => null);
    if (served === null || !sameJson(served, chain.index))
      warnings.push(`${base}${INDEX_PATH}: differs from the signed ${SIGNED_INDEX_PATH} (being updated, or changed on the host): the signed one is mirrored`);
  }
  // With a verified chain, the signed documents are read, not the unsigned ones beside them.
  const signed = new Map<string, string>(chain?.products ?? []);
  if (chain?.index) signed.set(INDEX_PATH, chain.index);
  const tree = await readTree(
    { label: base, readText: async (rel, maxBytes) => signed.get(rel) ?? source.readText(rel, maxBytes) },
    {
      mode: 'strict',
      bounds: UPSTREAM_BOUNDS,
      fixes: {
        notFound: fix,
        index: 'the upstream index is broken: report it to the upstream',
        products: 'the upstream products file is broken: report it to the upstream',
        missing: 'the upstream is broken or being updated: try again later, or report it to the upstream',
      },
    },
  );
  if (tree.productsFiles.size === 0) throw new BuildError(`${at(INDEX_PATH)}: lists no image-downloads products file`, fix);
  const merged: AcceptedProductsFile = { datatype: 'image-downloads', products: {} };
  const problems: BuildError[] = [];
  const listed: Listed = new Map();
  for (const [rel, { products }] of tree.productsFiles) {
    problems.push(...hostile(products, at(rel), listed));
    for (const [key, product] of Object.entries(products.products)) {
      if (merged.products[key])
        problems.push(new BuildError(`${base}: product ${key} is listed by two products files of the upstream`, 'report it to the upstream'));
      merged.products[key] = product;
    }
  }
  if (problems.length) throw problems.length === 1 ? problems[0]! : new BuildFailed(problems);
  warnings.push(...leaveOutUnknown(merged, base));
  // A catalog only adds dates and descriptions: without it the version keys date the images. It
  // is not signed, so under a verified chain it is not read; nor is one that dates images later
  // than now (the mirror would sign with that date, and retention would follow it).
  let catalog: Catalog | null = null;
  if (chain) notes.push(`${base}: dates from the signed products' version keys (catalog.json is not signed: not used)`);
  else {
    const catalogText = await source.readText('catalog.json', UPSTREAM_BOUNDS.productsBytes).catch(() => null);
    try {
      const parsed = catalogText === null ? null : catalogSchema.safeParse(JSON.parse(catalogText));
      catalog = parsed?.success ? parsed.data : null;
    } catch {
      catalog = null;
    }
    const future = catalog && futureDated(catalog, now.getTime());
    if (future) {
      warnings.push(`${base}catalog.json: dates ${future}, in the future: not used (dates from the version keys)`);
      catalog = null;
    }
  }
  return {
    base,
    products: merged,
    catalog,
    warnings,
    notes,
    ...(chain?.signer ? { signer: chain.signer } : {}),
    ...(updated ? { updated } : {}),
  };
}

/** The items that describe an image (package lists, SBOMs, changes): copied with it, checked by the mirror. */
const MANIFEST_FTYPE_SET: ReadonlySet<string> = new Set(Object.values(MANIFEST_FTYPES));

/**
 * Leaves out items of an ftype no client reads and staticstreams does not describe images with (a
 * checksum file, another tool's own, …): they are copied nowhere. Returns a warning for each ftype left out, with how many items.
 */
function leaveOutUnknown(products: AcceptedProductsFile, base: string): string[] {
  const left = new Map<string, number>();
  for (const p of Object.values(products.products))
    for (const v of Object.values(p.versions))
      for (const [key, item] of Object.entries(v.items))
        if (!KNOWN_FTYPES.has(item.ftype) && !MANIFEST_FTYPE_SET.has(item.ftype)) {
          delete v.items[key];
          left.set(item.ftype, (left.get(item.ftype) ?? 0) + 1);
        }
  return [...left].sort(byEntryKey).map(([ftype, n]) => `${base}: ${count(n, 'item')} of ftype ${JSON.stringify(ftype)} left out: no client reads that type`);
}
