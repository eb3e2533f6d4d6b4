import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { sniff } from '../../generator/ingest/detect.js';
import { compress, qcow2Bytes, tarball } from '../support/images.js';
import { haveTool } from '../support/images.js';

describe('sniff (magic bytes, never names)', () => {
  it('recognises every compression LXD accepts', async () => {
    const tar = await tarball([{ name: 'a', content: 'x' }]);
    assert.deepEqual(sniff(tar), { kind: 'tar', compression: 'none' });
    assert.deepEqual(sniff(gzipSync(tar)), { kind: 'compressed', compression: 'gzip' });
    assert.deepEqual(sniff(compress(tar, 'xz')), { kind: 'compressed', compression: 'xz' });
    if (haveTool('zstd')) assert.deepEqual(sniff(compress(tar, 'zstd')), { kind: 'compressed', compression: 'zstd' });
    if (haveTool('bzip2')) assert.deepEqual(sniff(compress(tar, 'bzip2')), { kind: 'compressed', compression: 'bzip2' });
    assert.deepEqual(sniff(Buffer.from([0x5d, 0, 0, 0x80, 0])), { kind: 'compressed', compression: 'lzma' });
    assert.deepEqual(sniff(Buffer.from([0x04, 0x22, 0x4d, 0x18, 0])), { kind: 'compressed', compression: 'lz4' });
  });

  it('recognises squashfs and qcow2', async () => {
    assert.deepEqual(sniff(Buffer.from('hsqs\0\0\0\0')), { kind: 'squashfs' });
    if (haveTool('qemu-img')) assert.deepEqual(sniff(await qcow2Bytes(1)), { kind: 'qcow2' });
    assert.deepEqual(sniff(Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3])), { kind: 'qcow2' });
  });

  it('says unknown for anything else, including empty input', () => {
    assert.deepEqual(sniff(Buffer.alloc(0)), { kind: 'unknown' });
    assert.deepEqual(sniff(Buffer.from('# README\n')), { kind: 'unknown' });
  });
});
