// Reads a (possibly compressed) tarball just far enough to tell what it is — a metadata
// tarball, a unified image, or a root filesystem — and pulls out metadata.yaml.
// A metadata tarball is read to its end and hashed in the same pass, and must reach its
// end-of-archive marker (ingest/wholeness proves the other tarballs whole when hashing).

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import tar from 'tar-stream';
import type { Compression } from './detect.js';
import { decompressor } from './decompress.js';
import { REFETCH, streamName, TarEnd } from './wholeness.js';

/** LXD refuses a metadata.yaml over 1 MiB. */
export const METADATA_YAML_LIMIT = 1024 * 1024;
/** Entries read before giving up on finding out what a tarball is. */
export const TAR_ENTRY_LIMIT = 100_000;
/** Bytes of non-rootfs content (metadata.yaml, templates) a tarball may expand to. */
export const METADATA_EXPANDED_LIMIT = 256 * 1024 * 1024;
/** Past this many decompressed bytes, a ratio over BOMB_RATIO to the compressed bytes is refused. */
export const BOMB_MIN_BYTES = 64 * 1024 * 1024;
export const BOMB_RATIO = 200;

export type TarScan =
  | {
      role: 'metadata';
      metadataYaml: Buffer;
      /** sha256 of the whole file, computed in the same read. */
      sha256: string;
      size: number;
    }
  | { role: 'unified'; metadataYaml: Buffer; type: 'container' | 'virtual-machine' }
  | { role: 'rootfs' };

/** A problem found inside the tarball; the caller adds the file name and a fix. */
export class TarProblem extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

/** Strips `./` prefixes and trailing slashes; reports names that would escape the archive root. */
function normalize(name: string): { name: string; unsafe: boolean } {
  const unsafe = name.startsWith('/') || name.split('/').includes('..');
  let n = name;
  while (n.startsWith('./')) n = n.slice(2);
  n = n.replace(/^\/+/, '').replace(/\/+$/, '');
  if (n === '.') n = '';
  return { name: n, unsafe };
}

export async function scanTarball(path: string, compression: Compression, sizeHint?: number): Promise<TarScan> {
  const hash = createHash('sha256');
  let size = 0;
  let metadataYaml: Buffer | undefined;
  let sawRootfsDir = false;
  let sawRootfsImg = false;
  let sawOther = false;
  let entries = 0;
  let expanded = 0;
  let result: TarScan | undefined;
  let failure: Error | undefined;
  let decompressed = 0;

  const dec = decompressor(compression);
  const extract = tar.extract();
  const tarEnd = new TarEnd();
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const decide = (r: TarScan) => {
    if (!result && !failure) result = r;
    settle();
  };
  const fail = (e: Error) => {
    if (!result && !failure) failure = e;
    settle();
  };

  extract.on('entry', (header, stream, next) => {
    // A truncated archive errors the entry stream too; the extract's own error reports it.
    stream.on('error', () => {});
    if (result || failure) {
      stream.resume();
      return;
    }
    entries++;
    tarEnd.entry(header);
    const { name, unsafe } = normalize(header.name);
    const isMetadata = name === 'metadata.yaml';
    const isRootfs = name === 'rootfs' || name.startsWith('rootfs/');
    const isTemplate = name === 'templates' || name.startsWith('templates/');

    if (entries > TAR_ENTRY_LIMIT) {
      fail(new TarProblem(`no decision after ${TAR_ENTRY_LIMIT} tar entries`, 'put metadata.yaml first in the tarball'));
    } else if (isMetadata) {
      if (metadataYaml) {
        fail(new TarProblem('the tarball holds metadata.yaml twice', 'rebuild the tarball with a single metadata.yaml'));
      } else if (header.type !== 'file') {
        fail(new TarProblem(`metadata.yaml is a ${header.type}, not a regular file`, 'store metadata.yaml as a regular file (LXD refuses anything else)'));
      } else if ((header.size ?? 0) > METADATA_YAML_LIMIT) {
        fail(
          new TarProblem(`metadata.yaml is ${header.size} bytes, over LXD's limit of 1 MiB`, 'shrink metadata.yaml (move large template data into templates/)'),
        );
      } else {
        const chunks: Buffer[] = [];
        stream.on('data', (c: unknown) => {
          chunks.push(c as Buffer);
        });
        stream.on('end', () => {
          metadataYaml = Buffer.concat(chunks);
          expanded += metadataYaml.length;
          if (sawRootfsDir || sawRootfsImg) decide({ role: 'unified', metadataYaml, type: sawRootfsImg ? 'virtual-machine' : 'container' });
          next();
        });
        return;
      }
    } else if (isRootfs || name === 'rootfs.img') {
      if (name === 'rootfs.img') sawRootfsImg = true;
      else sawRootfsDir = true;
      if (metadataYaml) decide({ role: 'unified', metadataYaml, type: sawRootfsImg ? 'virtual-machine' : 'container' });
    } else if (name === '') {
      // the archive's own root directory entry
    } else if (isTemplate) {
      if (unsafe) {
        fail(new TarProblem(`entry "${header.name}" points outside the archive`, 'remove absolute paths and ".." from the tarball'));
      } else if (!['file', 'directory'].includes(header.type ?? 'file')) {
        fail(new TarProblem(`entry "${header.name}" is a ${header.type}; templates must be regular files`, 'store templates as regular files'));
      }
      expanded += header.size ?? 0;
    } else if (!metadataYaml && !sawRootfsDir) {
      // Anything else before metadata.yaml: this is a root filesystem tarball (bin/, etc/, ...).
      sawOther = true;
      decide({ role: 'rootfs' });
    } else if (unsafe || ['block-device', 'character-device', 'fifo'].includes(header.type ?? '')) {
      fail(
        new TarProblem(
          `entry "${header.name}" (${header.type}) is not allowed in a metadata tarball`,
          'a metadata tarball holds only metadata.yaml and templates/',
        ),
      );
    } else {
      expanded += header.size ?? 0;
    }
    if (expanded > METADATA_EXPANDED_LIMIT) {
      fail(new TarProblem(`the metadata part expands to more than ${METADATA_EXPANDED_LIMIT / 1024 / 1024} MiB`, 'keep metadata.yaml and templates small'));
    }
    stream.on('end', next);
    stream.resume();
  });
  extract.on('finish', () => {
    tarEnd.bytes = decompressed;
    const cut = tarEnd.problem();
    if (metadataYaml && cut && !sawRootfsDir && !sawRootfsImg) {
      fail(new TarProblem(cut.message, cut.fix));
    } else if (metadataYaml) {
      decide(
        sawRootfsDir || sawRootfsImg
          ? { role: 'unified', metadataYaml, type: sawRootfsImg ? 'virtual-machine' : 'container' }
          : { role: 'metadata', metadataYaml, sha256: '', size },
      );
    } else if (sawRootfsDir || sawRootfsImg) {
      fail(new TarProblem('the tarball has a rootfs but no metadata.yaml', 'add metadata.yaml at the top of the tarball'));
    } else if (entries === 0) {
      fail(new TarProblem('the tarball is empty', 'rebuild the image'));
    } else if (!sawOther) {
      fail(new TarProblem('the tarball has no metadata.yaml', 'add metadata.yaml at the top of the tarball'));
    }
  });
  const onStreamError = (e: Error) =>
    fail(new TarProblem(`is cut short or corrupt: the ${streamName(compression)} stream does not unpack to its end (${e.message})`, REFETCH));
  extract.on('error', onStreamError);
  dec.on('error', onStreamError);
  dec.on('data', (chunk: Buffer) => {
    decompressed += chunk.length;
    if (decompressed > BOMB_MIN_BYTES && decompressed > size * BOMB_RATIO) {
      fail(
        new TarProblem(
          `expands more than ${BOMB_RATIO}× (${decompressed} bytes from ${size}): refused as a decompression bomb`,
          'recompress the tarball normally; real images expand far less',
        ),
      );
    }
  });
  dec.pipe(extract);

  // Small reads for small files: a 1 MiB buffer per tiny metadata tarball is mostly garbage.
  const file = createReadStream(path, { highWaterMark: Math.max(64 * 1024, Math.min(1024 * 1024, sizeHint ?? 1024 * 1024)) });
  try {
    for await (const chunk of file as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      if (failure || (result && result.role !== 'metadata')) break;
      if (result) continue; // a metadata tarball: keep hashing what follows the tar end
      if (!dec.write(chunk)) await Promise.race([once(dec, 'drain'), settled]);
    }
    if (!result && !failure) {
      dec.end();
      await settled;
    }
  } finally {
    file.destroy();
    dec.destroy();
    extract.destroy();
  }
  if (failure) throw failure;
  if (!result) throw new TarProblem('cannot read the tarball', 'the file is truncated or corrupt');
  if (result.role === 'metadata') return { ...result, sha256: hash.digest('hex'), size };
  return result;
}
