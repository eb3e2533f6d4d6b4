// The second adversarial review (issue 40), signatures: each attack as whoever can change files on
// the host or the CDN (what signing exists for) or an upstream would make it, checked with real
// gpg keys and gpgv, and each failed on the code before its fix. A build never re-signs what its
// own key did not sign; signatures are never dated after the build's clock; a stripped or
// replayed upstream is refused; unsigned catalogue data cannot date or describe a signed mirror;
// a document with many signatures is refused before it costs; signing never switches off quietly.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, runCliPeak } from '../support/cli.js';
import { requirements } from '../support/require.js';
import { cleanupKey, gpgv, makeKey, type TestKey } from '../support/gpg.js';
import { startUpstream, type Upstream } from '../support/upstream-server.js';
import { hashTree } from '../support/tree-hash.js';
import { put, unifiedTarball } from '../support/images.js';
import { ensureTestTls } from '../support/tls.js';

const IMAGES = path.resolve('images');
const skip = requirements(['gpg', 'gpgv']);

/** The tree's unsigned products file, as clients read it. */
const productsRel = (tree: string) => JSON.parse(readFileSync(path.join(tree, 'catalog.json'), 'utf8')).streams.products as string;

/** What an attacker without the key does: a product of their own added to the unsigned products file. */
function addProduct(tree: string): string {
  const rel = productsRel(tree);
  const doc = JSON.parse(readFileSync(path.join(tree, rel), 'utf8'));
  const [key, product] = Object.entries(doc.products)[0] as [string, Record<string, unknown>];
  doc.products['evil:1:amd64:default'] = { ...product, os: 'evil', release: '1', aliases: 'evil/1' };
  assert.ok(key);
  writeFileSync(path.join(tree, rel), JSON.stringify(doc, null, 1));
  return rel;
}

function filesUnder(root: string, rel = ''): string[] {
  return readdirSync(path.join(root, rel), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(root, path.join(rel, e.name)) : [path.join(rel, e.name)],
  );
}

describe('issue 40: signatures under attack', { skip }, () => {
  let work: string;
  let key: TestKey;
  let other: TestKey;
  let tree: string;
  const env = (k: TestKey | null) => ({ ...process.env, STATICSTREAMS_SIGNING_KEY: k ? k.secret : undefined });
  const signedBuild = (out: string, extra: string[] = [], k: TestKey = key) =>
    runCli(['build', '--images', IMAGES, '--out', out, '--no-site', ...extra], { cwd: work, env: env(k) });

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ss-attack-signing-'));
    key = makeKey(work);
    other = makeKey(work, { name: 'Someone Else <else@example.org>' });
    tree = path.join(work, 'tree');
    const r = await signedBuild(tree);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => {
    for (const k of [key, other]) if (k) cleanupKey(k);
    if (work && !process.env.KEEP_TMP) rmSync(work, { recursive: true, force: true });
  });

  it('40.3 build --previous, prune and promote refuse a signed tree whose unsigned files were changed, naming the file', async () => {
    const live = path.join(work, 'live-tampered');
    cpSync(tree, live, { recursive: true });
    const rel = addProduct(live);
    const before = await hashTree(live);
    const b = await signedBuild(path.join(work, 'ci-out'), ['--previous', live]);
    assert.equal(b.status, 1, b.stderr);
    assert.ok(b.stderr.includes(rel), b.stderr);
    assert.match(b.stderr, /differs from what .* signed/);
    assert.ok(!existsSync(path.join(work, 'ci-out')));
    const p = await runCli(['prune', live, '--no-site'], { cwd: work, env: env(key) });
    assert.equal(p.status, 1, p.stderr);
    assert.ok(p.stderr.includes(rel), p.stderr);
    assert.equal(await hashTree(live), before);
    const upstream = await startUpstream(tree);
    try {
      const pr = await runCli(['promote', upstream.url, '--previous', live, '--out', path.join(work, 'stable'), '--no-site'], { cwd: work, env: env(key) });
      assert.equal(pr.status, 1, pr.stderr);
      assert.ok(pr.stderr.includes(rel), pr.stderr);
    } finally {
      await upstream.stop();
    }
  });

  it("40.3 a previous tree signed by another key is refused unless that key is given with --keyring (a key's rotation)", async () => {
    const r = await signedBuild(path.join(work, 'rotated'), ['--previous', tree], other);
    assert.equal(r.status, 1, r.stderr);
    assert.ok(r.stderr.includes(key.fingerprint), r.stderr);
    assert.match(r.stderr, /--keyring/);
    const ok = await signedBuild(path.join(work, 'rotated'), ['--previous', tree, '--keyring', key.keyring], other);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((await runCli(['verify', path.join(work, 'rotated'), '--quick', '--keyring', other.keyring], { cwd: work })).status, 0);
  });

  it('40.8 an image dated up to a day ahead is signed with the build clock: verify --keyring passes at once; --now is the one clock', async (t) => {
    const images = path.join(work, 'ahead-images');
    cpSync(IMAGES, images, { recursive: true });
    const ahead = Math.floor(Date.now() / 1000) + 12 * 3600;
    await put(path.join(images, 'ahead.tar.gz'), await unifiedTarball({ os: 'ahead', release: '1', creationDate: ahead }, 'ahead'));
    const out = path.join(work, 'ahead');
    const r = await runCli(['build', '--images', images, '--out', out, '--no-site'], { cwd: work, env: env(key) });
    assert.equal(r.status, 0, r.stderr);
    const v = await runCli(['verify', out, '--quick', '--keyring', key.keyring], { cwd: work });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    const index = gpgv(key.keyring, path.join(out, 'streams/v1/index.sjson'));
    assert.ok(index.ok, index.output);
    t.diagnostic(index.output.split('\n')[0]!);
    // --now before that date: the same image is in the future of the build's clock
    const past = await runCli(['build', '--images', images, '--out', path.join(work, 'ahead-now'), '--no-site', '--now', '2026-01-01T00:00:00Z'], {
      cwd: work,
    });
    assert.equal(past.status, 1, past.stderr);
    assert.match(past.stderr, /ahead\.tar\.gz.*creation_date/);
  });

  describe('mirror --keyring', () => {
    let upstream: Upstream;
    let upTree: string;
    before(async () => {
      upTree = path.join(work, 'upstream');
      const r = await signedBuild(upTree, ['--base-url', 'https://upstream.example']);
      assert.equal(r.status, 0, r.stderr);
      upstream = await startUpstream(upTree);
    });
    after(() => upstream?.stop());

    it('40.9 with a keyring an unsigned upstream is refused unless --signatures preferred|off says so; one recorded as signed is never accepted unsigned', async () => {
      const out = path.join(work, 'm-strip');
      assert.equal((await runCli(['mirror', upstream.url, '--out', out, '--no-site', '--keyring', key.keyring], { cwd: work })).status, 0);
      const before = await hashTree(out);
      // The attacker deletes index.sjson and adds a product to the unsigned files.
      const stripped = path.join(work, 'up-stripped');
      cpSync(upTree, stripped, { recursive: true });
      rmSync(path.join(stripped, 'streams/v1/index.sjson'));
      addProduct(stripped);
      const evil = await startUpstream(stripped);
      try {
        for (const policy of [[], ['--signatures', 'preferred']]) {
          const r = await runCli(['mirror', evil.url, '--out', out, '--no-site', '--keyring', key.keyring, ...policy], { cwd: work });
          assert.equal(r.status, 1, `${policy.join(' ')}: ${r.stderr}`);
          assert.match(r.stderr, /not signed/);
        }
        assert.equal(await hashTree(out), before);
        // a first mirror of it: refused by default with a keyring, taken when the user says so
        const fresh = await runCli(['mirror', evil.url, '--out', path.join(work, 'm-fresh'), '--no-site', '--keyring', key.keyring], { cwd: work });
        assert.equal(fresh.status, 1, fresh.stderr);
        assert.match(fresh.stderr, /--signatures preferred/);
        const said = await runCli(
          ['mirror', evil.url, '--out', path.join(work, 'm-said'), '--no-site', '--keyring', key.keyring, '--signatures', 'preferred'],
          { cwd: work },
        );
        assert.equal(said.status, 0, said.stderr);
      } finally {
        await evil.stop();
      }
    });

    it('40.11 under a verified chain, dates and descriptions come from signed data only; future catalogue dates are refused in every mode', async () => {
      const catalog = JSON.parse(readFileSync(path.join(upTree, 'catalog.json'), 'utf8'));
      for (const p of catalog.products)
        for (const v of p.versions)
          for (const i of v.images) {
            i.created = '2099-01-01T00:00:00.000Z';
            i.description = 'EVIL DESCRIPTION';
          }
      upstream.faults.set('catalog.json', (_req, res) => res.end(JSON.stringify(catalog)));
      try {
        for (const [name, extra] of [
          ['required', ['--keyring', key.keyring, '--signatures', 'required']],
          ['no keyring', []],
        ] as const) {
          const out = path.join(work, `m-dates-${name.replace(' ', '-')}`);
          const r = await runCli(['mirror', upstream.url, '--out', out, '--no-site', ...extra], { cwd: work, env: env(other) });
          assert.equal(r.status, 0, `${name}: ${r.stderr}`);
          const text = readFileSync(path.join(out, 'catalog.json'), 'utf8');
          assert.ok(!text.includes('2099'), `${name}: no date from the future`);
          if (name === 'required') assert.ok(!text.includes('EVIL DESCRIPTION'), 'no description from the unsigned catalogue');
          assert.match(r.stderr, /catalog\.json/, `${name}: says why the catalogue was not used`);
          const v = await runCli(['verify', out, '--quick', '--keyring', other.keyring], { cwd: work });
          assert.equal(v.status, 0, `${name}: ${v.stdout}`);
        }
      } finally {
        upstream.faults.clear();
      }
    });

    it('40 (also) a replayed older signed set is refused; a served index.json other than the signed one is warned about', async () => {
      const live = path.join(work, 'up-live');
      cpSync(upTree, live, { recursive: true });
      const newer = path.join(work, 'up-newer');
      const images = path.join(work, 'newer-images');
      cpSync(IMAGES, images, { recursive: true });
      await put(
        path.join(images, 'newer.tar.gz'),
        await unifiedTarball({ os: 'newer', release: '1', serial: '20261130_00:00', creationDate: Date.parse('2026-11-30T00:00:00Z') / 1000 }, 'newer'),
      );
      assert.equal((await runCli(['build', '--images', images, '--out', newer, '--no-site'], { cwd: work, env: env(key) })).status, 0);
      rmSync(live, { recursive: true });
      cpSync(newer, live, { recursive: true });
      const server = await startUpstream(live);
      try {
        const out = path.join(work, 'm-replay');
        assert.equal((await runCli(['mirror', server.url, '--out', out, '--no-site', '--keyring', key.keyring], { cwd: work })).status, 0);
        const before = await hashTree(out);
        // The attacker serves the older, consistently signed set.
        rmSync(live, { recursive: true });
        cpSync(upTree, live, { recursive: true });
        const r = await runCli(['mirror', server.url, '--out', out, '--no-site', '--keyring', key.keyring], { cwd: work });
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, /older than/);
        assert.equal(await hashTree(out), before);
        // index.json served other than signed
        server.faults.set('streams/v1/index.json', (_req, res) => res.end('{"format":"index:1.0","index":{}}'));
        const w = await runCli(['mirror', server.url, '--out', path.join(work, 'm-differs'), '--no-site', '--keyring', key.keyring], { cwd: work });
        assert.equal(w.status, 0, w.stderr);
        assert.match(w.stderr, /index\.json.*differs from/);
      } finally {
        await server.stop();
      }
    });
  });

  it('40.12 a clear-signed document with 1,500 signature packets is refused before it costs (verify --keyring)', async () => {
    const out = path.join(work, 'many-signatures');
    cpSync(tree, out, { recursive: true });
    const text = readFileSync(path.join(out, 'streams/v1/index.sjson'), 'utf8');
    const armor = /-----BEGIN PGP SIGNATURE-----\n(?:[^\n]*: [^\n]*\n)*\n([\s\S]*?)\n(?:=[^\n]*\n)?-----END PGP SIGNATURE-----/.exec(text)!;
    const packet = Buffer.from(armor[1]!.replace(/\s+/g, ''), 'base64');
    const many = Buffer.concat(Array.from({ length: 1500 }, () => packet)).toString('base64');
    const lines = many.match(/.{1,64}/g)!.join('\n');
    const body = `${'x'.repeat(1023)}\n`.repeat(1024);
    writeFileSync(
      path.join(out, 'streams/v1/index.sjson'),
      `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n${body}-----BEGIN PGP SIGNATURE-----\n\n${lines}\n-----END PGP SIGNATURE-----\n`,
    );
    const r = await runCliPeak(['verify', out, '--quick', '--keyring', key.keyring], { cwd: work, timeoutMs: 120_000 });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /signature packets/);
    assert.ok(r.peakMiB < 400, `peak ${r.peakMiB} MiB`);
    assert.ok(r.ms < 20_000, `refused in ${r.ms} ms`);
  });

  it('40.19 a set but empty STATICSTREAMS_SIGNING_KEY is an error (exit 2); a build on a signed tree without a key stops unless --unsigned', async () => {
    const empty = await runCli(['build', '--images', IMAGES, '--out', path.join(work, 'empty-key'), '--no-site'], {
      cwd: work,
      env: { ...process.env, STATICSTREAMS_SIGNING_KEY: '' },
    });
    assert.equal(empty.status, 2, empty.stderr);
    assert.match(empty.stderr, /STATICSTREAMS_SIGNING_KEY is set but empty/);
    assert.ok(!existsSync(path.join(work, 'empty-key')));
    const unsigned = await runCli(['build', '--images', IMAGES, '--previous', tree, '--out', path.join(work, 'no-key'), '--no-site'], {
      cwd: work,
      env: env(null),
    });
    assert.equal(unsigned.status, 2, unsigned.stderr);
    assert.match(unsigned.stderr, /is signed/);
    assert.match(unsigned.stderr, /--unsigned/);
    const said = await runCli(['build', '--images', IMAGES, '--previous', tree, '--out', path.join(work, 'no-key'), '--no-site', '--unsigned'], {
      cwd: work,
      env: env(null),
    });
    assert.equal(said.status, 0, said.stderr);
    assert.ok(!existsSync(path.join(work, 'no-key', 'streams/v1/index.sjson')));
  });

  it('40 (also) a reused signature of the output being replaced is checked first and never read through a link', async () => {
    const out = path.join(work, 'reuse');
    assert.equal((await signedBuild(out)).status, 0);
    const sums = filesUnder(out).filter((f) => f.endsWith('SHA256SUMS.asc'));
    assert.ok(sums.length >= 2, sums.join());
    writeFileSync(path.join(out, sums[0]!), '-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n');
    const secret = path.join(work, 'not-for-publishing.txt');
    writeFileSync(secret, 'a file of the build machine\n');
    rmSync(path.join(out, sums[1]!));
    symlinkSync(secret, path.join(out, sums[1]!));
    const images = path.join(work, 'reuse-images');
    cpSync(IMAGES, images, { recursive: true });
    await put(path.join(images, 'more.tar.gz'), await unifiedTarball({ os: 'more', release: '1', serial: '20261120_00:00' }, 'more'));
    const r = await runCli(['build', '--images', images, '--out', out, '--no-site'], { cwd: work, env: env(key) });
    assert.equal(r.status, 0, r.stderr);
    for (const s of sums.slice(0, 2)) {
      const g = gpgv(key.keyring, path.join(out, s), path.join(out, s.replace(/\.asc$/, '')));
      assert.ok(g.ok, `${s}: ${g.output}`);
    }
    assert.equal((await runCli(['verify', out, '--quick', '--keyring', key.keyring], { cwd: work })).status, 0);
  });

  it(
    '40 (also) doctor --keyring: an index.json or products file other than the signed one is an error',
    { skip: requirements(['openssl', 'update-ca-certificates'], { root: true }) },
    async () => {
      const tls = ensureTestTls();
      const served = path.join(work, 'doctor-tree');
      cpSync(tree, served, { recursive: true });
      const { startPreview } = await import('../../generator/index.js');
      const server = await startPreview({ dir: served, port: 0, tls: { cert: tls.cert, key: tls.key } });
      try {
        const doctor = () => runCli(['doctor', server.url, '--keyring', key.keyring], { cwd: work, env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.caCert } });
        const ok = await doctor();
        assert.doesNotMatch(ok.stdout, /differs from/);
        addProduct(served);
        const products = await doctor();
        assert.equal(products.status, 1, products.stdout);
        assert.match(products.stdout, /error.*images-[0-9a-f]+\.json.*differs from/i);
        const index = JSON.parse(readFileSync(path.join(served, 'streams/v1/index.json'), 'utf8'));
        index.updated = 'Thu, 01 Jan 2099 00:00:00 +0000';
        writeFileSync(path.join(served, 'streams/v1/index.json'), JSON.stringify(index));
        const both = await doctor();
        assert.equal(both.status, 1);
        assert.match(both.stdout, /error.*index\.json.*differs from/i);
      } finally {
        await server.close();
      }
    },
  );
});

describe('40 (kept) signature refusals the review saw hold, written down', { skip }, () => {
  it('verify --keyring refuses junk before the armour and a signed message wrapped in other text; no passphrase reaches any file or the summary', async (t) => {
    const { tempDir } = await import('../support/tmp.js');
    const work = await tempDir(t);
    const passphrase = 'a passphrase nobody may see';
    const key = makeKey(work, { passphrase });
    t.after(() => cleanupKey(key));
    const tree = path.join(work, 'tree');
    const r = await runCli(['build', '--images', IMAGES, '--out', tree, '--no-site', '--json'], {
      cwd: work,
      env: { ...process.env, STATICSTREAMS_SIGNING_KEY: key.secret, STATICSTREAMS_SIGNING_PASSPHRASE: passphrase },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stdout.includes(passphrase) && !r.stderr.includes(passphrase));
    for (const f of filesUnder(tree)) assert.ok(!readFileSync(path.join(tree, f), 'latin1').includes(passphrase), f);
    for (const f of readdirSync(work).filter((n) => n.startsWith('.tree.')))
      if (!f.endsWith('.spare')) assert.ok(!readFileSync(path.join(work, f), 'latin1').includes(passphrase), f);
    const index = readFileSync(path.join(tree, 'streams/v1/index.sjson'), 'utf8');
    for (const [name, text] of [
      ['junk before the armour', `{"format":"index:1.0","index":{}}\n${index}`],
      ['a signed message wrapped in other text', `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n{"evil":true}\n${index}`],
    ] as const) {
      const copy = path.join(work, `copy-${name.length}`);
      cpSync(tree, copy, { recursive: true });
      writeFileSync(path.join(copy, 'streams/v1/index.sjson'), text);
      const v = await runCli(['verify', copy, '--quick', '--keyring', key.keyring], { cwd: work });
      assert.equal(v.status, 1, `${name}: ${v.stdout}`);
    }
  });
});
