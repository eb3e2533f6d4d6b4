// The checks doctor runs once it reads the tree: what web UIs, marketplaces and LXC read, one
// image file and port 80, the import endpoints and the catalogue; and the header checks they
// share. Each finding says what, why a client cares, and the fix.

import { acceptedProductsSchema, type AcceptedProductsFile } from '../simplestreams/schema.js';
import { findArchitecture } from '../simplestreams/architectures.js';
import { lxcFilesOf } from '../simplestreams/images.js';
import { catalogSchema } from '../formats/catalog.js';
import type { cacheValues } from '../render/cdn/cache-rules.js';
import { FIXED_PRODUCTS_PATH, INDEX_PATH } from '../render/streams.js';
import { LXC_INDEX_PATHS, parseLxcIndex } from '../render/lxc.js';
import { buildImportMap } from '../render/cdn/import-map.js';
import { count } from '../util/format.js';
import { jsonOrNothing, port80, type Answer } from './probe.js';
import { STATE_PATH } from '../formats/state.js';

export interface Finding {
  severity: 'error' | 'warning' | 'ok';
  check: string;
  message: string;
  why?: string;
  fix?: string;
}

type Getter = (path: string, o?: { method?: string; headers?: Record<string, string>; limit?: number }) => Promise<{ hops: string[]; answer: Answer }>;

/** What every check needs: the server, where findings go, and how to ask it (with the credentials, as clients do). */
export interface Checks {
  /** The tree's URL, without a trailing slash. */
  base: string;
  url: URL;
  host: string;
  /** A private server's Authorization value: never printed. */
  credentials?: string;
  /** The tree's Cache-Control values (private for a private tree). */
  cache: ReturnType<typeof cacheValues>;
  findings: Finding[];
  ok(check: string, message: string): void;
  bad(severity: 'error' | 'warning', check: string, message: string, why: string, fix: string): void;
  /** A path of the tree, redirects followed. */
  get: Getter;
  /** An absolute URL (a double-slash path), read up to `limit` bytes, redirects followed. */
  follow(url: string, limit: number): Promise<{ hops: string[]; answer: Answer }>;
}

/**
 * What the other consumers read (see render/streams.ts): web UIs and marketplaces fetch the
 * products by the fixed name streams/v1/images.json, from the browser; OpenNebula's endpoint
 * ends in "/", so its paths start with "//".
 */
export async function consumerChecks(d: Checks, productsBody: string, productsFile: AcceptedProductsFile): Promise<void> {
  const { base, cache, findings, ok, bad, get, follow } = d;
  const fixed = await get(FIXED_PRODUCTS_PATH, { limit: 512 * 1024 * 1024 });
  const why = 'web UIs (Incus UI, LXD-UI) and marketplaces (OpenNebula) read the products by that fixed name, from the browser: they list nothing';
  if (fixed.answer.status !== 200 || !acceptedProductsSchema.safeParse(jsonOrNothing(fixed.answer.body)).success)
    bad(
      'warning',
      'consumers',
      `${FIXED_PRODUCTS_PATH} answers ${fixed.answer.status}${fixed.answer.status === 200 ? ' but is not a valid products file' : ''}`,
      why,
      'publish the whole output folder (staticstreams build writes it)',
    );
  else if (fixed.answer.body !== productsBody)
    bad(
      'warning',
      'consumers',
      `${FIXED_PRODUCTS_PATH} is not the products file the index names (a copy of another build)`,
      'web UIs and marketplaces list other images than LXD and Incus',
      'publish the whole output folder of one build',
    );
  else {
    ok('consumers', `${FIXED_PRODUCTS_PATH} holds the products the index names`);
    headerChecks(findings, FIXED_PRODUCTS_PATH, fixed.answer.headers, cache, 'short');
  }
  const doubled = await follow(`${base}//${INDEX_PATH}`, 16 * 1024 * 1024);
  if (doubled.answer.status === 200) ok('consumers', `//${INDEX_PATH} answers as ${INDEX_PATH}`);
  else
    bad(
      'warning',
      'consumers',
      `//${INDEX_PATH} answers ${doubled.answer.status}`,
      'a client whose server URL ends in "/" (OpenNebula\'s default) asks for double-slash paths',
      'serve double slashes as single ones: the generated nginx, Caddy and Cloudflare rules and `staticstreams serve` do',
    );
  await lxcChecks(d, productsFile);
}

/** LXC's `download` template: its index, read as it reads it (https://HOST//meta/…), and the tarballs of the first line. */
async function lxcChecks(d: Checks, productsFile: AcceptedProductsFile): Promise<void> {
  const { base, ok, bad, get, follow } = d;
  const withLxc = Object.values(productsFile.products).filter((p) =>
    Object.values(p.versions).some((v) => lxcFilesOf(v.items as Record<string, { ftype: string; path: string }>)),
  );
  const index = await follow(`${base}//${LXC_INDEX_PATHS[1]}`, 16 * 1024 * 1024);
  if (index.answer.status !== 200) {
    if (withLxc.length)
      bad(
        'warning',
        'lxc',
        `${LXC_INDEX_PATHS[1]} answers ${index.answer.status}, but ${count(withLxc.length, 'product')} list LXC files`,
        'lxc-create -t download reads that index: it finds no image',
        'publish the whole output folder (meta/ included)',
      );
    return;
  }
  const lines = parseLxcIndex(index.answer.body).filter((l) => l.fields.length === 6);
  const first = lines[0];
  if (!first) {
    bad('warning', 'lxc', `${LXC_INDEX_PATHS[1]} lists no image`, 'lxc-create -t download finds nothing', 'rebuild with --lxc');
    return;
  }
  for (const name of ['meta.tar.xz', 'rootfs.tar.xz']) {
    const at = `${first.fields[5]}/${name}`;
    const r = await get(at, { method: 'HEAD' });
    if (r.answer.status !== 200) {
      bad(
        'error',
        'lxc',
        `${at.replace(/\/+/g, '/')} (line 1 of the LXC index) answers ${r.answer.status}`,
        'lxc-create fails to download it',
        'publish the whole output folder',
      );
      return;
    }
  }
  ok('lxc', `${LXC_INDEX_PATHS[1]} lists ${count(lines.length, 'image')} for lxc-create -t download; the first one's tarballs answer`);
}

/** One image file, the smallest listed (HEAD and a 1-byte range only), and plain http:// on port 80 for it. */
export async function imageFileChecks(d: Checks, products: AcceptedProductsFile): Promise<void> {
  const { url, host, credentials, cache, ok, bad, get } = d;
  // One image file: the smallest listed, so nothing large is fetched (HEAD and a 1-byte range only).
  const files = Object.values(products.products).flatMap((p) => Object.values(p.versions).flatMap((v) => Object.values(v.items)));
  const smallest = files.sort((a, b) => a.size - b.size)[0];
  if (smallest) {
    try {
      const head = await get(smallest.path, { method: 'HEAD' });
      const via =
        head.hops.length > 1 ? ` (through ${head.hops.length - 1} redirect${head.hops.length > 2 ? 's' : ''}: ${head.hops.slice(1).join(' → ')})` : '';
      if (head.answer.status !== 200) {
        bad(
          'error',
          'image files',
          `HEAD ${smallest.path} answers ${head.answer.status}${via}`,
          'clients list the image but cannot download it',
          head.hops.length > 1
            ? 'upload the image files to the bucket the redirect points at (build with object_storage), or fix the redirect'
            : 'publish the images/ folder with the indexes',
        );
      } else {
        ok('image files', `HEAD ${smallest.path} answers 200${via}`);
        const length = Number(head.answer.headers['content-length']);
        if (!Number.isNaN(length) && length !== smallest.size)
          bad(
            'error',
            'image files',
            `${smallest.path} is ${length} bytes, the index says ${smallest.size}`,
            'clients refuse the download',
            'publish the files and indexes of one build together',
          );
        if (head.answer.headers['cache-control'] !== cache.immutable)
          bad(
            'warning',
            'image files',
            `${smallest.path} has Cache-Control ${JSON.stringify(head.answer.headers['cache-control'] ?? '')}`,
            'image files never change (their names hold their hash): a CDN may fetch them again and again',
            `send Cache-Control: ${cache.immutable} for /images/* (the generated rules do)`,
          );
        const range = await get(smallest.path, { headers: { Range: 'bytes=0-0' }, limit: 1024 });
        if (range.answer.status === 206) ok('image files', 'byte ranges answered (206)');
        else
          bad(
            'warning',
            'image files',
            `a Range request answers ${range.answer.status}, not 206`,
            'an interrupted download cannot resume',
            'serve the files from a host that supports byte ranges (every CDN and nginx/Caddy do)',
          );
      }
    } catch (e) {
      bad(
        'error',
        'image files',
        `${smallest.path}: ${(e as Error).message}`,
        'clients cannot download images',
        'check the image files and any redirect to a bucket',
      );
    }
    const plain = await port80(host, `${url.pathname.replace(/\/+$/, '')}/${smallest.path}`);
    if (credentials && plain !== 'refused')
      bad(
        'error',
        'port 80',
        `port 80 ${plain === 'answers' ? 'answers' : plain === 'silent' ? 'drops connections silently' : 'accepts connections'}: LXD and Incus send the credentials there in clear`,
        'both clients fetch image files over plain http:// on port 80 first, with the user and password of the remote URL (lxc/incus client/simplestreams_images.go)',
        'let nothing listen on port 80 of this host (connections refused at once: the clients then use https)',
      );
    else if (plain === 'answers' || plain === 'refused') ok('port 80', `plain http:// on port 80 ${plain === 'answers' ? 'answers' : 'is refused at once'}`);
    else
      bad(
        'error',
        'port 80',
        plain === 'silent' ? 'port 80 drops connections silently' : 'port 80 accepts connections and never answers',
        'LXD and Incus try http:// first for image files, so every download waits for a time-out (canonical/lxd#11478)',
        'answer on port 80 (a redirect to https), or reject connections at the firewall (REJECT, not DROP)',
      );
  }
}

/** Our catalog.json, when the server has one: the base URL it was built for, the import endpoints, the catalogue page. */
export async function catalogChecks(d: Checks): Promise<void> {
  const { base, findings, ok, bad, get } = d;
  // Direct URL import, from our catalog.json when the server has one.
  const catalogAnswer = await get('catalog.json', { limit: 512 * 1024 * 1024 }).catch(() => undefined);
  // A host that answers every path with its home page (a single-page-app fallback) sends HTML
  // here: that is no catalog, and the findings so far stand.
  const catalogJson = catalogAnswer?.answer.status === 200 ? jsonOrNothing(catalogAnswer.answer.body) : undefined;
  const catalog = catalogJson === undefined ? undefined : catalogSchema.safeParse(catalogJson);
  if (catalog?.success) {
    const builtFor = catalog.data.baseUrl?.replace(/\/+$/, '');
    if (builtFor === undefined)
      bad(
        'warning',
        'base url',
        'the tree was built without a base URL: it has no direct URL import endpoints (/import/…)',
        "`lxc image import https://…/import/alias/NAME` and the catalogue's import commands need them",
        `rebuild with --base-url ${base} (or base_url in staticstreams.yaml)`,
      );
    else if (builtFor !== base)
      bad(
        'error',
        'base url',
        `the tree was built for ${builtFor} and is served at ${base}`,
        `its import endpoints redirect to ${builtFor}, and catalog.json, the feeds and the catalogue's commands name it: clients following them leave this server`,
        `rebuild with --base-url ${base} (or base_url in staticstreams.yaml), or serve the tree at ${builtFor}`,
      );
    else ok('base url', `the tree was built for ${base}`);
    const map = buildImportMap({ ...catalog.data, baseUrl: base }, null);
    // A tree built for a bare bucket (--target bucket) has no edge code unless one was put in front.
    const bucket = await builtForBucket(get);
    const before = findings.length;
    const [fingerprint] = Object.keys(map.images);
    if (fingerprint) await importChecks(findings, get, `/import/sha256/${fingerprint}`, () => fingerprint);
    const alias = Object.entries(map.aliases).find(([, arches]) => Object.keys(arches).length > 0);
    if (alias) {
      const [name, arches] = alias;
      for (const debian of Object.keys(arches).slice(0, 2)) {
        const canonical = findArchitecture(debian)?.canonical ?? debian;
        await importChecks(findings, get, `/import/alias/${name}`, () => arches[debian]!, canonical);
      }
    }
    if (bucket)
      for (const f of findings.slice(before))
        if (f.check === 'import endpoints' && f.severity === 'error')
          Object.assign(f, {
            severity: 'warning',
            message: `${f.message} (a known limit: the tree was built for --target bucket, and a bare bucket answers no import endpoint)`,
            fix: 'put the Cloudflare worker (--target cloudflare) or nginx (--target nginx, proxying to the bucket) in front of the bucket for lxc image import URL; lxc remote add works without them',
          });
    const page = await get('', { limit: 16 * 1024 * 1024 }).catch(() => undefined);
    if (page?.answer.status === 200 && /text\/html/.test(page.answer.headers['content-type'] ?? '')) ok('catalogue', 'the catalogue page loads');
    else
      bad(
        'warning',
        'catalogue',
        `the catalogue page answers ${page?.answer.status ?? 'nothing'}`,
        'people browsing the server see no catalogue',
        'publish the whole output folder (built without --no-site)',
      );
  } else {
    ok('import endpoints', 'no staticstreams catalog.json: direct URL import not checked');
  }
}

/** Whether the server's state says the tree was built for a bare bucket (--target bucket). */
async function builtForBucket(get: Checks['get']): Promise<boolean> {
  const answer = await get(STATE_PATH, { limit: 64 * 1024 * 1024 }).catch(() => undefined);
  const state = answer?.answer.status === 200 ? jsonOrNothing(answer.answer.body) : undefined;
  const targets = (state as { settings?: { targets?: unknown } } | undefined)?.settings?.targets;
  return Array.isArray(targets) && targets.includes('bucket');
}

/** `kind`: the index (short) or a file named by its hash (immutable); `cache`: the tree's values, public or private. */
export function headerChecks(
  findings: Finding[],
  path: string,
  headers: Record<string, string>,
  cache: ReturnType<typeof cacheValues>,
  kind: 'short' | 'immutable',
): void {
  if (headers['access-control-allow-origin'] !== '*')
    findings.push({
      severity: 'error',
      check: 'cors',
      message: `${path} has no Access-Control-Allow-Origin: *`,
      why: 'web front ends and the catalogue read the indexes from other origins',
      fix: 'apply the generated header rules (_headers on Netlify/Cloudflare, the nginx or Caddy snippet)',
    });
  else findings.push({ severity: 'ok', check: 'cors', message: `${path}: CORS allowed` });
  const expected = cache[kind];
  const got = headers['cache-control'] ?? '';
  if (got !== expected)
    findings.push({
      severity: expected.startsWith('private') && /\bpublic\b/.test(got) ? 'error' : 'warning',
      check: 'cache',
      message: `${path} has Cache-Control ${JSON.stringify(got)}, expected ${expected}`,
      why: expected.startsWith('private')
        ? 'a private tree: a shared cache (a CDN or proxy) keeps an answer marked public even when credentials fetched it, and hands it to anyone'
        : kind === 'short'
          ? 'a longer cache hides new images from clients for as long'
          : 'this file never changes (its name holds its hash)',
      fix: 'apply the generated header rules (_headers on Netlify/Cloudflare, the nginx or Caddy snippet)',
    });
  else findings.push({ severity: 'ok', check: 'cache', message: `${path}: Cache-Control ${expected}` });
}

async function importChecks(findings: Finding[], get: Getter, path: string, expected: () => string, arch = 'x86_64'): Promise<void> {
  for (const prefix of ['LXD', 'Incus'] as const) {
    const what = `HEAD ${path} with ${prefix}-Server-Architectures: ${arch}`;
    try {
      const { answer } = await get(path, { method: 'HEAD', headers: { [`${prefix}-Server-Architectures`]: arch } });
      const hash = answer.headers[`${prefix.toLowerCase()}-image-hash`];
      const target = answer.headers[`${prefix.toLowerCase()}-image-url`];
      if (answer.status === 200 && hash === expected() && target)
        findings.push({ severity: 'ok', check: 'import endpoints', message: `${what}: ${prefix}-Image-Hash ${hash.slice(0, 12)}…` });
      else
        findings.push({
          severity: 'error',
          check: 'import endpoints',
          message: `${what}: answers ${answer.status}${hash ? ` with ${prefix}-Image-Hash ${hash}, expected ${expected()}` : ` without ${prefix}-Image-Hash/${prefix}-Image-URL`}`,
          why: `\`${prefix === 'LXD' ? 'lxc' : 'incus'} image import ${path.startsWith('/import/alias') ? 'https://…/import/alias/…' : 'https://…/import/sha256/…'}\` fails`,
          fix: 'deploy the generated edge code (Netlify edge function, Cloudflare _worker.js) or include the nginx/Caddy snippet; build with --base-url set to this URL',
        });
    } catch (e) {
      findings.push({
        severity: 'error',
        check: 'import endpoints',
        message: `${what}: ${(e as Error).message}`,
        why: 'direct URL import fails',
        fix: 'check the import endpoints of the host',
      });
    }
  }
}
