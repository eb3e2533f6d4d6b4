// The persistent fingerprint cache: a file's sha256 is reused only while everything that proves
// the file unchanged still matches — device, inode, size, mtime and ctime. ctime cannot be set
// back by a user, so a file rewritten in place with its mtime restored is still re-hashed.
// Hard-linking an input into the output changes its ctime too, so the keys are refreshed after
// the build (only for files whose device, inode, size and mtime did not move meanwhile).

import { readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { statSync, type Stats } from 'node:fs';
import type { FoundFile } from '../ingest/find.js';
import type { Classified } from '../ingest/classify.js';
import type { ProvenParts } from '../util/check-parts.js';
import type { PackageScan } from '../formats/manifest.js';

interface Entry {
  key: string;
  sha256: string;
}

/**
 * 2: entries of tarballs exist only for files proven whole (entries of version 1 were not).
 * 3: classifications without their file (the key says it).
 * 4: the package lists of root filesystems (a cache of 3 would leave known images without one).
 */
const VERSION = 4;

interface CacheData {
  version: typeof VERSION;
  files: Record<string, Entry>;
  /** "meta path\0rootfs path" → combined fingerprint. */
  combined: Record<string, Entry>;
  /** path → what the file is, with its metadata (so an unchanged file is not even opened); its `file` is the key's. */
  classified: Record<string, { key: string; value: Omit<Classified, 'file'> }>;
  /** A digest of everything the last build wrote into the output (see pipeline/build). */
  output?: string;
  /** Rendered parts that passed the self-check (util/check-parts), per document, under the schemas' digest. */
  proven?: { checker: string; parts: Record<string, string[]> };
  /** Output-relative path of each signature the last build wrote → its sha256 (see pipeline/sign). */
  signatures?: Record<string, string>;
  /** sha256 of a root filesystem or unified image → what its package database lists (content-addressed). */
  packages?: Record<string, PackageScan>;
}

const empty = (): CacheData => ({ version: VERSION, files: {}, combined: {}, classified: {} });

export function fileKey(f: Pick<FoundFile, 'dev' | 'ino' | 'size' | 'mtimeMs' | 'ctimeMs'>): string {
  return `${f.dev}:${f.ino}:${f.size}:${f.mtimeMs}:${f.ctimeMs}`;
}

export class FingerprintCache {
  private next: CacheData = empty();
  /** An entry was made this run (not only carried over from the last one). */
  private wrote = false;
  hits = 0;
  misses = 0;

  private constructor(
    readonly path: string | undefined,
    private previous: CacheData,
  ) {}

  /** Loads the cache at `file`; `undefined` disables caching (--no-cache still writes a fresh one). */
  static async load(file: string, use: boolean): Promise<FingerprintCache> {
    let data: CacheData = empty();
    if (use) {
      try {
        const parsed = JSON.parse(await readFile(file, 'utf8')) as CacheData;
        if (parsed.version === VERSION && parsed.files && parsed.combined && parsed.classified) data = parsed;
      } catch {
        // no cache yet, or unreadable: start empty
      }
    }
    return new FingerprintCache(file, data);
  }

  /** Nothing is known from a last build: every image will be read. */
  get cold(): boolean {
    for (const _ in this.previous.files) return false;
    return true;
  }

  /** The digest of what the last build with this cache published, if it recorded one. */
  get lastOutput(): string | undefined {
    return this.previous.output;
  }

  /**
   * The parts of `document` proven by the checker `checker` (a digest of the schemas' code):
   * those of the last build when the checker is the same; what this build proves is kept.
   */
  provenParts(checker: string, document: string): ProvenParts {
    const before = new Set(this.previous.proven?.checker === checker ? (this.previous.proven.parts[document] ?? []) : []);
    if (this.next.proven?.checker !== checker) this.next.proven = { checker, parts: {} };
    const now = new Set<string>();
    this.next.proven.parts[document] = [];
    const list = this.next.proven.parts[document];
    return {
      has: (digest) => before.has(digest),
      add: (digest) => {
        if (now.has(digest)) return;
        now.add(digest);
        list.push(digest);
      },
    };
  }

  /**
   * True when this run has so far missed an entry, or used not as many file entries as the last
   * one (an image added or gone): a hint that it will publish something new.
   */
  changedSoFar(): boolean {
    return this.misses > 0 || Object.keys(this.next.files).length !== Object.keys(this.previous.files).length;
  }

  /** The sha256 of the signature the last build wrote at `rel`, if it wrote one. */
  signatureDigest(rel: string): string | undefined {
    return this.previous.signatures?.[rel];
  }

  /** Records the sha256 of a signature this build writes at `rel`. */
  rememberSignature(rel: string, sha256: string): void {
    (this.next.signatures ??= {})[rel] = sha256;
  }

  /** Records the digest of what this build published. */
  set output(digest: string) {
    this.next.output = digest;
  }

  private lookup(table: 'files' | 'combined', id: string, key: string): string | undefined {
    const e = this.previous[table][id];
    if (e && e.key === key) {
      this.hits++;
      this.next[table][id] = e;
      return e.sha256;
    }
    this.misses++;
    return undefined;
  }

  file(f: FoundFile): string | undefined {
    return this.lookup('files', f.path, fileKey(f));
  }

  combinedOf(meta: FoundFile, root: FoundFile): string | undefined {
    return this.lookup('combined', `${meta.path}\0${root.path}`, `${fileKey(meta)}|${fileKey(root)}`);
  }

  /** The cached classification of an unchanged file, with the file's current stat. */
  classification(f: FoundFile): Classified | undefined {
    const e = this.previous.classified[f.path];
    if (!e || e.key !== fileKey(f)) return undefined;
    this.next.classified[f.path] = e;
    return { ...e.value, file: f } as Classified;
  }

  rememberClassification(c: Classified): void {
    if (c.role === 'other') return;
    // (a package list is kept once per content, under its sha256: see packagesOf)
    const { file, ...value } = c;
    if ('packages' in value) delete value.packages;
    const key = fileKey(file);
    const carried = this.next.classified[file.path];
    if (carried && carried === this.previous.classified[file.path] && carried.key === key) return; // served from the cache
    this.next.classified[file.path] = { key, value };
    this.wrote = true;
  }

  /** As a HashMemo for files of a previous tree: the sha256 of `file` if it is unchanged since it was proven. */
  known(file: string, st: Stats): string | undefined {
    return this.lookup('files', file, fileKey(st));
  }

  /** Keeps an entry; the last run's own when it says the same (then nothing was written). */
  private put(table: 'files' | 'combined', id: string, key: string, sha256: string): void {
    const e = this.previous[table][id];
    if (e && e.key === key && e.sha256 === sha256) this.next[table][id] = e;
    else {
      this.next[table][id] = { key, sha256 };
      this.wrote = true;
    }
  }

  remember(file: string, st: Stats, sha256: string): void {
    this.put('files', file, fileKey(st), sha256);
  }

  rememberFile(f: FoundFile, sha256: string): void {
    this.put('files', f.path, fileKey(f), sha256);
  }

  /** What the package database of the file with this sha256 lists, when a last build read it. */
  packagesOf(sha256: string): PackageScan | undefined {
    const known = this.next.packages?.[sha256] ?? this.previous.packages?.[sha256];
    if (known) (this.next.packages ??= {})[sha256] = known;
    return known;
  }

  rememberPackages(sha256: string, scan: PackageScan): void {
    (this.next.packages ??= {})[sha256] = scan;
    if (JSON.stringify(this.previous.packages?.[sha256]) !== JSON.stringify(scan)) this.wrote = true;
  }

  rememberCombined(meta: FoundFile, root: FoundFile, sha256: string): void {
    this.put('combined', `${meta.path}\0${root.path}`, `${fileKey(meta)}|${fileKey(root)}`, sha256);
  }

  /**
   * Re-reads the ctime of every remembered file whose other key parts are unchanged; with
   * `touched`, only of those files ("dev:ino") — the others' keys stand as they are.
   */
  private async refresh(touched?: ReadonlySet<string>): Promise<void> {
    const fresh = new Map<string, string>();
    const entries = Object.entries(this.next.files);
    // Synchronous stats: on a local disk ~10× cheaper than thousands through libuv's thread pool.
    entries.forEach(([file, entry]) => {
      const [dev, ino, size, mtime] = entry.key.split(':');
      if (touched && !touched.has(`${dev}:${ino}`)) {
        fresh.set(entry.key, entry.key);
        return;
      }
      const st = statSync(file, { throwIfNoEntry: false });
      if (st && String(st.dev) === dev && String(st.ino) === ino && String(st.size) === size && String(st.mtimeMs) === mtime) {
        const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
        fresh.set(entry.key, key);
        entry.key = key;
      } else {
        delete this.next.files[file];
      }
    });
    for (const [file, entry] of Object.entries(this.next.classified)) {
      const key = fresh.get(entry.key);
      if (key) entry.key = key;
      else delete this.next.classified[file];
    }
    for (const [id, entry] of Object.entries(this.next.combined)) {
      const [metaKey, rootKey] = entry.key.split('|');
      const m = fresh.get(metaKey!);
      const r = fresh.get(rootKey!);
      if (m && r) entry.key = `${m}|${r}`;
      else delete this.next.combined[id];
    }
  }

  /**
   * True when this run used exactly the entries it loaded, every one a hit (a no-change build):
   * saving would write the same file.
   */
  unchanged(): boolean {
    // Every entry of `next` is then one carried over from `previous` (as is, by the same name):
    // as many as `previous` has means the same ones.
    const count = (o: object) => Object.keys(o).length;
    const { next, previous } = this;
    return (
      this.misses === 0 &&
      !this.wrote &&
      next.output === previous.output &&
      count(next.files) === count(previous.files) &&
      count(next.combined) === count(previous.combined) &&
      count(next.classified) === count(previous.classified)
    );
  }

  /**
   * Writes what this run used (entries of deleted files drop out). `touched`: the only files
   * ("dev:ino") whose link count the build changed, when it knows them; else all are re-read.
   */
  async save(touched?: ReadonlySet<string>): Promise<void> {
    if (!this.path) return;
    await this.refresh(touched);
    await mkdir(path.dirname(this.path), { recursive: true });
    this.next.proven ??= this.previous.proven; // nothing was checked (nothing was written)
    this.next.signatures ??= this.previous.signatures; // nothing was signed (nothing was written)
    const tmp = `${this.path}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify(this.next));
    await rename(tmp, this.path);
  }
}

/** Where the cache of an output lives: next to it, never inside the published tree. */
export function cachePath(out: string): string {
  const resolved = path.resolve(out);
  return path.join(path.dirname(resolved), `.${path.basename(resolved)}.cache.json`);
}

/** Where derived files (LXC's tarballs) of an output are kept for the next build: next to it, as its cache is. */
export function derivedPath(out: string): string {
  const resolved = path.resolve(out);
  return path.join(path.dirname(resolved), `.${path.basename(resolved)}.derived`);
}
