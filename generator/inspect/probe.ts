// How doctor talks to a server, as LXD and Incus would: one request at a time, each within its
// deadline and the run's, its body read up to a bound; redirects followed as clients follow them
// (credentials only to the first origin); TLS 1.3 and the system's trust; plain http:// on port 80.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { parseJson } from '../util/json.js';
import { systemCAs as systemBundle } from '../util/system-ca.js';

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const TIMEOUT_MS = 5_000;
/** The system's bundle (PEM): what LXD and Incus trust, and all doctor trusts. */
export const systemCAs = (): string | undefined => systemBundle()?.pem;

/** Deadlines: each request must be answered whole within `requestMs`, the whole run within `runEnd`. */
export interface Deadlines {
  requestMs: number;
  /** Epoch ms by which every check must be done. */
  runEnd: number;
}

/** A request (or handshake) must end within the earlier of its own deadline and the run's. */
const within = (d: Deadlines) => Math.max(0, Math.min(d.requestMs, d.runEnd - Date.now()));

/** One request, no redirect followed; the body is read up to `limit` bytes, and the whole answer within its deadline. */
export function request(
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
export async function follow(url: string, opts: Parameters<typeof request>[1] & { credentials?: string }): Promise<{ hops: string[]; answer: Answer }> {
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
export function tlsCheck(
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
export function port80(host: string, path: string): Promise<'answers' | 'refused' | 'silent' | 'no-answer'> {
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
export function jsonOrNothing(body: string): unknown {
  try {
    return parseJson(body);
  } catch {
    return undefined;
  }
}
