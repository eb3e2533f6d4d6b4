// Signed publishing as a publisher, a mirror and an auditor meet it: keys made with real gpg (as
// a CI secret holds them), every signed file checked by real gpgv with only the public key, the
// chain walked as Canonical's sstream-query --keyring walks it (gpgv each document, follow the
// payload's paths, sha256 each file), `sha256sum -c` in every version folder; deterministic
// signatures; keys that cannot sign refused with exit 2 before anything is written; verify and
// mirror refusing tampering (a changed hash in a signed products file, another key's signature, a
// re-signed index naming an old products file); a mirror that re-signs with its own key.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from '../../generator/index.js';
import { runCli, runCliPeak } from '../support/cli.js';
import { hashTree } from '../support/tree-hash.js';
import { requirements } from '../support/require.js';
import { cleanupKey, gpgv, makeKey, revokedSecret, type TestKey } from '../support/gpg.js';
import { startUpstream, type Upstream } from '../support/upstream-server.js';

const IMAGES = path.resolve('images');
const NOW = '2026-12-01T00:00:00Z';
const skip = requirements(['gpg', 'gpgv', 'sha256sum']);

/** Every file under `root`, relative. */
function filesUnder(root: string, rel = ''): string[] {
  return readdirSync(path.join(root, rel), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(root, path.join(rel, e.name)) : [path.join(rel, e.name)],
  );
}

/** Walks the chain as sstream-query --keyring does: gpgv index.sjson, follow its paths, gpgv each, sha256 each item. */
function walkChain(tree: string, keyring: string): { products: number; items: number } {
  const index = gpgv(keyring, path.join(tree, 'streams/v1/index.sjson'));
  assert.ok(index.ok, index.output);
  const payload = JSON.parse(index.payload) as { index: Record<string, { path: string }> };
  let products = 0;
  let items = 0;
  for (const entry of Object.values(payload.index)) {
    assert.match(entry.path, /\.sjson$/, 'the signed index names signed products');
    const signed = gpgv(keyring, path.join(tree, entry.path));
    assert.ok(signed.ok, `${entry.path}: ${signed.output}`);
    const doc = JSON.parse(signed.payload) as {
      products: Record<string, { versions: Record<string, { items: Record<string, { path: string; sha256: string }> }> }>;
    };
    for (const p of Object.values(doc.products)) {
      products++;
      for (const v of Object.values(p.versions))
        for (const i of Object.values(v.items)) {
          const r = spawnSync('sha256sum', [path.join(tree, i.path)], { encoding: 'utf8' });
          assert.equal(r.stdout.split(' ')[0], i.sha256, i.path);
          items++;
        }
    }
  }
  return { products, items };
}

describe('signed trees', { skip }, () => {
  let work: string;
  let key: TestKey;
  let other: TestKey;
  let tree: string;

  const signedBuild = (out: string, k: TestKey = key, extra: Record<string, unknown> = {}) =>
    build({ images: IMAGES, out, site: false, now: new Date(NOW), env: { STATICSTREAMS_SIGNING_KEY: k.secret }, ...extra });

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ss-signing-'));
    key = makeKey(work);
    other = makeKey(work, { name: 'Someone Else <else@example.org>' });
    tree = path.join(work, 'tree');
    await signedBuild(tree);
  });
  after(() => {
    for (const k of [key, other]) if (k) cleanupKey(k);
    if (work && !process.env.KEEP_TMP) rmSync(work, { recursive: true, force: true });
  });

  it('gpgv alone verifies every .sjson, .json.gpg and SHA256SUMS.asc, and sha256sum -c passes in every version folder', () => {
    const files = filesUnder(tree);
    const sjson = files.filter((f) => f.endsWith('.sjson'));
    const gpg = files.filter((f) => f.endsWith('.json.gpg'));
    const sums = files.filter((f) => path.basename(f) === 'SHA256SUMS');
    assert.deepEqual(
      sjson.map((f) => path.basename(f)).sort(),
      [
        'images.sjson',
        'index.sjson',
        path.basename(JSON.parse(readFileSync(path.join(tree, 'catalog.json'), 'utf8')).streams.products).replace('.json', '.sjson'),
      ].sort(),
    );
    assert.equal(gpg.length, 3, 'index.json, the products file and images.json have a detached signature');
    for (const f of sjson) assert.ok(gpgv(key.keyring, path.join(tree, f)).ok, f);
    for (const f of gpg) assert.ok(gpgv(key.keyring, path.join(tree, f), path.join(tree, f.replace(/\.gpg$/, ''))).ok, f);
    // every version folder of the products has its checksums
    const versions = new Set(
      Object.values(
        JSON.parse(readFileSync(path.join(tree, 'streams/v1/images.json'), 'utf8')).products as Record<
          string,
          { versions: Record<string, { items: Record<string, { path: string }> }> }
        >,
      ).flatMap((p) => Object.values(p.versions).map((v) => path.dirname(Object.values(v.items)[0]!.path))),
    );
    assert.equal(sums.length, versions.size);
    for (const s of sums) {
      const dir = path.join(tree, path.dirname(s));
      assert.ok(gpgv(key.keyring, path.join(dir, 'SHA256SUMS.asc'), path.join(dir, 'SHA256SUMS')).ok, s);
      const check = spawnSync('sha256sum', ['-c', '--strict', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' });
      assert.equal(check.status, 0, check.stdout + check.stderr);
      assert.ok(readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8').split('\n').filter(Boolean).length >= 1);
    }
    // the published key is the public key, and the catalog names it
    assert.ok(gpgv(path.join(tree, 'signing-key.gpg'), path.join(tree, 'streams/v1/index.sjson')).ok, 'signing-key.gpg is a keyring gpgv reads');
    const catalog = JSON.parse(readFileSync(path.join(tree, 'catalog.json'), 'utf8'));
    assert.deepEqual(catalog.signing, {
      fingerprint: key.fingerprint,
      userIds: ['Test Signer <signer@example.org>'],
      key: 'signing-key.asc',
      keyring: 'signing-key.gpg',
      index: 'streams/v1/index.sjson',
    });
  });

  it("the chain walks as Canonical's sstream-query --keyring walks it, every item's sha256 right", () => {
    const walked = walkChain(tree, key.keyring);
    assert.ok(walked.products >= 5 && walked.items >= 8, JSON.stringify(walked));
  });

  it('the secret key is nowhere in the output, the state file or the --json summary', async () => {
    const out = path.join(work, 'cli-tree');
    const r = await runCli(['build', '--images', IMAGES, '--out', out, '--no-site', '--json', '--now', NOW], {
      cwd: work,
      env: { ...process.env, STATICSTREAMS_SIGNING_KEY: key.secret },
    });
    assert.equal(r.status, 0, r.stderr);
    const secretBody = key.secret.split('\n').filter((l) => l.length > 40)[1]!;
    for (const text of [r.stdout, r.stderr, ...filesUnder(out).map((f) => readFileSync(path.join(out, f), 'latin1'))]) {
      assert.ok(!text.includes('PRIVATE KEY'), 'no secret key block');
      assert.ok(!text.includes(secretBody), 'no line of the secret key');
    }
  });

  it('signatures are deterministic: fresh builds with the same key give the same bytes, whatever --now; a no-change rebuild writes nothing', async () => {
    const a = path.join(work, 'det-a');
    const b = path.join(work, 'det-b');
    await signedBuild(a);
    await signedBuild(b, key, { now: new Date('2027-01-01T00:00:00Z') });
    assert.equal(await hashTree(a), await hashTree(tree));
    assert.equal(await hashTree(b), await hashTree(tree));
    const before = statSync(path.join(a, 'streams/v1/index.sjson'));
    const phases: string[] = [];
    await signedBuild(a, key, { reporter: { phase: (p: string) => phases.push(p), progress() {}, warn() {} } });
    assert.ok(
      phases.some((p) => p.startsWith('nothing changed')),
      phases.join('\n'),
    );
    assert.equal(statSync(path.join(a, 'streams/v1/index.sjson')).mtimeMs, before.mtimeMs);
    assert.ok(!phases.some((p) => p.startsWith('signed ')), 'nothing signed again');
  });

  it('a new key re-signs everything: nothing of the old key is kept', async () => {
    const dir = path.join(work, 'rotated');
    await signedBuild(dir);
    const phases: string[] = [];
    await signedBuild(dir, other, { reporter: { phase: (p: string) => phases.push(p), progress() {}, warn() {} } });
    assert.ok(
      phases.some((p) => /^signed \d+ documents$/.test(p)),
      phases.join('\n'),
    );
    walkChain(dir, other.keyring);
    const v = await runCli(['verify', dir, '--quick', '--keyring', other.keyring], { cwd: work });
    assert.equal(v.status, 0, v.stdout);
  });

  it('an RSA key signs as verifiably and as deterministically', async () => {
    const rsa = makeKey(work, { algo: 'rsa3072', name: 'RSA Signer <rsa@example.org>' });
    try {
      const a = path.join(work, 'rsa-a');
      const b = path.join(work, 'rsa-b');
      await signedBuild(a, rsa);
      await signedBuild(b, rsa, { now: new Date('2027-06-01T00:00:00Z') });
      walkChain(a, rsa.keyring);
      assert.equal(await hashTree(a), await hashTree(b));
      assert.match(gpgv(rsa.keyring, path.join(a, 'streams/v1/index.sjson')).output, /using RSA key/);
    } finally {
      cleanupKey(rsa);
    }
  });

  it('a key that cannot sign stops the build with exit 2 before anything is written, naming the fix', async () => {
    const out = path.join(work, 'refused');
    const locked = makeKey(work, { passphrase: 'correct horse' });
    const expiring = makeKey(work, { expire: '1d' });
    const revoked = makeKey(work);
    const revokedText = revokedSecret(revoked);
    try {
      const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
        ['not a key', { STATICSTREAMS_SIGNING_KEY: 'hello' }, /is not an OpenPGP secret key[\s\S]*fix: export one/],
        ['a public key', { STATICSTREAMS_SIGNING_KEY: key.publicArmored }, /is not an OpenPGP secret key/],
        ['locked, no passphrase', { STATICSTREAMS_SIGNING_KEY: locked.secret }, /locked with a passphrase[\s\S]*STATICSTREAMS_SIGNING_PASSPHRASE/],
        ['locked, wrong passphrase', { STATICSTREAMS_SIGNING_KEY: locked.secret, STATICSTREAMS_SIGNING_PASSPHRASE: 'wrong' }, /does not unlock it/],
        ['expired at --now', { STATICSTREAMS_SIGNING_KEY: expiring.secret }, /expired on[\s\S]*quick-set-expire/],
        ['revoked', { STATICSTREAMS_SIGNING_KEY: revokedText }, /is revoked/],
      ];
      for (const [what, env, message] of cases) {
        const now = what.startsWith('expired') ? new Date(Date.now() + 3 * 86400_000).toISOString() : new Date().toISOString();
        const r = await runCli(['build', '--images', IMAGES, '--out', out, '--no-site', '--now', now], { cwd: work, env: { ...process.env, ...env } });
        assert.equal(r.status, 2, `${what}: ${r.stderr}`);
        assert.match(r.stderr, message, what);
        assert.ok(!r.stderr.includes('    at '), `${what}: no stack trace`);
        assert.ok(!existsSync(out), `${what}: nothing written`);
      }
      // the locked key with its passphrase signs; --sign-key FILE takes precedence over the variable
      const file = path.join(work, 'locked.asc');
      writeFileSync(file, locked.secret);
      const r = await runCli(['build', '--images', IMAGES, '--out', out, '--no-site', '--sign-key', file], {
        cwd: work,
        env: { ...process.env, STATICSTREAMS_SIGNING_KEY: 'hello', STATICSTREAMS_SIGNING_PASSPHRASE: 'correct horse' },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(gpgv(locked.keyring, path.join(out, 'streams/v1/index.sjson')).ok);
    } finally {
      for (const k of [locked, expiring, revoked]) cleanupKey(k);
    }
  });

  it('verify --keyring passes the tree, and fails each tampering with exit 1 naming the file', async () => {
    const ok = await runCli(['verify', tree, '--keyring', key.keyring], { cwd: work });
    assert.equal(ok.status, 0, ok.stdout);
    assert.match(ok.stdout, new RegExp(`signatures: signed by ${key.fingerprint}, a key in --keyring: the whole chain verifies`));
    const own = await runCli(['verify', tree], { cwd: work });
    assert.equal(own.status, 0, own.stdout);
    assert.match(own.stdout, /the tree's own published key: the whole chain verifies, but nothing says the key is the publisher's/);

    const tampered = async (name: string, change: (dir: string) => void | Promise<void>, expect: RegExp) => {
      const dir = path.join(work, `tampered-${name}`);
      cpSync(tree, dir, { recursive: true });
      await change(dir);
      const r = await runCli(['verify', dir, '--quick', '--keyring', key.keyring], { cwd: work });
      assert.equal(r.status, 1, `${name}: ${r.stdout}`);
      assert.match(r.stdout, expect, name);
    };
    const products = JSON.parse(readFileSync(path.join(tree, 'catalog.json'), 'utf8')).streams.products as string;
    // a changed hash inside the signed products file
    await tampered(
      'hash',
      (dir) => {
        const f = path.join(dir, products.replace('.json', '.sjson'));
        writeFileSync(
          f,
          readFileSync(f, 'utf8').replace(/"sha256": "([0-9a-f])/, (_m, c: string) => `"sha256": "${c === '0' ? '1' : '0'}`),
        );
      },
      /images-[0-9a-f]+\.sjson: the signature by [0-9A-F]+ does not match/,
    );
    // the products clients read changed, the signed one intact
    await tampered(
      'unsigned-products',
      (dir) => {
        for (const f of [products, 'streams/v1/images.json']) {
          const p = path.join(dir, f);
          writeFileSync(
            p,
            readFileSync(p, 'utf8').replace(/"sha256": "([0-9a-f])/, (_m, c: string) => `"sha256": "${c === '0' ? '1' : '0'}`),
          );
        }
      },
      /its signed payload and streams\/v1\/images-[0-9a-f]+\.json differ/,
    );
    // every signature by another key
    await tampered(
      'other-key',
      async (dir) => {
        rmSync(dir, { recursive: true });
        await signedBuild(dir, other);
      },
      /signed by the key [0-9A-F]{16}, which is not in the keyring/,
    );
    // a validly signed index of an older build, naming its products file
    const old = path.join(work, 'old-build');
    await build({ images: path.join(IMAGES, 'busybox'), out: old, site: false, now: new Date(NOW), env: { STATICSTREAMS_SIGNING_KEY: key.secret } });
    await tampered(
      'old-index',
      (dir) => {
        writeFileSync(path.join(dir, 'streams/v1/index.sjson'), readFileSync(path.join(old, 'streams/v1/index.sjson')));
      },
      /index\.sjson: (its signed payload and streams\/v1\/index\.json differ|is named by index\.sjson but not found)/,
    );
    // a checksum file that does not match the products
    await tampered(
      'sums',
      (dir) => {
        const sums = filesUnder(dir).find((f) => f.endsWith('SHA256SUMS'))!;
        writeFileSync(
          path.join(dir, sums),
          readFileSync(path.join(dir, sums), 'utf8').replace(/^./, (c) => (c === '0' ? '1' : '0')),
        );
      },
      /SHA256SUMS\.asc: the signature by [0-9A-F]+ does not match/,
    );
    // another tool's signed tree, its key published elsewhere: a warning without --keyring, not an error
    const keyless = path.join(work, 'keyless');
    cpSync(tree, keyless, { recursive: true });
    for (const f of ['signing-key.asc', 'signing-key.gpg']) rmSync(path.join(keyless, f));
    const unchecked = await runCli(['verify', keyless, '--quick'], { cwd: work });
    assert.equal(unchecked.status, 0, unchecked.stdout);
    assert.match(unchecked.stdout, /warning: streams\/v1\/index\.sjson: signed, but not checked: no --keyring was given/);
    assert.equal((await runCli(['verify', keyless, '--quick', '--keyring', key.keyring], { cwd: work })).status, 0);
    // --require-signature fails an unsigned tree
    const plain = path.join(work, 'plain');
    await build({ images: IMAGES, out: plain, site: false, env: {} });
    const unsigned = await runCli(['verify', plain, '--quick', '--require-signature'], { cwd: work });
    assert.equal(unsigned.status, 1, unsigned.stdout);
    assert.match(unsigned.stdout, /streams\/v1\/index\.sjson: not found: the tree is not signed/);
    assert.equal((await runCli(['verify', plain, '--quick'], { cwd: work })).status, 0);
  });

  it('prune keeps a signed tree signed: without the key it stops with exit 2; with it the signatures match what is listed', async () => {
    const dir = path.join(work, 'prune');
    cpSync(tree, dir, { recursive: true });
    const before = await hashTree(dir);
    const r = await runCli(['prune', dir, '--retain', '1', '--no-site'], { cwd: work, env: { ...process.env, STATICSTREAMS_SIGNING_KEY: undefined } });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /is signed[\s\S]*--sign-key FILE or STATICSTREAMS_SIGNING_KEY/);
    assert.equal(await hashTree(dir), before);
    const signedPrune = await runCli(['prune', dir, '--retain', '1', '--no-site'], {
      cwd: work,
      env: { ...process.env, STATICSTREAMS_SIGNING_KEY: key.secret },
    });
    assert.equal(signedPrune.status, 0, signedPrune.stderr);
    const v = await runCli(['verify', dir, '--quick', '--keyring', key.keyring], { cwd: work });
    assert.equal(v.status, 0, v.stdout);
    walkChain(dir, key.keyring);
  });

  describe('mirror --keyring', () => {
    let upstream: Upstream;
    let upTree: string;
    before(async () => {
      upTree = path.join(work, 'upstream');
      await signedBuild(upTree, key, { baseUrl: 'https://upstream.example' });
      upstream = await startUpstream(upTree);
    });
    after(() => upstream?.stop());

    it("verifies the upstream's chain, keeps its signer in catalog.json, and re-signs with the mirror's own key", async () => {
      const out = path.join(work, 'mirror-ok');
      const r = await runCli(['mirror', upstream.url, '--out', out, '--no-site', '--keyring', key.keyring, '--signatures', 'required'], {
        cwd: work,
        env: { ...process.env, STATICSTREAMS_SIGNING_KEY: other.secret },
      });
      assert.equal(r.status, 0, r.stderr);
      const catalog = JSON.parse(readFileSync(path.join(out, 'catalog.json'), 'utf8'));
      assert.deepEqual(
        catalog.upstreams.map(({ updated: _updated, ...u }: { updated?: string }) => u),
        [{ url: upstream.url.replace(/\/?$/, '/'), signer: key.fingerprint }],
      );
      assert.match(catalog.upstreams[0].updated, /^\d{4}-\d\d-\d\dT/, "the signed index's time, to refuse a replay of an older one");
      assert.equal(catalog.signing.fingerprint, other.fingerprint);
      walkChain(out, other.keyring);
      assert.equal((await runCli(['verify', out, '--quick', '--keyring', other.keyring], { cwd: work })).status, 0);
      const withUpstreamKey = await runCli(['verify', out, '--quick', '--keyring', key.keyring], { cwd: work });
      assert.equal(withUpstreamKey.status, 1, 'the mirror is signed by its own key only');
    });

    it('refuses a tampered upstream with exit 1, the previous output byte-identical', async () => {
      const out = path.join(work, 'mirror-tamper');
      assert.equal((await runCli(['mirror', upstream.url, '--out', out, '--no-site', '--keyring', key.keyring], { cwd: work })).status, 0);
      const before = await hashTree(out);
      const products = JSON.parse(readFileSync(path.join(upTree, 'catalog.json'), 'utf8')).streams.products as string;
      const signed = readFileSync(path.join(upTree, products.replace('.json', '.sjson')), 'utf8');
      upstream.faults.set(products.replace('.json', '.sjson'), (_req, res) => {
        res.end(signed.replace(/"sha256": "([0-9a-f])/, (_m, c: string) => `"sha256": "${c === '0' ? '1' : '0'}`));
      });
      try {
        const r = await runCli(['mirror', upstream.url, '--out', out, '--no-site', '--keyring', key.keyring], { cwd: work });
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, /images-[0-9a-f]+\.sjson: the signature by [0-9A-F]+ does not match[\s\S]*fix: the upstream is not what its signer published/);
        assert.equal(await hashTree(out), before);
        // another key's signature is refused too
        const another = await runCli(['mirror', upstream.url, '--out', path.join(work, 'mirror-other'), '--no-site', '--keyring', other.keyring], {
          cwd: work,
        });
        assert.equal(another.status, 1);
        assert.match(another.stderr, /which is not in the keyring/);
      } finally {
        upstream.faults.clear();
      }
    });

    it('a signed document that never ends or trickles is cut off within its bound and time-out, in bounded memory', async () => {
      const products = JSON.parse(readFileSync(path.join(upTree, 'catalog.json'), 'utf8')).streams.products as string;
      const endless = (_req: unknown, res: import('node:http').ServerResponse) => {
        res.writeHead(200);
        const chunk = Buffer.alloc(1 << 20, 0x41);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      };
      const trickle = (_req: unknown, res: import('node:http').ServerResponse) => {
        res.writeHead(200);
        const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write('-')), 100);
      };
      for (const [name, rel, fault, message] of [
        ['an endless index.sjson', 'streams/v1/index.sjson', endless, /larger than 4 MiB, far beyond any real index/],
        ['an endless products .sjson', products.replace('.json', '.sjson'), endless, /larger than 256 MiB, far beyond any real index/],
        ['a trickling index.sjson', 'streams/v1/index.sjson', trickle, /less than 16 KiB\/s for 1 s/],
      ] as const) {
        upstream.faults.set(rel, fault);
        try {
          const out = path.join(work, `m-hostile-${rel.length}-${name.length}`);
          const r = await runCliPeak(['mirror', upstream.url, '--out', out, '--no-site', '--keyring', key.keyring, '--timeout', '1'], { cwd: work });
          assert.equal(r.status, 1, `${name}: ${r.stderr}`);
          assert.match(r.stderr, message, name);
          assert.ok(r.ms < 60_000, `${name}: cut off in ${r.ms} ms`);
          assert.ok(r.peakMiB < 700, `${name}: peak ${r.peakMiB} MiB`);
          assert.ok(!existsSync(out), `${name}: nothing written`);
        } finally {
          upstream.faults.clear();
        }
      }
    });

    it("lxc-ci's shape (a signed index naming unsigned products) passes preferred with a warning and fails required (the default with a keyring); an unsigned upstream likewise", async () => {
      const index = readFileSync(path.join(upTree, 'streams/v1/index.json'), 'utf8');
      // index.sjson signed over index.json unchanged: what lxc-ci publishes
      const { loadSigningKey, clearSign } = await import('../../generator/signing/openpgp.js');
      const signer = await loadSigningKey(key.secret, undefined, new Date(), 'test key');
      const lxcCi = await clearSign(signer, index, Math.floor(Date.now() / 1000));
      upstream.faults.set('streams/v1/index.sjson', (_req, res) => res.end(lxcCi));
      try {
        const preferred = await runCli(
          ['mirror', upstream.url, '--out', path.join(work, 'm-pref'), '--no-site', '--keyring', key.keyring, '--signatures', 'preferred'],
          { cwd: work },
        );
        assert.equal(preferred.status, 0, preferred.stderr);
        assert.match(preferred.stderr, /names the unsigned streams\/v1\/images-[0-9a-f]+\.json: the signed chain ends there/);
        const required = await runCli(
          ['mirror', upstream.url, '--out', path.join(work, 'm-req'), '--no-site', '--keyring', key.keyring, '--signatures', 'required'],
          {
            cwd: work,
          },
        );
        assert.equal(required.status, 1, required.stderr);
        assert.ok(!existsSync(path.join(work, 'm-req')));
      } finally {
        upstream.faults.clear();
      }
      upstream.faults.set('streams/v1/index.sjson', (_req, res) => {
        res.statusCode = 404;
        res.end();
      });
      try {
        const preferred = await runCli(
          ['mirror', upstream.url, '--out', path.join(work, 'm-unsigned'), '--no-site', '--keyring', key.keyring, '--signatures', 'preferred'],
          { cwd: work },
        );
        assert.equal(preferred.status, 0, preferred.stderr);
        assert.match(preferred.stderr, /the upstream is not signed; mirrored without a signature check/);
        const required = await runCli(
          ['mirror', upstream.url, '--out', path.join(work, 'm-unsigned-req'), '--no-site', '--keyring', key.keyring, '--signatures', 'required'],
          {
            cwd: work,
          },
        );
        assert.equal(required.status, 1);
        const noKeyring = await runCli(['mirror', upstream.url, '--out', path.join(work, 'm-nokey'), '--no-site', '--signatures', 'required'], { cwd: work });
        assert.equal(noKeyring.status, 2);
        assert.match(noKeyring.stderr, /needs the keys to check against: give --keyring FILE/);
      } finally {
        upstream.faults.clear();
      }
    });
  });
});
