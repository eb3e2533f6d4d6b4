// The four hosts a built tree is served from in the e2e tests, each with the rules the build
// generated for it, and the build those tests serve: the samples with every target's rules.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startNginx } from './nginx.js';
import { startCaddy, startServe, startWrangler } from './servers.js';
import type { RunningServer } from './server-process.js';
import type { TestTls } from './tls.js';
import { build, type Config, type Catalog } from '../../generator/index.js';

/** Serves `root` on `port` with the generated rules in `serverConfig`. */
export type HostStarter = (root: string, port: number, tls: TestTls, serverConfig: string) => Promise<RunningServer>;

export const HOSTS: [string, HostStarter][] = [
  ['Cloudflare Pages (wrangler pages dev, workerd)', (root, port, tls) => startWrangler(root, port, tls)],
  [
    'nginx with the generated snippets',
    (root, port, tls, conf) => startNginx(root, tls, `include ${conf}/nginx-server.conf;`, `include ${conf}/nginx-http.conf;`, port),
  ],
  ['staticstreams serve', (root, port, tls) => startServe(root, port, tls)],
  ['Caddy with the generated snippet', (root, port, tls, conf) => startCaddy(root, port, tls, path.join(conf, 'caddy-site.conf'))],
];

/** Builds `images` into WORK/NAME-dist for https://127.0.0.1:PORT, with every host's rules in WORK/NAME-server-config. */
export async function buildForHosts(
  images: string,
  work: string,
  name: string,
  port: number,
  opts: { config?: Config; site?: boolean; env?: Record<string, string> } = {},
) {
  const out = path.join(work, `${name}-dist`);
  const serverConfig = path.join(work, `${name}-server-config`);
  await build({
    images,
    out,
    baseUrl: `https://127.0.0.1:${port}`,
    targets: ['netlify', 'cloudflare', 'nginx', 'caddy'],
    serverConfig,
    site: opts.site,
    config: opts.config,
    env: opts.env ?? {},
  });
  // as published: what the servers will serve
  const catalog = JSON.parse(readFileSync(path.join(out, 'catalog.json'), 'utf8')) as Catalog;
  return { out, serverConfig, catalog };
}
