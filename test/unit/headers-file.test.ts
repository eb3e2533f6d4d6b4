// render/cdn/headers-file.ts: the `_headers` file, read back with Netlify's own parser.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllHeaders, type Header } from '@netlify/headers-parser';
import { parseAllRedirects } from '@netlify/redirect-parser';
import { renderHeadersFile, CLOUDFLARE_MAX_RULES, CLOUDFLARE_MAX_LINE } from '../../generator/render/cdn/headers-file.js';
import { tempDir } from '../support/tmp.js';

describe('_headers', () => {
  it("parses with Netlify's own parser, without errors, and sets the rules for sample paths", async (t) => {
    const dir = await tempDir(t);
    const file = path.join(dir, '_headers');
    await writeFile(file, renderHeadersFile());
    const { headers, errors } = await parseAllHeaders({ headersFiles: [file], configHeaders: [], minimal: false });
    assert.deepEqual(errors, []);
    const forPath = (p: string) => Object.assign({}, ...(headers as Header[]).filter((h) => h.forRegExp.test(p)).map((h) => h.values));
    assert.deepEqual(forPath('/streams/v1/index.json'), {
      'Access-Control-Allow-Origin': '*',
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'public, max-age=60, must-revalidate',
    });
    assert.equal(forPath('/streams/v1/images-0123abcd.json')['Cache-Control'], 'public, max-age=31536000, immutable');
    assert.equal(forPath('/streams/v1/images-0123abcd.json')['Access-Control-Allow-Origin'], '*');
    assert.equal(forPath('/images/debian/12/amd64/default/20260101_0000/rootfs-1.squashfs')['Cache-Control'], 'public, max-age=31536000, immutable');
    assert.equal(forPath('/index.html')['Cache-Control'], undefined);
  });

  it('stays within Cloudflare Pages limits', () => {
    const text = renderHeadersFile();
    const rules = text.split('\n').filter((l) => l.startsWith('/')).length;
    assert.ok(rules <= CLOUDFLARE_MAX_RULES);
    assert.ok(text.split('\n').every((l) => l.length <= CLOUDFLARE_MAX_LINE));
  });

  it("the repository netlify.toml parses with Netlify's parsers", async () => {
    const h = await parseAllHeaders({ headersFiles: [], netlifyConfigPath: path.resolve('netlify.toml'), configHeaders: [], minimal: false });
    assert.deepEqual(h.errors, []);
    const r = await parseAllRedirects({ redirectsFiles: [], netlifyConfigPath: path.resolve('netlify.toml'), configRedirects: [], minimal: false });
    assert.deepEqual(r.errors, []);
  });
});
