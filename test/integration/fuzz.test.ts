// Property test: mutated valid tarballs and metadata fed to ingest either pass or fail with a
// clean ImageError — never hang, crash, or write outside the build's own folders. A fixed seed
// and a bounded budget keep it repeatable in CI (FUZZ_RUNS raises the budget locally).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
// Internal: the readers of untrusted input are what the fuzzer drives, one call at a time.
import { classify } from '../../generator/ingest/classify.js';
import { parseMetadata, MetadataProblem } from '../../generator/ingest/metadata.js';
import { compress, metadataTarball, metadataYaml, rootTarball, tarball, unifiedTarball } from '../support/images.js';
import { tempDir } from '../support/tmp.js';
import { build, BuildFailed, ImageError } from '../../generator/index.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const RUNS = Number(process.env.FUZZ_RUNS ?? 120);
const PER_CASE_MS = 10_000;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} hung for ${PER_CASE_MS} ms`)), PER_CASE_MS))),
  ]).finally(() => clearTimeout(timer));
}

/** Byte-level mutations: flips, overwrites, truncation, insertion, duplication. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 512 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(input: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(input);
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'flip') b[at] = b[at]! ^ (1 << m.bit);
    else if (m.kind === 'set') b[at] = m.value;
    else if (m.kind === 'truncate') b = b.subarray(0, at);
    else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
    else b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + m.len), b.subarray(at)]);
  }
  return b;
}

describe('fuzzing ingest', () => {
  it('mutated tarballs are accepted or refused with a clean ImageError', async (t) => {
    const dir = await tempDir(t);
    const seeds = [
      await metadataTarball({ os: 'f', release: '1' }, 'xz'),
      await metadataTarball({ os: 'f', release: '1' }, 'gzip'),
      await metadataTarball({ os: 'f', release: '1' }, 'none'),
      await metadataTarball({ os: 'f', release: '1' }, 'zstd'),
      await metadataTarball({ os: 'f', release: '1' }, 'bzip2'),
      await unifiedTarball({ os: 'f', release: '1' }, 'x', { compression: 'gzip' }),
      await rootTarball('x', 'xz'),
      compress(await tarball([{ name: 'metadata.yaml', content: metadataYaml() }, { name: 'rootfs/' }, { name: 'rootfs/a', content: 'b' }]), 'xz'),
    ];
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), async (which, ms) => {
        const file = path.join(dir, `case-${n++}.tar`);
        await writeFile(file, mutate(seeds[which]!, ms));
        try {
          await withTimeout(
            classify({ path: file, rel: path.basename(file), size: (await import('node:fs')).statSync(file).size, dev: 0, ino: 0, mtimeMs: 0, ctimeMs: 0 }),
            'classify',
          );
        } catch (e) {
          if (!(e instanceof ImageError)) throw e;
          assert.ok(e.problem.length > 0 && e.fix.length > 0);
        } finally {
          await rm(file, { force: true });
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('mutated metadata.yaml text is parsed or refused with a MetadataProblem', () => {
    const base = `${metadataYaml({ os: 'f', release: '1', serial: '20260101_00:00' })}templates:\n  /etc/hostname:\n    when: [create, copy]\n    template: hostname.tpl\n`;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            at: fc.nat(),
            text: fc.oneof(
              fc.string({ maxLength: 8 }),
              fc.constantFrom('&a', '*a', '<<: *a', '\n  ', ': ', '- ', '"', "'", '\t', '!!binary ', '\u0000', '{', '['),
            ),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        (edits) => {
          let text = base;
          for (const e of edits) {
            const at = e.at % (text.length + 1);
            text = text.slice(0, at) + e.text + text.slice(at);
          }
          try {
            parseMetadata(Buffer.from(text));
          } catch (e) {
            if (!(e instanceof MetadataProblem)) throw e;
          }
        },
      ),
      { seed: SEED, numRuns: RUNS * 5 },
    );
  });

  it('whole builds on mutated inputs fail cleanly and write only inside their own folders', async (t) => {
    const dir = await tempDir(t);
    const good = await unifiedTarball({ os: 'f', release: '1' }, 'x');
    const meta = await metadataTarball({ os: 'g', release: '1' });
    const root = await rootTarball('y', 'gzip');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (m1, m2) => {
        const sandbox = path.join(dir, `b${n++}`);
        const images = path.join(sandbox, 'images');
        await mkdir(path.join(images, 'split'), { recursive: true });
        await writeFile(path.join(images, 'u.tar.gz'), mutate(good, m1));
        await writeFile(path.join(images, 'split/lxd.tar.xz'), mutate(meta, m2));
        await writeFile(path.join(images, 'split/rootfs.tar.gz'), root);
        try {
          await withTimeout(
            build({ images, out: path.join(sandbox, 'dist'), site: false, targets: ['netlify'], serverConfig: path.join(sandbox, 'conf') }),
            'build',
          );
        } catch (e) {
          if (!(e instanceof BuildFailed)) throw e;
        }
        const entries = (await readdir(sandbox)).sort();
        assert.ok(
          entries.every((e) => ['.dist.cache.json', 'conf', 'dist', 'images'].includes(e)),
          `unexpected entries: ${entries.join(', ')}`,
        );
        await rm(sandbox, { recursive: true, force: true });
      }),
      { seed: SEED, numRuns: Math.max(10, Math.floor(RUNS / 4)) },
    );
  });
});
