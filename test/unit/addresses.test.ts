// Which redirects readers refuse: from a public address into a network (loopback, private,
// link-local, unique-local), the one hop a server on the internet has no business asking for.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isPrivateAddress, redirectsInward } from '../../generator/util/addresses.js';

describe('addresses inside a network', () => {
  const cases: [string, boolean][] = [
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['::', true],
    ['fd12:3456::1', true],
    ['fe80::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:8.8.8.8', false],
    ['8.8.8.8', false],
    ['93.184.216.34', false],
    ['2606:4700::1111', false],
  ];
  for (const [ip, inside] of cases) it(`${ip}: ${inside ? 'inside' : 'public'}`, () => assert.equal(isPrivateAddress(ip), inside));

  it('a redirect from a public address into a network is inward; the other hops are not', async () => {
    assert.equal(await redirectsInward('93.184.216.34', '127.0.0.1'), true);
    assert.equal(await redirectsInward('93.184.216.34', '[::1]'), true);
    assert.equal(await redirectsInward('93.184.216.34', 'localhost'), true);
    assert.equal(await redirectsInward('93.184.216.34', '169.254.169.254'), true);
    assert.equal(await redirectsInward('127.0.0.1', '10.0.0.1'), false, 'inside to inside: a local mirror');
    assert.equal(await redirectsInward('10.0.0.1', '8.8.8.8'), false, 'inside to public: a bucket');
    assert.equal(await redirectsInward('93.184.216.34', '8.8.8.8'), false);
  });
});
