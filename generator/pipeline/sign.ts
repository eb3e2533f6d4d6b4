// The signing stage of a build: the key read and checked before anything is written, then the
// signed forms of the rendered tree (render/signatures.ts says what; signing/ signs) and the
// public key, as texts the publish stage writes with the streams.

import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KeySource } from '../config/settings.js';
import type { Plan } from '../plan/products.js';
import { planSignatures, type SignatureJob } from '../render/signatures.js';
import { loadSigningKey, type SigningKey } from '../signing/openpgp.js';
import { signMany } from '../signing/sign-pool.js';
import { PUBLIC_KEY_PATHS } from '../formats/catalog.js';
import { UsageError } from '../util/errors.js';
import type { FingerprintCache } from '../fingerprint/cache.js';

/** Reads the signing key from its file or variable and checks it can sign at `now` (UsageError otherwise). */
export async function loadSigner(source: KeySource, now: Date): Promise<SigningKey> {
  let data: string | Uint8Array;
  let where: string;
  if ('file' in source) {
    where = `the signing key ${source.file}`;
    try {
      const bytes = await readFile(source.file);
      data = bytes.includes('-----BEGIN PGP') ? bytes.toString('utf8') : bytes;
    } catch (e) {
      throw new UsageError(`cannot read ${where} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})\n  fix: give --sign-key a readable file`);
    }
  } else {
    where = `the key in ${source.env}`;
    data = source.text;
  }
  return loadSigningKey(data, source.passphrase, now, where);
}

/** A small regular file of the output, never read through a link (a planted link must not publish what it names). */
function readOwn(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > REUSE_MAX_BYTES) return undefined;
    return readFileSync(fd, 'utf8');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Far beyond any signature or signed index: a bigger file is signed again, not read. */
const REUSE_MAX_BYTES = 64 * 2 ** 20;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * What the output being replaced already signed with this key, reusable as it is: a signature
 * whose basis (the unsigned file that decides it) has the same text, and whose bytes are the
 * ones the last build wrote (their sha256 is in the cache, outside the tree): a signature changed
 * in the output is made again, not republished. Only when the output publishes the same public
 * key and came from a build of ours.
 */
function reusable(out: string | undefined, signer: SigningKey, cache: FingerprintCache | undefined) {
  const read = (rel: string) => readOwn(path.join(out!, rel));
  if (!out || !cache || read(PUBLIC_KEY_PATHS.armored) !== signer.publicArmored) return () => undefined;
  return (basis: string, text: string, signature: string) => {
    if (read(basis) !== text) return undefined;
    const old = read(signature);
    return old !== undefined && cache.signatureDigest(signature) === sha256(old) ? old : undefined;
  };
}

/** A signed tree's texts: those known at once, and the signatures still being made. */
export interface SignedTexts {
  /** SHA256SUMS, the public key, and the signatures kept from the output being replaced. */
  texts: Map<string, string | Uint8Array>;
  /** How many signatures are being made. */
  pending: number;
  /** The signatures made (path → text), once they all are; rejects when signing fails. */
  made: Promise<Map<string, string>>;
}

/**
 * The texts a signed tree adds: signatures, signed documents, SHA256SUMS, the public key.
 * `notAfter`: the build's clock (epoch seconds): no signature is dated later, even when an image
 * is (clock skew tolerated up to a day): a signature from the future fails every check until then.
 * `out`: the output being replaced, whose signatures of unchanged documents are kept (a rebuild
 * with nothing new signs nothing). The others are made on the signing workers while the caller
 * goes on (writing the rest of the tree).
 */
export function signTree(
  signer: SigningKey,
  plan: Plan,
  streams: Map<string, string>,
  updated: number,
  notAfter: number,
  out?: string,
  cache?: FingerprintCache,
): SignedTexts {
  const planned = planSignatures(plan, streams, updated);
  const jobs = planned.jobs.map((job) => (job.time > notAfter ? { ...job, time: notAfter } : job));
  const basisText = (rel: string) => streams.get(rel) ?? planned.texts.get(rel);
  const kept = reusable(out, signer, cache);
  const texts = new Map<string, string | Uint8Array>(planned.texts);
  const toMake: SignatureJob[] = [];
  for (const job of jobs) {
    const old = kept(job.basis, basisText(job.basis) ?? '', job.path);
    if (old === undefined) toMake.push(job);
    else {
      texts.set(job.path, old);
      cache?.rememberSignature(job.path, sha256(old));
    }
  }
  texts.set(PUBLIC_KEY_PATHS.armored, signer.publicArmored);
  texts.set(PUBLIC_KEY_PATHS.binary, signer.publicBinary);
  const made = signMany(signer, toMake).then((signatures) => {
    const byPath = new Map<string, string>();
    toMake.forEach((job, i) => {
      byPath.set(job.path, signatures[i]!);
      cache?.rememberSignature(job.path, sha256(signatures[i]!));
    });
    return byPath;
  });
  made.catch(() => {}); // awaited by the caller, maybe after other failures
  return { texts, pending: toMake.length, made };
}
