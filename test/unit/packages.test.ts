// Package databases read as hostile input (dpkg, apk, rpm's sqlite), the published forms (manifest,
// JSON, SPDX), the changes between two lists and the version orders of dpkg and rpm.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  parseApkInstalled,
  parseDpkgStatus,
  readPackages,
  rpmHeaderTags,
  packageDbPaths,
  parseRpmSqlite,
  PACKAGE_LIMIT,
} from '../../generator/ingest/packages.js';
import { readSqliteTable, SqliteProblem } from '../../generator/ingest/sqlite-table.js';
import {
  changeLines,
  compareDebian,
  compareRpm,
  manifestJson,
  manifestText,
  packageChanges,
  parseManifestJson,
  spdxJson,
  type PackageList,
} from '../../generator/formats/manifest.js';
import { apkInstalled, machineDpkgStatus, rpmDatabase } from '../support/package-dbs.js';
import { requirements } from '../support/require.js';

const dpkg = (name: string, version: string, status = 'install ok installed', extra = '') =>
  `Package: ${name}\nStatus: ${status}\nPriority: optional\nArchitecture: amd64\nVersion: ${version}\nDescription: x\n long text: with a colon\n .\n${extra}`;

describe('dpkg status', () => {
  it("reads this machine's own status file: every installed package, sorted, with versions as dpkg-query prints them", () => {
    const scan = readPackages({ 'var/lib/dpkg/status': Buffer.from(machineDpkgStatus()) }, '');
    assert.ok('list' in scan);
    const { packages, database } = scan.list;
    assert.equal(database, 'dpkg');
    assert.ok(packages.length > 100, `${packages.length} packages`);
    const expected = execFileSync('dpkg-query', ['-W', '-f', '${db:Status-Status}\t${Package}\t${Version}\n'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.startsWith('installed\t'))
      .map((l) => l.split('\t').slice(1).join('\t'));
    const got = packages.map((p) => `${p.name}\t${p.version}`);
    assert.deepEqual(new Set(got), new Set(expected));
    assert.deepEqual(
      packages.map((p) => p.name),
      [...packages.map((p) => p.name)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  });

  it('leaves out packages that are not installed, and keeps the source package', () => {
    const text = [
      dpkg('a', '1.0', 'install ok installed', 'Source: a-src (1.0-1)\n'),
      dpkg('gone', '2.0', 'deinstall ok config-files'),
      dpkg('never', '3.0', 'purge ok not-installed'),
    ].join('\n');
    assert.deepEqual(parseDpkgStatus(text).packages, [{ name: 'a', version: '1.0', architecture: 'amd64', source: 'a-src' }]);
  });

  it('refuses names and versions with markup or control characters, counting them', () => {
    const text = [dpkg('<script>alert(1)</script>', '1'), dpkg('ok', '1\u001b[31m'), dpkg('fine', '1:2.3-4')].join('\n');
    const c = parseDpkgStatus(text);
    assert.deepEqual(
      c.packages.map((p) => p.name),
      ['fine'],
    );
    assert.equal(c.refused, 2);
  });

  it('stops at PACKAGE_LIMIT packages', () => {
    const text = Array.from({ length: PACKAGE_LIMIT + 1 }, (_, i) => `Package: p${i}\nStatus: install ok installed\nVersion: 1\n`).join('\n');
    const scan = readPackages({ 'var/lib/dpkg/status': Buffer.from(text) }, '');
    assert.ok('none' in scan && scan.none.includes(`more than ${PACKAGE_LIMIT}`), JSON.stringify(scan).slice(0, 200));
  });

  it('a cut-short status file gives the packages it holds whole', () => {
    const text = [dpkg('a', '1'), dpkg('b', '2')].join('\n');
    const cut = text.slice(0, text.indexOf('Version: 2'));
    assert.deepEqual(
      parseDpkgStatus(cut).packages.map((p) => p.name),
      ['a'],
    );
  });
});

describe('apk installed', () => {
  it('reads the database apk writes', () => {
    const text = apkInstalled([
      { name: 'musl', version: '1.2.5-r0' },
      { name: 'busybox', version: '1.36.1-r29' },
      { name: 'libcrypto3', version: '3.3.1-r0', origin: 'openssl' },
    ]);
    const scan = readPackages({ 'lib/apk/db/installed': Buffer.from(text) }, '');
    assert.ok('list' in scan);
    assert.equal(scan.list.database, 'apk');
    assert.deepEqual(scan.list.packages, [
      { name: 'busybox', version: '1.36.1-r29', architecture: 'x86_64' },
      { name: 'libcrypto3', version: '3.3.1-r0', architecture: 'x86_64', source: 'openssl' },
      { name: 'musl', version: '1.2.5-r0', architecture: 'x86_64' },
    ]);
    assert.equal(parseApkInstalled('P:x\nV:1\n\nP:y\nV:\u0000\n').refused, 1);
  });
});

describe('rpm database (rpmdb.sqlite)', () => {
  const skip = requirements(['rpm', 'rpmbuild']);
  it('reads a database made by the real rpm: name, epoch:version-release, architecture, source package', { skip }, async () => {
    const db = await rpmDatabase([
      { name: 'openssl', version: '3.0.15', release: '1.fc41', epoch: 1 },
      { name: 'curl', version: '8.9.1', release: '2.fc41' },
    ]);
    const scan = readPackages({ 'usr/lib/sysimage/rpm/rpmdb.sqlite': db }, '');
    assert.ok('list' in scan, JSON.stringify(scan));
    assert.equal(scan.list.database, 'rpm');
    assert.deepEqual(scan.list.packages, [
      { name: 'curl', version: '8.9.1-2.fc41', architecture: 'noarch' },
      { name: 'openssl', version: '1:3.0.15-1.fc41', architecture: 'noarch' },
    ]);
    // cut short: a clear refusal, never a crash
    const cut = readPackages({ 'var/lib/rpm/rpmdb.sqlite': db.subarray(0, Math.floor(db.length / 3)) }, '');
    assert.ok('none' in cut || cut.list.packages.length <= 2);
  });

  it('every byte of a real database flipped in turn: each read ends in a list or a refusal', { skip }, async () => {
    const db = await rpmDatabase([{ name: 'a', version: '1', release: '1' }]);
    for (let at = 0; at < db.length; at += 97) {
      const bad = Buffer.from(db);
      bad[at] = bad[at]! ^ 0xff;
      const scan = readPackages({ 'var/lib/rpm/rpmdb.sqlite': bad }, '');
      assert.ok('list' in scan || typeof scan.none === 'string');
    }
  });

  it('refuses what is not SQLite, and loops between pages', () => {
    assert.throws(() => readSqliteTable(Buffer.alloc(4096), 'Packages'), SqliteProblem);
    // page 1's table points to itself as its child
    const page = Buffer.alloc(1024);
    page.write('SQLite format 3\u0000', 0, 'latin1');
    page.writeUInt16BE(1024, 16);
    page[100] = 0x05; // interior table page
    page.writeUInt16BE(0, 103);
    page.writeUInt32BE(1, 108); // right-most child: itself
    assert.throws(() => readSqliteTable(page, 'Packages'), /reached twice/);
    assert.throws(() => parseRpmSqlite(page), SqliteProblem);
  });

  it('reads an rpm header blob; one cut short is refused', () => {
    assert.throws(() => rpmHeaderTags(Buffer.from([0, 0, 0, 9, 0, 0, 0, 1])), /cut short/);
  });

  it('an rpm Berkeley DB is named as unsupported', () => {
    const scan = readPackages({ 'var/lib/rpm/Packages': Buffer.alloc(10) }, '');
    assert.ok('none' in scan && /Berkeley DB/.test(scan.none));
  });
});

describe('where the databases are', () => {
  it('a symbolic link is never followed', () => {
    const scan = readPackages({ 'rootfs/var/lib/dpkg/status': { skipped: 'is a symbolic link, which is not followed' } }, 'rootfs/');
    assert.deepEqual(scan, { none: '/var/lib/dpkg/status is a symbolic link, which is not followed' });
  });

  it('none at all is said so; the paths include rpm in /usr and apk', () => {
    assert.ok('none' in readPackages({}, ''));
    assert.ok(packageDbPaths('rootfs/').includes('rootfs/usr/lib/sysimage/rpm/rpmdb.sqlite'));
    assert.ok(packageDbPaths('').includes('lib/apk/db/installed'));
  });
});

describe('published forms', () => {
  const list: PackageList = {
    database: 'dpkg',
    packages: [
      { name: 'libc6', version: '2.36-9', architecture: 'amd64' },
      { name: 'libc6', version: '2.36-9', architecture: 'i386' },
      { name: 'openssl', version: '3.0.15-1', architecture: 'amd64', source: 'openssl' },
    ],
  };
  it("Ubuntu's manifest format: name<TAB>version, an :arch where a name has several", () => {
    assert.equal(manifestText(list), 'libc6:amd64\t2.36-9\nlibc6:i386\t2.36-9\nopenssl\t3.0.15-1\n');
  });

  it('the JSON form reads back; a hostile one is refused', () => {
    const text = manifestJson(list, { fingerprint: 'a'.repeat(64), architecture: 'amd64' });
    const back = parseManifestJson(text);
    assert.ok(typeof back !== 'string');
    assert.deepEqual(back.packages, list.packages);
    assert.equal(typeof parseManifestJson(text.replace('openssl"', '<b>openssl</b>"')), 'string');
    assert.equal(typeof parseManifestJson('[]'), 'string');
  });

  it('SPDX 2.3: the image (its fingerprint the checksum) contains every package, each with a purl; the same input, the same bytes', () => {
    const input = {
      fingerprint: 'b'.repeat(64),
      product: 'debian:bookworm:amd64:default',
      version: '20260101_0000',
      os: 'Debian',
      created: '2026-01-01T00:00:00Z',
    };
    const text = spdxJson(list, input);
    assert.equal(spdxJson(list, input), text);
    const doc = JSON.parse(text);
    assert.equal(doc.spdxVersion, 'SPDX-2.3');
    assert.equal(doc.dataLicense, 'CC0-1.0');
    assert.match(doc.documentNamespace, /^https:\/\//);
    assert.match(doc.creationInfo.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const image = doc.packages.find((p: { SPDXID: string }) => p.SPDXID === 'SPDXRef-Image');
    assert.deepEqual(image.checksums, [{ algorithm: 'SHA256', checksumValue: input.fingerprint }]);
    const ids = new Set(doc.packages.map((p: { SPDXID: string }) => p.SPDXID));
    assert.equal(ids.size, doc.packages.length);
    for (const id of ids) assert.match(id as string, /^SPDXRef-[A-Za-z0-9.-]+$/);
    for (const r of doc.relationships) assert.ok(r.spdxElementId === 'SPDXRef-DOCUMENT' || ids.has(r.spdxElementId));
    assert.equal(doc.relationships.filter((r: { relationshipType: string }) => r.relationshipType === 'CONTAINS').length, 3);
    assert.equal(doc.packages[3].externalRefs[0].referenceLocator, 'pkg:deb/debian/openssl@3.0.15-1?arch=amd64');
  });
});

describe('changes between versions', () => {
  it('added, removed, upgraded and downgraded, each by the package manager’s order', () => {
    const a: PackageList = {
      database: 'dpkg',
      packages: [
        { name: 'openssl', version: '3.0.15-1' },
        { name: 'wget', version: '1.21' },
        { name: 'zlib', version: '1:1.3~rc1' },
      ],
    };
    const b: PackageList = {
      database: 'dpkg',
      packages: [
        { name: 'curl', version: '8.5.0' },
        { name: 'openssl', version: '3.0.16-1' },
        { name: 'zlib', version: '1:1.2' },
      ],
    };
    const c = packageChanges({ version: 'v1', image: 'x', list: a }, { version: 'v2', image: 'y', list: b });
    assert.deepEqual(c.added, [{ name: 'curl', version: '8.5.0' }]);
    assert.deepEqual(c.removed, [{ name: 'wget', version: '1.21' }]);
    assert.deepEqual(c.upgraded, [{ name: 'openssl', from: '3.0.15-1', to: '3.0.16-1' }]);
    assert.deepEqual(c.downgraded, [{ name: 'zlib', from: '1:1.3~rc1', to: '1:1.2' }]);
    assert.deepEqual(changeLines(c), ['openssl 3.0.15-1 → 3.0.16-1', 'zlib 1:1.3~rc1 → 1:1.2 (downgraded)', '+ curl 8.5.0', '− wget 1.21']);
  });

  it("dpkg's order (checked against dpkg --compare-versions)", () => {
    const pairs = [
      ['1.0', '1.0'],
      ['1.0~rc1', '1.0'],
      ['1.0', '1.0-1'],
      ['1:0.1', '2.0'],
      ['2.36-9', '2.36-9+deb12u1'],
      ['1.2a', '1.2+'],
      ['1.10', '1.9'],
      ['3.0.15-1', '3.0.16-1'],
      ['0~', '0'],
    ];
    /** What dpkg itself says of `a OP b`. */
    const dpkgSays = (a: string, op: 'lt' | 'eq', b: string) => {
      try {
        execFileSync('dpkg', ['--compare-versions', a, op, b]);
        return true;
      } catch {
        return false;
      }
    };
    for (const [a, b] of pairs) assert.equal(compareDebian(a!, b!), dpkgSays(a!, 'lt', b!) ? -1 : dpkgSays(a!, 'eq', b!) ? 0 : 1, `${a} vs ${b}`);
  });

  it("rpm's order (checked against rpm's own rpmvercmp through rpmdev's --eval)", { skip: requirements(['rpm']) }, () => {
    const pairs = [
      ['1.0', '1.0'],
      ['1.0~rc1', '1.0'],
      ['1.0^git1', '1.0'],
      ['1.10', '1.9'],
      ['1.0a', '1.0'],
      ['2:1.0-1', '1:9.0-1'],
      ['3.0.15-1.fc41', '3.0.16-1.fc41'],
      ['1.0-2', '1.0-10'],
    ];
    for (const [a, b] of pairs) {
      const theirs = Number(execFileSync('rpm', ['--eval', `%{lua: print(rpm.vercmp("${a}", "${b}"))}`], { encoding: 'utf8' }).trim());
      assert.equal(compareRpm(a!, b!), theirs, `${a} vs ${b}`);
    }
  });
});
