// What is inside an image and what changed, as published next to it: the package list read from
// its root filesystem, in Ubuntu's cloud-image manifest format (`name<TAB>version` lines) and as
// JSON, an SPDX 2.3 SBOM whose subject is the image's fingerprint, and the changes from the
// previous version of the product. Pure and deterministic (the SBOM's time is the version's);
// shared with site/ and the commands that read them back (list --packages, diff).

import { compareStrings } from '../util/compare.js';

export interface Package {
  name: string;
  version: string;
  architecture?: string;
  /** The source package, when it has another name. */
  source?: string;
}

export interface PackageList {
  database: 'dpkg' | 'apk' | 'rpm';
  /** Sorted by name, then architecture. */
  packages: Package[];
  /** Entries left out: a name or version with characters no package manager allows. */
  refused?: number;
}

/** What reading an image's package database gave: its list, or why there is none. */
export type PackageScan = { list: PackageList } | { none: string };

/** The ftypes of the items that describe a version's image (clients skip ftypes they do not know). */
export const MANIFEST_FTYPES = {
  manifest: 'manifest',
  json: 'manifest.json',
  sbom: 'spdx.json',
  changes: 'changes.json',
} as const;

/** The format tag of the JSON forms. */
export const PACKAGES_FORMAT = 'staticstreams-packages/1';
export const CHANGES_FORMAT = 'staticstreams-changes/1';

/** A package's name in a manifest: with `:arch` where the list has it for more than one architecture. */
function qualifiedNames(packages: Package[]): string[] {
  const count = new Map<string, number>();
  for (const p of packages) count.set(p.name, (count.get(p.name) ?? 0) + 1);
  return packages.map((p) => (count.get(p.name)! > 1 && p.architecture ? `${p.name}:${p.architecture}` : p.name));
}

/** Ubuntu's manifest format: one `name<TAB>version` line per package, sorted. */
export function manifestText(list: PackageList): string {
  const names = qualifiedNames(list.packages);
  return list.packages.map((p, i) => `${names[i]}\t${p.version}\n`).join('');
}

export interface ManifestJson {
  format: typeof PACKAGES_FORMAT;
  /** The image's fingerprint. */
  image: string;
  architecture: string;
  database: PackageList['database'];
  packages: Package[];
}

export function manifestJson(list: PackageList, image: { fingerprint: string; architecture: string }): string {
  const doc: ManifestJson = {
    format: PACKAGES_FORMAT,
    image: image.fingerprint,
    architecture: image.architecture,
    database: list.database,
    packages: list.packages,
  };
  return `${JSON.stringify(doc, null, 1)}\n`;
}

/** The value `text` holds as JSON, or undefined when it is not JSON (never echoed: it came from outside). */
export function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+~@-]{0,254}$/;
const VERSION = /^[A-Za-z0-9_.+~^:-]{1,255}$/;

/** Reads a manifest JSON item back (from a tree we did not write): its list, or why not. */
export function parseManifestJson(text: string): ManifestJson | string {
  const d = jsonOf(text) as Partial<ManifestJson> | undefined;
  if (d === undefined) return 'is not JSON';
  if (d?.format !== PACKAGES_FORMAT || !Array.isArray(d.packages)) return `is not a ${PACKAGES_FORMAT} document`;
  for (const p of d.packages as unknown[]) {
    const q = p as Partial<Package>;
    if (typeof q?.name !== 'string' || !NAME.test(q.name) || typeof q.version !== 'string' || !VERSION.test(q.version))
      return 'lists a package with a bad name or version';
    if (q.architecture !== undefined && (typeof q.architecture !== 'string' || !NAME.test(q.architecture))) return 'lists a package with a bad architecture';
    if (q.source !== undefined && (typeof q.source !== 'string' || !NAME.test(q.source))) return 'lists a package with a bad source';
  }
  if (!['dpkg', 'apk', 'rpm'].includes(d.database as string)) return 'names an unknown package database';
  return d as ManifestJson;
}

/** Compares two versions the way `database`'s package manager does. */
export function compareVersions(database: PackageList['database'], a: string, b: string): number {
  return database === 'dpkg' ? compareDebian(a, b) : compareRpm(a, b);
}

/** dpkg's order of one character in the non-digit part: `~` before everything, even the end. */
function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp. */
function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !/\d/.test(a[i]!)) || (j < b.length && !/\d/.test(b[j]!))) {
      const ac = i < a.length && !/\d/.test(a[i]!) ? order(a[i]) : 0;
      const bc = j < b.length && !/\d/.test(b[j]!) ? order(b[j]) : 0;
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    let first = 0;
    while (i < a.length && /\d/.test(a[i]!) && j < b.length && /\d/.test(b[j]!)) {
      if (!first) first = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && /\d/.test(a[i]!)) return 1;
    if (j < b.length && /\d/.test(b[j]!)) return -1;
    if (first) return first;
  }
  return 0;
}

function splitDebian(v: string): [number, string, string] {
  const colon = v.indexOf(':');
  const epoch = colon > 0 && /^\d+$/.test(v.slice(0, colon)) ? Number(v.slice(0, colon)) : 0;
  const rest = colon > 0 ? v.slice(colon + 1) : v;
  const dash = rest.lastIndexOf('-');
  return dash > 0 ? [epoch, rest.slice(0, dash), rest.slice(dash + 1)] : [epoch, rest, ''];
}

/** Debian's version order (epoch, upstream version, revision). */
export function compareDebian(a: string, b: string): number {
  const [ea, ua, ra] = splitDebian(a);
  const [eb, ub, rb] = splitDebian(b);
  return Math.sign(ea - eb || verrevcmp(ua, ub) || verrevcmp(ra, rb));
}

/** rpm's rpmvercmp on one part: alternating digit and letter segments, `~` before anything, `^` after. */
function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && !/[A-Za-z0-9~^]/.test(a[i]!)) i++;
    while (j < b.length && !/[A-Za-z0-9~^]/.test(b[j]!)) j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const digits = /\d/.test(a[i]!);
    const seg = digits ? /^\d+/ : /^[A-Za-z]+/;
    const sa = seg.exec(a.slice(i))?.[0] ?? '';
    const sb = seg.exec(b.slice(j))?.[0] ?? '';
    if (!sb) return digits ? 1 : -1;
    i += sa.length;
    j += sb.length;
    if (digits) {
      const na = sa.replace(/^0+/, '');
      const nb = sb.replace(/^0+/, '');
      if (na.length !== nb.length) return na.length > nb.length ? 1 : -1;
    }
    const c = compareStrings(digits ? sa.replace(/^0+/, '') : sa, digits ? sb.replace(/^0+/, '') : sb);
    if (c) return c;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** rpm's (and, near enough, apk's) version order: epoch, version, release. */
export function compareRpm(a: string, b: string): number {
  const [ea, ua, ra] = splitDebian(a);
  const [eb, ub, rb] = splitDebian(b);
  return Math.sign(ea - eb || rpmvercmp(ua, ub) || rpmvercmp(ra, rb));
}

export interface Changes {
  format: typeof CHANGES_FORMAT;
  /** The version (and image) these changes lead from, and to. */
  from: { version: string; image: string };
  to: { version: string; image: string };
  added: { name: string; version: string }[];
  removed: { name: string; version: string }[];
  upgraded: { name: string; from: string; to: string }[];
  downgraded: { name: string; from: string; to: string }[];
}

/** What changed between two package lists (by qualified name). */
export function packageChanges(
  from: { version: string; image: string; list: PackageList },
  to: { version: string; image: string; list: PackageList },
): Changes {
  const index = (list: PackageList) => {
    const names = qualifiedNames(list.packages);
    return new Map(list.packages.map((p, i) => [names[i]!, p.version]));
  };
  const a = index(from.list);
  const b = index(to.list);
  const changes: Changes = {
    format: CHANGES_FORMAT,
    from: { version: from.version, image: from.image },
    to: { version: to.version, image: to.image },
    added: [],
    removed: [],
    upgraded: [],
    downgraded: [],
  };
  for (const [name, version] of b) {
    const before = a.get(name);
    if (before === undefined) changes.added.push({ name, version });
    else if (before !== version) {
      const c = compareVersions(to.list.database, version, before);
      (c < 0 ? changes.downgraded : changes.upgraded).push({ name, from: before, to: version });
    }
  }
  for (const [name, version] of a) if (!b.has(name)) changes.removed.push({ name, version });
  for (const l of [changes.added, changes.removed, changes.upgraded, changes.downgraded]) l.sort((x, y) => compareStrings(x.name, y.name));
  return changes;
}

export const changesJson = (c: Changes): string => `${JSON.stringify(c, null, 1)}\n`;

/** Reads a changes JSON item back (from a tree we did not write): the changes, or why not. */
export function parseChangesJson(text: string): Changes | string {
  const d = jsonOf(text) as Partial<Changes> | undefined;
  if (d === undefined) return 'is not JSON';
  if (d?.format !== CHANGES_FORMAT) return `is not a ${CHANGES_FORMAT} document`;
  const plain = (v: unknown) => typeof v === 'string' && VERSION.test(v);
  const named = (v: unknown) => typeof v === 'string' && (NAME.test(v) || /^[A-Za-z0-9_][A-Za-z0-9_.+~@-]*:[A-Za-z0-9_.-]+$/.test(v));
  for (const key of ['added', 'removed'] as const)
    if (!Array.isArray(d[key]) || !d[key].every((e) => named(e?.name) && plain(e?.version))) return `has a bad ${key} list`;
  for (const key of ['upgraded', 'downgraded'] as const)
    if (!Array.isArray(d[key]) || !d[key].every((e) => named(e?.name) && plain(e?.from) && plain(e?.to))) return `has a bad ${key} list`;
  if (typeof d.from?.version !== 'string' || typeof d.to?.version !== 'string') return 'does not say which versions it compares';
  return d as Changes;
}

/** The number of changes, and whether there are none. */
export const changeCount = (c: Pick<Changes, 'added' | 'removed' | 'upgraded' | 'downgraded'>): number =>
  c.added.length + c.removed.length + c.upgraded.length + c.downgraded.length;

/** One line per change, as people read them: `+ curl 8.5.0`, `- wget 1.21`, `openssl 3.0.15 → 3.0.16`. */
export function changeLines(c: Pick<Changes, 'added' | 'removed' | 'upgraded' | 'downgraded'>): string[] {
  return [
    ...c.upgraded.map((u) => `${u.name} ${u.from} → ${u.to}`),
    ...c.downgraded.map((u) => `${u.name} ${u.from} → ${u.to} (downgraded)`),
    ...c.added.map((a) => `+ ${a.name} ${a.version}`),
    ...c.removed.map((r) => `− ${r.name} ${r.version}`),
  ];
}

/** The purl type and namespace of a database's packages on an os (https://github.com/package-url/purl-spec). */
function purl(database: PackageList['database'], os: string, p: Package): string {
  const type = database === 'dpkg' ? 'deb' : database;
  const ns = encodeURIComponent(os.toLowerCase());
  const q = p.architecture ? `?arch=${encodeURIComponent(p.architecture)}` : '';
  return `pkg:${type}/${ns}/${encodeURIComponent(p.name)}@${encodeURIComponent(p.version)}${q}`;
}

/**
 * An SPDX 2.3 document (JSON) of an image: the image itself (its fingerprint the checksum) and
 * every package it contains. Its namespace and creation time come from the image, so the same
 * image always gives the same bytes.
 */
export function spdxJson(list: PackageList, image: { fingerprint: string; product: string; version: string; os: string; created: string }): string {
  const doc = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${image.product} ${image.version}`,
    documentNamespace: `https://staticstreams.invalid/spdx/${image.fingerprint}`,
    creationInfo: { created: image.created, creators: ['Tool: staticstreams'] },
    documentDescribes: ['SPDXRef-Image'],
    packages: [
      {
        SPDXID: 'SPDXRef-Image',
        name: image.product,
        versionInfo: image.version,
        downloadLocation: 'NOASSERTION',
        filesAnalyzed: false,
        checksums: [{ algorithm: 'SHA256', checksumValue: image.fingerprint }],
        primaryPackagePurpose: 'OPERATING-SYSTEM',
        licenseConcluded: 'NOASSERTION',
        licenseDeclared: 'NOASSERTION',
        copyrightText: 'NOASSERTION',
      },
      ...list.packages.map((p, i) => ({
        SPDXID: `SPDXRef-Package-${i + 1}`,
        name: p.name,
        versionInfo: p.version,
        downloadLocation: 'NOASSERTION',
        filesAnalyzed: false,
        ...(p.source ? { sourceInfo: `built from the source package ${p.source}` } : {}),
        licenseConcluded: 'NOASSERTION',
        licenseDeclared: 'NOASSERTION',
        copyrightText: 'NOASSERTION',
        externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purl(list.database, image.os, p) }],
      })),
    ],
    relationships: [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-Image' },
      ...list.packages.map((_, i) => ({ spdxElementId: 'SPDXRef-Image', relationshipType: 'CONTAINS', relatedSpdxElement: `SPDXRef-Package-${i + 1}` })),
    ],
  };
  // Compact: read by tools, one per version (the package list's text form is the one people read).
  return `${JSON.stringify(doc)}\n`;
}
