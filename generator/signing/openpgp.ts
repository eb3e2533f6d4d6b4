// OpenPGP signing and checking with openpgp.js (no gpg binary): reading the signing key a CI
// secret holds, clear-signing and detached-signing texts deterministically (no random notation;
// EdDSA and RSA signatures depend only on the key, the text and the time), reading keyrings
// (armored or binary, as `gpg --export` writes them) and checking signatures against them.
// openpgp.js is loaded only when a tree is signed or checked.

import { UsageError } from '../util/errors.js';
import { fastSigner, openpgpSign, type SignForm } from './fast.js';

type OpenPgp = typeof import('openpgp');
type PrivateKey = import('openpgp').PrivateKey;
type Key = import('openpgp').Key;

let loaded: Promise<OpenPgp> | undefined;
const openpgp = () => (loaded ??= import('openpgp'));

/** No random salt notation: the same key, text and time give the same signature. */
const DETERMINISTIC = { nonDeterministicSignaturesViaNotation: false } as const;

export interface SigningKey {
  key: PrivateKey;
  /** The primary key's fingerprint, upper-case hex (as gpg prints it). */
  fingerprint: string;
  userIds: string[];
  /** The first moment the key (its signing key and self-signatures) is valid: no signature is older. */
  validFrom: Date;
  /** The public key, armored and binary (what `gpgv --keyring` reads). */
  publicArmored: string;
  publicBinary: Uint8Array;
  /** False for key types whose signatures differ on each run (DSA, ECDSA, v6 keys' salted signatures). */
  deterministic: boolean;
}

const upper = (fp: string) => fp.toUpperCase();

/**
 * Reads an armored (or binary) secret key and unlocks it. `where` names it in errors ("the key in
 * STATICSTREAMS_SIGNING_KEY"); every error is a UsageError (exit 2) that never quotes the key.
 */
export async function loadSigningKey(data: string | Uint8Array, passphrase: string | undefined, now: Date, where: string): Promise<SigningKey> {
  const pgp = await openpgp();
  let key: PrivateKey;
  try {
    key =
      typeof data === 'string' && data.includes('-----BEGIN PGP')
        ? await pgp.readPrivateKey({ armoredKey: data })
        : await pgp.readPrivateKey({ binaryKey: Buffer.from(data) });
  } catch {
    throw new UsageError(
      `${where} is not an OpenPGP secret key\n  fix: export one with \`gpg --armor --export-secret-keys KEYID\` (the whole text, from -----BEGIN PGP PRIVATE KEY BLOCK----- to its END line)`,
    );
  }
  if (!key.isDecrypted()) {
    if (passphrase === undefined) throw new UsageError(`${where} is locked with a passphrase\n  fix: give the passphrase in STATICSTREAMS_SIGNING_PASSPHRASE`);
    try {
      key = await pgp.decryptKey({ privateKey: key, passphrase });
    } catch {
      throw new UsageError(`${where}: the passphrase in STATICSTREAMS_SIGNING_PASSPHRASE does not unlock it\n  fix: give the key's passphrase`);
    }
  }
  const fingerprint = upper(key.getFingerprint());
  if (await key.isRevoked(undefined, undefined, now))
    throw new UsageError(`${where}: the key ${fingerprint} is revoked\n  fix: sign with a key that is not revoked (and publish its public key)`);
  const expires = await key.getExpirationTime();
  if (expires instanceof Date && expires.getTime() <= now.getTime())
    throw new UsageError(
      `${where}: the key ${fingerprint} expired on ${expires.toISOString()}\n  fix: extend it (\`gpg --quick-set-expire ${fingerprint} 1y\`) and export it again`,
    );
  const times = [
    key.getCreationTime(),
    ...key.users.flatMap((u) => u.selfCertifications.map((s) => s.created)),
    ...key.subkeys.flatMap((s) => [s.getCreationTime(), ...s.bindingSignatures.map((b) => b.created)]),
  ].filter((d): d is Date => d instanceof Date);
  // The first moment every self-signature exists (a --now before the key was made signs as of then).
  const validFrom = new Date(Math.max(...times.map((d) => d.getTime())));
  const at = new Date(Math.max(now.getTime(), validFrom.getTime()));
  let signing: Awaited<ReturnType<PrivateKey['getSigningKey']>>;
  try {
    signing = await key.getSigningKey(undefined, at);
  } catch (e) {
    throw new UsageError(
      `${where}: the key ${fingerprint} has no key valid for signing (${(e as Error).message})\n  fix: add a signing subkey or extend the key`,
    );
  }
  const algorithm = signing.getAlgorithmInfo().algorithm;
  const pub = key.toPublic();
  return {
    key,
    fingerprint,
    userIds: key.getUserIDs(),
    validFrom,
    publicArmored: pub.armor(),
    publicBinary: pub.write(),
    deterministic: signing.keyPacket.version < 6 && !['dsa', 'ecdsa'].includes(algorithm),
  };
}

/** What signing needs of a key: the unlocked key and its first valid moment. */
type Signer = Pick<SigningKey, 'key' | 'validFrom'>;

/** An unlocked key read again from its armor (on a signing worker: signing/sign-pool.ts). */
export async function unlockedKey(armored: string, validFrom: Date): Promise<Signer> {
  const pgp = await openpgp();
  return { key: await pgp.readPrivateKey({ armoredKey: armored }), validFrom };
}

/** The signature's time: the document's own, or the key's first valid moment when that is later. */
function signingDate(key: Signer, time: number): Date {
  return new Date(Math.max(time * 1000, key.validFrom.getTime()));
}

/** `text` clear-signed (the `.sjson` form). */
export async function clearSign(key: Signer, text: string, time: number): Promise<string> {
  return openpgpSign(await openpgp(), key.key, text, 'clear', signingDate(key, time), DETERMINISTIC);
}

/** An armored detached signature of `text`'s bytes (what `gpg --armor --detach-sign` writes). */
export async function detachSign(key: Signer, text: string, time: number): Promise<string> {
  return openpgpSign(await openpgp(), key.key, text, 'detached', signingDate(key, time), DETERMINISTIC);
}

/** Signs one document after another with `key`: `text` in `form`, dated `time` (epoch seconds). */
export type DocumentSigner = (text: string, form: SignForm, time: number) => Promise<string>;

/**
 * A signer for many documents: at node:crypto's speed where signing/fast.ts can sign as
 * openpgp.js does (checked on a sample dated `sampleTime`), else openpgp.js's.
 */
export async function documentSigner(key: Signer, sampleTime: number): Promise<DocumentSigner> {
  const pgp = await openpgp();
  const fast = await fastSigner(pgp, key.key, signingDate(key, sampleTime), DETERMINISTIC);
  return fast
    ? (text, form, time) => fast(text, form, signingDate(key, time))
    : (text, form, time) => openpgpSign(pgp, key.key, text, form, signingDate(key, time), DETERMINISTIC);
}

/** A keyring: the public keys to trust. */
export interface Keyring {
  keys: Key[];
  fingerprints: string[];
}

/** Reads public keys from a file's bytes, armored or binary (one or several keys). */
export async function readKeyring(bytes: Uint8Array, where: string): Promise<Keyring> {
  const pgp = await openpgp();
  const text = Buffer.from(bytes).toString('latin1');
  let keys: Key[];
  try {
    keys = text.includes('-----BEGIN PGP')
      ? await pgp.readKeys({ armoredKeys: Buffer.from(bytes).toString('utf8') })
      : await pgp.readKeys({ binaryKeys: bytes });
  } catch {
    throw new UsageError(
      `${where} holds no OpenPGP public key\n  fix: give a key exported with \`gpg --export KEYID > keyring.gpg\` (or --armor); a GnuPG keybox (pubring.kbx) is not read`,
    );
  }
  return { keys: keys.map((k) => k.toPublic()), fingerprints: keys.map((k) => upper(k.getFingerprint())) };
}

/** The verdict on one signature: the signer's primary fingerprint, or what is wrong. */
export type Checked = { ok: true; signer: string; created: Date } | { ok: false; problem: string };

async function verdict(
  keyring: Keyring,
  signatures: { keyID: { toHex(): string }; verified: Promise<boolean>; signature: Promise<{ packets: { created: Date | null }[] }> }[],
): Promise<Checked> {
  if (signatures.length === 0) return { ok: false, problem: 'it holds no signature' };
  let last: Checked = { ok: false, problem: 'no signature by a key in the keyring' };
  for (const s of signatures) {
    const id = s.keyID.toHex().toUpperCase();
    const signer = keyring.keys.find((k) => k.getKeys().some((sub) => sub.getKeyID().toHex().toUpperCase() === id));
    if (!signer) {
      last = { ok: false, problem: `signed by the key ${id}, which is not in the keyring` };
      continue;
    }
    try {
      await s.verified;
      const sig = await s.signature;
      return { ok: true, signer: upper(signer.getFingerprint()), created: sig.packets[0]?.created ?? new Date(0) };
    } catch (e) {
      return { ok: false, problem: `the signature by ${upper(signer.getFingerprint())} does not match (${(e as Error).message.split('\n')[0]})` };
    }
  }
  return last;
}

/**
 * The most signature packets a document may carry: a publisher signs with one key, or a few
 * during a rotation. Each packet costs a pass over the text, and a copy of a public signature
 * needs no key: a document with thousands is refused before any is checked.
 */
export const MAX_SIGNATURE_PACKETS = 8;

/** Counts the signature packets (tag 2) of binary OpenPGP data; undefined when it does not parse. */
function signaturePackets(bytes: Uint8Array): number | undefined {
  let count = 0;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (!(b & 0x80)) return undefined;
    let tag: number;
    let length: number;
    if (b & 0x40) {
      tag = b & 0x3f;
      const l1 = bytes[i + 1];
      if (l1 === undefined) return undefined;
      if (l1 < 192) [length, i] = [l1, i + 2];
      else if (l1 < 224) [length, i] = [((l1 - 192) << 8) + (bytes[i + 2] ?? 0) + 192, i + 3];
      else if (l1 === 255) [length, i] = [Buffer.from(bytes.subarray(i + 2, i + 6)).readUInt32BE(0), i + 6];
      else return undefined; // partial lengths: no signature packet uses them
    } else {
      tag = (b >> 2) & 0x0f;
      const size = [1, 2, 4][b & 3];
      if (size === undefined) return undefined; // indeterminate length
      length = 0;
      for (let k = 1; k <= size; k++) length = length * 256 + (bytes[i + k] ?? 0);
      i += 1 + size;
    }
    if (tag === 2) count++;
    i += length;
  }
  return count;
}

/** The binary body of the first armored block of `type` in `text` (its checksum line left out). */
function armoredBody(text: string, type: string): Uint8Array | undefined {
  const begin = text.indexOf(`-----BEGIN PGP ${type}-----`);
  if (begin < 0) return undefined;
  const end = text.indexOf(`-----END PGP ${type}-----`, begin);
  if (end < 0) return undefined;
  const lines = text.slice(begin, end).split(/\r?\n/).slice(1);
  const blank = lines.findIndex((l) => l.trim() === '');
  const body = lines.slice(blank + 1).filter((l) => !l.startsWith('='));
  return Buffer.from(body.join(''), 'base64');
}

/** Refuses a signature block with more than MAX_SIGNATURE_PACKETS signatures, before any is checked. */
function tooManySignatures(bytes: Uint8Array | undefined): Checked | undefined {
  const n = bytes && signaturePackets(bytes);
  return n !== undefined && n > MAX_SIGNATURE_PACKETS
    ? { ok: false, problem: `it carries ${n} signature packets (more than ${MAX_SIGNATURE_PACKETS}): refused before checking any` }
    : undefined;
}

/** Checks a clear-signed text; returns the verdict and the signed payload (as signed, not as shown). */
export async function verifyClear(keyring: Keyring, signed: string): Promise<Checked & { payload?: string }> {
  const many = tooManySignatures(armoredBody(signed, 'SIGNATURE'));
  if (many) return many;
  const pgp = await openpgp();
  let message;
  try {
    message = await pgp.readCleartextMessage({ cleartextMessage: signed });
  } catch {
    return { ok: false, problem: 'it is not a clear-signed OpenPGP message' };
  }
  const result = await pgp.verify({ message, verificationKeys: keyring.keys, expectSigned: false });
  const checked = await verdict(keyring, result.signatures);
  return checked.ok ? { ...checked, payload: message.getText() } : checked;
}

/** Checks a detached signature (armored or binary) of `data`. */
export async function verifyDetached(keyring: Keyring, data: Uint8Array, signature: Uint8Array): Promise<Checked> {
  const latin1 = Buffer.from(signature).toString('latin1');
  const many = tooManySignatures(latin1.includes('-----BEGIN PGP SIGNATURE') ? armoredBody(latin1, 'SIGNATURE') : signature);
  if (many) return many;
  const pgp = await openpgp();
  let sig;
  try {
    const text = Buffer.from(signature).toString('latin1');
    sig = text.includes('-----BEGIN PGP SIGNATURE')
      ? await pgp.readSignature({ armoredSignature: text })
      : await pgp.readSignature({ binarySignature: signature });
  } catch {
    return { ok: false, problem: 'it is not an OpenPGP signature' };
  }
  const message = await pgp.createMessage({ binary: data });
  const result = await pgp.verify({ message, signature: sig, verificationKeys: keyring.keys, expectSigned: false });
  return verdict(keyring, result.signatures);
}
