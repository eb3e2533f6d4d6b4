// `staticstreams doctor URL`: checks a deployed server the way LXD and Incus will use it, in
// seconds and without downloading an image: TLS 1.3 with a certificate the system trusts, the
// indexes reachable, valid, with CORS and cache headers, image files answering HEAD and Range
// (through any redirect to a bucket), plain http:// on port 80 answering or refused fast (both
// clients try it first), the import endpoints' headers and architecture negotiation, the
// catalogue page, the tree's base URL against the served one, and what web UIs and marketplaces
// read (streams/v1/images.json, double-slash paths, LXC's meta/1.0 index and the tarballs it names).
// Each finding says what, why a client cares, and the fix. How it asks a server: probe.ts; the
// checks once the tree is read: doctor-checks.ts; its signatures: doctor-signatures.ts.

import { acceptedProductsSchema } from '../simplestreams/schema.js';
import { readTree, type TextSource, type TreeProblem } from '../source/tree.js';
import { imagesOf, type PairableItem } from '../simplestreams/images.js';
import { cacheValues } from '../render/cdn/cache-rules.js';
import { FIXED_PRODUCTS_PATH, INDEX_PATH } from '../render/streams.js';
import { count } from '../util/format.js';
import type { Keyring } from '../signing/openpgp.js';
import { signatureFindings } from './doctor-signatures.js';
import { catalogChecks, consumerChecks, headerChecks, imageFileChecks, type Checks, type Finding } from './doctor-checks.js';
import { follow, request, systemCAs, tlsCheck, type Answer, type Deadlines } from './probe.js';

export type { Finding };

export interface DoctorReport {
  url: string;
  findings: Finding[];
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
  const checks: Checks = {
    base,
    url,
    host,
    ...(credentials ? { credentials } : {}),
    cache,
    findings,
    ok,
    bad,
    get,
    // (credentials go to the server's own origin only, as with get)
    follow: (at, limit) => follow(at, { ca, trust, deadlines, limit, ...(credentials ? { credentials } : {}) }),
  };

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

  // Indexes: read as every reader of a tree reads them (source/tree.ts), through this server's answers.
  const answers = new Map<string, Answer>();
  const served: TextSource = {
    label: base,
    async readText(rel, maxBytes) {
      const { answer } = await get(rel, { limit: maxBytes });
      answers.set(rel, answer);
      if (answer.status === 404) return null;
      if (answer.status !== 200) throw new Error(`answers ${answer.status}`);
      return answer.body;
    },
  };
  const treeProblems: TreeProblem[] = [];
  const tree = await readTree(served, { mode: 'report', problems: treeProblems, bounds: { indexBytes: 16 * 2 ** 20, productsBytes: 512 * 2 ** 20 } });
  const indexAnswer = answers.get(INDEX_PATH);
  if (indexAnswer && indexAnswer.status !== 200) {
    const [message, fix] =
      indexAnswer.status === 401 && credentials
        ? [
            `${INDEX_PATH} answers 401: the server refused the user and password given`,
            'check the user and password (a user of the htpasswd file the tree was built with), and that the server reads that file',
          ]
        : indexAnswer.status === 401
          ? [
              `${INDEX_PATH} answers 401: the server asks for a user and password`,
              'a private tree: run doctor with the credentials in the URL, https://USER:PASSWORD@HOST',
            ]
          : [`${INDEX_PATH} answers ${indexAnswer.status}`, 'publish the output folder at the root of this URL'];
    bad('error', 'index', message, 'clients read it first: without it the remote is empty', fix);
    return report;
  }
  if (!indexAnswer) {
    const why = treeProblems.find((p) => p.where === INDEX_PATH)?.message.replace(/^cannot be read: /, '') ?? 'no answer';
    bad('error', 'index', `cannot read ${INDEX_PATH}: ${why}`, 'clients cannot read the remote', 'check that the server answers over https');
    return report;
  }
  const indexProblems = treeProblems.filter((p) => p.severity === 'error' && p.where.startsWith(INDEX_PATH));
  if (!tree || indexProblems.some((p) => p.where !== INDEX_PATH)) {
    bad(
      'error',
      'index',
      `${INDEX_PATH} is not a simplestreams index${indexProblems[0] ? ` (${indexProblems[0].where}: ${indexProblems[0].message})` : ''}`,
      'clients cannot read the remote',
      'publish the index staticstreams wrote, unchanged',
    );
    return report;
  }
  ok('index', `${INDEX_PATH} is a valid index`);
  headerChecks(findings, INDEX_PATH, indexAnswer.headers, cache, 'short');
  const indexBody = tree.indexText;
  const [first] = [...tree.productsFiles];
  const entryPath = first?.[0] ?? [...answers.keys()].find((k) => k !== INDEX_PATH);
  if (!entryPath) {
    bad('error', 'index', 'the index lists no image-downloads products file', 'clients see no images', 'publish the index staticstreams wrote');
    return report;
  }
  const productsAnswer = answers.get(entryPath);
  const parsed = first ? acceptedProductsSchema.safeParse(first[1].products) : undefined;
  if (!parsed?.success) {
    bad(
      'error',
      'products',
      productsAnswer
        ? `${entryPath} answers ${productsAnswer.status}${productsAnswer.status === 200 ? ' but is not a valid products file' : ''}`
        : `cannot read ${entryPath}: ${treeProblems.find((p) => p.where === entryPath)?.message ?? 'no answer'}`,
      'clients see no images',
      'publish the whole output folder',
    );
    return report;
  }
  ok('products', `${entryPath} is a valid products file (${count(Object.keys(parsed.data.products).length, 'product')})`);
  headerChecks(findings, entryPath, productsAnswer!.headers, cache, 'immutable');
  const products = parsed.data;
  await consumerChecks(checks, first![1].text, parsed.data).catch((e: Error) =>
    bad(
      'warning',
      'consumers',
      `cannot read ${FIXED_PRODUCTS_PATH} or a double-slash path: ${e.message}`,
      'web UIs and marketplaces read them',
      'check the server',
    ),
  );

  await imageFileChecks(checks, products);

  await catalogChecks(checks);

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
