// Checks a published simplestreams tree — ours or another tool's — against every rule real
// clients enforce: files present with the listed size and sha256, combined fingerprints right,
// fingerprints unique, aliases unique per architecture, field types, version keys, and LXC's
// index (inspect/verify-lxc). The tree is a
// folder or the URL it is served at (files fetched as clients fetch them, redirects followed); a
// file a folder does not hold but its `_redirects` sends elsewhere (object storage) is fetched there.

import { createHash, type Hash } from 'node:crypto';
import { findArchitecture } from '../simplestreams/architectures.js';
import { isValidVersionKey } from '../simplestreams/version-key.js';
import { acceptedItemSchema, acceptedProductSchema, insideTree } from '../simplestreams/schema.js';
import { itemPathProblem } from '../simplestreams/item-paths.js';
import { combinedFingerprint, DELTA_FTYPES, METADATA_FTYPES, ROOTFS_FTYPES, UNIFIED_FTYPES } from '../simplestreams/ftypes.js';
import { imagesOf, pairingGaps } from '../simplestreams/images.js';
import { openTreeSource, type TreeSource } from '../source/source.js';
import { readTree, type ReportedTree, type TreeProblem } from '../source/tree.js';
import { openBody } from '../source/http.js';
import { STATE_PATH, stateSchema } from '../formats/state.js';
import { readChecked, type Seen } from '../ingest/wholeness.js';
import { MetadataProblem, parseMetadata } from '../ingest/metadata.js';
import { mapLimit } from '../util/concurrency.js';
import { parseJson, isObject } from '../util/json.js';
import { checkLxcIndex } from './verify-lxc.js';
import { catalogSchema } from '../formats/catalog.js';
import { basePathOf } from '../render/cdn/import-map.js';
import { checkSignatures, type SignatureReport } from './verify-signatures.js';
import type { Keyring } from '../signing/openpgp.js';

export type { TreeProblem };

interface FileState {
  hash: Hash;
  size: number;
  /** With the deep check: why the tarball would not unpack to its end. */
  broken?: string;
  /** With the deep check: whether it is a tarball, and its metadata.yaml. */
  seen?: Seen;
  /** The read was cut off: why. */
  failed?: string;
}

/** What is wrong with a file listed as a metadata or unified item, as the build would classify it. */
function notMetadataTarball(seen: Seen, ftype: string): string | undefined {
  const unified = UNIFIED_FTYPES.includes(ftype);
  const what = unified ? 'a unified image tarball' : 'a metadata tarball';
  if (!seen.tarball) return `is listed as ${ftype} (${what}) but is no tarball: clients fail on it`;
  if (!seen.metadataYaml) return `is listed as ${ftype} (${what}) but holds no metadata.yaml: clients fail on it`;
  try {
    parseMetadata(seen.metadataYaml, Math.floor(Date.now() / 1000));
  } catch (e) {
    return e instanceof MetadataProblem ? e.message : `metadata.yaml: ${(e as Error).message}`;
  }
  return undefined;
}

/** The public URL of the bucket a tree's state records its image files on (with a trailing /), if any. */
async function recordedBucketUrl(source: TreeSource): Promise<string | undefined> {
  try {
    const state = stateSchema.parse(JSON.parse((await source.readText(STATE_PATH, 16 * 2 ** 20)) ?? 'null'));
    const storage = state.settings?.object_storage as { public_url?: unknown } | undefined;
    return typeof storage?.public_url === 'string' && /^https?:\/\//.test(storage.public_url) ? storage.public_url.replace(/\/*$/, '/') : undefined;
  } catch {
    return undefined;
  }
}

class FileHasher {
  private states = new Map<string, Promise<FileState | undefined>>();
  /**
   * `redirectOf`: where a folder's _redirects sends a path it does not hold (none for a URL: the
   * server applies them). `deep`: tarballs are also proven whole in the same read.
   */
  constructor(
    private source: TreeSource,
    private redirectOf: ((pathname: string) => string | undefined) | null,
    private deep: boolean,
  ) {}

  /** The bytes of a listed file: from the tree, else from where its redirect rule points; undefined when missing. */
  private async open(rel: string, maxBytes?: number): Promise<AsyncIterable<Buffer> | undefined> {
    if (!insideTree(rel)) return undefined;
    try {
      const body = await this.source.open(rel, maxBytes);
      if (body) return body;
    } catch {
      return undefined;
    }
    const to = this.redirectOf?.(`/${rel}`);
    if (!to) return undefined;
    try {
      return (await openBody(to, { maxBytes })) ?? undefined;
    } catch {
      return undefined;
    }
  }

  /** sha256 state of a tree file (copy before use), or undefined when it is missing. */
  state(rel: string, maxBytes?: number): Promise<FileState | undefined> {
    let p = this.states.get(rel);
    if (!p) {
      p = (async () => {
        const body = await this.open(rel, maxBytes);
        if (!body) return undefined;
        const hash = createHash('sha256');
        let size = 0;
        let broken: string | undefined;
        const seen: Seen = {};
        try {
          broken = (
            await readChecked(
              body,
              (chunk) => {
                hash.update(chunk);
                size += chunk.length;
              },
              this.deep,
              seen,
            )
          )?.message;
        } catch (e) {
          // A read cut off (past its listed size, too slow, dropped): what happened, as the problem.
          return { hash, size, failed: (e as Error).message };
        }
        return { hash, size, ...(broken ? { broken } : {}), ...(this.deep ? { seen } : {}) };
      })();
      this.states.set(rel, p);
    }
    return p;
  }

  private combos = new Map<string, Promise<string | undefined>>();

  /** sha256(meta ‖ rootfs), or undefined when either is missing. */
  combined(metaRel: string, rootRel: string, rootSize?: number): Promise<string | undefined> {
    const key = `${metaRel}\u0000${rootRel}`;
    let p = this.combos.get(key);
    if (!p) this.combos.set(key, (p = this.combine(metaRel, rootRel, rootSize)));
    return p;
  }

  private async combine(metaRel: string, rootRel: string, rootSize?: number): Promise<string | undefined> {
    const meta = await this.state(metaRel);
    const body = !meta || meta.failed ? undefined : await this.open(rootRel, rootSize);
    if (!meta || !body) return undefined;
    const h = meta.hash.copy();
    try {
      for await (const chunk of body) h.update(chunk);
    } catch {
      return undefined; // reported as a missing file by the item check
    }
    return h.digest('hex');
  }
}

/**
 * Every read the checks below will ask for (each listed file, each metadata ‖ rootfs pair), as
 * jobs: run a few at a time ahead of the checks, they keep the disk or server busy while the
 * checks, which stay in order, consume the results.
 */
function readsAhead(productsFiles: Iterable<{ products: Record<string, unknown> }>, hasher: FileHasher): (() => Promise<unknown>)[] {
  const jobs: (() => Promise<unknown>)[] = [];
  for (const { products } of productsFiles) {
    for (const product of Object.values(products)) {
      if (!isObject(product) || !isObject(product.versions)) continue;
      for (const version of Object.values(product.versions)) {
        if (!isObject(version) || !isObject(version.items)) continue;
        const items = Object.values(version.items).filter(
          (i): i is Record<string, unknown> & { path: string; ftype: string } =>
            isObject(i) && typeof i.path === 'string' && typeof i.ftype === 'string' && insideTree(i.path),
        );
        for (const item of items) jobs.push(() => hasher.state(item.path, typeof item.size === 'number' ? item.size : undefined));
        for (const root of items.filter((i) => i.ftype in ROOTFS_FTYPES)) {
          for (const meta of items.filter((i) => METADATA_FTYPES.includes(i.ftype) && combinedFingerprint(i, root.ftype) !== undefined)) {
            jobs.push(() => hasher.combined(meta.path, root.path, typeof root.size === 'number' ? root.size : undefined));
          }
        }
      }
    }
  }
  return jobs;
}

/** Reads in flight ahead of the checks. */
const READS_AHEAD = 8;

/** The path the tree's base URL names ('' when none, or no catalog.json of ours). */
async function treeBasePath(source: TreeSource): Promise<string> {
  try {
    const parsed = catalogSchema.safeParse(parseJson((await source.readText('catalog.json')) ?? 'null'));
    return parsed.success ? basePathOf(parsed.data.baseUrl) : '';
  } catch {
    return '';
  }
}

export interface VerifyReport {
  problems: TreeProblem[];
  products: number;
  images: number;
  files: number;
  /** Signed or not, by which key, checked against the caller's keyring (trusted) or the tree's own key. */
  signatures?: Omit<SignatureReport, 'problems'>;
}

export interface VerifyOptions {
  /** Sizes and sha256 only: no tarball decompressed to its end. */
  quick?: boolean;
  /** The keys to trust (--keyring): the signed chain must verify against them. */
  keyring?: Keyring;
  /** An unsigned tree is an error (--require-signature). */
  requireSignature?: boolean;
  /** Check signatures at all (default true; a tree adopted from another tool: false). */
  signatures?: boolean;
}

/**
 * `spec`: the tree's folder, or the http(s) URL it is served at. Unless `quick`, every tarball
 * is also decompressed to its end and its tar stream walked to the end-of-archive marker.
 */
export async function verifyTree(
  spec: string,
  { quick = false, keyring, requireSignature = false, signatures: check = true }: VerifyOptions = {},
): Promise<VerifyReport> {
  const problems: TreeProblem[] = [];
  const report: VerifyReport = { problems, products: 0, images: 0, files: 0 };
  const source = openTreeSource(spec);
  const isUrl = /^https?:\/\//i.test(spec);
  const tree = await readTree(source, { mode: 'report', problems });
  if (!tree) return report;
  let redirectOf: ((pathname: string) => string | undefined) | null = null;
  if (!isUrl) {
    // Netlify's parsers load only here: `list` and the URL case never need them.
    const { loadRules, matchRedirect } = await import('../source/host-rules.js');
    const rules = await loadRules(spec);
    // A tree served under a path (its base URL's) has its rules written for that path.
    const base = await treeBasePath(source);
    // Followed only to the bucket the tree's own state records (object_storage.public_url): a
    // _redirects of a tree from elsewhere must not send verify to any address it names.
    const bucket = await recordedBucketUrl(source);
    redirectOf = (pathname) => {
      const r = matchRedirect(rules, `${base}${pathname}`);
      return r && r.status >= 300 && r.status <= 399 && bucket && r.to.startsWith(bucket) ? r.to : undefined;
    };
  }
  const hasher = new FileHasher(source, redirectOf, !quick);
  const { productsFiles } = tree;
  const ahead = mapLimit(
    readsAhead(
      [...productsFiles.values()].map((f) => f.products),
      hasher,
    ),
    READS_AHEAD,
    (job) => job(),
  );
  try {
    await checkProducts(productsFiles, hasher, report);
  } finally {
    await ahead;
  }
  problems.push(
    ...(await checkLxcIndex(
      source,
      [...productsFiles.values()].map((f) => f.products.products),
      async (rel) => {
        const st = await hasher.state(rel);
        return !st ? { missing: true } : { ...(st.failed ? { failed: st.failed } : {}), ...(st.broken ? { broken: st.broken } : {}) };
      },
    )),
  );
  if (!check) return report;
  const { problems: signatureProblems, ...signatures } = await checkSignatures(source, tree, { ...(keyring ? { keyring } : {}), require: requireSignature });
  problems.push(...signatureProblems);
  report.signatures = signatures;
  return report;
}

/** Every product, version and item against what the clients enforce, with the files they list (read through `hasher`). */
async function checkProducts(productsFiles: ReportedTree['productsFiles'], hasher: FileHasher, report: VerifyReport): Promise<void> {
  const err = (where: string, message: string) => report.problems.push({ severity: 'error', where, message });
  const warn = (where: string, message: string) => report.problems.push({ severity: 'warning', where, message });
  const fingerprints = new Map<string, string>();
  const aliasOwners = new Map<string, string>();
  const checkedFiles = new Set<string>();

  for (const [
    file,
    {
      products: { products },
    },
  ] of productsFiles) {
    for (const [key, product] of Object.entries(products)) {
      const where = `${file} ${key}`;
      report.products++;
      if (!isObject(product)) {
        err(where, 'is not an object');
        continue;
      }
      const arch = typeof product.arch === 'string' ? findArchitecture(product.arch) : undefined;
      if (!arch) err(where, `arch ${JSON.stringify(product.arch)} is not an architecture LXD knows: the whole product is invisible`);
      // What the clients accept of a product's own fields: the one schema (simplestreams/schema.ts).
      // Versions and items are checked below, with their files.
      const shape = acceptedProductSchema.safeParse(product);
      for (const issue of shape.success ? [] : shape.error.issues) {
        const field = String(issue.path[0] ?? '');
        if (field === 'versions') continue;
        err(where, issue.message.startsWith(`${field} `) ? issue.message : `${field} ${issue.message}`);
      }
      if (product.support_eol !== undefined && (typeof product.support_eol !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(product.support_eol))) {
        warn(where, 'support_eol should be a YYYY-MM-DD date');
      }
      if (typeof product.aliases === 'string' && product.aliases && arch) {
        for (const alias of product.aliases.split(',')) {
          const k = `${arch.canonical}\u0000${alias}`;
          const owner = aliasOwners.get(k);
          if (owner && owner !== key) err(where, `alias "${alias}" is also claimed by ${owner} (same architecture): clients use only one`);
          else aliasOwners.set(k, key);
        }
      }
      if (!isObject(product.versions)) {
        err(where, 'versions must be an object');
        continue;
      }
      for (const [vkey, version] of Object.entries(product.versions)) {
        const vwhere = `${where} ${vkey}`;
        if (!isValidVersionKey(vkey)) err(vwhere, 'version key must start with a YYYYMMDD date: clients drop this version silently');
        if (!isObject(version) || !isObject(version.items)) {
          err(vwhere, 'items must be an object');
          continue;
        }
        const items = Object.entries(version.items);
        let typesOk = true;
        for (const [ikey, item] of items) {
          const iwhere = `${vwhere} ${ikey}`;
          if (!isObject(item)) {
            err(iwhere, 'is not an object');
            typesOk = false;
            continue;
          }
          // What the clients accept of an item: the one schema (simplestreams/schema.ts).
          const shape = acceptedItemSchema.safeParse(item);
          for (const issue of shape.success ? [] : shape.error.issues) err(iwhere, `${String(issue.path[0] ?? 'item')} ${issue.message}`);
          if (typeof item.ftype === 'string' && DELTA_FTYPES[item.ftype]) {
            const base =
              isObject(product.versions) && typeof item.delta_base === 'string' ? (product.versions as Record<string, unknown>)[item.delta_base] : undefined;
            const baseItems = isObject(base) && isObject(base.items) ? Object.values(base.items) : [];
            if (!baseItems.some((b) => isObject(b) && b.ftype === 'lxd.tar.xz' && typeof b.combined_squashfs_sha256 === 'string')) {
              warn(iwhere, `delta_base ${JSON.stringify(item.delta_base)} is not a version of this product with a squashfs image: clients skip this delta`);
            }
          }
          if (typeof item.path !== 'string' || !insideTree(item.path)) {
            typesOk = false;
            continue;
          }
          const pathProblem = itemPathProblem(item.path, { anywhere: true });
          if (pathProblem) {
            err(iwhere, `path ${JSON.stringify(item.path)} ${pathProblem}`);
            typesOk = false;
            continue;
          }
          const st = await hasher.state(item.path, typeof item.size === 'number' ? item.size : undefined);
          if (!st) {
            err(iwhere, `file ${item.path} is missing`);
            continue;
          }
          if (st.failed) {
            err(iwhere, `file ${item.path} could not be read to its end: ${st.failed}`);
            continue;
          }
          if (!checkedFiles.has(`${item.path}\u0000${item.sha256}\u0000${item.size}`)) {
            checkedFiles.add(`${item.path}\u0000${item.sha256}\u0000${item.size}`);
            report.files++;
            if (st.size !== item.size) err(iwhere, `${item.path} is ${st.size} bytes, the index says ${item.size}`);
            else if (st.hash.copy().digest('hex') !== item.sha256) err(iwhere, `${item.path} does not match its sha256`);
            else if (st.broken) err(iwhere, `${item.path} ${st.broken}: clients list it but fail when they unpack it`);
            else if (st.seen && typeof item.ftype === 'string' && (METADATA_FTYPES.includes(item.ftype) || UNIFIED_FTYPES.includes(item.ftype))) {
              const wrong = notMetadataTarball(st.seen, item.ftype);
              if (wrong) err(iwhere, `${item.path} ${wrong}`);
            }
          }
        }
        if (!typesOk) continue;
        const all = items.filter(([, i]) => isObject(i)) as [string, Record<string, unknown> & { ftype: string; path: string; sha256: string }][];
        const addFingerprint = (fp: string, label: string) => {
          report.images++;
          const other = fingerprints.get(fp);
          if (other) err(label, `fingerprint ${fp} is also used by ${other}: clients fail with "More than one match"`);
          else fingerprints.set(fp, label);
        };
        // Which client sees which image, and why one does not: the one pairing (simplestreams/images.ts).
        for (const { rootfs, client, gap, field } of pairingGaps(all)) {
          const [metaFtype, name] = client === 'lxd' ? ['lxd.tar.xz', 'LXD'] : ['incus.tar.xz', 'Incus'];
          const rwhere = `${vwhere} ${rootfs.key}`;
          if (gap === 'no-metadata') warn(rwhere, `no ${metaFtype} item: ${name} cannot see this image`);
          else if (gap === 'no-fingerprint') err(rwhere, `no ${metaFtype} item carries ${field}: ${name} cannot see this ${rootfs.item.ftype} image`);
          else err(rwhere, `several ${metaFtype} items carry ${field}: the client cannot tell which metadata goes with this ${rootfs.item.ftype}`);
        }
        for (const image of imagesOf(all)) {
          if (image.rootfs) {
            const { item: root } = image.rootfs;
            const checked = new Set<string>();
            for (const { key: mkey, item: meta } of image.metas ?? []) {
              if (checked.has(meta.path)) continue;
              checked.add(meta.path);
              const actual = await hasher.combined(meta.path, root.path, typeof root.size === 'number' ? root.size : undefined);
              if (actual && actual !== image.fingerprint)
                err(
                  `${vwhere} ${mkey}`,
                  `${ROOTFS_FTYPES[root.ftype]!.combined[0]} is ${image.fingerprint}, but sha256(${meta.path} ‖ ${root.path}) is ${actual}`,
                );
            }
          }
          addFingerprint(image.fingerprint, `${vwhere} ${(image.rootfs ?? image.unified)!.key}`);
        }
        const metas = all.filter(([, i]) => METADATA_FTYPES.includes(i.ftype));
        const roots = all.filter(([, i]) => i.ftype in ROOTFS_FTYPES);
        if (roots.length === 0 && metas.length > 0) warn(vwhere, 'has metadata items but no rootfs item');
      }
    }
  }
}
