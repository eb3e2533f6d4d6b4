// Guards for anything written into an HTTP header or a server config: no byte that could split
// a header or escape a config string, hashes that are exactly 64 lowercase hex, absolute URLs.

import { BuildError } from '../../util/errors.js';

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f]/;
export const FINGERPRINT = /^[0-9a-f]{64}$/;

export function safeHeaderValue(name: string, value: string): string {
  if (UNSAFE.test(value)) {
    throw new BuildError(
      `refusing to emit header ${name}: its value contains a control character or line break`,
      'check the image metadata and --base-url for stray characters',
    );
  }
  return value;
}

export function safeFingerprint(fp: string): string {
  if (!FINGERPRINT.test(fp))
    throw new BuildError(`refusing to emit image hash "${fp}": it is not 64 lowercase hex characters`, 'this is a bug in the input tree: rebuild it');
  return fp;
}

/** An absolute http(s) URL with nothing that could break a header or a config file. */
export function safeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BuildError(`refusing to emit URL "${url}": it is not an absolute URL`, 'set --base-url to an absolute https:// URL');
  }
  if (!/^https?:$/.test(parsed.protocol) || UNSAFE.test(url) || /[\s"'`\\{};$]/.test(url)) {
    throw new BuildError(
      `refusing to emit URL "${url}": only http(s) URLs without spaces, quotes, braces, semicolons or $ can go into headers and server configs`,
      'use a plain https:// base URL',
    );
  }
  return url;
}

/** A URL path segment list safe in every config format (aliases, arches, fingerprints). */
export function safePath(path: string): string {
  if (!/^\/[A-Za-z0-9._~+@/-]*$/.test(path) || path.includes('..')) {
    throw new BuildError(`refusing to emit path "${path}"`, 'aliases and names may hold only letters, digits and . _ ~ + - /');
  }
  return path;
}
