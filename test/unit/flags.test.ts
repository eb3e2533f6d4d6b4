// config/flags.ts: the command line's publishing settings, checked by one schema, every problem at once.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags } from '../../generator/config/flags.js';
import { UsageError } from '../../generator/index.js';

describe('parseFlags', () => {
  it('types what is right', () => {
    assert.deepEqual(
      parseFlags({
        baseUrl: 'https://images.example.org',
        target: 'nginx, caddy',
        retain: '3',
        retainDays: '1.5',
        grace: '6h',
        now: '2026-11-23T12:00:00Z',
        keep: '2',
        timeout: '0.5',
        filter: ['os=debian', 'ARCH=amd64'],
        upstreams: ['https://a.example/'],
        out: 'dist', // not a setting it checks: left alone
      }),
      {
        baseUrl: 'https://images.example.org',
        target: ['nginx', 'caddy'],
        retain: 3,
        retainDays: 1.5,
        grace: '6h',
        now: new Date('2026-11-23T12:00:00Z'),
        keep: 2,
        timeout: 0.5,
        filter: ['os=debian', 'ARCH=amd64'],
        upstreams: ['https://a.example/'],
      },
    );
    assert.deepEqual(parseFlags({}), {});
  });

  it('reports every wrong flag at once, each with what it takes and what it got', () => {
    assert.throws(
      () =>
        parseFlags({
          baseUrl: 'nope',
          target: 'foo,netlify',
          retain: '2.5',
          retainDays: '-1',
          grace: '5',
          now: 'yesterday',
          keep: '0',
          timeout: 'x',
          filter: ['colour=blue', 'os'],
          upstreams: ['ftp://x'],
        }),
      (e: unknown) => {
        assert.ok(e instanceof UsageError);
        const lines = e.message.split('\nerror: ');
        assert.deepEqual(lines, [
          '--base-url must be an absolute http(s) URL, got "nope"',
          '--target takes a comma-separated list of netlify, cloudflare, nginx, caddy, bucket, got "foo,netlify"',
          '--retain takes a positive whole number, got "2.5"',
          '--retain-days takes a positive number, got "-1"',
          '--grace must be a duration such as 90m, 6h or 2d, got "5"',
          '--now must be an ISO 8601 time such as 2026-11-23T12:00:00Z, got "yesterday"',
          '--keep takes a positive whole number, got "0"',
          '--timeout takes a positive number of seconds, got "x"',
          '--filter "colour" is not a filter key; use one of os, release, arch, variant, type, alias, version, got "colour=blue"',
          '--filter "os" is not KEY=GLOB (e.g. os=ubuntu, arch=amd64, release=2*), got "os"',
          'upstream is not an http(s) URL: give the base URL of a simplestreams image server, got "ftp://x"',
        ]);
        return true;
      },
    );
  });
});
