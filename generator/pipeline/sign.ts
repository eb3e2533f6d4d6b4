// The signing stage of a build: the key read and checked before anything is written, then the
// signed forms of the rendered tree (render/signatures.ts says what; signing/ signs) and the
// public key, as texts the publish stage writes with the streams.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KeySource } from '../config/settings.js';
import type { Plan } from '../plan/products.js';
import { planSignatures } from '../render/signatures.js';
import { clearSign, detachSign, loadSigningKey, type SigningKey } from '../signing/openpgp.js';
import { PUBLIC_KEY_PATHS } from '../formats/catalog.js';
import { UsageError } from '../util/errors.js';
import { mapLimit } from '../util/concurrency.js';

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

/**
 * What the output being replaced already signed with this key, reusable as it is: a signature
 * whose basis (the unsigned file that decides it) has the same text. Only when the output
 * publishes the same public key and came from a build of ours.
 */
function reusable(out: string | undefined, signer: SigningKey): (basis: string, text: string, signature: string) => string | undefined {
  const read = (rel: string) => {
    try {
      return readFileSync(path.join(out!, rel), 'utf8');
    } catch {
      return undefined;
    }
  };
  if (!out || read(PUBLIC_KEY_PATHS.armored) !== signer.publicArmored) return () => undefined;
  return (basis, text, signature) => (read(basis) === text ? read(signature) : undefined);
}

/**
 * The texts a signed tree adds: signatures, signed documents, SHA256SUMS, the public key.
 * `out`: the output being replaced, whose signatures of unchanged documents are kept (a rebuild
 * with nothing new signs nothing).
 */
export async function signTree(
  signer: SigningKey,
  plan: Plan,
  streams: Map<string, string>,
  updated: number,
  out?: string,
): Promise<{ texts: Map<string, string | Uint8Array>; made: number }> {
  const { texts, jobs } = planSignatures(plan, streams, updated);
  const basisText = (rel: string) => streams.get(rel) ?? texts.get(rel);
  const kept = reusable(out, signer);
  let made = 0;
  const signed = await mapLimit(jobs, 8, async (job) => {
    const old = kept(job.basis, basisText(job.basis) ?? '', job.path);
    if (old !== undefined) return old;
    made++;
    return job.form === 'clear' ? clearSign(signer, job.text, job.time) : detachSign(signer, job.text, job.time);
  });
  const result = new Map<string, string | Uint8Array>(texts);
  jobs.forEach((job, i) => {
    const r = signed[i]!;
    if (r.status === 'rejected') throw r.reason;
    result.set(job.path, r.value);
  });
  result.set(PUBLIC_KEY_PATHS.armored, signer.publicArmored);
  result.set(PUBLIC_KEY_PATHS.binary, signer.publicBinary);
  return { texts: result, made };
}
