// Runs a real nginx serving a folder over HTTPS with TLS 1.3 on a loopback port.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, serverProcess, type RunningServer } from './server-process.js';

/** Starts nginx with `root` as document root; the snippets go inside server {} and http {}. */
export async function startNginx(
  root: string,
  tls: { cert: string; key: string },
  serverSnippet = '',
  httpSnippet = '',
  fixedPort?: number,
  opts: { protocols?: string } = {},
): Promise<RunningServer & { reloadCommand: string; accessLog: string }> {
  const port = fixedPort ?? (await freePort());
  const prefix = mkdtempSync(path.join(os.tmpdir(), 'ss-nginx-'));
  mkdirSync(path.join(prefix, 'logs'));
  const conf = path.join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `
daemon off;
${process.getuid?.() === 0 ? 'user root;' : ''}
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
    ssl_protocols ${opts.protocols ?? 'TLSv1.2 TLSv1.3'};
    root ${root};
    ${serverSnippet}
  }
}
`,
  );
  execFileSync('nginx', ['-t', '-q', '-c', conf, '-p', prefix], { stdio: 'pipe' });
  const server = await serverProcess(spawn('nginx', ['-c', conf, '-p', prefix], { stdio: 'ignore' }), port, prefix);
  // What `nginx -t && systemctl reload nginx` is for this instance.
  return {
    ...server,
    reloadCommand: `nginx -t -q -c ${conf} -p ${prefix} && nginx -c ${conf} -p ${prefix} -s reload`,
    accessLog: path.join(prefix, 'logs', 'access.log'),
  };
}
