// Reads a tree's signed chain as Canonical's `sstream-query --keyring` walks it: verify
// streams/v1/index.sjson, read its payload, follow each products path it names, verify each
// `.sjson` there, and keep the payloads — the documents the signer vouched for. A chain that
// names an unsigned `.json` (lxc-ci's shape) ends there; every problem is returned, never thrown.
// The caller decides what is fatal (verify, mirror's --signatures policy) and compares the
// payloads with the unsigned documents clients read.

import { acceptedIndexSchema } from '../simplestreams/schema.js';
import { INDEX_PATH } from '../render/streams.js';
import { jsonPathOf, sjsonPath } from '../simplestreams/signed.js';
import { verifyClear, type Keyring } from '../signing/openpgp.js';
import { parseJson } from '../util/json.js';

export interface ChainProblem {
  where: string;
  message: string;
  /** `unsigned-link`: the signed index names a document that is not signed (lxc-ci's shape). */
  kind: 'bad' | 'unsigned-link';
}

export interface SignedChain {
  /** False when the tree has no streams/v1/index.sjson. */
  signed: boolean;
  /** The primary fingerprint of the key that signed the index. */
  signer?: string;
  /** index.json's text as signed (its products paths back to `.json`), when the index verified. */
  index?: string;
  /** index.sjson's payload as signed. */
  indexPayload?: string;
  /** Products `.json` path → the payload of its verified `.sjson`. */
  products: Map<string, string>;
  /** Products `.json` paths the signed index names unsigned. */
  unsignedProducts: string[];
  problems: ChainProblem[];
}

export const SIGNED_INDEX_PATH = sjsonPath(INDEX_PATH);

/**
 * Whether a fetched index.sjson is one at all: hosts that answer every unknown path with a page
 * (Cloudflare Pages without a 404.html) serve HTML there for an unsigned tree.
 */
export const isSignedMessage = (text: string | null): text is string => text !== null && text.trimStart().startsWith('-----BEGIN PGP SIGNED MESSAGE-----');

/** `read`: a tree file's text, or null when it does not exist (throws on other failures). */
export async function readSignedChain(read: (rel: string) => Promise<string | null>, keyring: Keyring): Promise<SignedChain> {
  const chain: SignedChain = { signed: false, products: new Map(), unsignedProducts: [], problems: [] };
  const bad = (where: string, message: string) => chain.problems.push({ where, message, kind: 'bad' });
  const text = await read(SIGNED_INDEX_PATH);
  if (!isSignedMessage(text)) return chain;
  chain.signed = true;
  const index = await verifyClear(keyring, text);
  if (!index.ok) {
    bad(SIGNED_INDEX_PATH, index.problem);
    return chain;
  }
  chain.signer = index.signer;
  chain.indexPayload = index.payload!;
  let raw: unknown;
  let parsed;
  try {
    raw = parseJson(index.payload!);
    parsed = acceptedIndexSchema.safeParse(raw);
  } catch (e) {
    bad(SIGNED_INDEX_PATH, `its signed payload: ${(e as Error).message}`);
    return chain;
  }
  if (!parsed.success) {
    bad(SIGNED_INDEX_PATH, 'its signed payload is not a simplestreams index');
    return chain;
  }
  const paths = [...new Set(Object.values(parsed.data.index).map((e) => e.path))].sort();
  const unsigned = raw as { index: Record<string, { path: string }> };
  for (const e of Object.values(unsigned.index)) e.path = jsonPathOf(e.path);
  chain.index = JSON.stringify(unsigned);
  for (const rel of paths) {
    if (!rel.endsWith('.sjson')) {
      chain.unsignedProducts.push(rel);
      chain.problems.push({
        where: SIGNED_INDEX_PATH,
        message: `names the unsigned ${rel}: the signed chain ends there (sign it as ${sjsonPath(rel)} and name that in index.sjson)`,
        kind: 'unsigned-link',
      });
      continue;
    }
    if (rel.split('/').includes('..') || rel.startsWith('/')) {
      bad(SIGNED_INDEX_PATH, `names ${JSON.stringify(rel)}, outside the tree`);
      continue;
    }
    const signed = await read(rel);
    if (signed === null) {
      bad(rel, 'is named by index.sjson but not found');
      continue;
    }
    const products = await verifyClear(keyring, signed);
    if (!products.ok) bad(rel, products.problem);
    else chain.products.set(jsonPathOf(rel), products.payload!);
  }
  return chain;
}

/** The same JSON (parsed and written again in one form), or false; false when either is not JSON. */
export function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(parseJson(a)) === JSON.stringify(parseJson(b));
  } catch {
    return false;
  }
}
