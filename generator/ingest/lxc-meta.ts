// An LXC meta.tar.xz from elsewhere (an upstream a mirror copies), read as hostile: LXC's
// `download` template appends its `config` (or `config-user`) to the container's configuration
// on the host — an `lxc.hook.*` line runs a command on the host at every start, an
// `lxc.mount.entry` hands the container the host's files — prints its `create-message` on the
// terminal, and runs `sed -i` on each path its `templates` lists inside the root filesystem
// (which a symbolic link there can point at a file of the host). So: only the files LXC reads,
// each regular and small; `config` lines only `lxc.include = LXC_TEMPLATE_CONFIG/NAME.conf` and
// `lxc.arch`; no control character in the message; templated paths regular files of the root
// tarball, under no link (templatedProblems, from what the tar walk saw of those paths).

import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import tarStream from 'tar-stream';
import { decompressor } from './decompress.js';

/** The files of a meta.tar.xz LXC reads (distrobuilder's build-lxc writes these). */
const META_FILES = new Set(['config', 'config-user', 'create-message', 'excludes-user', 'expiry', 'templates']);

/** Far beyond any real meta tarball (a few hundred bytes of text). */
const META_MAX_BYTES = 1024 * 1024;

const CONFIG_LINE = /^\s*(?:#.*|lxc\.include\s*=\s*LXC_TEMPLATE_CONFIG\/[A-Za-z0-9][A-Za-z0-9._-]*\.conf|lxc\.arch\s*=\s*[A-Za-z0-9_]+)?\s*$/;
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
/** A templated path as LXC joins it to the root filesystem: absolute, plain segments. */
const TEMPLATED = /^\/(?:[A-Za-z0-9._+@-]+\/)*[A-Za-z0-9._+@-]+$/;

export interface LxcMeta {
  /** The paths its `templates` lists, without the leading `/`. */
  templated: string[];
  problems: string[];
}

/** Reads and checks a meta.tar.xz; every problem at once (`file`: a path on disk). */
export async function readLxcMeta(file: string): Promise<LxcMeta> {
  const problems: string[] = [];
  const texts = new Map<string, string>();
  let total = 0;
  const extract = tarStream.extract();
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^(\.\/)+/, '');
    if (header.type === 'directory' && (name === '' || name === '.')) {
      stream.resume();
      stream.on('end', next);
      return;
    }
    if (header.type !== 'file' || !META_FILES.has(name))
      problems.push(
        `holds ${JSON.stringify(header.name)} (${header.type ?? 'an unknown type'}): only the files LXC reads (${[...META_FILES].join(', ')}) may be there`,
      );
    const parts: Buffer[] = [];
    stream.on('data', (c: unknown) => {
      total += (c as Buffer).length;
      if (total <= META_MAX_BYTES) parts.push(c as Buffer);
    });
    stream.on('end', () => {
      if (header.type === 'file' && META_FILES.has(name)) texts.set(name, Buffer.concat(parts).toString('utf8'));
      next();
    });
  });
  let unpacked = 0;
  const bound = new Transform({
    transform(chunk: Buffer, _enc, done) {
      unpacked += chunk.length;
      done(unpacked > 2 * META_MAX_BYTES ? new Error(`it unpacks to more than ${2 * META_MAX_BYTES} bytes`) : null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(file), decompressor('xz'), bound, extract);
  } catch (e) {
    return { templated: [], problems: [`does not unpack as an xz tarball (${(e as Error).message})`] };
  }
  if (total > META_MAX_BYTES) problems.push(`unpacks to more than ${META_MAX_BYTES} bytes`);
  for (const name of ['config', 'config-user']) {
    const text = texts.get(name);
    if (text === undefined) continue;
    text.split('\n').forEach((line, i) => {
      if (!CONFIG_LINE.test(line))
        problems.push(
          `${name}, line ${i + 1}: ${JSON.stringify(line.slice(0, 120))}: LXC appends it to the container's configuration on the host; only lxc.include = LXC_TEMPLATE_CONFIG/NAME.conf and lxc.arch are taken from an upstream`,
        );
    });
  }
  for (const name of ['create-message', 'excludes-user', 'expiry']) {
    const text = texts.get(name);
    if (text !== undefined && CONTROL.test(text)) problems.push(`${name}: holds a control character (LXC prints it on the terminal)`);
  }
  const expiry = texts.get('expiry');
  if (expiry !== undefined && !/^\s*\d*\s*$/.test(expiry)) problems.push('expiry: is not a time in seconds since 1970');
  const templated: string[] = [];
  for (const line of (texts.get('templates') ?? '').split('\n').map((l) => l.trim())) {
    if (!line) continue;
    if (!TEMPLATED.test(line) || line.split('/').some((s) => s === '.' || s === '..'))
      problems.push(`templates: ${JSON.stringify(line.slice(0, 120))} is not a plain absolute path in the root filesystem`);
    else templated.push(line.slice(1));
  }
  return { templated, problems };
}

/** A path and each folder above it, without a leading `/` (etc/hostname → etc, etc/hostname). */
export function withAncestors(paths: readonly string[]): string[] {
  const all = new Set<string>();
  for (const p of paths) {
    const parts = p.split('/');
    for (let i = 1; i <= parts.length; i++) all.add(parts.slice(0, i).join('/'));
  }
  return [...all].sort();
}

/**
 * What is wrong with templated paths, from the types the root tarball's walk saw at them and at
 * their folders (`seen`: path → tar-stream's type, the last entry winning as GNU tar lets it;
 * `odd`: the tarball holds entries of a type the walk does not read, which GNU tar may read as
 * other names): each must be a regular file, under folders only.
 */
export function templatedProblems(templated: readonly string[], seen: Readonly<Record<string, string>>, odd: boolean): string[] {
  if (!templated.length) return [];
  if (odd)
    return [
      'the root tarball holds tar entries of a type LXC files are not made from (Solaris X headers?): its templated paths cannot be proven regular files',
    ];
  const problems: string[] = [];
  for (const p of templated) {
    const parts = p.split('/');
    const linked = parts
      .slice(0, -1)
      .map((_, i) => parts.slice(0, i + 1).join('/'))
      .find((a) => seen[a] !== undefined && seen[a] !== 'directory');
    if (linked)
      problems.push(
        `templates: /${p} is not a regular file in the root tarball: /${linked} is a ${seen[linked]} (LXC's sed -i would follow it out of the container)`,
      );
    else if (seen[p] !== undefined && seen[p] !== 'file')
      problems.push(`templates: /${p} is not a regular file in the root tarball (a ${seen[p]}: LXC's sed -i would follow it)`);
  }
  return problems;
}
