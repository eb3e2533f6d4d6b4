// simplestreams/architectures: every name LXD accepts for an architecture leads to one entry,
// with LXD's canonical name and the Debian name public servers use.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findArchitecture, knownArchitectureNames } from '../../generator/simplestreams/architectures.js';

describe('architecture names', () => {
  const cases: [string, string, string][] = [
    ['amd64', 'x86_64', 'amd64'],
    ['x86_64', 'x86_64', 'amd64'],
    ['arm64', 'aarch64', 'arm64'],
    ['armhf', 'armv7l', 'armhf'],
    ['i386', 'i686', 'i386'],
    ['ppc64el', 'ppc64le', 'ppc64el'],
    ['loong64', 'loongarch64', 'loong64'],
    ['riscv64', 'riscv64', 'riscv64'],
  ];
  for (const [name, canonical, debian] of cases)
    it(`${name} is ${canonical} (${debian})`, () => {
      const a = findArchitecture(name);
      assert.equal(a?.canonical, canonical);
      assert.equal(a?.debian, debian);
    });

  it('knows no other name, and is case-sensitive as LXD is', () => {
    assert.equal(findArchitecture('AMD64'), undefined);
    assert.equal(findArchitecture('x64'), undefined);
    assert.ok(knownArchitectureNames().includes('x86_64'));
    assert.equal(new Set(knownArchitectureNames()).size, knownArchitectureNames().length);
  });
});
