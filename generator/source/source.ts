// Opens a published tree — a local folder or the base URL it is served at — for `build
// --previous`, `prune`, `mirror`, `verify` and `list` (source/tree.ts reads its indexes through
// it): reads its small JSON files within a bound, streams its files, and places
// them into a new output (hard link or copy from a folder; download with sha256 check from a URL,
// following redirects as clients do, unless a local folder — the output being replaced — already
// holds the file with that sha256).

import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../util/errors.js';
import { DEFAULT_HTTP, download, getText, openBody, tooLarge, useCredentials, type HttpLimits } from './http.js';
import { linkOrCopy, sameFile, type Identity } from '../util/fs.js';
import { WHOLE_FILE_LIMIT } from '../ingest/limits.js';

async function* once(bytes: Buffer): AsyncIterable<Buffer> {
  yield bytes;
}

export interface TreeSource {
  /** The folder or URL as the user gave it, for messages. */
  label: string;
  /** A file of the tree as text, or null when it does not exist; the read fails past `maxBytes` (default 256 MiB). */
  readText(rel: string, maxBytes?: number): Promise<string | null>;
  /** The bytes of the tree's file `rel`, or null when it does not exist; a URL's read stops past `maxBytes`. */
  open(rel: string, maxBytes?: number): Promise<AsyncIterable<Buffer> | null>;
  /**
   * Puts the tree's file `rel` at `dest`, checking its size and sha256 (a folder's file is
   * hashed unless `memo` already saw it, unchanged, with that sha256); returns how it got there.
   * `held`: what `dest` already holds (a reused staging folder) — kept when it is that very file.
   */
  place(
    rel: string,
    dest: string,
    expected: { size: number; sha256: string },
    memo?: HashMemo,
    held?: Identity,
  ): Promise<'kept' | 'linked' | 'copied' | 'downloaded'>;
}

/** sha256 values of files proven before and unchanged since (the fingerprint cache is one). */
export interface HashMemo {
  known(file: string, st: Stats): string | undefined;
  remember(file: string, st: Stats, sha256: string): void;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const safeRel = (rel: string) => {
  if (rel.startsWith('/') || rel.split('/').includes('..')) throw new Error(`refusing a path outside the previous tree: ${rel}`);
  return rel;
};

/** The most a tree's text file is read by default: far beyond any real products file. */
const TEXT_LIMIT = 256 * 2 ** 20;

interface UrlOptions {
  /** Local folders (the output a build replaces) whose file at the same path is linked instead of downloaded when its size and sha256 are the listed ones. */
  reuse?: string[];
  /** Time-outs and retries of every request (a mirror's --timeout). */
  http?: HttpLimits;
  /** What to do when the server does not answer as a tree. */
  fix?: string;
}

export function openTreeSource(spec: string, options: UrlOptions = {}): TreeSource {
  if (/^https?:\/\//i.test(spec)) return urlSource(spec, options);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) throw new UsageError(`--previous ${spec}: only a folder or an http(s) URL can be read`);
  return folderSource(spec);
}

function folderSource(folder: string): TreeSource {
  const root = path.resolve(folder);
  return {
    label: folder,
    async readText(rel, maxBytes = TEXT_LIMIT) {
      const file = path.join(root, safeRel(rel));
      try {
        if ((await stat(file)).size > maxBytes) throw tooLarge(`${folder}/${rel}`, maxBytes);
        return await readFile(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
    async open(rel) {
      const file = path.join(root, safeRel(rel));
      // Synchronous stat and small reads: on a local disk far cheaper than a round trip through
      // libuv's thread pool each (measured: thousands of tiny files checked in half the time).
      let st;
      try {
        st = statSync(file, { throwIfNoEntry: false });
      } catch {
        return null;
      }
      if (!st?.isFile()) return null;
      // A small file in one read; a large one streamed in 1 MiB reads.
      if (st.size <= WHOLE_FILE_LIMIT) {
        try {
          return once(readFileSync(file));
        } catch {
          return null;
        }
      }
      return createReadStream(file, { highWaterMark: 1 << 20 });
    },
    async place(rel, dest, expected, memo, held) {
      let from = path.join(root, safeRel(rel));
      let st;
      try {
        st = lstatSync(from);
        // A symbolic link is placed as the file it names, never as a link leaving the output.
        if (st.isSymbolicLink()) st = statSync((from = realpathSync(from)));
      } catch {
        throw new Error(`${folder}/${rel}: listed in the previous tree but missing from it`);
      }
      if (st.size !== expected.size) throw new Error(`${folder}/${rel}: is ${st.size} bytes, the previous tree lists ${expected.size}`);
      if (memo?.known(from, st) !== expected.sha256) {
        const sha256 = await sha256Of(from);
        if (sha256 !== expected.sha256)
          throw new Error(
            `${folder}/${rel}: its sha256 is ${sha256}, the previous tree lists ${expected.sha256}: the file was changed or is corrupt (clients would refuse it)`,
          );
        memo?.remember(from, st, sha256);
      }
      if (sameFile(st, held)) return 'kept';
      if (held) await rm(dest, { force: true });
      return linkOrCopy(from, dest);
    },
  };
}

/** Whether `file` is a regular file (not a link) of `expected`'s size and sha256 (from `memo` when it saw it unchanged). */
async function holds(file: string, expected: { size: number; sha256: string }, memo?: HashMemo): Promise<Stats | undefined> {
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (!st?.isFile() || st.size !== expected.size) return undefined;
  const known = memo?.known(file, st) ?? (await sha256Of(file));
  if (known !== expected.sha256) return undefined;
  memo?.remember(file, st, known);
  return st;
}

function urlSource(
  spec: string,
  {
    reuse = [],
    http = DEFAULT_HTTP,
    fix = 'check the URL and that the server answers (for --previous on a first publish nothing is live yet: build without it)',
  }: UrlOptions,
): TreeSource {
  // https://USER:PASSWORD@host/: the credentials go with requests only, never into a message.
  const clean = useCredentials(spec);
  const base = clean.endsWith('/') ? clean : `${clean}/`;
  const urlOf = (rel: string) => new URL(safeRel(rel), base).href;
  return {
    label: clean,
    readText: (rel, maxBytes = TEXT_LIMIT) => getText(urlOf(rel), maxBytes, http, fix),
    open: (rel, maxBytes) => openBody(urlOf(rel), { maxBytes }),
    async place(rel, dest, expected, memo, held) {
      // A reused staging folder or the output being replaced may hold it already: no download.
      if (held && (await holds(dest, expected, memo))) return 'kept';
      if (held) await rm(dest, { force: true });
      for (const folder of reuse) {
        const local = path.join(folder, safeRel(rel));
        if (await holds(local, expected, memo)) return linkOrCopy(local, dest);
      }
      await download(urlOf(rel), dest, expected, http, undefined, {
        index: 'the previous tree',
        fix: 'republish the previous tree (clients cannot use this file either), or publish without --previous',
      });
      return 'downloaded';
    },
  };
}
