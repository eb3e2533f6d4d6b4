// What LXC's `download` template reads, rendered (pure): the image index (meta/1.0/index-system
// and index-user, each also with the compat-level suffix `.7` LXC 5 asks for first), one line
// `dist;release;arch;variant;build;/folder/` per product for its newest version with LXC files;
// and the files of an image's meta.tar.xz (config, config-user, create-message, expiry,
// excludes-user, templates), from its product and metadata.yaml.

import { lxcOf } from '../plan/lxc.js';
import type { PlannedProduct } from '../plan/products.js';
import { byEntryKey } from '../util/compare.js';

/** The index files LXC 5 reads (system containers, unprivileged ones; compat level 7 first). */
export const LXC_INDEX_PATHS = ['meta/1.0/index-system', 'meta/1.0/index-system.7', 'meta/1.0/index-user', 'meta/1.0/index-user.7'] as const;

/** A field of an index line: the template splits on `;`, reads lines, and builds cache paths from them. */
const FIELD = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/;

export interface LxcIndexLine {
  dist: string;
  release: string;
  arch: string;
  variant: string;
  build: string;
  /** The folder holding meta.tar.xz and rootfs.tar.xz, from the tree's root, with a leading and trailing `/`. */
  path: string;
}

/** One line per product with LXC files (its newest such version), sorted. */
export function lxcIndexLines(products: PlannedProduct[]): LxcIndexLine[] {
  const lines: LxcIndexLine[] = [];
  for (const p of products) {
    for (const v of [...p.versions].reverse()) {
      const lxc = lxcOf(v);
      if (!lxc) continue;
      const line = { dist: p.os.toLowerCase(), release: p.release, arch: p.arch, variant: p.variant, build: v.key, path: `/${lxc.dir}/` };
      if ([line.dist, line.release, line.arch, line.variant].every((f) => FIELD.test(f)) && !/[;\s]/.test(line.build + line.path)) lines.push(line);
      break;
    }
  }
  const key = (l: LxcIndexLine) => [l.dist, l.release, l.arch, l.variant].join('\0');
  return lines.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The index text (empty when no product has LXC files). */
export function renderLxcIndex(products: PlannedProduct[]): string {
  return lxcIndexLines(products)
    .map((l) => `${l.dist};${l.release};${l.arch};${l.variant};${l.build};${l.path}\n`)
    .join('');
}

/** What an image's meta.tar.xz is made from. */
export interface LxcMetaInput {
  os: string;
  release: string;
  variant: string;
  /** LXD's name of the architecture (x86_64, aarch64, …): LXC's lxc.arch takes it. */
  canonicalArch: string;
  description?: string;
  /** expiry_date of metadata.yaml (seconds since 1970). */
  expiry?: number;
  /** Paths in the root filesystem the image's LXD templates write and LXC can fill in too. */
  templated: string[];
}

/** Files LXC fills in (its templates): the container's name replaces LXC_NAME. */
export const LXC_TEMPLATE_FILES: Readonly<Record<string, string>> = {
  'etc/hostname': 'LXC_NAME\n',
  'etc/hosts': '127.0.0.1   localhost\n127.0.1.1   LXC_NAME\n\n::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n',
};

/** The templated paths of metadata.yaml's `templates` LXC can fill in (without the leading `/`). */
export function lxcTemplated(metadataTemplates: unknown): string[] {
  if (!metadataTemplates || typeof metadataTemplates !== 'object') return [];
  return Object.keys(metadataTemplates)
    .map((p) => p.replace(/^\/+/, ''))
    .filter((p) => LXC_TEMPLATE_FILES[p] !== undefined)
    .sort();
}

/** The files of meta.tar.xz: name → content. */
export function lxcMetaFiles(input: LxcMetaInput): [string, string][] {
  const arch = `lxc.arch = ${input.canonicalArch}\n`;
  const name = input.description ?? `${input.os} ${input.release} (${input.variant})`;
  const files: [string, string][] = [
    ['config', `lxc.include = LXC_TEMPLATE_CONFIG/common.conf\n${arch}`],
    ['config-user', `lxc.include = LXC_TEMPLATE_CONFIG/common.conf\nlxc.include = LXC_TEMPLATE_CONFIG/userns.conf\n${arch}`],
    [
      'create-message',
      `You just created a container from the image ${name.replace(/[^\x20-\x7e]/g, '?')}.\n\nStart it with lxc-start -n NAME, and get a shell in it with lxc-attach -n NAME.\n`,
    ],
    // Device nodes cannot be made in an unprivileged container: LXC mounts /dev itself.
    ['excludes-user', './dev/*\ndev/*\n'],
  ];
  if (input.expiry) files.push(['expiry', `${input.expiry}\n`]);
  if (input.templated.length) files.push(['templates', input.templated.map((p) => `/${p}\n`).join('')]);
  return files.sort(byEntryKey);
}

/** The lines of an LXC index (as the template reads it: `;`-separated, lines with six fields). */
export function parseLxcIndex(text: string): { line: number; fields: string[] }[] {
  return text
    .split('\n')
    .map((l, i) => ({ line: i + 1, fields: l.split(';') }))
    .filter((l) => l.fields.join('') !== '');
}
