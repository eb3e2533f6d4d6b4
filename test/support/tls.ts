// A throwaway certificate authority trusted by the system CA store, and a server certificate
// for 127.0.0.1/localhost signed by it: what LXD needs to accept an https remote.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';

export interface TestTls {
  caCert: string;
  cert: string;
  key: string;
  /** True when this call put the CA into the system store (daemons must be restarted to see it). */
  newlyTrusted: boolean;
}

const DIR = '/var/tmp/staticstreams-test-tls';
const SYSTEM_CA = '/usr/local/share/ca-certificates/staticstreams-test-ca.crt';

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/**
 * Runs `fn` holding a lock shared by every test process (the tiers run side by side): the first
 * to arrive makes the certificates and updates the system store, the others wait for it.
 */
function locked<T>(fn: () => T): T {
  const lock = `${DIR}.lock`;
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // held by another process (or left by one that died mid-way: taken over after a minute)
      if (Date.now() - started > 60_000) break;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Creates (once) the CA and server certificate, and makes the system trust the CA. */
export function ensureTestTls(): TestTls {
  return locked(makeTestTls);
}

/** Whether this run's CA is in the system store (the tier runner removes it at the end). */
export const TEST_CA_IN_STORE = SYSTEM_CA;

function makeTestTls(): TestTls {
  mkdirSync(DIR, { recursive: true });
  const caKey = path.join(DIR, 'ca.key');
  const caCert = path.join(DIR, 'ca.crt');
  const key = path.join(DIR, 'server.key');
  const cert = path.join(DIR, 'server.crt');
  if (!existsSync(cert)) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caCert, '-days', '3650', '-subj', '/CN=staticstreams test CA']);
    const ext = path.join(DIR, 'server.ext');
    writeFileSync(
      ext,
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
    );
    const csr = path.join(DIR, 'server.csr');
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=localhost']);
    openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '3650', '-extfile', ext]);
  }
  let newlyTrusted = false;
  if (!existsSync(SYSTEM_CA) || readFileSync(SYSTEM_CA, 'utf8') !== readFileSync(caCert, 'utf8')) {
    copyFileSync(caCert, SYSTEM_CA);
    execFileSync('update-ca-certificates', { stdio: 'ignore' });
    newlyTrusted = true;
  }
  return { caCert, cert, key, newlyTrusted };
}
