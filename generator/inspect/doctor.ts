// `staticstreams doctor URL`: checks a deployed server the way LXD and Incus will use it, in
// seconds and without downloading an image: TLS 1.3 with a certificate the system trusts, the
// indexes reachable, valid, with CORS and cache headers, image files answering HEAD and Range
// (through any redirect to a bucket), plain http:// on port 80 answering or refused fast (both
// clients try it first), the import endpoints' headers and architecture negotiation, the
// catalogue page, the tree's base URL against the served one, and what web UIs and marketplaces
// read (streams/v1/images.json, double-slash paths, LXC's meta/1.0 index and the tarballs it names).
// Each finding says what, why a client cares, and the fix.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { acceptedIndexSchema, acceptedProductsSchema } from '../simplestreams/schema.js';
import { findArchitecture } from '../simplestreams/architectures.js';
import { imagesOf, lxcFilesOf, type PairableItem } from '../simplestreams/images.js';
import { parseJson } from '../util/json.js';
import { catalogSchema } from '../formats/catalog.js';
import { cacheValues } from '../render/cdn/cache-rules.js';
import { FIXED_PRODUCTS_PATH, INDEX_PATH } from '../render/streams.js';
import { LXC_INDEX_PATHS, parseLxcIndex } from '../render/lxc.js';
import { buildImportMap } from '../render/cdn/import-map.js';
import { count } from '../util/format.js';
import type { Keyring } from '../signing/openpgp.js';
import { signatureFindings } from './doctor-signatures.js';

export interface Finding {
  severity: 'error' | 'warning' | 'ok';
  check: string;
  message: string;
  why?: string;
  fix?: string;
}

export interface DoctorReport {
  url: string;
  findings: Finding[];
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const TIMEOUT_MS = 5_000;
/** Debian's (and most distributions') bundle of the CAs the system trusts: what LXD and Incus use. */
const SYSTEM_CA_FILES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];

function systemCAs(): string | undefined {
  for (const f of SYSTEM_CA_FILES) {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      // next
    }
  }
  return undefined;
}

/** Deadlines: each request must be answered whole within `requestMs`, the whole run within `runEnd`. */
export interface Deadlines {
  requestMs: number;
  /** Epoch ms by which every check must be done. */
  runEnd: number;
}

/** A request (or handshake) must end within the earlier of its own deadline and the run's. */
const within = (d: Deadlines) => Math.max(0, Math.min(d.requestMs, d.runEnd - Date.now()));

/** One request, no redirect followed; the body is read up to `limit` bytes, and the whole answer within its deadline. */
function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; ca?: string; trust: boolean; limit?: number; deadlines: Deadlines },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const ms = within(opts.deadlines);
    let settled = false;
    const timer = setTimeout(() => {
      reject(new Error(`no complete answer within ${Math.round(ms / 100) / 10} s (the server stalls or trickles)`));
      req.destroy();
    }, ms);
    const finish =
      <T>(f: (v: T) => void) =>
      (v: T) => {
        clearTimeout(timer);
        if (!settled) {
          settled = true;
          f(v);
        }
      };
    resolve = finish(resolve);
    reject = finish(reject);
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      u,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers,
        timeout: TIMEOUT_MS,
        ...(u.protocol === 'https:' ? { ca: opts.ca, rejectUnauthorized: opts.trust } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const limit = opts.limit ?? 64 * 1024 * 1024;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= limit) chunks.push(c);
          else res.destroy();
        });
        const done = () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
        };
        res.on('end', done);
        res.on('close', done);
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Follows redirects (as clients do, up to 10 hops); returns every hop's URL and the last answer. */
/** `credentials`: an Authorization value sent to the first URL's origin only (never across a redirect to another). */
async function follow(url: string, opts: Parameters<typeof request>[1] & { credentials?: string }): Promise<{ hops: string[]; answer: Answer }> {
  const hops = [url];
  const origin = new URL(url).origin;
  const { credentials, ...rest } = opts;
  for (let i = 0; i < 10; i++) {
    const at = hops[hops.length - 1]!;
    const auth: Record<string, string> = credentials && new URL(at).origin === origin ? { Authorization: credentials } : {};
    const answer = await request(at, { ...rest, headers: { ...rest.headers, ...auth } });
    if (answer.status < 300 || answer.status > 399 || !answer.headers.location) return { hops, answer };
    hops.push(new URL(answer.headers.location, hops[hops.length - 1]).href);
  }
  throw new Error(`more than 10 redirects: ${hops.join(' → ')}`);
}

/** TLS 1.3 offered, and whether the certificate chain is trusted by the system for this host name. */
function tlsCheck(
  host: string,
  port: number,
  ca: string | undefined,
  deadlines: Deadlines,
): Promise<{ reachable: boolean; tls13: boolean; trusted: boolean; reason?: string }> {
  const attempt = (minVersion: tls.SecureVersion) =>
    new Promise<{ ok: boolean; authorized: boolean; reason?: string }>((resolve) => {
      const socket = tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ca, minVersion, rejectUnauthorized: false, timeout: TIMEOUT_MS });
      const timer = setTimeout(() => socket.emit('timeout'), within(deadlines));
      socket.once('close', () => clearTimeout(timer));
      socket.once('secureConnect', () => {
        const out = { ok: true, authorized: socket.authorized, reason: socket.authorizationError ? String(socket.authorizationError) : undefined };
        socket.destroy();
        resolve(out);
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve({ ok: false, authorized: false, reason: 'timed out' });
      });
      socket.once('error', (e) => resolve({ ok: false, authorized: false, reason: e.message }));
    });
  return attempt('TLSv1.3').then(async (r13) => {
    if (r13.ok) return { reachable: true, tls13: true, trusted: r13.authorized, reason: r13.reason };
    const any = await attempt('TLSv1');
    if (!any.ok) return { reachable: false, tls13: false, trusted: false, reason: any.reason };
    return { reachable: true, tls13: false, trusted: any.authorized, reason: any.reason };
  });
}

/** What plain http:// on port 80 does: answers, is refused at once, or makes the client wait. */
function port80(host: string, path: string): Promise<'answers' | 'refused' | 'silent' | 'no-answer'> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: 80, timeout: 3_000 });
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      socket.write(`HEAD ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    });
    socket.once('data', () => {
      socket.destroy();
      resolve('answers');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(connected ? 'no-answer' : 'silent');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : connected ? 'no-answer' : 'silent'));
  });
}

/** The JSON of an answer, or undefined (which no schema accepts) when it is none. */
function jsonOrNothing(body: string): unknown {
  try {
    return parseJson(body);
  } catch {
    return undefined;
  }
}

/** Per request, and for the whole run (every check), unless told otherwise. */
export const DOCTOR_REQUEST_MS = 15_000;
export const DOCTOR_RUN_MS = 120_000;

export async function doctor(spec: string, options: { requestMs?: number; runMs?: number; keyring?: Keyring } = {}): Promise<DoctorReport> {
  const requestMs = options.requestMs ?? DOCTOR_REQUEST_MS;
  const deadlines: Deadlines = { requestMs, runEnd: Date.now() + (options.runMs ?? Math.max(DOCTOR_RUN_MS, 8 * requestMs)) };
  // https://USER:PASSWORD@host: a private server. The credentials go with every request to that
  // origin (as the clients send them), never into the report.
  const given = new URL(spec);
  const credentials = given.username
    ? `Basic ${Buffer.from(`${decodeURIComponent(given.username)}:${decodeURIComponent(given.password)}`).toString('base64')}`
    : undefined;
  given.username = '';
  given.password = '';
  // A private tree's rules say `private` where a public tree's say `public`.
  const cache = cacheValues(credentials !== undefined);
  const base = given.href.replace(/\/+$/, '');
  const findings: Finding[] = [];
  const report: DoctorReport = { url: base, findings };
  const ok = (check: string, message: string) => findings.push({ severity: 'ok', check, message });
  const bad = (severity: 'error' | 'warning', check: string, message: string, why: string, fix: string) =>
    findings.push({ severity, check, message, why, fix });
  const url = new URL(base);
  if (url.protocol !== 'https:') {
    bad(
      'error',
      'https',
      `${base} is not https://`,
      'LXD and Incus add simplestreams remotes over https only',
      'serve the tree over HTTPS (TLS 1.3) and give doctor the https:// URL',
    );
    return report;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const ca = systemCAs();

  const t = await tlsCheck(host, port, ca, deadlines);
  if (!t.reachable) {
    bad(
      'error',
      'tls',
      `cannot connect to ${host}:${port}: ${t.reason}`,
      'no client can reach the server',
      'check the host name, the port and that the server runs',
    );
    return report;
  }
  if (t.tls13) ok('tls', 'TLS 1.3 offered');
  else
    bad(
      'error',
      'tls',
      'TLS 1.3 is not offered',
      'LXD and Incus only speak TLS 1.3 to simplestreams remotes ("tls: protocol version not supported")',
      'nginx: ssl_protocols TLSv1.2 TLSv1.3; Caddy, Netlify and Cloudflare offer it by default',
    );
  if (t.trusted) ok('certificate', `certificate chain trusted by the system for ${host}`);
  else
    bad(
      'error',
      'certificate',
      `the certificate is not trusted by the system for ${host} (${t.reason ?? 'unknown reason'})`,
      'LXD and Incus check it against the system CA store and refuse the remote ("certificate signed by unknown authority")',
      'serve a certificate from a public CA (e.g. Let’s Encrypt) for this host name, with its intermediate certificates; for a private CA, add it to every client’s system store',
    );
  const trust = t.trusted;
  const get = (path: string, o: { method?: string; headers?: Record<string, string>; limit?: number } = {}) =>
    follow(`${base}/${path.replace(/^\//, '')}`, { ...o, ca, trust, deadlines, ...(credentials ? { credentials } : {}) });

  if (credentials) {
    // A private server: nothing without the credentials.
    const bare = await request(`${base}/${INDEX_PATH}`, { ca, trust, deadlines }).catch((e: Error) => ({ status: 0, headers: {}, body: e.message }));
    if (bare.status === 401) ok('private', `${INDEX_PATH} answers 401 without the credentials`);
    else
      bad(
        'error',
        'private',
        `${INDEX_PATH} answers ${bare.status} without the credentials`,
        'the tree is meant to be private: anyone can read it',
        'configure basic auth for every path of the tree (auth.htpasswd in staticstreams.yaml, then publish the server config it writes)',
      );
  }

  /**
   * What the other consumers read (see render/streams.ts): web UIs and marketplaces fetch the
   * products by the fixed name streams/v1/images.json, from the browser; OpenNebula's endpoint
   * ends in "/", so its paths start with "//".
   */
  const consumerChecks = async (productsBody: string, productsFile: import('../simplestreams/schema.js').AcceptedProductsFile) => {
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
    const doubled = await follow(`${base}//${INDEX_PATH}`, { ca, trust, deadlines, limit: 16 * 1024 * 1024 });
    if (doubled.answer.status === 200) ok('consumers', `//${INDEX_PATH} answers as ${INDEX_PATH}`);
    else
      bad(
        'warning',
        'consumers',
        `//${INDEX_PATH} answers ${doubled.answer.status}`,
        'a client whose server URL ends in "/" (OpenNebula\'s default) asks for double-slash paths',
        'serve double slashes as single ones: the generated nginx, Caddy and Cloudflare rules and `staticstreams serve` do',
      );
    await lxcChecks(productsFile);
  };

  /** LXC's `download` template: its index, read as it reads it (https://HOST//meta/…), and the tarballs of the first line. */
  const lxcChecks = async (productsFile: import('../simplestreams/schema.js').AcceptedProductsFile) => {
    const withLxc = Object.values(productsFile.products).filter((p) =>
      Object.values(p.versions).some((v) => lxcFilesOf(v.items as Record<string, { ftype: string; path: string }>)),
    );
    const index = await follow(`${base}//${LXC_INDEX_PATHS[1]}`, { ca, trust, deadlines, limit: 16 * 1024 * 1024 });
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
      const r = await follow(`${base}/${at}`, { method: 'HEAD', ca, trust, deadlines });
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
  };

  // Indexes.
  let indexBody: string | undefined;
  let products: import('../simplestreams/schema.js').AcceptedProductsFile | undefined;
  try {
    const { answer } = await get(INDEX_PATH, { limit: 16 * 1024 * 1024 });
    if (answer.status !== 200) {
      bad(
        'error',
        'index',
        `${INDEX_PATH} answers ${answer.status}`,
        'clients read it first: without it the remote is empty',
        'publish the output folder at the root of this URL',
      );
      return report;
    }
    const index = acceptedIndexSchema.safeParse(jsonOrNothing(answer.body));
    if (!index.success) {
      bad('error', 'index', `${INDEX_PATH} is not a simplestreams index`, 'clients cannot read the remote', 'publish the index staticstreams wrote, unchanged');
      return report;
    }
    ok('index', `${INDEX_PATH} is a valid index`);
    headerChecks(findings, INDEX_PATH, answer.headers, cache, 'short');
    indexBody = answer.body;
    const entry = Object.values(index.data.index).find((e) => e.datatype === 'image-downloads' && (e.products?.length ?? 0) > 0);
    if (!entry) {
      bad('error', 'index', 'the index lists no image-downloads products file', 'clients see no images', 'publish the index staticstreams wrote');
      return report;
    }
    const p = await get(entry.path, { limit: 512 * 1024 * 1024 });
    const parsed = p.answer.status === 200 ? acceptedProductsSchema.safeParse(jsonOrNothing(p.answer.body)) : undefined;
    if (!parsed?.success) {
      bad(
        'error',
        'products',
        `${entry.path} answers ${p.answer.status}${parsed ? ' but is not a valid products file' : ''}`,
        'clients see no images',
        'publish the whole output folder',
      );
      return report;
    }
    ok('products', `${entry.path} is a valid products file (${count(Object.keys(parsed.data.products).length, 'product')})`);
    headerChecks(findings, entry.path, p.answer.headers, cache, 'immutable');
    products = parsed.data;
    await consumerChecks(p.answer.body, parsed.data).catch((e: Error) =>
      bad(
        'warning',
        'consumers',
        `cannot read ${FIXED_PRODUCTS_PATH} or a double-slash path: ${e.message}`,
        'web UIs and marketplaces read them',
        'check the server',
      ),
    );
  } catch (e) {
    bad('error', 'index', `cannot read ${INDEX_PATH}: ${(e as Error).message}`, 'clients cannot read the remote', 'check that the server answers over https');
    return report;
  }

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
  // The images clients would list, as a last sanity check of the products file.
  const listed = Object.values(products.products).reduce(
    (n, p) => n + Object.values(p.versions).reduce((m, v) => m + imagesOf(v.items as Record<string, PairableItem>).length, 0),
    0,
  );
  ok('images', `${count(listed, 'image')} listed`);
  findings.push(
    ...(await signatureFindings(async (rel) => (await get(rel, { limit: 512 * 1024 * 1024 })).answer, indexBody ?? '', options.keyring).catch((e: Error) => [
      { severity: 'warning' as const, check: 'signatures', message: `the signatures could not be read: ${e.message}` },
    ])),
  );
  return report;
}

/** `kind`: the index (short) or a file named by its hash (immutable); `cache`: the tree's values, public or private. */
function headerChecks(
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

type Getter = (path: string, o?: { method?: string; headers?: Record<string, string>; limit?: number }) => Promise<{ hops: string[]; answer: Answer }>;

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
