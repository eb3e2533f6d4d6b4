// Makes the planned LXC files: each container version's rootfs.tar.xz (its root filesystem as a
// tar — read from the squashfs by sqfs2tar, from the root tarball or the unified tarball by our
// decoders — with the files LXC fills in appended, compressed by `xz -T0` on every core) and
// meta.tar.xz (from its product and metadata.yaml), in a folder of their own named by their
// hashes inside the version's folder; lists them as items, and the root tarball, paired with
// the metadata, as a second image of the version. Deterministic: the same image gives the same
// bytes on any machine with xz ≥ 5.4 (its multi-threaded blocks do not depend on the core count).

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../util/errors.js';
import { sniff, SNIFF_BYTES } from '../ingest/detect.js';
import { decompressor } from '../ingest/decompress.js';
import { scanTarball } from '../ingest/scan-tarball.js';
import { LXC_FILE_NAMES, LXC_META_FTYPE, ROOTFS_FTYPES } from '../simplestreams/ftypes.js';
import { lxcMetaFiles, lxcTemplated, LXC_TEMPLATE_FILES } from '../render/lxc.js';
import { lxcRootfsTar, OutsideMember, type AppendedFile } from './lxc-tar.js';
import { bombProblem, BOMB_FIX } from '../ingest/limits.js';
import { onInterrupt } from './output/cleanup.js';
import { ownFolder } from '../util/fs.js';
import type { LxcJob } from '../plan/lxc.js';
import type { PlannedFile, PlannedImage, PlannedItem, PlannedProduct } from '../plan/products.js';
import type { TreeSource } from '../source/source.js';
import type { FingerprintCache } from '../fingerprint/cache.js';
import { changeVersions, localFiles } from './derived.js';
import { byKey } from '../util/compare.js';

export interface LxcResult {
  products: PlannedProduct[];
  made: { product: string; version: string; rootfs: number; meta: number }[];
  /** `product version: why`: versions left without LXC files. */
  failed: string[];
  cleanup(): Promise<void>;
  /** Removes the kept files no job of this build used (after it published). */
  prune(): Promise<void>;
}

/** Runs `command`; rejects with its stderr when it is missing or fails. */
function tool(command: string, args: string[]) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${signal ? `was killed (${signal})` : `exited with ${code}`}: ${stderr.trim().split('\n').slice(-3).join(' ')}`)),
    );
  });
  return { child, exited };
}

async function installed(command: string, args: string[]): Promise<boolean> {
  try {
    await tool(command, args).exited;
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** LXC's files need xz (checked before anything is written). */
export async function checkXz(): Promise<void> {
  if (!(await installed('xz', ['--version'])))
    throw new UsageError('LXC files (--lxc, or lxc: true in the config) need xz: install it (Debian/Ubuntu: apt install xz-utils), or build without --lxc');
}

/** LXC's files of squashfs images need sqfs2tar (squashfs-tools-ng); checked once the jobs say so. */
export async function checkSqfs2tar(): Promise<void> {
  if (!(await installed('sqfs2tar', ['--version'])))
    throw new UsageError(
      'LXC files of squashfs images (--lxc, or lxc: true in the config) need sqfs2tar, which reads a squashfs without root: install it (Debian/Ubuntu: apt install squashfs-tools-ng), or build without --lxc',
    );
}

/** Compresses `source` with xz on every core into `out`, hashing what it writes. */
async function xzInto(source: AsyncIterable<Buffer>, out: string): Promise<{ sha256: string; size: number }> {
  const { child, exited } = tool('xz', ['-T0', '-6', '-c']);
  const hash = createHash('sha256');
  let size = 0;
  const writing = pipeline(
    child.stdout,
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const c of chunks) {
        hash.update(c);
        size += c.length;
        yield c;
      }
    },
    createWriteStream(out),
  );
  await Promise.all([pipeline(Readable.from(source), child.stdin), writing, exited]);
  return { sha256: hash.digest('hex'), size };
}

async function compressionOf(file: string) {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0);
    const s = sniff(head.subarray(0, bytesRead));
    return s.kind === 'compressed' || s.kind === 'tar' ? s.compression : undefined;
  } finally {
    await handle.close();
  }
}

/**
 * The tar bytes of a root filesystem, counted as they come: past the bomb rule (200× the file's
 * size, past 64 MiB) the stream stops — a small squashfs can hold a sparse file of hundreds of
 * GiB, or one block shared by a million files. `stop` ends the producer (on a failure).
 */
async function rootfsTarOf(job: LxcJob, local: string): Promise<{ tar: AsyncIterable<Buffer>; done: Promise<void>; stop(): void }> {
  const input = statSync(local).size;
  const bounded = async function* (source: AsyncIterable<Buffer>) {
    let bytes = 0;
    for await (const chunk of source) {
      bytes += chunk.length;
      const bomb = bombProblem(bytes, input);
      if (bomb) throw new Error(`${job.source.file.path}: its root filesystem as a tar ${bomb} (${BOMB_FIX})`);
      yield chunk;
    }
  };
  if (job.source.kind === 'squashfs') {
    // --root-becomes .: entries are ./x and the root folder's owner and mode are kept;
    // --no-skip: a file tar cannot hold fails the build rather than going missing.
    const { child, exited } = tool('sqfs2tar', ['--root-becomes', '.', '--no-skip', local]);
    child.stdin.end();
    return { tar: bounded(child.stdout), done: exited, stop: () => child.kill('SIGKILL') };
  }
  const compression = await compressionOf(local);
  if (!compression) throw new Error(`${job.source.file.path}: not a tarball`);
  const stream = createReadStream(local, { highWaterMark: 1 << 20 }).pipe(decompressor(compression));
  return { tar: bounded(stream), done: Promise.resolve(), stop: () => stream.destroy() };
}

/** metadata.yaml of the image: its templates and expiry. */
async function metadataOf(job: LxcJob, local: string): Promise<{ templates: unknown; expiry?: number }> {
  const compression = await compressionOf(local);
  if (!compression) throw new Error(`${job.metadata.path}: not a tarball`);
  const scan = await scanTarball(local, compression);
  if (scan.role === 'rootfs') throw new Error(`${job.metadata.path}: no metadata.yaml`);
  const yaml = parseYaml(scan.metadataYaml.toString('utf8')) as Record<string, unknown> | null;
  const expiry = typeof yaml?.expiry_date === 'number' && yaml.expiry_date > 0 ? yaml.expiry_date : undefined;
  return { templates: yaml?.templates, ...(expiry ? { expiry } : {}) };
}

async function metaTarball(files: [string, string][], mtime: number, out: string): Promise<{ sha256: string; size: number }> {
  const pack = tar.pack();
  for (const [name, text] of files)
    pack.entry({ name, mode: 0o644, uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: new Date(mtime * 1000), type: 'file' }, text);
  pack.finalize();
  return xzInto(pack as AsyncIterable<Buffer>, out);
}

async function concatSha256(files: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const f of files) for await (const c of createReadStream(f, { highWaterMark: 1 << 20 })) hash.update(c as Buffer);
  return hash.digest('hex');
}

/** Bumped when what a job makes changes: derived files kept under an older one are made again. */
const LXC_FORMAT = 1;

/** What a job's files depend on: its sources' bytes, everything its meta tarball says, and how it is listed. */
function jobKey(job: LxcJob): string {
  const p = job.product;
  return createHash('sha256')
    .update(
      JSON.stringify([
        LXC_FORMAT,
        job.source.kind,
        job.source.file.sha256,
        job.metadata.sha256,
        p.os,
        p.release,
        p.variant,
        p.canonicalArch,
        job.image.description ?? null,
        job.image.created,
        // whether the root tarball pairs with the metadata (made.json then holds their fingerprint)
        job.rootFtype,
      ]),
    )
    .digest('hex')
    .slice(0, 32);
}

/** What a kept job folder holds besides the two tarballs. */
interface Made {
  root: { sha256: string; size: number };
  meta: { sha256: string; size: number };
  /** sha256(metadata ‖ rootfs.tar.xz), when the root tarball pairs with the metadata. */
  fingerprint?: string;
}

/** What a job's supplied files (distrobuilder's) say, as a kept folder's made.json would. */
function suppliedRecord(job: LxcJob): Made {
  const { meta, rootfs, fingerprint } = job.supplied!;
  const pairs = job.rootFtype === 'root.tar.xz' && fingerprint ? { fingerprint } : {};
  return { root: { sha256: rootfs.sha256, size: rootfs.size }, meta: { sha256: meta.sha256, size: meta.size }, ...pairs };
}

/**
 * Derived files are kept in `store.dir` (next to the output, on its file system, so the output
 * links them) by the job's key; a later build reuses a kept folder whose files the fingerprint
 * cache knows unchanged, and the folders no build used are removed by `prune()`.
 */
export interface DerivedStore {
  dir: string;
  cache: FingerprintCache;
  /** Hears of each job as it starts making files (xz of a real root filesystem takes minutes). */
  onJob?: (name: string, n: number, of: number) => void;
}

export async function makeLxc(products: PlannedProduct[], jobs: LxcJob[], previous: TreeSource | undefined, store: DerivedStore): Promise<LxcResult> {
  await ownFolder(store.dir);
  const scratch = await mkdtemp(path.join(path.resolve(os.tmpdir()), 'staticstreams-lxc-'));
  const used = new Set<string>();
  const cleanup = () => rm(scratch, { recursive: true, force: true });
  const made: LxcResult['made'] = [];
  const failed: string[] = [];
  const additions = new Map<string, { items: PlannedItem[]; combined: Map<string, Record<string, string>>; image?: PlannedImage }>();
  const kept = async (folder: string): Promise<Made | undefined> => {
    try {
      const record = JSON.parse(await readFile(path.join(folder, 'made.json'), 'utf8')) as Made;
      for (const [name, f] of [[LXC_FILE_NAMES.rootfs, record.root] as const, [LXC_FILE_NAMES.meta, record.meta] as const]) {
        const at = path.join(folder, name);
        const st = statSync(at, { throwIfNoEntry: false });
        if (!st || st.size !== f.size || store.cache.known(at, st) !== f.sha256) return undefined;
      }
      return record;
    } catch {
      return undefined;
    }
  };
  try {
    const local = localFiles(previous, scratch);
    let forget: () => unknown = () => undefined;
    let partial: string | undefined;
    // One at a time: xz already uses every core.
    for (const [n, job] of jobs.entries()) {
      const name = `${job.product.key} ${job.version}`;
      const key = jobKey(job);
      const folder = path.join(store.dir, key);
      if (!job.supplied) used.add(key);
      try {
        // distrobuilder's build-lxc output next to the image is taken as it is; else what an
        // earlier build made and kept; else made now.
        let record = job.supplied ? suppliedRecord(job) : await kept(folder);
        if (!record) {
          store.onJob?.(name, n + 1, jobs.length);
          const halfMade = `${folder}.partial-${process.pid}`;
          partial = halfMade;
          await rm(halfMade, { recursive: true, force: true });
          await mkdir(halfMade);
          // A signal (Ctrl-C, a CI job cancelled) leaves no half-made folder behind.
          forget = onInterrupt(() => rmSync(halfMade, { recursive: true, force: true }));
          const metadataPath = await local(job.metadata, `metadata-${n}`);
          const sourcePath = job.source.file === job.metadata ? metadataPath : await local(job.source.file, `source-${n}`);
          const metadata = await metadataOf(job, metadataPath);
          const created = job.image.created;
          const templated = lxcTemplated(metadata.templates);
          const append: AppendedFile[] = templated.map((p) => ({ path: p, text: LXC_TEMPLATE_FILES[p]!, mode: 0o644, mtime: created }));
          const rootOut = path.join(halfMade, LXC_FILE_NAMES.rootfs);
          const producer = await rootfsTarOf(job, sourcePath);
          const making = xzInto(lxcRootfsTar(producer.tar, { unified: job.source.kind === 'unified', append }), rootOut);
          // A refusal (a bomb, a member outside the root) stops the producer, which would wait on a full pipe.
          making.catch(() => producer.stop());
          // The producer's own failure (sqfs2tar's message) says more than the tar stream it cut short.
          const [tarred, produced] = await Promise.allSettled([making, producer.done]);
          if (tarred.status === 'rejected' && (tarred.reason instanceof OutsideMember || /decompression bomb/.test(String(tarred.reason)))) throw tarred.reason;
          if (produced.status === 'rejected') throw produced.reason;
          if (tarred.status === 'rejected') throw tarred.reason;
          const root = tarred.value;
          const meta = await metaTarball(
            lxcMetaFiles({
              os: job.product.os,
              release: job.product.release,
              variant: job.product.variant,
              canonicalArch: job.product.canonicalArch,
              ...(job.image.description ? { description: job.image.description } : {}),
              ...(metadata.expiry ? { expiry: metadata.expiry } : {}),
              templated,
            }),
            created,
            path.join(halfMade, LXC_FILE_NAMES.meta),
          );
          const fingerprint = job.rootFtype === 'root.tar.xz' ? await concatSha256([metadataPath, rootOut]) : undefined;
          record = { root, meta, ...(fingerprint ? { fingerprint } : {}) };
          await writeFile(path.join(halfMade, 'made.json'), JSON.stringify(record));
          await rm(folder, { recursive: true, force: true });
          await rename(halfMade, folder);
          forget();
          for (const [f, sum] of [[LXC_FILE_NAMES.rootfs, root.sha256] as const, [LXC_FILE_NAMES.meta, meta.sha256] as const]) {
            const at = path.join(folder, f);
            store.cache.remember(at, statSync(at), sum);
          }
          made.push({ product: job.product.key, version: job.version, rootfs: root.size, meta: meta.size });
        }
        const { root, meta, fingerprint } = record;
        const dir = `${job.dir}/lxc-${createHash('sha256').update(`${root.sha256}\n${meta.sha256}`).digest('hex').slice(0, 16)}`;
        const given: Record<string, PlannedFile['origin']> | undefined = job.supplied && {
          [LXC_FILE_NAMES.rootfs]: job.supplied.rootfs.origin,
          [LXC_FILE_NAMES.meta]: job.supplied.meta.origin,
        };
        const file = (f: string, what: string, sum: { sha256: string; size: number }): PlannedFile => ({
          origin: given?.[f] ?? { kind: 'input', path: path.join(folder, f), rel: `LXC ${what} tarball of ${job.image.label}` },
          path: `${dir}/${f}`,
          sha256: sum.sha256,
          size: sum.size,
        });
        const rootFile = file(LXC_FILE_NAMES.rootfs, 'root', root);
        const metaFile = file(LXC_FILE_NAMES.meta, 'meta', meta);
        const items: PlannedItem[] = [
          { key: LXC_META_FTYPE, ftype: LXC_META_FTYPE, file: metaFile, combined: {} },
          { key: job.rootKey, ftype: job.rootFtype, file: rootFile, combined: {} },
        ];
        const combined = new Map<string, Record<string, string>>();
        let image: PlannedImage | undefined;
        if (fingerprint) {
          const fields = Object.fromEntries(ROOTFS_FTYPES['root.tar.xz']!.combined.map((f) => [f, fingerprint]));
          for (const k of job.metaKeys) combined.set(k, fields);
          image = {
            ...job.image,
            fingerprint,
            size: job.metadata.size + root.size,
            files: [
              { ftype: job.image.files[0]!.ftype, file: job.metadata },
              { ftype: 'root.tar.xz', file: rootFile },
            ],
            label: `${job.image.label} (as a root tarball, for LXC)`,
          };
        }
        additions.set(name, { items, combined, ...(image ? { image } : {}) });
      } catch (e) {
        failed.push(`${name}: ${(e as Error).message}`);
        if (partial) await rm(partial, { recursive: true, force: true });
      } finally {
        partial = undefined;
        forget();
        forget = () => undefined;
      }
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  const withLxc = changeVersions(products, additions, (v, add) => ({
    ...v,
    items: [...v.items.map((i) => (add.combined.has(i.key) ? { ...i, combined: { ...i.combined, ...add.combined.get(i.key) } } : i)), ...add.items].sort(byKey),
    images: add.image ? [...v.images, add.image] : v.images,
  }));
  // Only what a build made there (a job's key, or a half-made folder) is ever removed.
  const prune = async () => {
    for (const entry of await readdir(store.dir))
      if (!used.has(entry) && /^[0-9a-f]{32}(?:\.partial-\d+)?$/.test(entry)) await rm(path.join(store.dir, entry), { recursive: true, force: true });
  };
  return { products: withLxc, made, failed, cleanup, prune };
}
