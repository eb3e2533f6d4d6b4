import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { lzma } from '@napi-rs/lzma';
import { classify } from '../../generator/ingest/classify.js';
import type { FoundFile } from '../../generator/ingest/find.js';
import { compress, haveTool, metadataTarball, metadataYaml, rootTarball, tarball, unifiedTarball, type Compression } from '../support/images.js';
import { tempDir } from '../support/tmp.js';
import { ImageError } from '../../generator/index.js';

async function fileAt(dir: string, name: string, data: Buffer): Promise<FoundFile> {
  const p = path.join(dir, name);
  await writeFile(p, data);
  const st = await stat(p);
  return { path: p, rel: name, size: st.size, dev: st.dev, ino: st.ino, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
}

/** Both ways a file is read: whole in memory (a small file), and streamed (a large one). */
const WAYS = [
  ['read whole', undefined],
  ['streamed', 0],
] as const;

async function refusal(file: FoundFile, wholeUpTo?: number): Promise<ImageError> {
  try {
    await classify(file, wholeUpTo);
  } catch (e) {
    assert.ok(e instanceof ImageError, `expected an ImageError, got ${e}`);
    return e;
  }
  assert.fail(`${file.rel} should have been refused`);
}

const compressions: Compression[] = ['none', 'gzip', 'xz', ...(haveTool('zstd') ? ['zstd' as const] : []), ...(haveTool('bzip2') ? ['bzip2' as const] : [])];

describe('classify', () => {
  for (const c of compressions) {
    for (const [way, wholeUpTo] of WAYS) {
      it(`tells metadata, rootfs and unified tarballs apart (${c}, ${way})`, async (t) => {
        const dir = await tempDir(t);
        const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
        const metaBytes = await metadataTarball({ os: 'alpine', release: '3.20' }, c);
        const meta = await classify(await fileAt(dir, 'meta.bin', metaBytes), wholeUpTo);
        assert.equal(meta.role, 'metadata');
        if (meta.role === 'metadata') {
          assert.equal(meta.metadata.properties.os, 'alpine');
          assert.equal(meta.sha256, sha(metaBytes), 'hashed in the same pass');
          assert.equal(meta.file.size, metaBytes.length);
        }
        const rootBytes = await rootTarball('x', c);
        const root = await classify(await fileAt(dir, 'root.bin', rootBytes), wholeUpTo);
        assert.deepEqual([root.role, root.role === 'rootfs' && root.format], ['rootfs', 'tarball']);
        const unifiedBytes = await unifiedTarball({}, 'x', { compression: c });
        const unified = await classify(await fileAt(dir, 'unified.bin', unifiedBytes), wholeUpTo);
        assert.deepEqual([unified.role, unified.role === 'unified' && unified.type], ['unified', 'container']);
        // Read to its end either way (these are small): hashed, and proven whole, by that read.
        assert.deepEqual([root.role === 'rootfs' && root.sha256, unified.role === 'unified' && unified.sha256], [sha(rootBytes), sha(unifiedBytes)]);
      });
    }
  }

  it('proves a small root or unified tarball whole in the read that classifies it (read to its end either way)', async (t) => {
    const dir = await tempDir(t);
    const root = await rootTarball('x', 'xz');
    const unified = await unifiedTarball({}, 'x', { compression: 'gzip' });
    const plainRoot = await tarball([{ name: 'bin/' }, { name: 'bin/sh', content: 'x'.repeat(2000) }]);
    const cases: [string, Buffer, RegExp][] = [
      ['root-cut.tar.xz', root.subarray(0, root.length - 30), /cut short or corrupt/],
      ['unified-cut.tar.gz', unified.subarray(0, unified.length - 10), /cut short or corrupt/],
      // Cut at an entry boundary: the compressed stream would be whole, the tar end marker is missing.
      ['root-boundary.tar', plainRoot.subarray(0, 512 + 512 + 2048), /end-of-archive marker/],
    ];
    for (const [way, wholeUpTo] of WAYS) {
      for (const [name, data, expected] of cases) {
        const e = await refusal(await fileAt(dir, `${wholeUpTo}-${name}`, data), wholeUpTo);
        assert.match(e.problem, expected, `${name} (${way})`);
      }
    }
  });

  it('refuses legacy .lzma tarballs with a fix (no safe streaming decoder)', async (t) => {
    const dir = await tempDir(t);
    const data = lzma.compressSync(await tarball([{ name: 'metadata.yaml', content: metadataYaml() }]));
    const e = await refusal(await fileAt(dir, 'lxd.tar.lzma', data));
    assert.match(e.problem, /legacy \.lzma/);
    assert.match(e.fix, /xz/);
  });

  it('detects a unified VM (rootfs.img) and entries prefixed ./', async (t) => {
    const dir = await tempDir(t);
    const vm = await classify(await fileAt(dir, 'vm.tar.gz', await unifiedTarball({}, 'x', { vm: haveTool('qemu-img') })));
    if (haveTool('qemu-img')) assert.equal(vm.role === 'unified' && vm.type, 'virtual-machine');
    const dotted = compress(
      await tarball([{ name: './metadata.yaml', content: metadataYaml() }, { name: './rootfs/' }, { name: './rootfs/x', content: 'y' }]),
      'gzip',
    );
    assert.equal((await classify(await fileAt(dir, 'dotted.tar.gz', dotted))).role, 'unified');
  });

  it('hashes and proves whole a large unified tarball whose metadata.yaml comes last, in the read that finds it', async (t) => {
    const dir = await tempDir(t);
    const plain = await tarball([
      { name: 'rootfs/' },
      { name: 'rootfs/blob', content: randomBytes(3 * 1024 * 1024) },
      { name: 'metadata.yaml', content: metadataYaml() },
    ]);
    const whole = compress(plain, 'gzip');
    const late = await classify(await fileAt(dir, 'late.tar.gz', whole), 0);
    assert.equal(late.role, 'unified');
    assert.equal(late.role === 'unified' && late.sha256, createHash('sha256').update(whole).digest('hex'), 'hashing need not read it again');
    // The same tarball without its end-of-archive marker: refused here, not published.
    // (rootfs/ header, blob header, the blob, metadata.yaml header and content: 512-byte blocks)
    const cut = compress(plain.subarray(0, 512 + 512 + 3 * 1024 * 1024 + 512 + 512), 'gzip');
    const e = await refusal(await fileAt(dir, 'late-cut.tar.gz', cut), 0);
    assert.match(e.problem, /end-of-archive marker/);
    // A large root tarball is known by its first entry: its read stops there, and hashing proves it whole.
    const root = await classify(
      await fileAt(dir, 'root.tar.gz', compress(await tarball([{ name: 'bin/' }, { name: 'bin/x', content: randomBytes(3 * 1024 * 1024) }]), 'gzip')),
      0,
    );
    assert.deepEqual([root.role, root.role === 'rootfs' && root.sha256], ['rootfs', undefined]);
  });

  it('finds metadata.yaml after rootfs/ entries', async (t) => {
    const dir = await tempDir(t);
    const late = compress(await tarball([{ name: 'rootfs/' }, { name: 'rootfs/x', content: 'y' }, { name: 'metadata.yaml', content: metadataYaml() }]), 'gzip');
    assert.equal((await classify(await fileAt(dir, 'late.tar.gz', late))).role, 'unified');
  });

  it('refuses broken and unsafe tarballs with the file name and a fix', async (t) => {
    const dir = await tempDir(t);
    const cases: [string, Buffer, RegExp][] = [
      ['empty.tar.xz', Buffer.alloc(0), /is empty/],
      ['random.tar.gz', Buffer.from('not an image at all, just text'), /unrecognised magic bytes/],
      ['truncated.tar.gz', (await metadataTarball({}, 'gzip')).subarray(0, 40), /cut short or corrupt/],
      ['truncated.tar.xz', (await metadataTarball({}, 'xz')).subarray(0, 60), /cut short or corrupt/],
      ['symlink.tar', await tarball([{ name: 'metadata.yaml', type: 'symlink', linkname: '/etc/passwd' }]), /metadata.yaml is a symlink/],
      ['dir.tar', await tarball([{ name: 'metadata.yaml/' }]), /metadata.yaml is a directory/],
      [
        'hardlink.tar',
        await tarball([
          { name: 'metadata.yaml', type: 'link', linkname: 'templates/x' },
          { name: 'templates/x', content: 'a' },
        ]),
        /metadata.yaml is a link, not a regular file/,
      ],
      [
        'big.tar',
        await tarball([{ name: 'metadata.yaml', content: `architecture: x86_64\ncreation_date: 1\n#${'x'.repeat(1024 * 1024)}\n` }]),
        /over LXD's limit of 1 MiB/,
      ],
      [
        'twice.tar',
        await tarball([
          { name: 'metadata.yaml', content: metadataYaml() },
          { name: 'metadata.yaml', content: metadataYaml() },
        ]),
        /metadata.yaml twice/,
      ],
      ['badarch.tar', await tarball([{ name: 'metadata.yaml', content: 'architecture: vax\ncreation_date: 1\n' }]), /architecture: "vax"/],
      [
        'escape.tar',
        await tarball([
          { name: 'metadata.yaml', content: metadataYaml() },
          { name: 'templates/../../etc/x', content: 'a' },
        ]),
        /outside the archive/,
      ],
      [
        'device.tar',
        await tarball([
          { name: 'metadata.yaml', content: metadataYaml() },
          { name: 'templates/null', type: 'character-device' },
        ]),
        /character-device/,
      ],
      ['nometa.tar', await tarball([{ name: 'templates/' }, { name: 'templates/a.tpl', content: 'a' }]), /no metadata.yaml/],
      ['rootonly.tar', await tarball([{ name: 'rootfs/' }, { name: 'rootfs/x', content: 'y' }]), /rootfs but no metadata.yaml/],
      ['image.tar.lz4', Buffer.from([0x04, 0x22, 0x4d, 0x18, 1, 2, 3]), /lz4/],
    ];
    for (const [way, wholeUpTo] of WAYS) {
      for (const [name, data, expected] of cases) {
        const e = await refusal(await fileAt(dir, name, data), wholeUpTo);
        assert.equal(e.file, name);
        assert.match(e.problem, expected, `${name} (${way})`);
        assert.ok(e.fix.length > 0, `${name} has a fix`);
      }
    }
  });

  it('leaves files that are not images and do not look like them as "other"', async (t) => {
    const dir = await tempDir(t);
    assert.equal((await classify(await fileAt(dir, 'README.md', Buffer.from('# hi\n')))).role, 'other');
    assert.equal((await classify(await fileAt(dir, 'SHA256SUMS', Buffer.from('abc  x\n')))).role, 'other');
  });
});
