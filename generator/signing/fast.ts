// Signing at the speed of node:crypto for the usual keys (Ed25519, in either of its OpenPGP forms,
// and RSA): openpgp.js spends ~0.4 ms a signature importing the key into WebCrypto and on
// streams, where the signature itself is a hash and ~50 µs of node:crypto. The signature packet
// is the one openpgp.js makes, byte for byte: its hashed part comes from a signature openpgp.js
// made with the same key (only the creation time and the type differ from one document to the
// next), and before any is used, this way's signature of a sample in both forms must equal
// openpgp.js's own. Any other key, or a document another subkey would sign, goes to openpgp.js.

import { createHash, createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto';

type OpenPgp = typeof import('openpgp');
type PrivateKey = import('openpgp').PrivateKey;
type KeyPacket = Awaited<ReturnType<PrivateKey['getSigningKey']>>['keyPacket'];

/** OpenPGP's public-key algorithm numbers handled here. */
const RSA = 1;
const EDDSA_LEGACY = 22;
const ED25519 = 27;
/** node:crypto's names of OpenPGP's hash algorithm numbers. */
const HASHES: Record<number, string> = { 8: 'sha256', 9: 'sha384', 10: 'sha512', 11: 'sha224' };

export type SignForm = 'clear' | 'detached';
/** Signs `text` in `form` at `date`: the armored text openpgp.js would make. */
export type FastSign = (text: string, form: SignForm, date: Date) => Promise<string>;

/** A big-endian integer as an OpenPGP MPI: its bit length, then its bytes without leading zeros. */
function mpi(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const stripped = bytes.subarray(i);
  const bits = (stripped.length - 1) * 8 + (32 - Math.clz32(stripped[0]!));
  return Buffer.concat([Buffer.from([bits >> 8, bits & 0xff]), stripped]);
}

/** A new-format packet header of tag 2 (a signature) for a body of `length` bytes. */
function signatureHeader(length: number): Buffer {
  if (length < 192) return Buffer.from([0xc2, length]);
  if (length < 8384) return Buffer.from([0xc2, ((length - 192) >> 8) + 192, (length - 192) & 0xff]);
  const b = Buffer.alloc(6);
  b[0] = 0xc2;
  b[1] = 0xff;
  b.writeUInt32BE(length, 2);
  return b;
}

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** The key packet's secret as a node:crypto key, and how a digest becomes the signature's fields. */
function nodeKey(packet: KeyPacket, hash: string): ((toHash: Buffer, digest: Buffer) => Buffer) | undefined {
  const pub = packet.publicParams as Record<string, Uint8Array | undefined>;
  const priv = (packet as unknown as { privateParams?: Record<string, Uint8Array | undefined> | null }).privateParams;
  if (!priv) return undefined;
  let key: KeyObject;
  if (packet.algorithm === ED25519 || packet.algorithm === EDDSA_LEGACY) {
    const x = packet.algorithm === ED25519 ? pub.A : pub.Q?.subarray(1); // (Q: 0x40, then the point)
    const seed = priv.seed;
    if (!x || x.length !== 32 || seed?.length !== 32) return undefined;
    key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: b64url(x) }, format: 'jwk' });
    // EdDSA signs the digest; Ed25519's 64 bytes as they are, the legacy form's as two MPIs.
    return packet.algorithm === ED25519
      ? (_, digest) => cryptoSign(null, digest, key)
      : (_, digest) => {
          const s = cryptoSign(null, digest, key);
          return Buffer.concat([mpi(s.subarray(0, 32)), mpi(s.subarray(32))]);
        };
  }
  if (packet.algorithm === RSA) {
    const { n, e } = pub;
    const { d, p, q, u } = priv;
    if (!n || !e || !d || !p || !q || !u) return undefined;
    const big = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
    const bytes = (v: bigint) => {
      const hex = v.toString(16);
      return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
    };
    // OpenPGP's u is p⁻¹ mod q; JWK's qi is q⁻¹ mod p: the primes swap places.
    const [P, Q, D] = [big(q), big(p), big(d)];
    key = createPrivateKey({
      key: {
        kty: 'RSA',
        n: b64url(n),
        e: b64url(e),
        d: b64url(d),
        p: b64url(bytes(P)),
        q: b64url(bytes(Q)),
        dp: b64url(bytes(D % (P - 1n))),
        dq: b64url(bytes(D % (Q - 1n))),
        qi: b64url(u),
      },
      format: 'jwk',
    });
    return (toHash) => mpi(cryptoSign(hash, toHash, key));
  }
  return undefined;
}

/** Where the creation time's four bytes are in a v4 signature's hashed part, if it has one. */
function creationTimeAt(hashed: Uint8Array): number | undefined {
  let i = 6; // version, type, public-key algorithm, hash algorithm, hashed subpackets' length (2)
  const end = 6 + ((hashed[4]! << 8) | hashed[5]!);
  while (i < end) {
    const first = hashed[i]!;
    let length: number;
    if (first < 192) [length, i] = [first, i + 1];
    else if (first < 255) [length, i] = [((first - 192) << 8) + hashed[i + 1]! + 192, i + 2];
    else [length, i] = [Buffer.from(hashed.subarray(i + 1, i + 5)).readUInt32BE(0), i + 5];
    if ((hashed[i]! & 0x7f) === 2 && length === 5) return i + 1;
    i += length;
  }
  return undefined;
}

interface Template {
  packet: KeyPacket;
  /** The hashed part of a signature by this key packet (version 4), its creation time at `timeAt`. */
  hashed: Buffer;
  timeAt: number;
  hashName: string;
  signFields: (toHash: Buffer, digest: Buffer) => Buffer;
}

/**
 * A fast signer for `key`, or undefined when its signing key is of another kind, or when this
 * way's signatures of a sample (`sample` date) are not openpgp.js's own, byte for byte.
 */
export async function fastSigner(pgp: OpenPgp, key: PrivateKey, sample: Date, config: Partial<OpenPgp['config']>): Promise<FastSign | undefined> {
  const fullConfig = { ...pgp.config, ...config };
  const packet = (await key.getSigningKey(undefined, sample)).keyPacket;
  if (packet.version !== 4) return undefined;
  const text = 'staticstreams signing self-test\n- a dashed line  \nthe end';
  const reference = await pgp.readSignature({
    armoredSignature: await pgp.sign({
      message: await pgp.createMessage({ binary: Buffer.from(text) }),
      signingKeys: key,
      date: sample,
      detached: true,
      config,
    }),
  });
  const sig = reference.packets[0] as unknown as { signatureData: Uint8Array; hashAlgorithm: number; version: number };
  const hashName = HASHES[sig.hashAlgorithm];
  if (sig.version !== 4 || !hashName) return undefined;
  const hashed = Buffer.from(sig.signatureData);
  const timeAt = creationTimeAt(hashed);
  const signFields = nodeKey(packet, hashName);
  if (timeAt === undefined || !signFields) return undefined;
  const template: Template = { packet, hashed, timeAt, hashName, signFields };

  const signHere: FastSign = async (doc, form, date) => {
    // Another key packet would sign at this date (a subkey added or expired): openpgp.js decides.
    if ((await key.getSigningKey(undefined, date)).keyPacket !== template.packet) return openpgpSign(pgp, key, doc, form, date, config);
    const hashedPart = Buffer.from(template.hashed);
    hashedPart[1] = form === 'clear' ? 0x01 : 0x00; // a canonical text, or the bytes as they are
    hashedPart.writeUInt32BE(Math.floor(date.getTime() / 1000), template.timeAt);
    const clearText = form === 'clear' ? canonicalText(doc) : undefined;
    const data = Buffer.from(clearText ?? doc, 'utf8');
    const trailer = Buffer.alloc(6);
    trailer[0] = 4;
    trailer[1] = 0xff;
    trailer.writeUInt32BE(hashedPart.length, 2);
    const toHash = Buffer.concat([data, hashedPart, trailer]);
    const digest = createHash(template.hashName).update(toHash).digest();
    const body = Buffer.concat([hashedPart, Buffer.from([0, 0]), digest.subarray(0, 2), template.signFields(toHash, digest)]);
    const packetBytes = Buffer.concat([signatureHeader(body.length), body]);
    return clearText === undefined
      ? pgp.armor(pgp.enums.armor.signature, packetBytes, undefined, undefined, undefined, true, fullConfig)
      : pgp.armor(
          pgp.enums.armor.signed,
          { hash: template.hashName.toUpperCase(), text: clearText, data: packetBytes },
          undefined,
          undefined,
          undefined,
          true,
          fullConfig,
        );
  };
  // Used only when it makes what openpgp.js makes, in both forms.
  for (const form of ['detached', 'clear'] as const)
    if ((await signHere(text, form, sample)) !== (await openpgpSign(pgp, key, text, form, sample, config))) return undefined;
  return signHere;
}

/** The text a cleartext signature signs and shows: trailing blanks off each line, CR LF line ends (as openpgp.js's CleartextMessage). */
function canonicalText(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/[ \t\r]+$/, ''))
    .join('\n')
    .replace(/\r?\n/g, '\r\n');
}

/** openpgp.js's own signature of `text`. */
export async function openpgpSign(
  pgp: OpenPgp,
  key: PrivateKey,
  text: string,
  form: SignForm,
  date: Date,
  config: Partial<OpenPgp['config']>,
): Promise<string> {
  if (form === 'clear') return pgp.sign({ message: await pgp.createCleartextMessage({ text }), signingKeys: key, date, config });
  return pgp.sign({ message: await pgp.createMessage({ binary: Buffer.from(text) }), signingKeys: key, date, detached: true, config });
}
