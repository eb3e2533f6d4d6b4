// config/htpasswd.ts: a private tree's users — bcrypt lines as htpasswd -B and caddy hash-password
// write them taken; every other line named (never its hash), with the fix.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseHtpasswd } from '../../generator/config/htpasswd.js';
import { UsageError } from '../../generator/util/errors.js';

const HASH = '$2y$05$' + 'a'.repeat(53);

describe('parseHtpasswd', () => {
  it('takes bcrypt users ($2y$, $2b$, $2a$), skipping comments and blank lines', () => {
    const text = `# team\nalice:${HASH}\n\nbob:${HASH.replace('$2y$', '$2b$')}\ncarol.x@y:${HASH.replace('$2y$', '$2a$')}\n`;
    assert.deepEqual(
      parseHtpasswd(text, 'users').map((u) => u.user),
      ['alice', 'bob', 'carol.x@y'],
    );
  });

  it('names every bad line at once, never quoting a hash', () => {
    const cases: [string, RegExp][] = [
      [`alice:$apr1$abc$defghijklmnopqrstuvw`, /line 1 \(alice\): not a bcrypt hash/],
      [`alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=`, /line 1 \(alice\): not a bcrypt hash/],
      [`:${HASH}`, /line 1: no user name/],
      [`a b:${HASH}`, /line 1: no user name/],
      [`alice:${HASH}\nalice:${HASH}`, /line 2: alice is there twice/],
      [`# nobody\n`, /it holds no user/],
      [`alice:${HASH.replace('$05$', '$31$')}`, /line 1 \(alice\): bcrypt cost 31, outside 4–14/],
      [`alice:${HASH.replace('$05$', '$03$')}`, /line 1 \(alice\): bcrypt cost 3, outside 4–14/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parseHtpasswd(text, 'users'),
        (e: unknown) =>
          e instanceof UsageError &&
          message.test(e.message) &&
          !e.message.includes('$apr1$abc') &&
          /fix: write it with `htpasswd -B -c users USER`/.test(e.message),
        text,
      );
    }
    assert.throws(
      () => parseHtpasswd(`a:x\nb:y\n`, 'f'),
      (e: unknown) => e instanceof UsageError && /line 1 \(a\).*line 2 \(b\)/.test(e.message),
    );
  });
});
