// signing/fast.ts: for Ed25519 (both OpenPGP forms) and RSA keys, node:crypto's signatures are
// openpgp.js's own, byte for byte, in both forms (clear-signed and detached), for texts with dashed
// lines, trailing blanks, CR LF, non-ASCII and no final newline, at several dates; other keys
// (ECDSA) are left to openpgp.js. (gpgv reads what either makes: test/integration/signing.test.ts.)

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as pgp from 'openpgp';
import { fastSigner } from '../../generator/signing/fast.js';
import { clearSign, detachSign, documentSigner, loadSigningKey, readKeyring, verifyClear, verifyDetached } from '../../generator/signing/openpgp.js';

const NOW = new Date();
const TEXTS = [
  '{\n  "format": "products:1.0"\n}\n',
  'a line\n- a dashed line\n-- and another  \n\ttabbed \t\nno final newline',
  'crlf\r\nlines\r\n',
  'ünïcödé ✓\n',
  'x'.repeat(20_000),
];
const KEYS = [
  { name: 'Ed25519 (RFC 9580)', options: { type: 'curve25519' as const }, fast: true },
  { name: 'Ed25519 (legacy EdDSA, what gpg makes)', options: { type: 'ecc' as const, curve: 'ed25519Legacy' as const }, fast: true },
  { name: 'RSA 2048', options: { type: 'rsa' as const, rsaBits: 2048 }, fast: true },
  { name: 'ECDSA P-256', options: { type: 'ecc' as const, curve: 'nistP256' as const }, fast: false },
];

describe('signing at node:crypto speed, as openpgp.js signs', () => {
  for (const k of KEYS) {
    it(`${k.name}: ${k.fast ? 'the same bytes as openpgp.js, in both forms' : 'left to openpgp.js'}`, async () => {
      const { privateKey } = await pgp.generateKey({
        userIDs: [{ name: 'Test', email: 'test@example.org' }],
        date: new Date(NOW.getTime() - 86_400_000),
        format: 'armored',
        ...k.options,
      });
      const key = await loadSigningKey(privateKey, undefined, NOW, 'the test key');
      const sample = Math.floor(NOW.getTime() / 1000) - 3600;
      assert.equal((await fastSigner(pgp, key.key, new Date(sample * 1000), { nonDeterministicSignaturesViaNotation: false })) !== undefined, k.fast);
      const sign = await documentSigner(key, sample);
      if (!k.fast) {
        // (ECDSA signatures differ on each run: this one is checked, not compared)
        const keyring = await readKeyring(key.publicBinary, 'the test key');
        assert.equal((await verifyDetached(keyring, Buffer.from(TEXTS[0]!), Buffer.from(await sign(TEXTS[0]!, 'detached', sample)))).ok, true);
        assert.equal((await verifyClear(keyring, await sign(TEXTS[0]!, 'clear', sample))).ok, true);
        return;
      }
      for (const text of TEXTS)
        for (const time of [sample, sample - 1800, sample + 7]) {
          assert.equal(await sign(text, 'detached', time), await detachSign(key, text, time), `detached, ${JSON.stringify(text.slice(0, 30))} at ${time}`);
          assert.equal(await sign(text, 'clear', time), await clearSign(key, text, time), `clear, ${JSON.stringify(text.slice(0, 30))} at ${time}`);
        }
    });
  }
});
