// `staticstreams serve`: a local preview server for a built tree that behaves like the Netlify
// target — `_headers` and `_redirects` applied, import endpoints with architecture negotiation —
// with HEAD, single byte ranges, streaming of large files and optional TLS (1.2/1.3).

import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { catalogSchema } from '../formats/catalog.js';
import { buildImportMap, type ImportMap } from '../render/cdn/import-map.js';
import { TEMPLATES_DIR } from '../render/cdn/edge-code.js';
import { headersForPath, loadRules, matchRedirect, type TreeRules } from '../source/host-rules.js';
import { cacheRulesAt, headersAt, privateCache } from '../render/cdn/cache-rules.js';
import type { HtpasswdUser } from '../config/htpasswd.js';
import { contentTypeOf } from '../render/cdn/content-types.js';

export interface ServeOptions {
  dir: string;
  host?: string;
  port?: number;
  tls?: { cert: string; key: string };
  defaultArch?: string;
  /**
   * The path the tree is served under ('' or e.g. '/lxd'; default: its base URL's path, as
   * catalog.json records it). Every other path answers 404.
   */
  basePath?: string;
  /** A private tree: every request needs basic auth as one of these users (bcrypt hashes). */
  users?: HtpasswdUser[];
  /** Hears one line per answered request: method, path, status. */
  log?: (line: string) => void;
}

export interface RunningPreview {
  /** Where the tree is served: the origin and the base path. */
  url: string;
  port: number;
  rules: TreeRules;
  close(): Promise<void>;
}

type HandleImport = (request: Request, map: ImportMap) => Response | null;

async function loadImportMap(root: string, defaultArch: string | null, isPrivate: boolean): Promise<ImportMap | undefined> {
  try {
    const catalog = catalogSchema.parse(JSON.parse(await readFile(path.join(root, 'catalog.json'), 'utf8')));
    return buildImportMap(catalog, defaultArch, isPrivate);
  } catch {
    return undefined;
  }
}

/** Host control files that Netlify and Cloudflare Pages never serve. */
const HIDDEN = new Set(['_headers', '_redirects', '_worker.js', '_routes.json']);

/** Resolves a URL path to a file inside root, or undefined when it would leave root. */
async function resolveFile(root: string, pathname: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.split('/').includes('..')) return undefined;
  let full = path.join(root, decoded);
  try {
    if ((await stat(full)).isDirectory()) full = path.join(full, 'index.html');
    const real = await realpath(full);
    return real === root || real.startsWith(root + path.sep) ? real : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The one byte range asked for; undefined to answer the whole file. As RFC 9110 §14.2 says, a
 * Range this server does not understand (another unit, several ranges, a malformed one) is
 * ignored; 'unsatisfiable' (416) only for a well-formed range that starts past the end.
 */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const length = Number(m[2]);
    return length === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return undefined; // malformed: ignored
  if (start >= size) return 'unsatisfiable';
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}

/**
 * Checks an Authorization header against the users (bcrypt). A header that passed is remembered
 * (a bcrypt check takes tens of milliseconds; a client sends the same header on every request).
 */
function checker(users: HtpasswdUser[]): (header: string | undefined) => Promise<boolean> {
  const passed = new Set<string>();
  return async (header) => {
    const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
    if (!m) return false;
    if (passed.has(m[1]!)) return true;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const at = decoded.indexOf(':');
    if (at < 0) return false;
    const user = users.find((u) => u.user === decoded.slice(0, at));
    const { compare } = await import('bcryptjs');
    // An unknown user is checked against a real hash too (and refused), so that the answer's
    // time does not tell which users exist.
    const checked = await compare(decoded.slice(at + 1), (user ?? users[0]!).hash.replace(/^\$2y\$/, '$2b$'));
    if (!user || !checked) return false;
    if (passed.size < 1000) passed.add(m[1]!);
    return true;
  };
}

export async function startPreview(options: ServeOptions): Promise<RunningPreview> {
  const root = await realpath(path.resolve(options.dir));
  const rules = await loadRules(root);
  const map = await loadImportMap(root, options.defaultArch ?? 'amd64', options.users !== undefined);
  // Where it is mounted, and the path its own rules and endpoints were written for.
  const treeBase = map?.base ?? '';
  const mount = (options.basePath ?? treeBase).replace(/\/+$/, '');
  const { handleImport } = (await import(pathToFileURL(path.join(TEMPLATES_DIR, 'import-endpoints.js')).href)) as { handleImport: HandleImport };

  const authorized = options.users ? checker(options.users) : undefined;
  const ownRules = cacheRulesAt(treeBase, options.users !== undefined);
  const handler = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (options.log) res.once('finish', () => options.log!(`${req.method} ${req.url} ${res.statusCode}`));
    if (authorized && !(await authorized(req.headers.authorization))) {
      res
        .writeHead(401, { 'WWW-Authenticate': 'Basic realm="Image server", charset="UTF-8"', 'Content-Type': 'text/plain; charset=utf-8' })
        .end('credentials needed\n');
      return;
    }
    const origin = `${options.tls ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`;
    // Runs of slashes in the path are one slash, as nginx's merge_slashes has it (a consumer
    // whose endpoint ends with / asks for //streams/v1/images.json).
    const url = new URL(
      (req.url ?? '/').replace(/^[^?#]*/, (p) => p.replace(/\/{2,}/g, '/')),
      origin,
    );
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (mount) {
      if (url.pathname === mount) {
        res.writeHead(301, { Location: `${mount}/${url.search}` }).end();
        return;
      }
      if (!url.pathname.startsWith(`${mount}/`)) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found: the tree is served under ${mount}/\n`);
        return;
      }
    }
    // The path inside the tree, and as the tree's rules name it.
    const rel = url.pathname.slice(mount.length);
    url.pathname = `${treeBase}${rel}`;
    if (map) {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const answer = handleImport(new Request(url, { method: req.method, headers }), map);
      if (answer) {
        res.writeHead(answer.status, Object.fromEntries(answer.headers));
        res.end(req.method === 'HEAD' ? undefined : Buffer.from(await answer.arrayBuffer()));
        return;
      }
    }
    let pathname = url.pathname;
    let file = await resolveFile(root, rel);
    const redirect = matchRedirect(rules, pathname);
    if (redirect && (!file || redirect.force)) {
      if (redirect.status >= 300 && redirect.status < 400) {
        res.writeHead(redirect.status, { Location: redirect.to }).end();
        return;
      }
      pathname = redirect.to;
      file = await resolveFile(root, pathname.startsWith(`${treeBase}/`) ? pathname.slice(treeBase.length) : pathname);
    }
    if (!file || HIDDEN.has(path.relative(root, file))) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    const st = await stat(file);
    const headers: Record<string, string | number> = {
      'Content-Type': contentTypeOf(file),
      'Accept-Ranges': 'bytes',
      'Last-Modified': st.mtime.toUTCString(),
      // The tree's _headers when it has them (Netlify, Cloudflare); else (a tree built for nginx
      // or Caddy) the same cache and CORS policy those hosts' rules give it.
      ...(rules.headers.length ? headersForPath(rules, pathname) : headersAt(ownRules, pathname)),
    };
    // Served privately: no shared cache may keep what these credentials fetched.
    if (options.users && typeof headers['Cache-Control'] === 'string') headers['Cache-Control'] = privateCache(headers['Cache-Control']);
    const range = parseRange(req.headers.range, st.size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { 'Content-Range': `bytes */${st.size}` }).end();
      return;
    }
    const { start, end } = range ?? { start: 0, end: st.size - 1 };
    headers['Content-Length'] = st.size === 0 ? 0 : end - start + 1;
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || st.size === 0) {
      res.end();
      return;
    }
    const stream = createReadStream(file, { start, end });
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  };
  const wrapped = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handler(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  };
  const server = options.tls
    ? https.createServer({ cert: await readFile(options.tls.cert), key: await readFile(options.tls.key), minVersion: 'TLSv1.2' }, wrapped)
    : http.createServer(wrapped);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}${mount}`,
    port,
    rules,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
