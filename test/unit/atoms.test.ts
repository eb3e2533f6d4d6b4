// config/atoms: one rule per input, whether it comes from staticstreams.yaml or a flag. The same
// value given both ways gets the same verdict — accepted by both, or refused by both with a usage
// error (exit 2) — and an alias the config accepts is one the planner accepts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../generator/config/config.js';
import { parseFlags } from '../../generator/config/flags.js';
import { aliasSchema, durationSchema, httpUrlSchema } from '../../generator/config/atoms.js';
import { aliasProblem } from '../../generator/simplestreams/names.js';
import { UsageError } from '../../generator/util/errors.js';

const verdict = (f: () => unknown): 'ok' | 'usage' => {
  try {
    f();
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof UsageError, `${String(e)}: a usage error (exit 2)`);
    return 'usage';
  }
};

describe('one rule per input, from YAML or a flag', () => {
  const cases: [string, string, string, 'ok' | 'usage'][] = [
    // [what, config key, flag, value]
    ['an https base URL', 'base_url', 'baseUrl', 'https://images.example.org/lxd'],
    ['an http base URL', 'base_url', 'baseUrl', 'http://127.0.0.1:8080'],
    ['an ftp base URL', 'base_url', 'baseUrl', 'ftp://images.example.org'],
    ['a relative base URL', 'base_url', 'baseUrl', 'images.example.org'],
    ['a duration', 'grace', 'grace', '6h'],
    ['a duration without a unit', 'grace', 'grace', '6'],
  ].map(([what, key, flag, value]) => [what!, key!, flag!, value!] as never);
  const expected: Record<string, 'ok' | 'usage'> = {
    'an https base URL': 'ok',
    'an http base URL': 'ok',
    'an ftp base URL': 'usage',
    'a relative base URL': 'usage',
    'a duration': 'ok',
    'a duration without a unit': 'usage',
  };
  for (const [what, key, flag, value] of cases) {
    it(`${what} (${value}): ${expected[what]} both ways`, () => {
      const yaml = key === 'grace' ? { retention: { grace: value } } : { [key]: value };
      assert.equal(
        verdict(() => parseConfig(yaml)),
        expected[what],
        'from staticstreams.yaml',
      );
      assert.equal(
        verdict(() => parseFlags({ [flag]: value })),
        expected[what],
        'from the flag',
      );
    });
  }

  it('an alias the config accepts is one the planner accepts (debian//12 is refused up front, exit 2)', () => {
    for (const alias of ['debian/12', 'x', 'a.b+c~d-e/f', 'debian//12', 'Debian/12', '/x', 'x/', 'a b', 'a,b']) {
      const config = verdict(() => parseConfig({ products: { '*:*:*:*': { aliases: [alias] } } }));
      assert.equal(config === 'ok', aliasProblem(alias) === undefined, alias);
    }
    assert.match(
      (() => {
        try {
          parseConfig({ products: { '*:*:*:*': { aliases: ['debian//12'] } } });
          return '';
        } catch (e) {
          return (e as Error).message;
        }
      })(),
      /alias "debian\/\/12" is not valid/,
    );
  });

  it("serve's --port through the flags' schema", () => {
    assert.equal(parseFlags({ port: '8443' }).port, 8443);
    assert.equal(parseFlags({ port: '0' }).port, 0);
    for (const bad of ['x', '70000', '-1', '80.5', ''])
      assert.throws(
        () => parseFlags({ port: bad }),
        (e: Error) => e instanceof UsageError && e.message === `--port must be a port number (0 to 65535), got "${bad}"`,
        bad,
      );
  });

  it('the atoms themselves', () => {
    assert.ok(aliasSchema.safeParse('debian/12').success);
    assert.ok(!httpUrlSchema.safeParse('https://').success);
    assert.ok(durationSchema.safeParse('90m').success);
  });
});
