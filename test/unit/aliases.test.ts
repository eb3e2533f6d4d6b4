// plan/aliases.ts: default aliases, which alias names clients accept, and clashes between products.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aliasClashes, defaultAliases } from '../../generator/plan/aliases.js';
import { aliasProblem } from '../../generator/simplestreams/names.js';

describe('aliases', () => {
  it('default to os/release/variant, plus os/release for the default variant, lower case', () => {
    for (const [[os, release, variant], expected] of [
      [
        ['debian', '12', 'default'],
        ['debian/12/default', 'debian/12'],
      ],
      [['Ubuntu', 'Noble', 'cloud'], ['ubuntu/noble/cloud']],
      [['alpine', '3.20', 'Default'], ['alpine/3.20/default']],
    ] as [[string, string, string], string[]][])
      assert.deepEqual(defaultAliases(os, release, variant), expected, `${os} ${release} ${variant}`);
  });

  it('are names clients accept, or a problem saying what is allowed', () => {
    for (const ok of ['debian/12', 'a', 'x_y.z+1~2-3/v', 'debian/12/cloud']) assert.equal(aliasProblem(ok), undefined, ok);
    for (const bad of ['Debian/12', 'debian//12', '/debian', 'debian/', 'a b', 'a,b', ''])
      assert.match(aliasProblem(bad) ?? '', /is not valid/, JSON.stringify(bad));
  });

  it('clash only when two products of one architecture claim the same alias, naming both and the fix', () => {
    const claim = (product: string, arch: string, aliases: string[]) => ({ product, arch, aliases, files: [`${product}.tar.gz`] });
    assert.deepEqual(aliasClashes([claim('a:1:amd64:default', 'amd64', ['a/1']), claim('a:1:arm64:default', 'arm64', ['a/1'])]), [], 'other architectures');
    assert.deepEqual(aliasClashes([claim('a:1:amd64:default', 'amd64', ['a/1', 'a/1'])]), [], 'one product twice');
    const [clash, ...more] = aliasClashes([claim('b:1:amd64:x', 'amd64', ['shared']), claim('a:1:amd64:y', 'amd64', ['shared'])]);
    assert.equal(more.length, 0);
    assert.match(
      clash!.problem,
      /alias "shared" is claimed by two amd64 products: b:1:amd64:x and a:1:amd64:y \(clients would silently use only a:1:amd64:y\)/,
    );
    assert.match(clash!.fix, /another variant/);
    assert.deepEqual(clash!.files, ['b:1:amd64:x.tar.gz', 'a:1:amd64:y.tar.gz']);
  });
});
