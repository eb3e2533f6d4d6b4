// OpenPGP keys made the way a publisher makes them (real gpg, in a throw-away GNUPGHOME), and the
// real gpgv that checks what a tree signs: the tests never sign or verify with our own code alone.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestKey {
  /** `gpg --armor --export-secret-keys`: what a CI secret holds. */
  secret: string;
  /** A binary keyring of the public key (`gpg --export`), for gpgv and --keyring. */
  keyring: string;
  /** The armored public key. */
  publicArmored: string;
  fingerprint: string;
  home: string;
}

/**
 * A new key: `algo` as gpg's --quick-gen-key names it (ed25519, rsa3072, …), `expire` (`never`,
 * `1d`, …), `passphrase` to lock the exported secret key. The folder is removed with `cleanup`.
 */
export function makeKey(dir: string, opts: { name?: string; algo?: string; expire?: string; passphrase?: string } = {}): TestKey {
  const home = mkdtempSync(path.join(os.tmpdir(), 'ss-gpg-'));
  const name = opts.name ?? 'Test Signer <signer@example.org>';
  const gpg = (args: string[], input?: string) =>
    execFileSync('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', opts.passphrase ?? '', ...args], {
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  gpg(['--quick-gen-key', name, opts.algo ?? 'ed25519', 'sign', opts.expire ?? 'never']);
  const fingerprint = /^fpr:+([0-9A-F]{40,64}):/m.exec(gpg(['--with-colons', '--list-secret-keys']).toString())![1]!;
  const base = path.join(dir, `key-${fingerprint.slice(-8)}`);
  writeFileSync(`${base}.sec.asc`, gpg(['--armor', '--export-secret-keys', fingerprint]));
  writeFileSync(`${base}.pub.gpg`, gpg(['--export', fingerprint]));
  writeFileSync(`${base}.pub.asc`, gpg(['--armor', '--export', fingerprint]));
  return {
    secret: readFileSync(`${base}.sec.asc`, 'utf8'),
    keyring: `${base}.pub.gpg`,
    publicArmored: readFileSync(`${base}.pub.asc`, 'utf8'),
    fingerprint,
    home,
  };
}

/** Revokes the key in its home and returns the secret key exported after (it carries the revocation). */
export function revokedSecret(key: TestKey): string {
  const rev = path.join(key.home, 'openpgp-revocs.d', `${key.fingerprint}.rev`);
  // gpg writes the certificate with a ":" before the armor line so it is not imported by accident.
  const text = readFileSync(rev, 'utf8').replace(/^:-----BEGIN/m, '-----BEGIN');
  execFileSync('gpg', ['--homedir', key.home, '--batch', '--import'], { input: text, stdio: ['pipe', 'pipe', 'pipe'] });
  return execFileSync('gpg', [
    '--homedir',
    key.home,
    '--batch',
    '--pinentry-mode',
    'loopback',
    '--passphrase',
    '',
    '--armor',
    '--export-secret-keys',
    key.fingerprint,
  ]).toString();
}

export function cleanupKey(key: TestKey): void {
  rmSync(key.home, { recursive: true, force: true });
}

/** Real gpgv: `signature` (clear-signed, or detached with `data`) against the keyring; returns its verdict and the payload (clear-signed). */
export function gpgv(keyring: string, signature: string, data?: string): { ok: boolean; output: string; payload: string } {
  const args = ['--keyring', keyring, ...(data ? [] : ['--output', '-']), signature, ...(data ? [data] : [])];
  const r = spawnSync('gpgv', args, { encoding: 'utf8' });
  return { ok: r.status === 0, output: r.stderr, payload: r.stdout };
}
