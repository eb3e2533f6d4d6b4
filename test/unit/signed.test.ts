// simplestreams/signed.ts: the names of a signed tree's files, the signed index's payload, the
// SHA256SUMS format (written as sha256sum writes it, read as sha256sum -c reads it) and which
// folder holds a version's checksums.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  detachedJsonSignature,
  indexPaths,
  jsonPathOf,
  parseChecksums,
  renderChecksums,
  signedIndexPayload,
  sjsonPath,
  versionFolder,
} from '../../generator/simplestreams/signed.js';
import { hex } from '../support/builders.js';

describe('signed simplestreams names and documents', () => {
  it('names the clear-signed and detached forms', () => {
    for (const [json, sjson] of [
      ['streams/v1/index.json', 'streams/v1/index.sjson'],
      ['streams/v1/images-0123456789abcdef.json', 'streams/v1/images-0123456789abcdef.sjson'],
      ['streams/v1/com.ubuntu.cloud:released:download.json', 'streams/v1/com.ubuntu.cloud:released:download.sjson'],
    ]) {
      assert.equal(sjsonPath(json!), sjson);
      assert.equal(jsonPathOf(sjson!), json);
    }
    assert.equal(detachedJsonSignature('streams/v1/index.json'), 'streams/v1/index.json.gpg');
  });

  it('rewrites every products path of the index to its .sjson, keeping everything else (make_signed_content_paths)', () => {
    const index = {
      format: 'index:1.0',
      index: {
        images: { datatype: 'image-downloads', path: 'streams/v1/images-1.json', products: ['a'], format: 'products:1.0' },
        other: { datatype: 'image-ids', path: 'streams/v1/ids.json' },
      },
      updated: 'Mon, 01 Jun 2026 00:00:00 +0000',
    };
    const payload = JSON.parse(signedIndexPayload(`${JSON.stringify(index, null, 1)}\n`));
    assert.deepEqual(indexPaths(payload), ['streams/v1/images-1.sjson', 'streams/v1/ids.sjson']);
    assert.deepEqual({ ...payload, index: {} }, { ...index, index: {} });
    assert.equal(payload.index.images.datatype, 'image-downloads');
    assert.deepEqual(indexPaths(null), []);
    assert.deepEqual(indexPaths({ index: { a: { path: 3 } } }), []);
  });

  it('writes SHA256SUMS sorted by name, and reads it back (binary-mode "*" too); a line of another shape is named', () => {
    const text = renderChecksums([
      { name: 'rootfs.squashfs', sha256: hex(2) },
      { name: 'lxc-ab/meta.tar.xz', sha256: hex(3) },
      { name: 'lxd.tar.xz', sha256: hex(1) },
    ]);
    assert.equal(text, `${hex(3)}  lxc-ab/meta.tar.xz\n${hex(1)}  lxd.tar.xz\n${hex(2)}  rootfs.squashfs\n`);
    assert.deepEqual(
      parseChecksums(text).entries.map((e) => e.name),
      ['lxc-ab/meta.tar.xz', 'lxd.tar.xz', 'rootfs.squashfs'],
    );
    assert.deepEqual(parseChecksums(`${hex(9)} *disk.qcow2\n`), { entries: [{ sha256: hex(9), name: 'disk.qcow2' }] });
    assert.equal(parseChecksums(`${hex(1)}  a\nnot a line\n`).problem, 'line 2 is not "SHA256  NAME"');
    assert.equal(parseChecksums(`${'g'.repeat(64)}  a\n`).problem, 'line 1 is not "SHA256  NAME"');
  });

  it("takes a version's folder as the deepest one holding all its files", () => {
    const cases: [string[], string][] = [
      [
        ['images/d/12/amd64/default/20260101_0000/meta-1.tar.xz', 'images/d/12/amd64/default/20260101_0000/rootfs-1.squashfs'],
        'images/d/12/amd64/default/20260101_0000',
      ],
      [['images/v/1/meta.tar.xz', 'images/v/1/lxc-aa/rootfs.tar.xz'], 'images/v/1'],
      [['images/abc.incus.tar.xz', 'images/abc.squashfs'], 'images'],
      [['images/a/1/x.tar.xz', 'images/b/1/y.squashfs'], 'images'],
      [['root.tar.xz'], ''],
      [[], ''],
    ];
    for (const [paths, folder] of cases) assert.equal(versionFolder(paths), folder, paths.join(' '));
  });
});
