// render/cdn/hidden.ts: what no host may answer — the host files in the output, and what a build
// keeps next to the output when the output's parent is the web root (a tree under a sub-path).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeRegex, HOST_FILES, siblingPaths } from '../../generator/render/cdn/hidden.js';

describe('siblingPaths', () => {
  const cases: [string, [base: string, out: string, serverConfig: string], string[]][] = [
    ['at the root: the siblings are outside the web root', ['', '/srv/www', '/srv/www-server-config'], []],
    ['under /lxd, the default server-config folder', ['/lxd', '/srv/www/lxd', '/srv/www/lxd-server-config'], ['/.lxd.', '/lxd-server-config/']],
    ['under /lxd, the server config elsewhere', ['/lxd', '/srv/www/lxd', '/etc/nginx/staticstreams'], ['/.lxd.']],
    ['two levels down', ['/a/lxd', '/srv/www/a/lxd', '/srv/www/a/conf'], ['/a/.lxd.', '/a/conf/']],
    ['a relative output', ['/lxd', 'www/lxd', 'www/lxd-server-config'], ['/.lxd.', '/lxd-server-config/']],
    ['an output of another name (served through a link or alias): unknown', ['/lxd', '/srv/dist', '/srv/dist-server-config'], []],
  ];
  for (const [name, [base, out, conf], expected] of cases) it(name, () => assert.deepEqual(siblingPaths(base, out, conf), expected));
});

describe('escapeRegex and HOST_FILES', () => {
  it('escapes every metacharacter a base path may hold', () => {
    assert.equal(escapeRegex('/a+b/c.d'), '/a\\+b/c\\.d');
    assert.ok(new RegExp(`^${escapeRegex('/a+b')}$`).test('/a+b'));
    assert.ok(!new RegExp(`^${escapeRegex('/a+b')}$`).test('/aab'));
  });
  it('names the files hosts read from the output', () => assert.deepEqual([...HOST_FILES], ['_headers', '_redirects', '_worker.js']));
});
