// render/cdn/header-safety.ts: values that could split a header or escape a config string are refused.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildImportMap } from '../../generator/render/cdn/import-map.js';
import { safeHeaderValue, safeUrl } from '../../generator/render/cdn/header-safety.js';
import { renderNginxServer } from '../../generator/render/cdn/nginx.js';
import { renderCaddySite } from '../../generator/render/cdn/caddy.js';
import { BuildError } from '../../generator/index.js';
import { FP_AMD, FP_VM, importCatalog } from '../support/catalog.js';

describe('header and config safety', () => {
  it('refuses values that could split a header or escape a config string', () => {
    assert.throws(() => safeHeaderValue('X', 'a\r\nSet-Cookie: x'), BuildError);
    assert.throws(() => safeUrl('https://example.org/\nx'), BuildError);
    assert.throws(() => safeUrl('https://example.org/a"b'), BuildError);
    assert.throws(() => safeUrl('https://example.org/$host'), BuildError);
    assert.throws(() => safeUrl('/relative'), BuildError);
    assert.throws(() => safeUrl('ftp://example.org/'), BuildError);
    assert.equal(safeUrl('https://example.org:8443/x'), 'https://example.org:8443/x');
    assert.throws(() => buildImportMap(importCatalog('https://ex ample.org'), null), BuildError);
  });

  it('nginx and Caddy snippets hold every endpoint', () => {
    const map = buildImportMap(importCatalog('https://img.example.org'), 'amd64');
    const nginx = renderNginxServer(map);
    assert.match(nginx, new RegExp(`location = /import/sha256/${FP_AMD} \\{`));
    assert.match(nginx, /location = \/import\/alias\/os\/1@arm64 \{/);
    assert.match(nginx, /add_header Cache-Control "public, max-age=31536000, immutable" always;/);
    const caddy = renderCaddySite(map);
    assert.match(caddy, new RegExp(`path /import/sha256/${FP_VM}`));
    assert.doesNotMatch(caddy.split(FP_VM)[1]!.split('handle')[1]!.split('}')[0]!, /LXD-Image-Hash/);
  });
});
