// The package databases a root filesystem may hold, where they are, and how each is read into a
// package list: dpkg's status file, apk's installed database, and rpm's rpmdb.sqlite (its rows are
// rpm headers). Every database is hostile input: its size and package count are bounded, names
// and versions must be made of the characters package managers allow (anything else is left
// out and counted), and nothing of it is executed. Older rpm databases (Berkeley DB, ndb) are
// named as unsupported.

import { readSqliteTable, SqliteProblem } from './sqlite-table.js';
import type { PackageList, PackageScan, Package } from '../formats/manifest.js';

/** Bytes of a package database read into memory at most. */
export const PACKAGE_DB_LIMIT = 128 * 1024 * 1024;
/** Packages in one image at most. */
export const PACKAGE_LIMIT = 100_000;

type Db = PackageList['database'];

/** Where each database is, under a root filesystem's top; of two paths of one database, the first found is read (rpm moved its database to /usr). */
const DATABASES: readonly { path: string; db: Db | 'rpm-bdb' | 'rpm-ndb' }[] = [
  { path: 'var/lib/dpkg/status', db: 'dpkg' },
  { path: 'usr/lib/apk/db/installed', db: 'apk' },
  { path: 'lib/apk/db/installed', db: 'apk' },
  { path: 'usr/lib/sysimage/rpm/rpmdb.sqlite', db: 'rpm' },
  { path: 'var/lib/rpm/rpmdb.sqlite', db: 'rpm' },
  { path: 'usr/lib/sysimage/rpm/Packages.db', db: 'rpm-ndb' },
  { path: 'usr/lib/sysimage/rpm/Packages', db: 'rpm-bdb' },
  { path: 'var/lib/rpm/Packages', db: 'rpm-bdb' },
];

/** The paths to capture in a tar walk of a root filesystem whose top is `prefix` ('' or 'rootfs/'). */
export const packageDbPaths = (prefix: string): string[] => DATABASES.map((d) => prefix + d.path);

/** The database paths in the order a reader that looks one path at a time should try them (the first found is the one read). */
export const packageDbLookup = (): string[] => PREFERENCE.flatMap((db) => DATABASES.filter((d) => d.db === db).map((d) => d.path));

/** What a walk captured at one path: the file's bytes, or why it was not read. */
export type Captured = Buffer | { skipped: string };

/** A name as package managers allow it (dpkg, rpm, apk), with an architecture qualifier. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+~@-]{0,254}$/;
/** A version: epoch, upstream and revision characters of dpkg, rpm and apk. */
const VERSION = /^[A-Za-z0-9_.+~^:-]{1,255}$/;
const ARCH = /^[A-Za-z0-9_.-]{1,64}$/;

/** Collects packages, leaving out (and counting) those whose fields are not plain. */
class Collector {
  packages: Package[] = [];
  refused = 0;
  add(p: { name?: string; version?: string; architecture?: string; source?: string }): void {
    const { name, version } = p;
    if (!name || !version || !NAME.test(name) || !VERSION.test(version)) {
      this.refused++;
      return;
    }
    if (this.packages.length >= PACKAGE_LIMIT) throw new Error(`holds more than ${PACKAGE_LIMIT} packages`);
    const pkg: Package = { name, version };
    if (p.architecture && ARCH.test(p.architecture)) pkg.architecture = p.architecture;
    if (p.source && NAME.test(p.source) && p.source !== name) pkg.source = p.source;
    this.packages.push(pkg);
  }
}

/** The dpkg fields a package list needs (the rest of a stanza, descriptions above all, is skipped unread). */
const DPKG_FIELDS: Readonly<Record<string, 'name' | 'status' | 'version' | 'architecture' | 'source'>> = {
  'Package:': 'name',
  'Status:': 'status',
  'Version:': 'version',
  'Architecture:': 'architecture',
  'Source:': 'source',
};

/**
 * dpkg's status file: stanzas of `Field: value`, a blank line between them; only packages whose
 * status says installed. One pass over the lines, looking only at the fields it needs.
 */
export function parseDpkgStatus(text: string, into = new Collector()): Collector {
  let p: Partial<Record<'name' | 'status' | 'version' | 'architecture' | 'source', string>> = {};
  const end = () => {
    const status = p.status ?? '';
    if (p.name !== undefined && / installed$/.test(status)) into.add({ ...p, source: p.source?.split(' ')[0] });
    p = {};
  };
  for (let at = 0; at <= text.length;) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    const first = text.charCodeAt(at);
    const indented = first === 32 || first === 9;
    if (nl === at || (indented && text.slice(at, nl).trim() === ''))
      end(); // a blank line ends the stanza
    else if (!indented) {
      const colon = text.indexOf(':', at);
      if (colon > at && colon < nl) {
        const field = DPKG_FIELDS[text.slice(at, colon + 1)];
        if (field) p[field] = text.slice(colon + 1, nl).trim();
      }
    }
    at = nl + 1;
  }
  end();
  return into;
}

/** apk's installed database: `K:value` lines, a blank line between packages. */
export function parseApkInstalled(text: string, into = new Collector()): Collector {
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields: Record<string, string> = {};
    for (const line of stanza.split('\n')) if (line[1] === ':') fields[line[0]!] ??= line.slice(2);
    if (fields.P) into.add({ name: fields.P, version: fields.V, architecture: fields.A, source: fields.o });
  }
  return into;
}

const RPMTAG = { name: 1000, version: 1001, release: 1002, epoch: 1003, arch: 1022, sourcerpm: 1044 } as const;

/** The tags of one rpm header blob (as rpmdb stores them: index count, data length, index, data). */
export function rpmHeaderTags(blob: Buffer): { name?: string; version?: string; architecture?: string; source?: string } {
  if (blob.length < 8) throw new Error('an rpm header is cut short');
  const il = blob.readUInt32BE(0);
  const dl = blob.readUInt32BE(4);
  const dataStart = 8 + il * 16;
  if (il > 10_000 || dataStart + dl > blob.length) throw new Error('an rpm header is cut short');
  const tags = new Map<number, { type: number; offset: number; count: number }>();
  for (let i = 0; i < il; i++) {
    const at = 8 + i * 16;
    tags.set(blob.readUInt32BE(at), { type: blob.readUInt32BE(at + 4), offset: blob.readInt32BE(at + 8), count: blob.readUInt32BE(at + 12) });
  }
  const str = (tag: number): string | undefined => {
    const t = tags.get(tag);
    // STRING (6) or I18NSTRING (9): NUL-terminated in the data store
    if (!t || (t.type !== 6 && t.type !== 9) || t.offset < 0 || t.offset >= dl) return undefined;
    const from = dataStart + t.offset;
    const end = blob.indexOf(0, from);
    if (end < 0 || end > dataStart + dl) return undefined;
    return blob.toString('utf8', from, end);
  };
  const epochTag = tags.get(RPMTAG.epoch);
  let epoch: number | undefined;
  if (epochTag?.type === 4 && epochTag.offset >= 0 && epochTag.offset + 4 <= dl) epoch = blob.readUInt32BE(dataStart + epochTag.offset);
  const version = str(RPMTAG.version);
  const release = str(RPMTAG.release);
  const full = version === undefined ? undefined : `${epoch ? `${epoch}:` : ''}${version}${release ? `-${release}` : ''}`;
  // the source package's name: SOURCERPM without -version-release.src.rpm
  const source = str(RPMTAG.sourcerpm)?.replace(/-[^-]+-[^-]+\.(no)?src\.rpm$/, '');
  return { name: str(RPMTAG.name), version: full, architecture: str(RPMTAG.arch), source };
}

/** rpmdb.sqlite: the Packages table, one rpm header per row. */
export function parseRpmSqlite(file: Buffer, into = new Collector()): Collector {
  for (const row of readSqliteTable(file, 'Packages')) {
    const blob = row.find((v): v is Buffer => Buffer.isBuffer(v));
    if (!blob) continue;
    const tags = rpmHeaderTags(blob);
    if (tags.name === 'gpg-pubkey') continue; // imported signing keys, not packages
    into.add(tags);
  }
  return into;
}

/** Which database is read when a root holds several. */
const PREFERENCE = ['dpkg', 'rpm', 'apk', 'rpm-ndb', 'rpm-bdb'] as const;

const byName = (a: Package, b: Package) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : (a.architecture ?? '') < (b.architecture ?? '') ? -1 : (a.architecture ?? '') > (b.architecture ?? '') ? 1 : 0;

/**
 * The package list of a root filesystem from what a walk captured under `prefix` (see
 * packageDbPaths): the database found, read; none found or one that cannot be read, said why.
 */
export function readPackages(captured: Readonly<Record<string, Captured>>, prefix: string): PackageScan {
  let found: { path: string; db: (typeof DATABASES)[number]['db']; data: Captured } | undefined;
  for (const db of PREFERENCE) {
    for (const d of DATABASES) {
      const data = captured[prefix + d.path];
      if (d.db === db && data !== undefined) found ??= { ...d, data };
    }
  }
  if (!found) return { none: 'no package database (dpkg, apk or rpm) in the root filesystem' };
  const where = `/${found.path}`;
  if (found.db === 'rpm-bdb') return { none: `${where} is an rpm Berkeley DB database, which is not read (rpm 4.16 and later use rpmdb.sqlite)` };
  if (found.db === 'rpm-ndb') return { none: `${where} is an rpm ndb database, which is not read (only rpmdb.sqlite is)` };
  if (!Buffer.isBuffer(found.data)) return { none: `${where} ${found.data.skipped}` };
  try {
    const c =
      found.db === 'dpkg'
        ? parseDpkgStatus(found.data.toString('latin1'))
        : found.db === 'apk'
          ? parseApkInstalled(found.data.toString('latin1'))
          : parseRpmSqlite(found.data);
    const packages = c.packages.sort(byName);
    return { list: { database: found.db, packages, ...(c.refused ? { refused: c.refused } : {}) } };
  } catch (e) {
    const why = e instanceof SqliteProblem ? `is not a readable rpm database: it ${e.message}` : `cannot be read: it ${(e as Error).message}`;
    return { none: `${where} ${why}` };
  }
}
