// HTTP for servers we do not control (an upstream to mirror, a previous tree given as a URL):
// every read bounded in bytes and time, retried with back-off on time-outs and 5xx, and a
// download resumed with Range from the bytes already on disk, checked against the size and
// sha256 the index lists before it is kept. A server that stalls or trickles is cut off: each
// time-out window must bring at least PROGRESS_BYTES (or the rest of the file).

import { createHash } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { lstat, rename, unlink } from 'node:fs/promises';
import { BuildError } from '../util/errors.js';
import { redirectsInward } from '../util/addresses.js';
import { splitCredentials } from '../util/url.js';
import { systemCAs, trustedCAs } from '../util/system-ca.js';

export interface HttpLimits {
  /** A request bringing less than MIN_RATE bytes a second over this long is cut off (and retried). */
  timeoutMs: number;
  /** Retries after a time-out, a dropped connection, 429 or 5xx. */
  retries: number;
}

export const DEFAULT_HTTP: HttpLimits = { timeoutMs: 30_000, retries: 4 };

/**
 * The one deadline policy of every read from a server: each window of `timeoutMs` must bring at
 * least MIN_RATE bytes a second (or the rest of the answer), so a stall is cut off after one
 * window and a trickle cannot hold a read for longer than its size at that rate; sizes are
 * bounded (indexes by their limits, files by the size their index lists), so every read ends.
 */
export const MIN_RATE = 16 * 1024;
const windowBytes = (limits: HttpLimits) => Math.max(MIN_RATE, Math.floor((MIN_RATE * limits.timeoutMs) / 1000));
const slowMessage = (url: string, limits: HttpLimits) =>
  `${url}: less than ${MIN_RATE / 1024} KiB/s for ${limits.timeoutMs / 1000} s (the server stalled or trickles)`;

/** Aborts `abort` when a window of `timeoutMs` brings fewer than its share of bytes; `moved` counts them. */
function progressGuard(limits: HttpLimits, abort: AbortController): { moved(n: number): void; stalled: boolean; stop(): void } {
  let moved = 0;
  const guard = {
    stalled: false,
    moved: (n: number) => void (moved += n),
    stop: () => clearInterval(timer),
  };
  const timer = setInterval(() => {
    if (moved < windowBytes(limits)) {
      guard.stalled = true;
      abort.abort();
    }
    moved = 0;
  }, limits.timeoutMs);
  // A body nobody reads to its end must not keep the process alive.
  timer.unref();
  return guard;
}

/** A failure worth trying again (the connection, the server's mood), as opposed to a wrong answer. */
class Transient extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function explain(url: string, e: unknown): Error {
  if (e instanceof BuildError || e instanceof Transient) return e;
  const err = e as NodeJS.ErrnoException;
  const message = err.code && !err.message.includes(err.code) ? `${err.message} (${err.code})` : err.message;
  if (/certificate|self[- ]signed|CERT_/i.test(`${message} ${err.code ?? ''}`)) {
    const bundle = systemCAs()?.file;
    return new BuildError(
      `cannot read ${url}: ${message}`,
      `the server's certificate is trusted neither by the system store${bundle ? ` (${bundle})` : ''}, which LXD and Incus use and this command reads too, nor by Node's own CAs: ` +
        'install its CA into the system store (Debian/Ubuntu: copy it to /usr/local/share/ca-certificates/NAME.crt and run update-ca-certificates), or check that the server sends its whole chain and the certificate names this host',
    );
  }
  // Nothing listens there, or no such host: trying again will not help.
  if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND')
    return new BuildError(`cannot read ${url}: ${message}`, 'check the URL and that the server answers');
  return new Transient(`cannot read ${url}: ${message}`);
}

/** Origin → the Authorization value of the credentials given for it (never sent to another origin). */
const credentials = new Map<string, string>();

/**
 * `url` without its user and password, which are sent with every later request to its origin
 * (as the clients send the credentials of a remote's URL), and to no other: a redirect to another
 * origin goes without them. What is printed, stored or published names the URL this returns.
 */
export function useCredentials(url: string): string {
  const { url: clean, authorization } = splitCredentials(url);
  if (authorization) credentials.set(new URL(clean).origin, authorization);
  return clean;
}

const MAX_REDIRECTS = 10;
// The https agent trusts what LXD and Incus trust (the system store) as well as Node's own CAs.
let httpsAgent: https.Agent | undefined;
const agents = {
  http: new http.Agent({ keepAlive: true }),
  get https() {
    return (httpsAgent ??= new https.Agent({ keepAlive: true, ca: trustedCAs() }));
  },
};

/** GET `url`, following redirects as clients do (at most MAX_REDIRECTS, http(s) only). */
function get(url: string, headers: Record<string, string>, signal: AbortSignal, hops = 0): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    target.username = '';
    target.password = '';
    const secure = target.protocol === 'https:';
    const authorization = credentials.get(target.origin);
    const sent = authorization ? { ...headers, Authorization: authorization } : headers;
    const req = (secure ? https : http).get(target, { headers: sent, signal, agent: secure ? agents.https : agents.http }, (res) => {
      const location = res.headers.location;
      if (res.statusCode && [301, 302, 303, 307, 308].includes(res.statusCode) && location) {
        res.resume();
        const next = new URL(location, target);
        if (hops >= MAX_REDIRECTS)
          return reject(new BuildError(`${url}: too many redirects (a redirect loop?)`, 'fix the redirects on that server, or give the URL they end at'));
        if (next.protocol !== 'https:' && next.protocol !== 'http:')
          return reject(new BuildError(`${url}: redirects to ${next.protocol} URL`, 'give the URL of the files themselves'));
        return redirectsInward(target.hostname, next.hostname)
          .then((inward) => {
            if (inward)
              throw new BuildError(
                `${url}: redirects from a public address to ${next.host}, inside a network: refused`,
                'a server on the internet has no business sending readers into their own network; report it, or give the URL of the files themselves',
              );
            return get(next.href, headers, signal, hops + 1);
          })
          .then(resolve, reject);
      }
      resolve(res);
    });
    req.on('error', reject);
  });
}

/** The parts of a response the readers use. */
interface Answer {
  status: number;
  header(name: string): string | undefined;
  /** Calls `onData` for each chunk until the end; a false return pauses the body until `resume`. */
  read(onData: (chunk: Buffer, resume: () => void) => boolean | void): Promise<void>;
}

/**
 * One request whose body is read within the limits: aborted when a window of `timeoutMs` brings
 * fewer than PROGRESS_BYTES (and not the end).
 */
async function request(url: string, headers: Record<string, string>, limits: HttpLimits, onResponse: (res: Answer) => Promise<void>): Promise<void> {
  const abort = new AbortController();
  const guard = progressGuard(limits, abort);
  let res: IncomingMessage | undefined;
  try {
    res = await get(url, headers, abort.signal);
    const body = res;
    await onResponse({
      status: body.statusCode ?? 0,
      header: (name) => {
        const v = body.headers[name.toLowerCase()];
        return Array.isArray(v) ? v[0] : v;
      },
      read: (onData) =>
        new Promise<void>((resolve, reject) => {
          body.on('data', (chunk: Buffer) => {
            guard.moved(chunk.length);
            try {
              if (onData(chunk, () => body.resume()) === false) body.pause();
            } catch (e) {
              body.destroy();
              reject(e);
            }
          });
          body.on('end', () => resolve());
          body.on('error', reject);
          body.on('close', () => {
            if (!body.complete) reject(new Transient(`${url}: the connection was closed early`));
          });
        }),
    });
  } catch (e) {
    if (guard.stalled) throw new Transient(slowMessage(url, limits));
    throw explain(url, e);
  } finally {
    guard.stop();
    res?.destroy();
  }
}

function statusError(url: string, status: number, what: string): Error {
  if (status === 429 || status >= 500) return new Transient(`${url}: HTTP ${status}`);
  if (status === 401)
    return new BuildError(
      `${url}: HTTP 401: the server asks for a user and password${credentials.has(new URL(url).origin) ? ', and refused the ones given' : ''}`,
      credentials.has(new URL(url).origin)
        ? 'check the user and password in the URL (https://USER:PASSWORD@HOST)'
        : 'a private server: give its user and password in the URL, https://USER:PASSWORD@HOST/ (they are used for requests only, never printed or stored)',
    );
  return new BuildError(`${url}: HTTP ${status}${status === 404 ? ' (not found)' : ''}`, what);
}

/** Runs `attempt` until it succeeds, a non-transient error, or the retries are spent (back-off 0.5 s, 1 s, 2 s…). */
async function retrying<T>(limits: HttpLimits, fix: string, attempt: () => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof Transient)) throw e;
      if (n >= limits.retries) throw new BuildError(`${e.message} (after ${n + 1} attempts)`, fix);
      await sleep(Math.min(500 * 2 ** n, 8_000));
    }
  }
}

/**
 * The body of `url` as a stream (redirects followed), or null on 404: read under the deadline
 * policy above, and refused past `maxBytes` (the size its index lists) — an endless or trickling
 * body ends the read with an error instead of holding it.
 */
export async function openBody(
  url: string,
  { maxBytes = Infinity, limits = DEFAULT_HTTP }: { maxBytes?: number; limits?: HttpLimits } = {},
): Promise<AsyncIterable<Buffer> | null> {
  const abort = new AbortController();
  const guard = progressGuard(limits, abort);
  let res: IncomingMessage;
  try {
    res = await get(url, {}, abort.signal);
  } catch (e) {
    guard.stop();
    if (guard.stalled) throw new BuildError(slowMessage(url, limits), 'check the server');
    throw explain(url, e);
  }
  if (res.statusCode === 404 || !res.statusCode || res.statusCode < 200 || res.statusCode > 299) {
    guard.stop();
    res.destroy();
    if (res.statusCode === 404) return null;
    throw new BuildError(`${url}: HTTP ${res.statusCode}`, 'check the server');
  }
  const body = res;
  return (async function* () {
    let size = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        guard.moved(chunk.length);
        if (size > maxBytes) throw new BuildError(`${url}: sends more than the ${maxBytes} bytes its index lists`, 'check the server');
        yield chunk;
      }
    } catch (e) {
      if (guard.stalled) throw new BuildError(slowMessage(url, limits), 'check the server');
      throw e;
    } finally {
      guard.stop();
      body.destroy();
    }
  })();
}

/** The body of `url` as text, or null on 404; refused beyond `maxBytes` (read in bounded memory). */
export async function getText(url: string, maxBytes: number, limits: HttpLimits, fix: string): Promise<string | null> {
  return retrying(limits, fix, async () => {
    let text: string | null = null;
    await request(url, {}, limits, async (res) => {
      if (res.status === 404) return;
      if (res.status < 200 || res.status > 299) throw statusError(url, res.status, fix);
      const declared = Number(res.header('content-length') ?? NaN);
      if (declared > maxBytes) throw tooLarge(url, maxBytes);
      const chunks: Buffer[] = [];
      let size = 0;
      await res.read((chunk) => {
        size += chunk.length;
        if (size > maxBytes) throw tooLarge(url, maxBytes);
        chunks.push(chunk);
      });
      text = Buffer.concat(chunks).toString('utf8');
    });
    return text;
  });
}

export const tooLarge = (url: string, maxBytes: number) =>
  new BuildError(
    `${url}: larger than ${Math.round(maxBytes / 2 ** 20)} MiB, far beyond any real index`,
    'check that the URL is the simplestreams tree you meant',
  );

export interface Downloaded {
  /** Bytes fetched over the network in this run. */
  fetched: number;
  /** Bytes already on disk from an earlier, interrupted run (not fetched again). */
  resumed: number;
  /** With `prefixes`: the sha256 of each prefix followed by the file, in their order. */
  combined: string[];
}

type Hash = ReturnType<typeof createHash>;

/** sha256 of the file's first `bytes`; `also` are fed the same bytes. */
async function sha256OfPrefix(file: string, bytes: number, also: Hash[] = []): Promise<Hash> {
  const hash = createHash('sha256');
  if (bytes > 0)
    for await (const chunk of createReadStream(file, { end: bytes - 1, highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
      for (const h of also) h.update(chunk as Buffer);
    }
  return hash;
}

/**
 * Downloads `url` to `dest` (through `dest.part`, resumed from its bytes), proving it has
 * `expected` size and sha256; a file that fails the check is deleted and reported with both
 * values. An already complete `dest` is checked, not fetched.
 */
export async function download(
  url: string,
  dest: string,
  expected: { size: number; sha256: string },
  limits: HttpLimits,
  onBytes?: (n: number) => void,
  /** Who lists the file, and what to do about a bad one, for messages. */
  words: { index: string; fix: string } = { index: 'the upstream index', fix: 'report it to the upstream, or filter the image out (--filter)' },
  /**
   * Hashes of what comes before this file in a combined fingerprint (a metadata tarball's bytes):
   * each is continued with the file's bytes as they arrive, so no second read is needed.
   */
  prefixes: Hash[] = [],
): Promise<Downloaded> {
  const part = `${dest}.part`;
  const result: Downloaded = { fetched: 0, resumed: 0, combined: [] };
  // Only a regular file of ours is resumed or kept: a link (or anything else) planted in the
  // downloads folder is removed, never written through.
  for (const f of [dest, part]) {
    const st = await lstat(f).catch(() => null);
    if (st && !st.isFile()) await unlink(f);
  }
  const done = await lstat(dest).catch(() => null);
  if (done?.size === expected.size) {
    const combined = prefixes.map((p) => p.copy());
    if ((await sha256OfPrefix(dest, expected.size, combined)).digest('hex') === expected.sha256) {
      result.resumed = expected.size;
      result.combined = combined.map((h) => h.digest('hex'));
      onBytes?.(expected.size);
      return result;
    }
  }
  const fix = 'try again later (the download resumes where it stopped), or check the upstream server';
  let reported = 0;
  await retrying(limits, fix, async () => {
    let have = (await lstat(part).catch(() => null))?.size ?? 0;
    if (have > expected.size) {
      await unlink(part);
      have = 0;
    }
    await request(url, have > 0 ? { range: `bytes=${have}-` } : {}, limits, async (res) => {
      let from = 0;
      const ok = res.status >= 200 && res.status <= 299;
      if (res.status === 206 && new RegExp(`^bytes ${have}-`).test(res.header('content-range') ?? '')) from = have;
      else if (!ok || res.status === 206) {
        if (res.status === 416 && have === expected.size)
          from = have; // complete already
        else throw statusError(url, res.status, `${words.index} lists this file: ${words.fix}`);
      }
      const length = Number(res.header('content-length') ?? NaN);
      if (res.status !== 416 && Number.isFinite(length) && length !== expected.size - from) {
        await unlink(part).catch(() => {});
        throw new BuildError(
          `${url}: is ${length + from} bytes, ${words.index} lists ${expected.size}: the file was changed or is corrupt, and was not kept`,
          `nothing was published: ${words.fix}`,
        );
      }
      if (from > 0 && result.resumed === 0) result.resumed = from;
      const combined = prefixes.map((p) => p.copy());
      const hash = await sha256OfPrefix(part, from, combined);
      let size = from;
      let overflow = false;
      // Progress counts each byte once, across retries: only what is on disk beyond what was reported.
      if (from > reported) onBytes?.(from - reported);
      reported = Math.max(reported, from);
      if (res.status !== 416) {
        const flags = (from > 0 ? constants.O_RDWR : constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC) | constants.O_NOFOLLOW;
        const out = createWriteStream(part, { flags: flags as unknown as string, start: from, highWaterMark: 1 << 20 });
        const closed = new Promise<void>((resolve, reject) => {
          out.on('close', resolve);
          out.on('error', reject);
        });
        try {
          await res.read((chunk, resume) => {
            if (size + chunk.length > expected.size) {
              overflow = true;
              throw new Error('overflow'); // stops the body; reported below
            }
            hash.update(chunk);
            for (const h of combined) h.update(chunk);
            size += chunk.length;
            result.fetched += chunk.length;
            if (size > reported) {
              onBytes?.(size - reported);
              reported = size;
            }
            if (!out.write(chunk)) {
              out.once('drain', resume);
              return false;
            }
          });
        } catch (e) {
          if (!overflow) throw e;
        } finally {
          out.end();
          await closed;
        }
      }
      if (overflow) {
        await unlink(part);
        throw new BuildError(
          `${url}: sends more than the ${expected.size} bytes ${words.index} lists; nothing of it was kept`,
          `nothing was published: ${words.fix}`,
        );
      }
      if (size < expected.size) throw new Transient(`${url}: the connection ended after ${size} of ${expected.size} bytes`);
      const sha256 = hash.digest('hex');
      result.combined = combined.map((h) => h.digest('hex'));
      if (sha256 !== expected.sha256) {
        await unlink(part);
        throw new BuildError(
          `${url}: its sha256 is ${sha256}, ${words.index} lists ${expected.sha256} (${expected.size} bytes): the file is corrupt or was replaced, and was not kept`,
          `nothing was published: ${words.fix}`,
        );
      }
    });
  });
  await rename(part, dest);
  return result;
}
