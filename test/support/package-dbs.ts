// Real package databases for tests: dpkg's status of this machine (hundreds of real packages),
// an apk installed database in Alpine's format, and an rpm database made by the real rpm (an
// rpmbuild'd package installed with --justdb into rpmdb.sqlite).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** This machine's own dpkg status file. */
export const machineDpkgStatus = (): string => readFileSync('/var/lib/dpkg/status', 'utf8');

/** An apk installed database as apk writes it (fields from Alpine 3.20's own database). */
export function apkInstalled(packages: { name: string; version: string; origin?: string }[]): string {
  return packages
    .map(
      (p) =>
        `C:Q1${Buffer.from(p.name).toString('base64').slice(0, 27)}=\nP:${p.name}\nV:${p.version}\nA:x86_64\nS:12345\nI:45678\nT:${p.name} package\nU:https://alpinelinux.org\nL:MIT\no:${p.origin ?? p.name}\nm:Natanael Copa <ncopa@alpinelinux.org>\nt:1718000000\nc:0123456789abcdef\nD:so:libc.musl-x86_64.so.1\np:cmd:${p.name}=${p.version}\nF:usr/bin\nR:${p.name}\na:0:0:755\nZ:Q1abcdefghijklmnopqrstuvwxyz0=\n`,
    )
    .join('\n');
}

/**
 * rpmdb.sqlite made by the real rpm: each package built by rpmbuild (an empty noarch package with
 * that name, version and release) and installed with --justdb into a fresh database.
 */
export async function rpmDatabase(packages: { name: string; version: string; release: string; epoch?: number }[]): Promise<Buffer> {
  const top = await mkdtemp(path.join(os.tmpdir(), 'ss-rpm-'));
  const root = path.join(top, 'root');
  await mkdir(path.join(root, 'var/lib/rpm'), { recursive: true });
  const define = (k: string, v: string) => ['--define', `${k} ${v}`];
  const common = [...define('_topdir', path.join(top, 'build')), ...define('_db_backend', 'sqlite'), ...define('_dbpath', '/var/lib/rpm')];
  execFileSync('rpm', ['--root', root, ...common, '--initdb']);
  for (const p of packages) {
    const spec = path.join(top, `${p.name}.spec`);
    await writeFile(
      spec,
      [
        `Name: ${p.name}`,
        `Version: ${p.version}`,
        `Release: ${p.release}`,
        ...(p.epoch ? [`Epoch: ${p.epoch}`] : []),
        'Summary: a test package',
        'License: MIT',
        'BuildArch: noarch',
        '%description',
        'A test package.',
        '%files',
        '',
      ].join('\n'),
    );
    execFileSync('rpmbuild', [...common, '-bb', '--quiet', spec], { stdio: 'pipe' });
    const rpm = path.join(top, 'build/RPMS/noarch', `${p.name}-${p.version}-${p.release}.noarch.rpm`);
    execFileSync('rpm', ['--root', root, ...common, '-i', '--justdb', '--nodeps', '--nosignature', '--ignorearch', '--ignoreos', rpm], { stdio: 'pipe' });
  }
  return readFile(path.join(root, 'var/lib/rpm/rpmdb.sqlite'));
}
