// `npm run bench`: measures the build against a baseline run in the same session, and prints
// ratios — no timing is asserted anywhere. Corpora are generated in a temporary folder.
//   1. full build (--no-site --no-cache) vs one `openssl dgst -sha256` pass over the same files,
//      alternated, page cache warm for both; medians and the ratio
//   2. no-change rebuild (cache warm) vs the full build
//   3. peak RSS of the full build (from /usr/bin/time -v)
//   4. index scale: 200 … 2,000 products × 3 versions, build --no-site and with the catalogue site
//   5. object storage: the build uploading to a local S3-protocol server (s3rver, through the AWS
//      SDK) vs plain `curl -T` PUTs of the same files to that server, alternated
//   7. split-shape scale: products × 3 versions of (xz metadata tarball + small xz rootfs
//      tarball), the shape real trees have: build from cold, no-change rebuild, one image added (to
//      a tree the build before replaced, and as the first change after a cold build), with the
//      site, `verify` of the result, peak RSS, next to `find` + reading every file (cat) and `cp -al`
//      of the built tree (its folders and links made anew) as the file-system floors
//   6. side by side with the peer tool: `incus-simplestreams add` (the real one, each image in
//      turn, into a fresh tree) vs `staticstreams build` on the same split squashfs images, with
//      one `openssl dgst -sha256` pass and `cp` (what the peer tool must at least do) as baselines
//   8. mirror: `staticstreams mirror` of a 2 GiB selection (split squashfs images) from a local
//      nginx over TLS vs `curl` downloading the same files one after another, alternated
//   9. --lxc: what LXC's files add to a build of one real split squashfs image (mksquashfs of a
//      system folder, BENCH_LXC_DIR, default /usr/lib/x86_64-linux-gnu) vs `xz -T0 -6` of the
//      same tar (sqfs2tar's output, made once), alternated
//  10. signing: products × 3 versions built unsigned and signed (an Ed25519 key made here), the
//      no-change rebuild of the signed tree, and gpgv of the signed index as the baseline of one
//      signature check
//  12. zstd: a split image whose root tarball is zstd (a system folder, BENCH_ZSTD_DIR, default
//      /usr/share + /usr/bin) built --no-cache vs `zstd -d` of it plus `openssl dgst` of it (what the
//      build must at least do), alternated; peak RSS; the native decoder and fzstd (STATICSTREAMS_ZSTD)
//  11. --target bucket (moto, through a counting proxy): one new image published into a tree of
//      2,000 products (requests by kind, bytes each way, time), and 16 publishers started together
//      (time until all committed, retries) vs the same 16 one after another
// BENCH_SCALE=0.25 shrinks the large corpora (for a quick look); BENCH_RUNS sets the repetitions;
// BENCH_ONLY=1,5 runs only those sections (1 stands for 1–3); BENCH_PEER_IMAGES sets section 6's count, BENCH_SPLIT_PRODUCTS section 7's sizes (e.g. 200,2000,10000), BENCH_VERBOSE=1 its single runs too.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { largeCorpus, manyProducts, packagedLargeTarball, packagedProducts, peerCorpus, splitProducts, uploadCorpus } from './corpora.js';
import { startS3 } from '../support/s3.js';

const BIN = path.resolve('bin/staticstreams.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const ONLY = process.env.BENCH_ONLY?.split(',').map((x) => x.trim());
const want = (section: string) => !ONLY || ONLY.includes(section);
/** Product pages the site wrote into OUT (a check that the timed build made the whole site). */
function pages(out: string): number {
  const dir = path.join(out, 'products');
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('index.html')).length;
}

const root = mkdtempSync(path.join(os.tmpdir(), 'ss-bench-'));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One line of the current-figures table printed at the end (and kept at the top of BENCHMARKS.md). */
interface Figure {
  what: string;
  floor: string;
  ours: string;
  ratio: number;
  target: string;
}
const figures: Figure[] = [];
const figure = (what: string, floor: string, floorSeconds: number, ourSeconds: number, target: string) =>
  figures.push({ what, floor: `${floor} ${fmt(floorSeconds)}`, ours: fmt(ourSeconds), ratio: ourSeconds / floorSeconds, target });

/** The table of every figure this run measured, as BENCHMARKS.md shows it. */
function printFigures(): void {
  if (!figures.length) return;
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model?.trim() ?? 'cpu'}, Node ${process.version}`;
  const date = new Date().toISOString().slice(0, 10);
  console.log(`\n## Current figures (${date}, ${machine})\n`);
  console.log('| what | floor or peer | ours | ratio | target |');
  console.log('|---|---|---|---|---|');
  for (const f of figures) console.log(`| ${f.what} | ${f.floor} | ${f.ours} | ${f.ratio.toFixed(2)} | ${f.target} |`);
}
const fmt = (s: number) => `${s.toFixed(3)} s`;

function timed(cmd: string, args: string[]): { seconds: number; maxRssKiB: number; stdout: string } {
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  return { seconds, maxRssKiB: Number(lines[lines.length - 1]), stdout: r.stdout };
}

function build(images: string, out: string, extra: string[]) {
  return timed(process.execPath, [BIN, 'build', '-q', '--images', images, '--out', out, ...extra]);
}

/** 1–3: full build vs openssl, no-change rebuild, peak RSS. */
async function largeCorpusSection(): Promise<void> {
  console.log('\n## 1–3. Large corpus');
  const corpus = await largeCorpus(root, SCALE);
  console.log(
    `corpus: ${corpus.files.length} files, ${(corpus.bytes / 2 ** 30).toFixed(2)} GiB (2 split squashfs, 1 split root tarball, 2 unified, one with metadata.yaml last; random data)`,
  );
  const out = path.join(root, 'dist');
  timed('openssl', ['dgst', '-sha256', ...corpus.files]); // warm the page cache
  build(corpus.images, out, ['--no-site', '--no-cache']);
  const base: number[] = [];
  const full: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    base.push(timed('openssl', ['dgst', '-sha256', ...corpus.files]).seconds);
    const b = build(corpus.images, out, ['--no-site', '--no-cache']);
    full.push(b.seconds);
    rss.push(b.maxRssKiB);
  }
  const nochange: number[] = [];
  const nodeStart: number[] = [];
  build(corpus.images, out, ['--no-site']); // primes the cache
  for (let i = 0; i < RUNS; i++) {
    nodeStart.push(timed(process.execPath, ['-e', '0']).seconds);
    nochange.push(build(corpus.images, out, ['--no-site']).seconds);
  }
  const gbps = corpus.bytes / 1e9 / median(base);
  console.log(`baseline  openssl dgst -sha256 (one pass): median ${fmt(median(base))} (${gbps.toFixed(2)} GB/s)   runs: ${base.map(fmt).join(', ')}`);
  console.log(`full build (--no-site --no-cache):         median ${fmt(median(full))}   runs: ${full.map(fmt).join(', ')}`);
  console.log(`  ratio build / baseline:                   ${(median(full) / median(base)).toFixed(2)}   (target ≤ 1.00)`);
  console.log(`no-change rebuild (cache):                  median ${fmt(median(nochange))}   runs: ${nochange.map(fmt).join(', ')}`);
  console.log(`node -e 0 (a process's start-up):          median ${fmt(median(nodeStart))}`);
  console.log(`  ratio no-change / node -e 0:              ${(median(nochange) / median(nodeStart)).toFixed(2)}   (target ≤ 3)`);
  figure(`hash-bound build, ${(corpus.bytes / 2 ** 30).toFixed(1)} GiB`, 'openssl dgst -sha256', median(base), median(full), '≤ 1.05');
  figure('no-change rebuild of it', 'node -e 0', median(nodeStart), median(nochange), '≤ 3');
  console.log(`peak RSS of the full build:                 ${(Math.max(...rss) / 1024).toFixed(0)} MB   (target ≤ 150 MB)`);
  rmSync(path.join(root, 'images'), { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
}

/** 4: many small products, with and without the site. */
async function indexScaleSection(): Promise<void> {
  console.log('\n## 4. Index scale (products × 3 versions, small unified images)');
  console.log('products | images | build --no-site | per product | with site | site pages | peak RSS');
  const sizes = (process.env.BENCH_PRODUCTS ?? '200,500,1000,2000').split(',').map(Number);
  let first: number | undefined;
  for (const n of sizes) {
    const images = await manyProducts(root, n);
    const o = path.join(root, `dist-${n}`);
    const noSite = build(images, o, ['--no-site', '--no-cache']);
    const withSite = build(images, o, ['--no-cache']);
    first ??= noSite.seconds / n;
    console.log(
      `${String(n).padStart(8)} | ${String(n * 3).padStart(6)} | ${fmt(noSite.seconds).padStart(15)} | ${((noSite.seconds / n) * 1000).toFixed(2).padStart(8)} ms | ${fmt(withSite.seconds).padStart(9)} | ${String(pages(o)).padStart(10)} | ${(noSite.maxRssKiB / 1024).toFixed(0)} MB`,
    );
    rmSync(images, { recursive: true, force: true });
    rmSync(o, { recursive: true, force: true });
  }
}

/** 5: uploading to a local S3-protocol server vs plain PUTs to it. */
async function objectStorageSection(): Promise<void> {
  console.log('\n## 5. Object storage upload (s3rver on loopback, its disk the limit)');
  const s3 = await startS3();
  try {
    const upload = await uploadCorpus(root, 256 * SCALE);
    console.log(`corpus: ${upload.files.length} files, ${(upload.bytes / 2 ** 20).toFixed(0)} MiB (one split squashfs image)`);
    const put: number[] = [];
    const modes: Record<string, number[]> = { 'static (no bucket)': [], 'verify: size': [], 'verify: read-back': [] };
    const rss: Record<string, number> = {};
    let n = 0;
    for (let i = 0; i < RUNS; i++) {
      const start = process.hrtime.bigint();
      for (const f of upload.files) execFileSync('curl', ['-sS', '--fail', '-o', '/dev/null', '-T', f, `${s3.publicUrl}/baseline-${i}/${path.basename(f)}`]);
      put.push(Number(process.hrtime.bigint() - start) / 1e9);
      for (const [mode, times] of Object.entries(modes)) {
        const config = path.join(root, `upload-${n}.yaml`);
        const verify = mode.includes('size') ? 'size' : 'read-back';
        writeFileSync(
          config,
          mode.startsWith('static')
            ? '{}\n'
            : `object_storage: ${JSON.stringify({ ...s3.settings({ prefix: `run-${n}/`, verify }), part_size_mib: undefined, concurrency: undefined })}\n`,
        );
        const b = build(upload.images, path.join(root, `dist-upload-${n++}`), ['--no-site', '--no-cache', '--config', config]);
        times.push(b.seconds);
        rss[mode] = Math.max(rss[mode] ?? 0, b.maxRssKiB);
      }
    }
    console.log(
      `baseline  curl -T (plain PUTs):            median ${fmt(median(put))} (${(upload.bytes / 2 ** 20 / median(put)).toFixed(0)} MiB/s)   runs: ${put.map(fmt).join(', ')}`,
    );
    const staticBuild = median(modes['static (no bucket)']!);
    for (const [mode, times] of Object.entries(modes)) {
      const extra = mode.startsWith('static') ? '' : `   upload part / baseline: ${((median(times) - staticBuild) / median(put)).toFixed(2)}`;
      console.log(
        `build, ${mode.padEnd(20)}          median ${fmt(median(times))}${extra}   peak RSS ${(rss[mode]! / 1024).toFixed(0)} MB   runs: ${times.map(fmt).join(', ')}`,
      );
    }
  } finally {
    await s3.stop();
  }
}

/** 6: incus-simplestreams add vs staticstreams build, same corpus, alternated. */
async function peerToolSection(): Promise<void> {
  console.log('\n## 6. Side by side with incus-simplestreams');
  if (spawnSync('sh', ['-c', 'command -v incus-simplestreams']).status !== 0) {
    console.log('skipped: incus-simplestreams is not installed (Debian bookworm-backports: incus-extra)');
    return;
  }
  const count = Number(process.env.BENCH_PEER_IMAGES ?? 5);
  const corpus = await peerCorpus(root, count, 640 * SCALE);
  console.log(`corpus: ${count} split squashfs images, ${(corpus.bytes / 2 ** 30).toFixed(2)} GiB (random data)`);
  const runs: Record<string, number[]> = {
    'openssl dgst -sha256 (one pass)': [],
    'cp into a fresh folder': [],
    'incus-simplestreams add': [],
    'staticstreams build --no-site --no-cache': [],
  };
  timed('openssl', ['dgst', '-sha256', ...corpus.files]); // warm the page cache
  for (let i = 0; i < RUNS; i++) {
    runs['openssl dgst -sha256 (one pass)']!.push(timed('openssl', ['dgst', '-sha256', ...corpus.files]).seconds);
    const copy = path.join(root, `peer-cp-${i}`);
    runs['cp into a fresh folder']!.push(timed('cp', ['-r', corpus.images, copy]).seconds);
    rmSync(copy, { recursive: true, force: true });
    const tree = path.join(root, `peer-tree-${i}`);
    execFileSync('mkdir', ['-p', tree]);
    const start = process.hrtime.bigint();
    for (const [meta, rootfs] of corpus.pairs) execFileSync('incus-simplestreams', ['add', meta, rootfs], { cwd: tree, stdio: 'ignore' });
    runs['incus-simplestreams add']!.push(Number(process.hrtime.bigint() - start) / 1e9);
    rmSync(tree, { recursive: true, force: true });
    const out = path.join(root, `peer-dist-${i}`);
    runs['staticstreams build --no-site --no-cache']!.push(build(corpus.images, out, ['--no-site', '--no-cache']).seconds);
    rmSync(out, { recursive: true, force: true });
  }
  const base = median(runs['openssl dgst -sha256 (one pass)']!);
  figure(
    `${count} split squashfs images`,
    'incus-simplestreams add',
    median(runs['incus-simplestreams add']!),
    median(runs['staticstreams build --no-site --no-cache']!),
    '≤ 1',
  );
  for (const [name, times] of Object.entries(runs)) {
    console.log(`${name.padEnd(42)} median ${fmt(median(times))}   ratio to openssl ${(median(times) / base).toFixed(2)}   runs: ${times.map(fmt).join(', ')}`);
  }
  rmSync(corpus.images, { recursive: true, force: true });
}

/** 7: many split images: per-file overhead, not hashing, is what this measures. */
async function splitScaleSection(): Promise<void> {
  console.log('\n## 7. Split-shape scale (products × 3 versions, xz metadata + xz rootfs tarball per version)');
  console.log(`medians of ${RUNS} runs each (the disk's timings vary a lot from run to run here); RSS is the largest`);
  console.log('"one added": to a tree the last build replaced, as in a pipeline that publishes every change (the spare tree is reused);');
  console.log('"first added": the first change after a build into an empty folder (nothing to reuse: the whole tree is written)');
  console.log(
    'products | files | floor (find+cat) | floor (cp -al of the tree) | build --no-site | no-change rebuild | one added | first added | with site | verify | RSS no-site | RSS site',
  );
  const sizes = (process.env.BENCH_SPLIT_PRODUCTS ?? '200,2000').split(',').map(Number);
  const { metadataTarball } = await import('../support/images.js');
  for (const n of sizes) {
    const images = await splitProducts(root, n);
    const o = path.join(root, `dist-split-${n}`);
    const siteOut = path.join(root, `dist-split-site-${n}`);
    const extra = path.join(images, 'added', 'v0');
    const addedMeta = await metadataTarball({ os: 'added', release: '1', serial: '20260201_00:00', creationDate: 1767225600 });
    const runs: Record<'floor' | 'writeFloor' | 'full' | 'rebuild' | 'added' | 'firstAdded' | 'site' | 'verify', number[]> = {
      floor: [],
      writeFloor: [],
      full: [],
      rebuild: [],
      added: [],
      firstAdded: [],
      site: [],
      verify: [],
    };
    /** An output folder and everything a build keeps next to it (cache, spare): a cold start. */
    const wipe = (dir: string) => {
      for (const d of [dir, path.join(path.dirname(dir), `.${path.basename(dir)}.spare`)]) rmSync(d, { recursive: true, force: true });
    };
    const addImage = () => {
      execFileSync('mkdir', ['-p', extra]);
      execFileSync('cp', [path.join(images, 'p0', 'v0', 'rootfs.tar.xz'), extra]);
      writeFileSync(path.join(extra, 'lxd.tar.xz'), addedMeta);
    };
    const removeImage = () => rmSync(path.join(images, 'added'), { recursive: true, force: true });
    const rss = { full: 0, site: 0 };
    for (let i = 0; i < RUNS; i++) {
      runs.floor.push(timed('sh', ['-c', `find "${images}" -type f -exec cat {} + > /dev/null`]).seconds);
      wipe(o);
      const full = build(images, o, ['--no-site', '--no-cache']);
      runs.full.push(full.seconds);
      rss.full = Math.max(rss.full, full.maxRssKiB);
      runs.rebuild.push(build(images, o, ['--no-site']).seconds);
      // One image added to the tree just built: nothing to reuse yet (the whole tree is written).
      addImage();
      runs.firstAdded.push(build(images, o, ['--no-site']).seconds);
      // Taken out again, then added again: each build reuses the tree the one before replaced.
      removeImage();
      build(images, o, ['--no-site']);
      addImage();
      runs.added.push(build(images, o, ['--no-site']).seconds);
      removeImage();
      runs.verify.push(timed(process.execPath, [BIN, 'verify', o]).seconds);
      // Last: linking the images again moves their ctimes, which the fingerprint cache keys on.
      const copy = `${o}-cp-al`;
      runs.writeFloor.push(timed('cp', ['-al', o, copy]).seconds);
      rmSync(copy, { recursive: true, force: true });
      wipe(siteOut);
      const site = build(images, siteOut, ['--no-cache']);
      runs.site.push(site.seconds);
      rss.site = Math.max(rss.site, site.maxRssKiB);
    }
    const m = (k: keyof typeof runs) => fmt(median(runs[k]));
    console.log(
      `${String(n).padStart(8)} | ${String(n * 6).padStart(5)} | ${m('floor').padStart(16)} | ${m('writeFloor').padStart(26)} | ${m('full').padStart(15)} | ${m('rebuild').padStart(17)} | ${m('added').padStart(9)} | ${m('firstAdded').padStart(11)} | ${m('site').padStart(9)} | ${m('verify').padStart(6)} | ${`${(rss.full / 1024).toFixed(0)} MB`.padStart(11)} | ${(rss.site / 1024).toFixed(0)} MB`,
    );
    if (process.env.BENCH_VERBOSE) for (const [k, v] of Object.entries(runs)) console.log(`  ${k}: ${v.map(fmt).join(', ')}`);
    rmSync(images, { recursive: true, force: true });
    for (const d of [o, siteOut]) wipe(d);
  }
}

/** 8: mirror vs curl fetching the same files one after another from the same nginx. */
async function mirrorSection(): Promise<void> {
  console.log('\n## 8. Mirror vs curl (same files, same local nginx over TLS)');
  if (spawnSync('sh', ['-c', 'command -v nginx && command -v curl']).status !== 0) {
    console.log('skipped: needs nginx and curl');
    return;
  }
  const { ensureTestTls } = await import('../support/tls.js');
  const { startNginx } = await import('../support/nginx.js');
  const corpus = await peerCorpus(root, 4, 512 * SCALE);
  const up = path.join(root, 'mirror-upstream');
  build(corpus.images, up, ['--no-site']);
  rmSync(corpus.images, { recursive: true, force: true });
  const tls = ensureTestTls();
  const nginx = await startNginx(up, tls);
  try {
    const files = (readdirSync(path.join(up, 'images'), { recursive: true }) as string[])
      .filter((f) => existsSync(path.join(up, 'images', f)) && !f.endsWith('/'))
      .filter((f) => /\.(squashfs|tar\.xz)$/.test(f));
    const bytes = files.reduce((n, f) => n + statSync(path.join(up, 'images', f)).size, 0);
    console.log(`selection: ${files.length} files, ${(bytes / 2 ** 30).toFixed(2)} GiB`);
    const runs: Record<string, number[]> = { 'curl, one file after another': [], 'staticstreams mirror --no-site': [] };
    for (let i = 0; i < RUNS; i++) {
      const dir = path.join(root, `curl-${i}`);
      const args = ['-sf', '--cacert', tls.caCert, '--create-dirs', ...files.flatMap((f) => ['-o', path.join(dir, f), `${nginx.url}/images/${f}`])];
      runs['curl, one file after another']!.push(timed('curl', args).seconds);
      rmSync(dir, { recursive: true, force: true });
      const out = path.join(root, `mirror-${i}`);
      const env = { ...process.env, NODE_EXTRA_CA_CERTS: tls.caCert };
      const start = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [BIN, 'mirror', `${nginx.url}/`, '--out', out, '--no-site', '-q'], { env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      runs['staticstreams mirror --no-site']!.push(Number(process.hrtime.bigint() - start) / 1e9);
      rmSync(out, { recursive: true, force: true });
    }
    const base = median(runs['curl, one file after another']!);
    figure(`mirror of ${(bytes / 2 ** 30).toFixed(1)} GiB over nginx TLS`, 'curl', base, median(runs['staticstreams mirror --no-site']!), '≤ 1.3');
    for (const [name, times] of Object.entries(runs))
      console.log(`${name.padEnd(34)} median ${fmt(median(times))}   ratio to curl ${(median(times) / base).toFixed(2)}   runs: ${times.map(fmt).join(', ')}`);
  } finally {
    await nginx.stop();
    rmSync(up, { recursive: true, force: true });
  }
}

/** 9: the cost of --lxc against xz -T0 of the same tar. */
async function lxcSection(): Promise<void> {
  console.log('\n## 9. --lxc vs xz -T0 of the same tar');
  if (spawnSync('sh', ['-c', 'command -v mksquashfs && command -v sqfs2tar && command -v xz']).status !== 0) {
    console.log('skipped: needs mksquashfs, sqfs2tar and xz');
    return;
  }
  const { metadataTarball } = await import('../support/images.js');
  const source = process.env.BENCH_LXC_DIR ?? '/usr/lib/x86_64-linux-gnu';
  const images = path.join(root, 'lxc-images');
  const dir = path.join(images, 'sq');
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(path.join(dir, 'lxd.tar.xz'), await metadataTarball({ os: 'bench', release: 'lxc', creationDate: 1767225600 }));
  execFileSync('mksquashfs', [source, path.join(dir, 'rootfs.squashfs'), '-quiet', '-no-progress', '-all-root', '-comp', 'gzip'], { stdio: 'ignore' });
  const tar = path.join(root, 'lxc-rootfs.tar');
  execFileSync('sh', ['-c', `sqfs2tar --root-becomes . '${path.join(dir, 'rootfs.squashfs')}' > '${tar}'`]);
  console.log(
    `image: mksquashfs of ${source}: ${(statSync(path.join(dir, 'rootfs.squashfs')).size / 2 ** 20).toFixed(0)} MiB squashfs, ${(statSync(tar).size / 2 ** 20).toFixed(0)} MiB tar`,
  );
  const xzRuns: number[] = [];
  const plain: number[] = [];
  const withLxc: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    xzRuns.push(timed('sh', ['-c', `xz -T0 -6 -c '${tar}' > /dev/null`]).seconds);
    const out = path.join(root, `lxc-out-${i}`);
    plain.push(build(images, out, ['--no-site', '--no-cache']).seconds);
    rmSync(out, { recursive: true, force: true });
    rmSync(path.join(root, `.lxc-out-${i}.derived`), { recursive: true, force: true });
    withLxc.push(build(images, out, ['--no-site', '--no-cache', '--lxc']).seconds);
    rmSync(out, { recursive: true, force: true });
    rmSync(path.join(root, `.lxc-out-${i}.derived`), { recursive: true, force: true });
    rmSync(path.join(root, `.lxc-out-${i}.cache.json`), { force: true });
  }
  const added = median(withLxc) - median(plain);
  console.log(`baseline  xz -T0 -6 of the tar:       median ${fmt(median(xzRuns))}   runs: ${xzRuns.map(fmt).join(', ')}`);
  console.log(`build --no-site --no-cache:          median ${fmt(median(plain))}   runs: ${plain.map(fmt).join(', ')}`);
  console.log(`build --no-site --no-cache --lxc:    median ${fmt(median(withLxc))}   runs: ${withLxc.map(fmt).join(', ')}`);
  console.log(`  what --lxc adds / xz -T0:          ${(added / median(xzRuns)).toFixed(2)}   (target ≤ 1.15)`);
  rmSync(images, { recursive: true, force: true });
  rmSync(tar, { force: true });
}

/** 10: what signing adds to a build (each version's SHA256SUMS.asc, the chain). */
async function signingSection(): Promise<void> {
  console.log('\n## 10. Signing (products × 3 versions, small unified images, --no-site --no-cache)');
  const { generateKey } = await import('openpgp');
  const key = await generateKey({ userIDs: [{ name: 'Bench', email: 'bench@example.org' }], type: 'curve25519', format: 'armored' });
  const keyFile = path.join(root, 'bench-key.asc');
  writeFileSync(keyFile, key.privateKey);
  console.log('products | signatures | unsigned | signed | added per signature | no-change rebuild (signed)');
  for (const n of (process.env.BENCH_SIGN_PRODUCTS ?? '2000').split(',').map(Number)) {
    const images = await manyProducts(root, n);
    const plain: number[] = [];
    const signed: number[] = [];
    const rebuild: number[] = [];
    let signatures = 0;
    for (let i = 0; i < RUNS; i++) {
      const a = path.join(root, `sign-plain-${n}-${i}`);
      const b = path.join(root, `sign-signed-${n}-${i}`);
      plain.push(build(images, a, ['--no-site', '--no-cache']).seconds);
      signed.push(build(images, b, ['--no-site', '--no-cache', '--sign-key', keyFile]).seconds);
      rebuild.push(build(images, b, ['--no-site', '--sign-key', keyFile]).seconds);
      signatures = readdirSync(b, { recursive: true }).filter((f) => /\.(asc|gpg|sjson)$/.test(String(f)) && !String(f).startsWith('signing-key')).length;
      for (const d of [a, b]) {
        rmSync(d, { recursive: true, force: true });
        rmSync(path.join(root, `.${path.basename(d)}.cache.json`), { force: true });
      }
    }
    const added = median(signed) - median(plain);
    figure(`signed first build, ${n} products (${signatures} signatures)`, 'unsigned build', median(plain), median(signed), '≤ 1.3');
    console.log(
      `${String(n).padStart(8)} | ${String(signatures).padStart(10)} | ${fmt(median(plain)).padStart(8)} | ${fmt(median(signed)).padStart(8)} | ${((added / signatures) * 1000).toFixed(2)} ms | ${fmt(median(rebuild))}`,
    );
    rmSync(images, { recursive: true, force: true });
  }
}

/** A proxy in front of the store that counts requests (by kind) and bytes each way. */
async function countingProxy(target: string) {
  const http = await import('node:http');
  const counts = new Map<string, number>();
  const bytes = { up: 0, down: 0 };
  const kind = (method: string, url: string) => {
    const u = new URL(url, 'http://x');
    const key = u.pathname.split('/').slice(2).join('/');
    const what = u.searchParams.has('list-type')
      ? 'LIST'
      : /staticstreams\/live\.json$/.test(key)
        ? 'live.json'
        : /^(?:[^/]+\/)?images\//.test(key)
          ? 'image file'
          : /streams\/v1\//.test(key)
            ? 'streams'
            : /staticstreams\/committed\//.test(key)
              ? 'committed copy'
              : 'other';
    return `${method} ${what}`;
  };
  const server = http.createServer((req, res) => {
    const k = kind(req.method ?? 'GET', req.url ?? '/');
    counts.set(k, (counts.get(k) ?? 0) + 1);
    // (no Expect: 100-continue across the proxy: it answers 100 itself, and the store would wait for the body)
    const { expect: _expect, ...headers } = req.headers;
    const upstream = http.request(`${target}${req.url}`, { method: req.method, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.on('data', (c: Buffer) => (bytes.down += c.length));
      r.pipe(res);
    });
    req.on('data', (c: Buffer) => (bytes.up += c.length));
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`,
    counts,
    bytes,
    reset() {
      counts.clear();
      bytes.up = bytes.down = 0;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** 11: --target bucket. */
async function bucketSection(): Promise<void> {
  console.log('\n## 11. --target bucket (moto on loopback, through a counting proxy)');
  const { startMoto } = await import('../support/moto.js');
  const m = await startMoto('bench');
  const proxy = await countingProxy(m.endpoint);
  try {
    const n = Math.round(2000 * SCALE);
    const images = await manyProducts(root, n, 1);
    const config = (dir: string, prefix: string) => {
      writeFileSync(path.join(dir, 'staticstreams.yaml'), `targets: [bucket]\n${m.yaml({ prefix, endpoint: proxy.url, public_url: `${m.publicUrl}` })}`);
    };
    const seed = path.join(root, 'bucket-seed');
    execFileSync('mkdir', ['-p', seed]);
    config(seed, 'big/');
    // (not spawnSync: the counting proxy runs in this process, and must keep answering)
    const { spawn } = await import('node:child_process');
    const cli = (dir: string, args: string[]) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: m.env });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
      });
    await cli(seed, ['build', '-q', '--no-site', '--images', images, '--out', 'out']);
    const one = path.join(root, 'bucket-one');
    execFileSync('mkdir', ['-p', path.join(one, 'images')]);
    config(one, 'big/');
    const { unifiedTarball } = await import('../support/images.js');
    writeFileSync(path.join(one, 'images/new.tar.gz'), await unifiedTarball({ os: 'new', release: '1', serial: '20261201_0000' }, 'new'));
    proxy.reset();
    const start = process.hrtime.bigint();
    await cli(one, ['build', '-q', '--no-site', '--images', 'images', '--out', 'out']);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(
      `one new image into a tree of ${n} products: ${fmt(seconds)}, ${(proxy.bytes.up / 2 ** 20).toFixed(2)} MiB up, ${(proxy.bytes.down / 2 ** 20).toFixed(2)} MiB down`,
    );
    console.log(
      `  requests: ${[...proxy.counts]
        .sort()
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    // 16 publishers: together, then one after another.
    const dirs: string[] = [];
    for (let i = 0; i < 16; i++) {
      const dir = path.join(root, `bucket-p${i}`);
      execFileSync('mkdir', ['-p', path.join(dir, 'images')]);
      writeFileSync(path.join(dir, 'images/i.tar.gz'), await unifiedTarball({ os: `pub${i}`, release: '1', serial: '20261201_0000' }, `p${i}`));
      dirs.push(dir);
    }
    const run = async (dir: string) => ({
      retries: (JSON.parse(await cli(dir, ['build', '--json', '--no-site', '--images', 'images', '--out', 'out'])) as { bucketCommit: { retries: number } })
        .bucketCommit.retries,
    });
    for (const d of dirs) config(d, 'together/');
    const t0 = process.hrtime.bigint();
    const together = await Promise.all(dirs.map(run));
    const tTogether = Number(process.hrtime.bigint() - t0) / 1e9;
    for (const d of dirs) {
      rmSync(path.join(d, 'out'), { recursive: true, force: true });
      rmSync(path.join(d, '.out.cache.json'), { force: true });
      config(d, 'sequential/');
    }
    const t1 = process.hrtime.bigint();
    for (const d of dirs) await run(d);
    const tSequential = Number(process.hrtime.bigint() - t1) / 1e9;
    const retries = together.map((x) => x.retries);
    console.log(
      `16 publishers together: ${fmt(tTogether)} until all committed (retries: total ${retries.reduce((a, b) => a + b, 0)}, most ${Math.max(...retries)}); one after another: ${fmt(tSequential)}; ratio ${(tTogether / tSequential).toFixed(2)}`,
    );
  } finally {
    await proxy.close();
    await m.stop();
  }
}

/** 12: zstd decoding at native speed. */
async function zstdSection(): Promise<void> {
  console.log('\n## 12. zstd root tarball: build vs zstd -d + openssl dgst');
  const dir = path.join(root, 'zstd-images/sys');
  execFileSync('mkdir', ['-p', dir]);
  const dirs = (process.env.BENCH_ZSTD_DIR ?? '/usr/share /usr/bin').split(' ');
  const tar = path.join(root, 'sys.tar');
  execFileSync('sh', ['-c', `tar -cf ${tar} ${dirs.join(' ')} 2>/dev/null || true`]);
  const rootfs = path.join(dir, 'rootfs.tar.zst');
  execFileSync('zstd', ['-q', '-3', '-T0', '--rm', '-o', rootfs, tar]);
  const { metadataTarball } = await import('../support/images.js');
  writeFileSync(path.join(dir, 'lxd.tar.xz'), await metadataTarball({ os: 'sys', release: '1', serial: '20261201_0000' }));
  const tarBytes = Number(execFileSync('sh', ['-c', `zstd -d -c ${rootfs} | wc -c`], { encoding: 'utf8' }).trim());
  console.log(`corpus: ${(statSync(rootfs).size / 2 ** 20).toFixed(0)} MiB zstd of a ${(tarBytes / 2 ** 20).toFixed(0)} MiB tar`);
  const base: number[] = [];
  const runs: Record<string, { times: number[]; rss: number }> = { native: { times: [], rss: 0 }, fzstd: { times: [], rss: 0 } };
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    execFileSync('sh', ['-c', `zstd -d -c ${rootfs} > /dev/null && openssl dgst -sha256 ${rootfs} > /dev/null`]);
    base.push(Number(process.hrtime.bigint() - t0) / 1e9);
    for (const [backend, r] of Object.entries(runs)) {
      process.env.STATICSTREAMS_ZSTD = backend;
      const b = build(path.join(root, 'zstd-images'), path.join(root, `dist-zstd-${backend}-${i}`), ['--no-site', '--no-cache']);
      r.times.push(b.seconds);
      r.rss = Math.max(r.rss, b.maxRssKiB);
    }
    delete process.env.STATICSTREAMS_ZSTD;
  }
  console.log(`baseline  zstd -d + openssl dgst:   median ${fmt(median(base))}   runs: ${base.map(fmt).join(', ')}`);
  figure(`zstd root tarball, ${(tarBytes / 2 ** 20).toFixed(0)} MiB tar`, 'zstd -d + openssl', median(base), median(runs.native!.times), '≤ 1.5');
  for (const [backend, r] of Object.entries(runs))
    console.log(
      `build, ${backend.padEnd(7)}                median ${fmt(median(r.times))}   ratio ${(median(r.times) / median(base)).toFixed(2)}   peak RSS ${(r.rss / 1024).toFixed(0)} MB   runs: ${r.times.map(fmt).join(', ')}`,
    );
}

/** 13: the cost of package manifests: the same builds with and without them, alternated. */
async function manifestsSection(): Promise<void> {
  console.log('\n## 13. Package manifests: build vs build --no-manifests');
  const products = Number(process.env.BENCH_MANIFEST_PRODUCTS ?? 2000);
  const cases = [
    {
      name: `hash-bound: one ${Math.round(512 * SCALE)} MiB root tarball with a ${(dpkgBytes() / 1024).toFixed(0)} KiB dpkg status`,
      images: await packagedLargeTarball(root, 512 * SCALE),
      extra: ['--no-site', '--no-cache'],
    },
    {
      name: `${products} products × 3 versions, each with a 120-package dpkg status`,
      images: await packagedProducts(root, products),
      extra: ['--no-site', '--no-cache'],
    },
  ];
  for (const c of cases) {
    const runs: Record<'with' | 'without', { times: number[]; rss: number }> = { with: { times: [], rss: 0 }, without: { times: [], rss: 0 } };
    build(c.images, path.join(root, 'dist-manifests-warm'), c.extra); // page cache
    for (let i = 0; i < RUNS; i++)
      for (const which of ['without', 'with'] as const) {
        const out = path.join(root, `dist-manifests-${which}`);
        rmSync(out, { recursive: true, force: true });
        const b = build(c.images, out, [...c.extra, ...(which === 'without' ? ['--no-manifests'] : [])]);
        runs[which].times.push(b.seconds);
        runs[which].rss = Math.max(runs[which].rss, b.maxRssKiB);
      }
    console.log(c.name);
    for (const which of ['without', 'with'] as const)
      console.log(
        `  ${which.padEnd(7)} manifests: median ${fmt(median(runs[which].times))}   peak RSS ${(runs[which].rss / 1024).toFixed(0)} MB   runs: ${runs[which].times.map(fmt).join(', ')}`,
      );
    console.log(`  ratio with / without: ${(median(runs.with.times) / median(runs.without.times)).toFixed(3)}   (target ≤ 1.05, no more memory)`);
    figure(`manifests: ${c.name}`, 'build --no-manifests', median(runs.without.times), median(runs.with.times), '≤ 1.05');
  }
  // A no-change rebuild reads no database again (the cache keeps each list).
  const out = path.join(root, 'dist-manifests-with');
  const again = build(cases[0]!.images, out, ['--no-site', '--json']);
  const summary = JSON.parse(again.stdout) as { bytesHashed?: number };
  console.log(`no-change rebuild with manifests: ${fmt(again.seconds)}, bytes read again: ${summary.bytesHashed ?? '?'}`);
}

const dpkgBytes = () => statSync('/var/lib/dpkg/status').size;

try {
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
  console.log(`openssl: ${execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim()}`);
  if (want('1')) await largeCorpusSection();
  if (want('4')) await indexScaleSection();
  if (want('5')) await objectStorageSection();
  if (want('6')) await peerToolSection();
  if (want('7')) await splitScaleSection();
  if (want('8')) await mirrorSection();
  if (want('9')) await lxcSection();
  if (want('10')) await signingSection();
  if (want('11')) await bucketSection();
  if (want('12')) await zstdSection();
  if (want('13')) await manifestsSection();
  printFigures();
} finally {
  rmSync(root, { recursive: true, force: true });
}
