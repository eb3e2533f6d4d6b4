// The users of a private tree: an htpasswd file with bcrypt hashes, as `htpasswd -B` (Apache) or
// `caddy hash-password` write them. Only bcrypt: nginx (libxcrypt), Caddy, the Cloudflare worker
// (bcrypt.js) and `serve` all check it, where MD5-crypt (apr1) and SHA1 are weak or unsupported.
// Pure: the text is an input.

import { UsageError } from '../util/errors.js';

export interface HtpasswdUser {
  user: string;
  /** `$2a$`, `$2b$` or `$2y$` bcrypt. */
  hash: string;
}

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/**
 * bcrypt costs a server can afford: each step doubles the time of a check (cost 10 is ~70 ms
 * here), and a wrong password is checked every time. Past 14 a request takes seconds of CPU, and
 * cost 31 keeps serve (or a worker, or nginx) computing for days: a file like that stalls the host.
 */
export const BCRYPT_COSTS = { min: 4, max: 14 } as const;

/** The cost of a bcrypt hash ($2y$10$… → 10). */
export const bcryptCost = (hash: string): number => Number(/^\$2[aby]\$(\d\d)\$/.exec(hash)?.[1] ?? NaN);
const USER = /^[A-Za-z0-9._@+-]{1,64}$/;

/** Every user of the file; a UsageError naming each bad line (never its hash) and the fix. */
export function parseHtpasswd(text: string, file: string): HtpasswdUser[] {
  const users: HtpasswdUser[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const at = line.indexOf(':');
    const user = at > 0 ? line.slice(0, at) : '';
    const hash = at > 0 ? line.slice(at + 1) : '';
    if (!USER.test(user)) problems.push(`line ${i + 1}: no user name of letters, digits and . _ @ + - before the ":"`);
    else if (!BCRYPT.test(hash)) problems.push(`line ${i + 1} (${user}): not a bcrypt hash ($2y$…)`);
    else if (bcryptCost(hash) < BCRYPT_COSTS.min || bcryptCost(hash) > BCRYPT_COSTS.max)
      problems.push(
        `line ${i + 1} (${user}): bcrypt cost ${bcryptCost(hash)}, outside ${BCRYPT_COSTS.min}–${BCRYPT_COSTS.max} (past 14 a wrong password keeps the server computing for seconds to days; write it again with htpasswd -B -C 10)`,
      );
    else if (users.some((u) => u.user === user)) problems.push(`line ${i + 1}: ${user} is there twice`);
    else users.push({ user, hash });
  });
  if (!users.length && !problems.length) problems.push('it holds no user');
  if (problems.length)
    throw new UsageError(
      `${file}: ${problems.join('; ')}\n  fix: write it with \`htpasswd -B -c ${file} USER\` (bcrypt; nginx, Caddy, the Cloudflare worker and serve all check it)`,
    );
  return users;
}
