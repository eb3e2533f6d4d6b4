// A small static index.html for the output root: what this server is, how to add it as a
// remote, and the products it serves. Every value from image metadata is HTML-escaped.

import type { Catalog } from './catalog-schema.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function renderLandingPage(catalog: Catalog): string {
  const url = catalog.baseUrl ?? 'https://YOUR-HOST';
  const rows = catalog.products
    .map((p) => {
      const newest = p.versions[0]!;
      const types = [...new Set(newest.images.map((i) => i.type))].join(', ');
      const description = newest.images.find((i) => i.description)?.description ?? '';
      return `<tr><td>${escapeHtml(p.os)}</td><td>${escapeHtml(p.release)}</td><td>${escapeHtml(p.variant)}</td><td>${escapeHtml(p.arch)}</td><td>${escapeHtml(types)}</td><td>${escapeHtml(newest.version)}</td><td><code>${escapeHtml(p.aliases.join(', '))}</code></td><td>${escapeHtml(description)}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Image server</title>
<style>body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ccc}code,pre{background:#f3f3f3}pre{padding:.6rem;overflow-x:auto}</style></head>
<body>
<h1>Image server</h1>
<p>A simplestreams image server for LXD and Incus.</p>
<pre>lxc remote add images ${escapeHtml(url)} --protocol simplestreams
incus remote add images ${escapeHtml(url)} --protocol simplestreams</pre>
<p>Machine-readable: <a href="catalog.json">catalog.json</a>, <a href="streams/v1/index.json">streams/v1/index.json</a></p>
<table>
<thead><tr><th scope="col">OS</th><th scope="col">Release</th><th scope="col">Variant</th><th scope="col">Arch</th><th scope="col">Type</th><th scope="col">Newest</th><th scope="col">Aliases</th><th scope="col">Description</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}
