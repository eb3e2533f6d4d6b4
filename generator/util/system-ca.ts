// The certificate authorities a command that reads a server trusts: the ones LXD and Incus
// trust (the system's bundle, /etc/ssl/certs/ca-certificates.crt on Debian and Ubuntu), Node's
// own (Mozilla's), and NODE_EXTRA_CA_CERTS when set. A certificate the README puts into the
// system store is then trusted by verify, list, mirror and --previous as by the clients.

import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

/** Debian's (and most distributions') bundle of the CAs the system trusts: what LXD and Incus use. */
export const SYSTEM_CA_FILES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];

/** The system's bundle (PEM), and where it was read; undefined when there is none. */
export function systemCAs(): { pem: string; file: string } | undefined {
  for (const file of SYSTEM_CA_FILES) {
    try {
      return { pem: readFileSync(file, 'utf8'), file };
    } catch {
      // next
    }
  }
  return undefined;
}

let trusted: string[] | undefined;

/** Every CA a reading command trusts (computed once). */
export function trustedCAs(): string[] {
  if (trusted) return trusted;
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  let extraPem: string | undefined;
  try {
    extraPem = extra ? readFileSync(extra, 'utf8') : undefined;
  } catch {
    extraPem = undefined;
  }
  trusted = [...rootCertificates, ...(systemCAs()?.pem ? [systemCAs()!.pem] : []), ...(extraPem ? [extraPem] : [])];
  return trusted;
}

/** Whether NODE_EXTRA_CA_CERTS names the system's bundle itself (nothing beyond what the clients trust). */
export function extraIsSystemBundle(): boolean {
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  return !!extra && SYSTEM_CA_FILES.includes(extra);
}
