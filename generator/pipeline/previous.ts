// The previous tree a build publishes on top of (`--previous`, `prune`, a mirror's or promote's
// own output), read and held to what it promised: a private tree stays private (its recorded
// auth), a signed tree stays signed (a key, or --unsigned said out loud) and is read only as its
// signer signed it (its unsigned index and products files the same as the signed payloads, signed
// by this build's key or one given with --keyring), another tool's tree only when clients can use
// all of it.

import path from 'node:path';
import type { Reporter } from '../util/reporter.js';
import { BuildError, BuildFailed, UsageError } from '../util/errors.js';
import { openTreeSource, type TreeSource } from '../source/source.js';
import { readPublished, type PublishedTree } from '../source/published.js';
import { isSignedMessage, readSignedChain, sameJson, SIGNED_INDEX_PATH } from '../source/signed-chain.js';
import { INDEX_PATH } from '../render/streams.js';
import { readKeyring, type Keyring, type SigningKey } from '../signing/openpgp.js';
import type { Settings } from '../config/settings.js';
import { withoutCredentials } from '../util/url.js';
import { recordedAuth } from '../formats/state.js';

export interface PreviousTrust {
  /** The key this build signs with. */
  signer?: SigningKey;
  /** Other keys the previous tree may be signed by (--keyring: the old key of a rotation). */
  keyring?: Keyring;
  /** Publish unsigned even on top of a signed tree (--unsigned). */
  unsigned?: boolean;
}

/** Reads `spec` and holds it to its promises; `out`: the output being replaced (its files are linked, not downloaded). */
export async function readPrevious(
  spec: string,
  out: string,
  settings: Settings,
  trust: PreviousTrust,
  reporter: Reporter,
  /** The tree already open (a bucket's live tree); `spec` then only names it (its public URL). */
  source?: TreeSource,
): Promise<PublishedTree> {
  const label = withoutCredentials(spec);
  reporter.phase(`reading the previous tree ${source?.label ?? label}`);
  const previous = await readPublished(source ?? openTreeSource(spec, { reuse: [path.resolve(out)] }));
  const auth = recordedAuth(previous.state);
  if (auth && !settings.htpasswd)
    throw new UsageError(
      `the previous tree ${label} is private (its staticstreams-state.json records auth.htpasswd ${auth.htpasswd}), and this build has no users: it would publish the tree to anyone\n` +
        `  fix: give its users with auth.htpasswd in staticstreams.yaml (htpasswd -B), as it was built`,
    );
  await checkSigned(previous, label, trust, reporter);
  if (previous.foreign) await checkForeign(spec, label, reporter);
  return previous;
}

/** A signed previous tree: a key to keep it signed, and its unsigned documents the signed ones. */
async function checkSigned(previous: PublishedTree, label: string, trust: PreviousTrust, reporter: Reporter): Promise<void> {
  const read = (rel: string) => previous.source.readText(rel).catch(() => null);
  if (!isSignedMessage(await read(SIGNED_INDEX_PATH))) return;
  if (!trust.signer) {
    const message = `the previous tree ${label} is signed (${SIGNED_INDEX_PATH}), and this build has no signing key: the tree it publishes would not be signed`;
    if (trust.unsigned) return reporter.warn(`${message} (--unsigned)`);
    throw new UsageError(`${message}\n  fix: give the key: --sign-key FILE or STATICSTREAMS_SIGNING_KEY (or --unsigned to publish it unsigned on purpose)`);
  }
  // Read as its signer signed it: whoever can change files on the host must not get their
  // additions carried over and signed again by this build.
  const own = await readKeyring(trust.signer.publicBinary, 'the signing key');
  const keyring: Keyring = {
    keys: [...own.keys, ...(trust.keyring?.keys ?? [])],
    fingerprints: [...own.fingerprints, ...(trust.keyring?.fingerprints ?? [])],
  };
  const chain = await readSignedChain(read, keyring);
  const recorded = previous.catalog?.signing?.fingerprint;
  const fix = (problem: string) =>
    /not in the keyring/.test(problem)
      ? `it was signed by another key${recorded ? ` (its catalog.json names ${recorded})` : ''}: to carry it over under this build's key (a key's rotation), give that key's public key with --keyring FILE`
      : 'the tree is not what its signer published (changed on the host?): republish it from a trusted build, or publish without --previous';
  const problems = chain.problems.map(
    (p) =>
      new BuildError(
        `${label}/${p.where}: ${p.message}`,
        p.kind === 'unsigned-link' ? 'sign its products files (rebuild it with the key), or publish without --previous' : fix(p.message),
      ),
  );
  if (chain.index !== undefined) {
    const indexText = await read(INDEX_PATH);
    if (indexText === null || !sameJson(indexText, chain.index))
      problems.push(new BuildError(`${label}/${INDEX_PATH}: differs from what ${chain.signer} signed (${SIGNED_INDEX_PATH})`, fix('')));
    for (const [rel, payload] of chain.products) {
      const text = await read(rel);
      if (text === null || !sameJson(text, payload))
        problems.push(new BuildError(`${label}/${rel}: differs from what ${chain.signer} signed (${rel.replace(/\.json$/, '.sjson')})`, fix('')));
    }
  }
  if (problems.length) throw problems.length === 1 ? problems[0]! : new BuildFailed(problems);
}

/**
 * Another tool's tree is carried over only when clients can use all of it: every listed file
 * there with its size and sha256, every combined fingerprint right. Only on the first build (the
 * tree has no catalog.json of ours yet): later builds trust what we published.
 */
async function checkForeign(spec: string, label: string, reporter: Reporter): Promise<void> {
  reporter.phase(`checking the tree to carry over (${label}) as clients would`);
  // Loaded only when needed: a plain build starts faster.
  const { verifyTree } = await import('../inspect/verify.js');
  const report = await verifyTree(spec, { quick: true, signatures: false });
  const errors = report.problems.filter((p) => p.severity === 'error');
  if (errors.length) {
    throw new BuildFailed(
      errors.map(
        (p) =>
          new BuildError(
            `${label}: ${p.where}: ${p.message}`,
            'clients cannot use this image either: remove it from that tree (incus-simplestreams remove FINGERPRINT, or delete its version from the products file) or add it again with the tool that made it, then build again',
          ),
      ),
    );
  }
}
