// The signing stage of a build: the key read and checked before anything is written, then the
// signed forms of the rendered tree (render/signatures.ts says what; signing/ signs) and the
// public key, as texts the publish stage writes with the streams.

import { readFile } from 'node:fs/promises';
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

/** The texts a signed tree adds: signatures, signed documents, SHA256SUMS, the public key. */
export async function signTree(signer: SigningKey, plan: Plan, streams: Map<string, string>, updated: number): Promise<Map<string, string | Uint8Array>> {
  const { texts, jobs } = planSignatures(plan, streams, updated);
  const signed = await mapLimit(jobs, 8, (job) => (job.form === 'clear' ? clearSign(signer, job.text, job.time) : detachSign(signer, job.text, job.time)));
  const out = new Map<string, string | Uint8Array>(texts);
  jobs.forEach((job, i) => {
    const r = signed[i]!;
    if (r.status === 'rejected') throw r.reason;
    out.set(job.path, r.value);
  });
  out.set(PUBLIC_KEY_PATHS.armored, signer.publicArmored);
  out.set(PUBLIC_KEY_PATHS.binary, signer.publicBinary);
  return out;
}
