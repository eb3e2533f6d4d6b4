// config/settings: a build's settings resolved once from what the caller gave over the config.
// Table-driven: each row a pair (given, config) and what the build then uses.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { defaultServerConfigDir, resolveBuild, type GivenSettings } from '../../generator/config/settings.js';
import { parseConfig, type Config } from '../../generator/config/config.js';
import { UsageError } from '../../generator/util/errors.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const clock = () => NOW;
const resolve = (given: Partial<GivenSettings>, config: unknown = {}) => resolveBuild({ out: 'dist', ...given }, parseConfig(config) as Config, clock);

describe('resolving a build’s settings', () => {
  const cases: [string, Partial<GivenSettings>, unknown, (s: ReturnType<typeof resolve>) => unknown, unknown][] = [
    ['the clock when none is given', {}, {}, (s) => s.now, NOW],
    ['--now over the clock', { now: new Date('2020-01-01T00:00:00Z') }, {}, (s) => s.now.toISOString(), '2020-01-01T00:00:00.000Z'],
    ['base_url from the config', {}, { base_url: 'https://a.example' }, (s) => s.baseUrl, 'https://a.example'],
    ['--base-url over base_url', { baseUrl: 'https://b.example' }, { base_url: 'https://a.example' }, (s) => s.baseUrl, 'https://b.example'],
    ['no base URL at all', {}, {}, (s) => 'baseUrl' in s, false],
    ['targets from the config', {}, { targets: ['nginx'] }, (s) => s.targets, ['nginx']],
    ['--target over targets', { targets: ['caddy', 'netlify'] }, { targets: ['nginx'] }, (s) => s.targets, ['caddy', 'netlify']],
    ['server config next to the output by default', {}, {}, (s) => s.serverConfigDir, path.resolve('dist-server-config')],
    ['server_config from the config', {}, { server_config: 'conf' }, (s) => s.serverConfigDir, 'conf'],
    ['--server-config over server_config', { serverConfig: 'flag' }, { server_config: 'conf' }, (s) => s.serverConfigDir, 'flag'],
    ['grace from the config, in ms', {}, { retention: { grace: '2d' } }, (s) => s.grace, { text: '2d', ms: 2 * 86_400_000 }],
    ['--grace over it', { grace: '90m' }, { retention: { grace: '2d' } }, (s) => s.grace.ms, 90 * 60_000],
    ['retention keep and days from the config', {}, { retention: { keep: 3, days: 30 } }, (s) => s.retention, { keep: 3, days: 30 }],
    ['--retain over keep', { retain: 5 }, { retention: { keep: 3 } }, (s) => s.retention, { keep: 5 }],
    ["a mirror's --keep bounds what is kept", { retain: 5, mirrorKeep: 2 }, {}, (s) => s.retention, { keep: 2 }],
    ['no retention', {}, {}, (s) => s.retention, {}],
    [
      'lxc and deltas from the config, made',
      {},
      { lxc: true, deltas: true },
      (s) => [s.lxc, s.deltas, s.make],
      [true, true, { lxc: true, deltas: true, manifests: true }],
    ],
    ['manifests unless manifests: false, or --no-manifests', { manifests: false }, { manifests: true }, (s) => s.make.manifests, false],
    ['manifests: false in the config', {}, { manifests: false }, (s) => s.make.manifests, false],
    ['--lxc over lxc: false', { lxc: true }, { lxc: false }, (s) => s.make.lxc, true],
    [
      'a dry run makes nothing, still asks for it',
      { lxc: true, deltas: true, dryRun: true },
      {},
      (s) => [s.lxc, s.make, s.dryRun],
      [true, { lxc: false, deltas: false, manifests: false }, true],
    ],
    ['the site unless --no-site', { site: false }, {}, (s) => s.site, false],
  ];
  for (const [what, given, config, pick, expected] of cases) it(what, () => assert.deepEqual(pick(resolve(given, config)), expected));

  it('refuses a bad --grace with a usage error', () => {
    assert.throws(() => resolve({ grace: 'soon' }), UsageError);
  });

  it('names the default server-config folder after the output', () => {
    assert.equal(defaultServerConfigDir('/srv/www/lxd'), '/srv/www/lxd-server-config');
  });
});
