// The signature part of `verify`: the signed chain from streams/v1/index.sjson (source/
// signed-chain), each signed document the same as the unsigned one clients read, the detached
// `.json.gpg` beside each, each version folder's SHA256SUMS against its `.asc` and the listed
// sha256, and LXC's index `.asc`. Checked against the keyring given, or else against the key the
// tree publishes (consistent, not trusted).

import { PUBLIC_KEY_PATHS } from '../formats/catalog.js';
import { isObject } from '../util/json.js';
import { INDEX_PATH } from '../render/streams.js';
import { LXC_INDEX_PATHS } from '../render/lxc.js';
import { CHECKSUMS, CHECKSUMS_SIGNATURE, detachedJsonSignature, parseChecksums, sjsonPath, versionFolder } from '../simplestreams/signed.js';
import { readKeyring, verifyDetached, type Keyring } from '../signing/openpgp.js';
import { isSignedMessage, readSignedChain, sameJson, SIGNED_INDEX_PATH } from '../source/signed-chain.js';
import type { TreeSource } from '../source/source.js';

import type { ReportedTree, TreeProblem } from '../source/tree.js';

export interface SignatureReport {
  /** Whether the tree has a signed index at all. */
  signed: boolean;
  /** The key that signed it, and whether that key came from the caller's keyring. */
  signer?: string;
  trusted: boolean;
  /** Every document of the chain signed (no unsigned link) and every check passed. */
  complete: boolean;
  problems: TreeProblem[];
}

async function bytesOf(source: TreeSource, rel: string, max = 16 * 2 ** 20): Promise<Uint8Array | null> {
  const body = await source.open(rel, max);
  if (!body) return null;
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) throw new Error(`${rel} is larger than ${max} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/** The tree's own published key, as a keyring (for a tree checked without --keyring). */
async function publishedKeyring(source: TreeSource): Promise<Keyring | null> {
  for (const rel of [PUBLIC_KEY_PATHS.binary, PUBLIC_KEY_PATHS.armored]) {
    const bytes = await bytesOf(source, rel, 1 << 20).catch(() => null);
    if (bytes) return readKeyring(bytes, rel).catch(() => null);
  }
  return null;
}

/**
 * `keyring`: the keys to trust (--keyring); without one the tree's published key is used.
 * `require`: an unsigned tree is an error (--require-signature).
 */
export async function checkSignatures(
  source: TreeSource,
  tree: Pick<ReportedTree, 'productsFiles' | 'indexText'>,
  opts: { keyring?: Keyring; require: boolean },
): Promise<SignatureReport> {
  const problems: TreeProblem[] = [];
  const err = (where: string, message: string) => problems.push({ severity: 'error', where, message });
  const warn = (where: string, message: string) => problems.push({ severity: 'warning', where, message });
  const report: SignatureReport = { signed: false, trusted: opts.keyring !== undefined, complete: false, problems };

  const keyring = opts.keyring ?? (await publishedKeyring(source));
  const present = isSignedMessage(await source.readText(SIGNED_INDEX_PATH).catch(() => null));
  if (!present) {
    if (opts.require || opts.keyring)
      err(SIGNED_INDEX_PATH, 'not found: the tree is not signed (fix: publish it with a signing key: --sign-key or STATICSTREAMS_SIGNING_KEY)');
    return report;
  }
  report.signed = true;
  if (!keyring) {
    // Another tool's signed tree (lxc-ci, Canonical's) publishes its key elsewhere: nothing to check it against.
    warn(SIGNED_INDEX_PATH, `signed, but not checked: no --keyring was given and the tree publishes no key (${PUBLIC_KEY_PATHS.binary}); give --keyring FILE`);
    return report;
  }

  const chain = await readSignedChain((rel) => source.readText(rel), keyring);
  if (chain.signer) report.signer = chain.signer;
  for (const p of chain.problems) err(p.where, p.message);
  // What the signer vouched for is what clients read.
  if (chain.index && !sameJson(chain.index, tree.indexText))
    err(
      SIGNED_INDEX_PATH,
      `its signed payload and ${INDEX_PATH} differ (another products file, or another time): clients read a document the signer did not sign (fix: sign the tree again)`,
    );
  for (const [rel, payload] of chain.products) {
    const unsigned = tree.productsFiles.get(rel)?.text ?? (await source.readText(rel).catch(() => null));
    if (unsigned === null) err(rel, `${sjsonPath(rel)} is signed but ${rel}, which clients read, is missing`);
    else if (!sameJson(payload, unsigned))
      err(sjsonPath(rel), `its signed payload and ${rel} differ: clients read products the signer did not sign (fix: sign the tree again)`);
  }

  // Detached signatures beside each document (optional; wrong when present is an error).
  const detached = [INDEX_PATH, ...tree.productsFiles.keys(), ...LXC_INDEX_PATHS];
  for (const rel of detached) {
    const sigPath = LXC_INDEX_PATHS.includes(rel as (typeof LXC_INDEX_PATHS)[number]) ? `${rel}.asc` : detachedJsonSignature(rel);
    const [data, sig] = await Promise.all([bytesOf(source, rel).catch(() => null), bytesOf(source, sigPath).catch(() => null)]);
    if (!data || !sig) continue;
    const checked = await verifyDetached(keyring, data, sig);
    if (!checked.ok) err(sigPath, checked.problem);
  }

  // Each version folder's SHA256SUMS: signed, and agreeing with what the products list.
  const folders = new Map<string, Map<string, string>>();
  for (const {
    products: { products },
  } of tree.productsFiles.values())
    for (const product of Object.values(products)) {
      const versions = isObject(product) && isObject(product.versions) ? product.versions : {};
      for (const version of Object.values(versions)) {
        const items = isObject(version) && isObject(version.items) ? Object.values(version.items).filter(isObject) : [];
        const listed = items.filter((i) => typeof i.path === 'string' && typeof i.sha256 === 'string') as { path: string; sha256: string }[];
        const folder = versionFolder(listed.map((i) => i.path));
        if (!folder || listed.length === 0) continue;
        const f = folders.get(folder) ?? new Map<string, string>();
        for (const i of listed) f.set(i.path.slice(folder.length + 1), i.sha256);
        folders.set(folder, f);
      }
    }
  let missingSums = 0;
  for (const [folder, listed] of [...folders].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const sumsPath = `${folder}/${CHECKSUMS}`;
    const [sums, sig] = await Promise.all([bytesOf(source, sumsPath).catch(() => null), bytesOf(source, `${folder}/${CHECKSUMS_SIGNATURE}`).catch(() => null)]);
    if (!sums) {
      missingSums++;
      continue;
    }
    if (!sig) err(sumsPath, `has no ${CHECKSUMS_SIGNATURE} beside it`);
    else {
      const checked = await verifyDetached(keyring, sums, sig);
      if (!checked.ok) err(`${folder}/${CHECKSUMS_SIGNATURE}`, checked.problem);
    }
    const parsed = parseChecksums(Buffer.from(sums).toString('utf8'));
    if (parsed.problem) err(sumsPath, parsed.problem);
    const named = new Map(parsed.entries.map((e) => [e.name, e.sha256]));
    for (const [name, sha256] of listed) {
      const there = named.get(name);
      if (there === undefined) warn(sumsPath, `does not list ${name}, which the products list`);
      else if (there !== sha256) err(sumsPath, `gives ${name} the sha256 ${there}; the signed products list ${sha256}`);
    }
  }
  if (missingSums) warn(SIGNED_INDEX_PATH, `${missingSums} of ${folders.size} version folders have no ${CHECKSUMS}`);
  report.complete = !problems.some((p) => p.severity === 'error') && chain.unsignedProducts.length === 0;
  return report;
}
