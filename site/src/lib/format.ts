// Dates and sizes as the site shows them (UTC, so a page reads the same everywhere).

export { formatBytes } from '../../../generator/util/format.js';

export function formatDate(iso: string): string {
  return iso.slice(0, 10);
}

/**
 * One label per file, whichever client's item listed it: the same metadata tarball is an
 * `lxd.tar.xz` item for LXD and an `incus.tar.xz` item for Incus.
 */
export function fileLabel(ftype: string): string {
  if (ftype === 'lxd.tar.xz' || ftype === 'incus.tar.xz') return 'metadata';
  if (ftype === 'lxd_combined.tar.gz' || ftype === 'incus_combined.tar.gz') return 'unified image';
  if (ftype === 'squashfs.vcdiff') return 'squashfs delta';
  if (ftype === 'disk-kvm.img') return 'VM disk';
  if (ftype === 'root.tar.xz') return 'root tarball';
  return ftype;
}

/** The clients in one order everywhere: LXD, then Incus. */
export function clientNames(clients: readonly string[]): string[] {
  return ['lxd', 'incus'].filter((c) => clients.includes(c)).map((c) => (c === 'lxd' ? 'LXD' : 'Incus'));
}

/** A product requirement as a sentence fragment people understand; unknown ones as key=value. */
export function requirementInWords(key: string, value: string): string {
  const known: Record<string, string> = {
    'secureboot=false': 'boots without Secure Boot',
    'secureboot=true': 'needs Secure Boot',
    'cgroup=v1': 'needs a host with cgroup v1',
    'cgroup=v2': 'needs a host with cgroup v2',
    'nesting=true': 'needs security.nesting',
    'privileged=true': 'needs a privileged container',
    'cdrom_agent=true': 'its agent comes on a CD-ROM (agent:config disk)',
  };
  return known[`${key}=${value}`] ?? `needs ${key}=${value}`;
}
