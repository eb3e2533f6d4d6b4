// Knowing that a build would write exactly what the output already holds, so a no-change rebuild
// writes nothing: a digest of everything a build publishes (every text file's bytes, every image
// file's path, size and sha256, and what the catalogue site is made from), recorded in the
// fingerprint cache, and a check that the output still has all of it (every file there, at its
// size). Files are never compared byte by byte: an image file's name holds its hash.

import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import type { HashMemo } from '../../source/source.js';
import { byEntryKey } from '../../util/compare.js';

export interface Published {
  /** Output-relative path → text (or bytes: a binary keyring), for every index, rule, signature and state file. */
  texts: [string, string | Uint8Array][];
  /** Every image file the tree lists (or keeps for its grace period). */
  files: { path: string; sha256: string; size: number; origin: { kind: string } }[];
  /** What the catalogue site is rendered from, and the pages it must have (null without a site). */
  site: { key: string; pages: string[] } | null;
}

export function outputDigest(p: Published): string {
  const hash = createHash('sha256');
  for (const [rel, text] of [...p.texts].sort(byEntryKey)) hash.update(`t ${rel} ${Buffer.byteLength(text)}\n`).update(text);
  for (const f of p.files) hash.update(`f ${f.path} ${f.size} ${f.sha256}\n`);
  hash.update(`s ${p.site?.key ?? '-'}\n`);
  return hash.digest('hex');
}

/**
 * True when `out` holds every text (at its size), every file (at its size) and, with a site, every
 * page it must have (a page deleted from the output is written again). A file carried over from
 * the previous tree must also be one `memo` proved unchanged (the fingerprint cache): otherwise
 * the full build re-hashes it, and refuses it if it changed. (An input file's output copy is a
 * hard link of it, proved unchanged when the input was.)
 */
export function outputIntact(out: string, p: Published, memo: HashMemo): boolean {
  const stat = (rel: string) => statSync(path.join(out, rel), { throwIfNoEntry: false });
  if (p.site && !p.site.pages.every((rel) => stat(rel)?.isFile())) return false;
  if (!p.texts.every(([rel, text]) => stat(rel)?.size === Buffer.byteLength(text))) return false;
  return p.files.every((f) => {
    const st = stat(f.path);
    return st?.size === f.size && (f.origin.kind !== 'previous' || memo.known(path.join(out, f.path), st) === f.sha256);
  });
}
