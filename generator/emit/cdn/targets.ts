// Renders the rules and edge code for each chosen host: files published with the tree
// (`_headers`, `_worker.js`) and server configuration kept outside it (nginx, Caddy, Netlify).

import type { Target } from '../../config.js';
import type { Catalog } from '../catalog-schema.js';
import { formatBytes } from '../../format.js';
import { renderHeadersFile } from './headers-file.js';
import { renderCloudflareWorker, renderNetlifyEdgeFunction } from './edge-code.js';
import { buildImportMap } from './import-map.js';
import { renderNginxHttp, renderNginxServer } from './nginx.js';
import { renderCaddySite } from './caddy.js';

/** Cloudflare Pages refuses to deploy a file over 25 MiB. */
export const CLOUDFLARE_MAX_FILE = 25 * 1024 * 1024;

export interface TargetFiles {
  /** Output-relative path → content, published with the tree. */
  published: Map<string, string>;
  /** Server-config-relative path → content, never published. */
  serverConfig: Map<string, string>;
  warnings: string[];
}

export function renderTargets(targets: readonly Target[], catalog: Catalog, defaultArch: string | null): TargetFiles {
  const map = buildImportMap(catalog, defaultArch);
  const files: TargetFiles = { published: new Map(), serverConfig: new Map(), warnings: [] };
  const has = (t: Target) => targets.includes(t);
  if (!catalog.baseUrl) {
    files.warnings.push('no --base-url (or base_url in staticstreams.yaml): direct URL import endpoints (/import/…) need absolute URLs and are left out');
  }
  if (has('netlify') || has('cloudflare')) files.published.set('_headers', renderHeadersFile());
  if (has('netlify')) files.serverConfig.set('netlify-edge-functions/staticstreams-import.js', renderNetlifyEdgeFunction(map));
  if (has('cloudflare')) {
    files.published.set('_worker.js', renderCloudflareWorker(map));
    const seen = new Set<string>();
    for (const p of catalog.products) {
      for (const v of p.versions) {
        for (const i of v.images) {
          for (const f of i.files) {
            if (f.size > CLOUDFLARE_MAX_FILE && !seen.has(f.path)) {
              seen.add(f.path);
              files.warnings.push(`${f.path} is ${formatBytes(f.size)}: Cloudflare Pages cannot deploy files over 25 MiB; serve image files from object storage (R2) behind the same host`);
            }
          }
        }
      }
    }
  }
  if (has('nginx')) {
    files.serverConfig.set('nginx-http.conf', renderNginxHttp(map));
    files.serverConfig.set('nginx-server.conf', renderNginxServer(map));
  }
  if (has('caddy')) files.serverConfig.set('caddy-site.conf', renderCaddySite(map));
  return files;
}
