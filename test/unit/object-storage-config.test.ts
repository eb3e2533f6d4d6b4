// config/config.ts: the object_storage section, as written in staticstreams.yaml and the example config.

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { blobRedirect, bucketKey } from '../../generator/render/bucket-layout.js';
import { tempDir } from '../support/tmp.js';
import { configSchema, loadConfig, parseConfig, type ObjectStorageSettings, BuildError, UsageError } from '../../generator/index.js';

const settings = (o: Partial<ObjectStorageSettings> = {}): ObjectStorageSettings =>
  configSchema.parse({ object_storage: { bucket: 'b', public_url: 'https://files.example.org/', prefix: 'lxd/', ...o } }).object_storage!;

/** The commented-out `# KEY:` block of the example config, uncommented. */
function commentedBlock(text: string, key: string): string[] {
  const lines = text.split('\n');
  const from = lines.indexOf(`# ${key}:`);
  assert.ok(from >= 0, `the example has # ${key}:`);
  const block = [lines[from]!];
  for (const line of lines.slice(from + 1)) {
    if (!/^# {3}\w/.test(line)) break;
    block.push(line);
  }
  return block.map((l) => l.slice(2));
}

describe('object storage settings', () => {
  it('validates the object_storage section', () => {
    const s = settings();
    assert.equal(s.verify, 'read-back');
    assert.equal(s.part_size_mib, 8);
    assert.throws(
      () => parseConfig({ object_storage: { bucket: 'b' } }),
      (e: Error) => e instanceof UsageError && /object_storage\.public_url/.test(e.message),
    );
    assert.throws(() => parseConfig({ object_storage: { bucket: 'b', public_url: 'https://x.org', prefix: '/lxd' } }), /object_storage\.prefix/);
    assert.throws(() => parseConfig({ object_storage: { bucket: 'b', public_url: 'https://x.org', part_size_mib: 1 } }), /object_storage\.part_size_mib/);
    assert.throws(
      () => parseConfig({ object_storage: { bucket: 'b', public_url: 'https://x.org', secret: 'k' } }),
      /object_storage\.secret: is not a setting staticstreams knows\n {2}fix: (did you mean object_storage\.\w+\?|remove it)/,
    );
  });

  /** The example config with its commented-out `key` block uncommented, loaded as a user's would be. */
  async function exampleWith(t: TestContext, key: string, minLines: number) {
    const text = await readFile(path.resolve('staticstreams.example.yaml'), 'utf8');
    const block = commentedBlock(text, key);
    assert.ok(block.length >= minLines, `the ${key} block is in the example`);
    const file = path.join(await tempDir(t), 'c.yaml');
    await writeFile(file, `${text}\n${block.join('\n')}\n`);
    return loadConfig(file, true);
  }

  it("the example config's object_storage block is valid once uncommented", async (t) => {
    const config = await exampleWith(t, 'object_storage', 10);
    assert.equal(config.object_storage?.bucket, 'lxd-images');
    assert.deepEqual(blobRedirect(config.object_storage!), { from: '/images/', to: 'https://files.example.org/lxd/images/' });
  });

  it("the example config's mirror block is valid once uncommented", async (t) => {
    const config = await exampleWith(t, 'mirror', 5);
    assert.deepEqual(config.mirror.upstreams, ['https://images.example.org']);
    assert.deepEqual(config.mirror.filter, ['os=debian', 'arch=amd64', 'type=container']);
  });

  it('puts files at PREFIX + path and sends /images/ to the public URL of that prefix', () => {
    assert.equal(bucketKey(settings(), 'images/a/b.tar.gz'), 'lxd/images/a/b.tar.gz');
    assert.deepEqual(blobRedirect(settings()), { from: '/images/', to: 'https://files.example.org/lxd/images/' });
    assert.deepEqual(blobRedirect(settings({ prefix: '' })), { from: '/images/', to: 'https://files.example.org/images/' });
    assert.throws(() => blobRedirect(settings({ public_url: 'https://files.example.org/$x' })), BuildError);
  });
});
