// `--keyring FILE` for verify, mirror and doctor: the public keys to trust, read once.

import { readFile } from 'node:fs/promises';
import { UsageError } from '../util/errors.js';
import { readKeyring, type Keyring } from '../signing/openpgp.js';

export async function loadKeyring(file: string): Promise<Keyring> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new UsageError(
      `cannot read the keyring ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})\n  fix: give --keyring a file of public keys (gpg --export KEYID > keyring.gpg)`,
    );
  }
  return readKeyring(bytes, `the keyring ${file}`);
}
