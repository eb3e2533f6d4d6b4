// doctor's signature check: is the server signed, by which key (the caller's keyring, else the
// key the server publishes), does the chain from streams/v1/index.sjson verify throughout, and
// is the signed index the one clients read (a mirror that copied index.json and not index.sjson
// serves an older signed index).

import { PUBLIC_KEY_PATHS } from '../formats/catalog.js';
import { readKeyring, type Keyring } from '../signing/openpgp.js';
import { isSignedMessage, readSignedChain, sameJson, SIGNED_INDEX_PATH } from '../source/signed-chain.js';
import { parseJson } from '../util/json.js';
import type { Finding } from './doctor-checks.js';

type Get = (path: string) => Promise<{ status: number; body: string }>;

const updatedOf = (text: string | undefined): number => {
  try {
    const t = Date.parse(String((parseJson(text ?? '') as { updated?: unknown }).updated));
    return Number.isFinite(t) ? t : NaN;
  } catch {
    return NaN;
  }
};

export async function signatureFindings(get: Get, indexBody: string, given?: Keyring): Promise<Finding[]> {
  const findings: Finding[] = [];
  const check = 'signatures';
  const signed = await get(SIGNED_INDEX_PATH);
  // (a host that answers every unknown path with the catalogue page, as Cloudflare Pages does, is not signed)
  if (signed.status !== 200 || !isSignedMessage(signed.body)) {
    findings.push({
      severity: given ? 'error' : 'ok',
      check,
      message: `not signed (${SIGNED_INDEX_PATH} ${signed.status === 200 ? 'answers 200 with no signed message' : `answers ${signed.status}`})`,
      ...(given
        ? {
            why: 'a keyring was given: mirrors and auditors that check signatures refuse this server',
            fix: 'build with a signing key (--sign-key or STATICSTREAMS_SIGNING_KEY) and publish the whole output',
          }
        : {}),
    });
    return findings;
  }
  let keyring = given;
  if (!keyring) {
    const key = await get(PUBLIC_KEY_PATHS.armored);
    keyring =
      key.status === 200 && key.body.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')
        ? await readKeyring(Buffer.from(key.body), PUBLIC_KEY_PATHS.armored).catch(() => undefined)
        : undefined;
  }
  if (!keyring) {
    findings.push({
      severity: 'warning',
      check,
      message: `${SIGNED_INDEX_PATH} is there, but no --keyring was given and the server publishes no key (${PUBLIC_KEY_PATHS.armored})`,
      why: 'nobody can check the signatures without the public key',
      fix: 'publish the whole output folder (a signed build writes the public key), or run doctor with --keyring FILE',
    });
    return findings;
  }
  const chain = await readSignedChain(async (rel) => {
    const a = rel === SIGNED_INDEX_PATH ? signed : await get(rel);
    return a.status === 200 ? a.body : a.status === 404 ? null : Promise.reject(new Error(`${rel} answers ${a.status}`));
  }, keyring);
  const whose = given
    ? 'a key in --keyring'
    : `the server's own ${PUBLIC_KEY_PATHS.armored} (not trusted: run doctor with --keyring to check it is the publisher's)`;
  const bad = chain.problems.filter((p) => p.kind === 'bad');
  if (bad.length)
    for (const p of bad)
      findings.push({
        severity: 'error',
        check,
        message: `${p.where}: ${p.message}`,
        why: 'mirrors and auditors that check signatures refuse the server',
        fix: 'publish a whole signed build (every .sjson, .gpg and SHA256SUMS.asc with the indexes they sign), signed by the key you publish',
      });
  else if (chain.unsignedProducts.length)
    findings.push({
      severity: 'warning',
      check,
      message: `signed by ${chain.signer} (${whose}), but the signed index names unsigned products (${chain.unsignedProducts.join(', ')})`,
      why: "Canonical's sstream-query and sstream-mirror with a keyring stop there: the chain is not complete",
      fix: 'sign each products file as .sjson and name those in index.sjson (staticstreams build with a signing key does)',
    });
  else findings.push({ severity: 'ok', check, message: `signed by ${chain.signer} (${whose}); the chain from ${SIGNED_INDEX_PATH} verifies throughout` });
  // What clients read is what was signed: the index, and each products file. With a keyring
  // (the publisher's key) a difference is an error: whoever changed the unsigned files is not the
  // signer; without one it may be a partial upload, and is a warning.
  const severity = given ? 'error' : 'warning';
  const why = 'what clients read is not what was signed: changed on the host, or one was copied and not the other (a mirror, a partial upload)';
  if (chain.index && !sameJson(chain.index, indexBody)) {
    const s = updatedOf(chain.index);
    const u = updatedOf(indexBody);
    const older = Number.isFinite(s) && Number.isFinite(u) && s < u;
    findings.push({
      severity,
      check,
      message: older
        ? `streams/v1/index.json differs from what was signed: ${SIGNED_INDEX_PATH} is older (signed ${new Date(s).toISOString()}, served ${new Date(u).toISOString()})`
        : `streams/v1/index.json differs from what was signed (${SIGNED_INDEX_PATH})`,
      why,
      fix: 'publish the whole output of one build (or run the mirror again)',
    });
  }
  for (const [rel, payload] of chain.products) {
    const served = await get(rel).catch(() => ({ status: 0, body: '' }));
    if (served.status === 200 && sameJson(served.body, payload)) continue;
    findings.push({
      severity,
      check,
      message: `${rel} differs from what was signed (${rel.replace(/\.json$/, '.sjson')})${served.status === 200 ? '' : `: it answers ${served.status}`}`,
      why,
      fix: 'publish the whole output of one build (or run the mirror again)',
    });
  }
  return findings;
}
