// Runs a real nginx serving a folder over HTTPS with TLS 1.3 on a loopback port.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on port ${port}`);
}

export interface RunningServer {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** Starts nginx with `root` as document root; the snippets go inside server {} and http {}. */
export async function startNginx(root: string, tls: { cert: string; key: string }, serverSnippet = '', httpSnippet = '', fixedPort?: number): Promise<RunningServer> {
  const port = fixedPort ?? (await freePort());
  const prefix = mkdtempSync(path.join(os.tmpdir(), 'ss-nginx-'));
  mkdirSync(path.join(prefix, 'logs'));
  const conf = path.join(prefix, 'nginx.conf');
  writeFileSync(conf, `
daemon off;
${process.getuid?.() === 0 ? "user root;" : ""}
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 64; }
http {
  include /etc/nginx/mime.types;
  access_log ${prefix}/logs/access.log;
  ${httpSnippet}
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    root ${root};
    ${serverSnippet}
  }
}
`);
  execFileSync('nginx', ['-t', '-q', '-c', conf, '-p', prefix], { stdio: 'pipe' });
  const child = spawn('nginx', ['-c', conf, '-p', prefix], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
