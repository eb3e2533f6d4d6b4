// ingest/fzstd-stream.ts: zstd as `zstd -d` reads it, with both decoders (Node's own where this
// Node has it, and fzstd): several frames, pzstd's skippable frames, a stream cut short, a flipped
// content checksum, a window larger than zstd -d accepts. CI runs it under Node 22 and Node 24.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { nativeZstd, zstdStream } from '../../generator/ingest/fzstd-stream.js';
import { requirements } from '../support/require.js';

const zstd = (input: Buffer, args: string[] = []) => execFileSync('zstd', ['-q', '-c', '--check', ...args], { input, maxBuffer: 1 << 30 });

async function decode(bytes: Buffer, backend: 'native' | 'fzstd'): Promise<Buffer> {
  const out: Buffer[] = [];
  // (fed in pieces of an odd size: frames and blocks fall across them)
  const pieces = Array.from({ length: Math.ceil(bytes.length / 65_537) }, (_, i) => bytes.subarray(i * 65_537, (i + 1) * 65_537));
  for await (const c of Readable.from(pieces).pipe(zstdStream(backend))) out.push(c as Buffer);
  return Buffer.concat(out);
}

/** 4 MiB that compresses, with noise in it. */
const data = Buffer.concat([Buffer.alloc(2 << 20, 'staticstreams '), randomBytes(1 << 20), Buffer.alloc(1 << 20, 7)]);

const backends = nativeZstd() ? (['native', 'fzstd'] as const) : (['fzstd'] as const);

describe(`zstd (${backends.join(' and ')} on Node ${process.version})`, { skip: requirements(['zstd', 'pzstd']) }, () => {
  for (const backend of backends) {
    it(`${backend}: several frames, as zstd -d reads them`, async () => {
      const bytes = Buffer.concat([zstd(data.subarray(0, 1 << 20)), zstd(data.subarray(1 << 20, 3 << 20)), zstd(data.subarray(3 << 20))]);
      assert.ok((await decode(bytes, backend)).equals(data));
    });
    it(`${backend}: pzstd's frames, skippable ones between them`, async () => {
      const bytes = execFileSync('pzstd', ['-q', '-c', '-p', '2', '-1'], { input: data, maxBuffer: 1 << 30 });
      assert.ok((await decode(bytes, backend)).equals(data));
    });
    it(`${backend}: cut short (inside a frame, and right after a whole one's block) is refused`, async () => {
      const bytes = zstd(data);
      for (const at of [bytes.length - 1, bytes.length - 4, Math.floor(bytes.length / 2)])
        await assert.rejects(decode(bytes.subarray(0, at), backend), /ends in the middle of a frame|does not decode/);
    });
    it(`${backend}: a flipped content checksum is refused`, async () => {
      const bytes = Buffer.from(zstd(data));
      bytes[bytes.length - 1]! ^= 0xff;
      await assert.rejects(decode(bytes, backend), /content checksum does not match/);
    });
    it(`${backend}: a frame asking for a 2 GiB window is refused before anything is decoded`, async () => {
      const bytes = zstd(Buffer.alloc(1 << 16, 1), ['--long=31']);
      await assert.rejects(decode(bytes, backend), /window/);
    });
  }
});
