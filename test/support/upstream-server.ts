// An upstream image server for mirror tests that can misbehave on purpose: it serves a folder
// over plain HTTP (with Range, as static hosts do), logs every request, and lets a test replace
// the answer for a path (a trickle, a redirect loop, a body that never ends, a dropped connection).
// Well-behaved upstreams are served by real nginx in the e2e tests; this one is for the faults.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface Logged {
  path: string;
  range?: string;
  /** Bytes of body sent. */
  sent: number;
}

export type Fault = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface Upstream {
  url: string;
  log: Logged[];
  faults: Map<string, Fault>;
  /** Bytes/second for image files (0: unthrottled). */
  throttle: number;
  stop(): Promise<void>;
}

export async function startUpstream(root: string): Promise<Upstream> {
  const log: Logged[] = [];
  const faults = new Map<string, Fault>();
  const state = { throttle: 0 };
  const server = http.createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    const entry: Logged = { path: rel, ...(req.headers.range ? { range: req.headers.range } : {}), sent: 0 };
    log.push(entry);
    const write = res.write.bind(res);
    res.write = ((chunk: Buffer | string, ...rest: never[]) => {
      entry.sent += Buffer.byteLength(chunk);
      return write(chunk, ...rest);
    }) as typeof res.write;
    const fault = faults.get(rel);
    if (fault) return fault(req, res);
    const file = path.join(root, rel);
    const st = await stat(file).catch(() => null);
    if (!st?.isFile() || !file.startsWith(root)) {
      res.writeHead(404).end();
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) start = Number(m[1]);
    if (start > st.size) {
      res.writeHead(416).end();
      return;
    }
    res.writeHead(m ? 206 : 200, {
      'content-length': String(st.size - start),
      ...(m ? { 'content-range': `bytes ${start}-${st.size - 1}/${st.size}` } : {}),
    });
    const stream = createReadStream(file, { start, highWaterMark: 64 * 1024 });
    if (state.throttle > 0 && !rel.endsWith('.json')) {
      const chunk = Math.max(1, Math.floor(state.throttle / 10));
      for await (const data of stream) {
        for (let i = 0; i < (data as Buffer).length; i += chunk) {
          if (res.destroyed) return;
          res.write((data as Buffer).subarray(i, i + chunk));
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      res.end();
      return;
    }
    stream.on('data', (d) => res.write(d));
    stream.on('end', () => res.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const upstream: Upstream = {
    url: `http://127.0.0.1:${port}/`,
    log,
    faults,
    get throttle() {
      return state.throttle;
    },
    set throttle(v: number) {
      state.throttle = v;
    },
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return upstream;
}
