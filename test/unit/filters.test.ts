// config/filters: the mirror's --filter KEY=GLOB, checked and parsed. Table-driven.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { filterProblem, parseFilters } from '../../generator/config/filters.js';

describe('--filter KEY=GLOB', () => {
  const problems: [string, RegExp | undefined][] = [
    ['os=ubuntu', undefined],
    [' OS = ubuntu', undefined],
    ['alias=debian/*', undefined],
    ['type=vm', undefined],
    ['os', /is not KEY=GLOB/],
    ['=ubuntu', /is not KEY=GLOB/],
    ['os=', /is not KEY=GLOB/],
    ['distro=ubuntu', /"distro" is not a filter key; use one of os, release, arch, variant, type, alias/],
  ];
  for (const [spec, problem] of problems)
    it(`${JSON.stringify(spec)}: ${problem ? 'refused' : 'accepted'}`, () => {
      const found = filterProblem(spec);
      if (problem) assert.match(found ?? '', problem);
      else assert.equal(found, undefined);
    });

  it('parses the key in lower case and matches the glob in any case, dots included', () => {
    const [os, release, alias] = parseFilters(['OS=Ubuntu', 'release=2*', 'alias=*/.hidden']);
    assert.equal(os!.key, 'os');
    assert.ok(os!.test('ubuntu') && os!.test('UBUNTU') && !os!.test('ubuntu-core'));
    assert.ok(release!.test('24.04') && !release!.test('12'));
    assert.ok(alias!.test('x/.hidden'));
  });
});
