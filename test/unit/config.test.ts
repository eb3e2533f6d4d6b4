import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closest } from '../../generator/util/friendly.js';
import { parseConfig } from '../../generator/index.js';

describe('staticstreams.yaml errors', () => {
  it('lists every problem at once, each with its field and a fix', () => {
    let message = '';
    try {
      parseConfig({ base_url: 'not a url', targets: ['netlfy'], retention: { keep: 'three', grce: '6h' }, site: { titel: 'x' } }, 'my.yaml');
    } catch (e) {
      message = (e as Error).message;
    }
    const lines = message.split('\n').map((l) => l.replace(/^error: /, ''));
    assert.ok(lines.includes('my.yaml: site.titel: is not a setting staticstreams knows'), message);
    assert.ok(lines.includes('  fix: did you mean site.title?'), message);
    assert.ok(lines.includes('my.yaml: retention.grce: is not a setting staticstreams knows'), message);
    assert.ok(lines.includes('  fix: did you mean retention.grace?'), message);
    assert.ok(lines.includes('my.yaml: retention.keep: is a string, expected a number'), message);
    assert.ok(
      lines.some((l) => /^my\.yaml: targets\.0: "netlfy" is not allowed$/.test(l)),
      message,
    );
    assert.ok(lines.includes('  fix: use one of: netlify, cloudflare, nginx, caddy, bucket'), message);
    assert.ok(lines.includes('my.yaml: base_url: is not a URL'), message);
    assert.equal(message.split('\n').filter((l) => l.startsWith('error: ')).length, 4, 'the CLI prints the first error: itself');
    assert.equal(lines.filter((l) => l.startsWith('  fix: ')).length, 5, 'one fix per problem');
  });

  it('suggests only close names', () => {
    assert.equal(closest('titel', ['title', 'description']), 'title');
    assert.equal(closest('zzzzzz', ['title', 'description']), undefined);
  });
});
