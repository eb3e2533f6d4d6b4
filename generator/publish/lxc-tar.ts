// The root tarball LXC unpacks (`tar --numeric-owner -xpJf rootfs.tar.xz -C ROOTFS`), made from
// a tar stream by copying its blocks as they are — every header, pax record (xattrs, long names)
// and byte of data unchanged, so nothing a tar library would re-encode is lost — up to its
// end-of-archive marker, then appending a few files (GNU tar lets a later entry replace an
// earlier one) and a new marker. From a unified image's tar only the entries under `rootfs/`
// are copied, renamed to `./…` (read from the ustar name and prefix fields, a pax `path`/`linkpath`
// record or a GNU long-name entry; written to the ustar fields, or a pax record when too long).

import { entrySize } from '../ingest/tar-end.js';

const BLOCK = 512;
const RECORD = 20 * BLOCK;

/** A regular file appended to the archive. */
export interface AppendedFile {
  /** Inside the root filesystem, without a leading `/`. */
  path: string;
  text: string;
  mode: number;
  mtime: number;
}

/** Reads exact byte counts from a stream of chunks. */
class ChunkReader {
  private buffered: Buffer[] = [];
  private length = 0;
  private done = false;
  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  private async fill(n: number): Promise<void> {
    while (this.length < n && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else {
        const b = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        this.buffered.push(b);
        this.length += b.length;
      }
    }
  }

  /** Exactly `n` bytes, or fewer at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    const out = all.subarray(0, Math.min(n, all.length));
    const rest = all.subarray(out.length);
    this.buffered = rest.length ? [rest] : [];
    this.length = rest.length;
    return out;
  }

  /** `n` bytes as chunks of at most 1 MiB; throws when the stream ends first. */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      const b = await this.read(Math.min(left, 1 << 20));
      if (b.length === 0) throw new TarCutShort();
      left -= b.length;
      yield b;
    }
  }
}

/** The tar stream ended inside an entry, or without an end-of-archive marker. */
export class TarCutShort extends Error {
  constructor() {
    super('the tar stream ends before its end-of-archive marker');
  }
}

const text = (b: Buffer) => {
  const nul = b.indexOf(0);
  return (nul < 0 ? b : b.subarray(0, nul)).toString('utf8');
};

const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;
const isUstar = (header: Buffer) => header.toString('latin1', 257, 263) === 'ustar\0';

function setChecksum(header: Buffer): void {
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
}

/** The name a header holds (ustar prefix + name). */
function headerName(header: Buffer): string {
  const name = text(header.subarray(0, 100));
  const prefix = isUstar(header) ? text(header.subarray(345, 500)) : '';
  return prefix ? `${prefix}/${name}` : name;
}

/** Puts `name` in the header's ustar fields if it fits; returns whether it did. */
function setHeaderName(header: Buffer, name: string): boolean {
  const bytes = Buffer.from(name, 'utf8');
  header.fill(0, 0, 100);
  if (bytes.length <= 100) {
    bytes.copy(header, 0);
    if (isUstar(header)) header.fill(0, 345, 500);
    return true;
  }
  if (isUstar(header)) {
    for (let i = bytes.length - 1; i > 0; i--) {
      if (bytes[i] !== 0x2f || i > 155 || bytes.length - i - 1 > 100) continue;
      header.fill(0, 345, 500);
      bytes.copy(header, 345, 0, i);
      bytes.copy(header, 0, i + 1);
      return true;
    }
  }
  bytes.copy(header, 0, 0, 100); // held in full by a pax or GNU long-name entry
  return false;
}

function setLinkName(header: Buffer, name: string): boolean {
  const bytes = Buffer.from(name, 'utf8');
  header.fill(0, 157, 257);
  bytes.copy(header, 157, 0, Math.min(100, bytes.length));
  return bytes.length <= 100;
}

/** Pax records `LEN key=value\n`, as bytes (values may be binary: xattrs). */
function paxRecords(data: Buffer): { key: string; record: Buffer }[] {
  const out: { key: string; record: Buffer }[] = [];
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    const len = space < 0 ? NaN : parseInt(data.toString('latin1', i, space), 10);
    if (!Number.isFinite(len) || len <= 0 || i + len > data.length) break;
    const record = data.subarray(i, i + len);
    const eq = record.indexOf(0x3d, space - i);
    out.push({ key: record.toString('utf8', space - i + 1, eq < 0 ? len : eq), record });
    i += len;
  }
  return out;
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return Buffer.from(`${len}${body}`, 'utf8');
}

/** The last record of `key` (records of a later `x` or `X` header replace earlier ones). */
function lastPaxValue(records: { key: string; record: Buffer }[], key: string): string | undefined {
  return paxValue([...records].reverse(), key);
}

function paxValue(records: { key: string; record: Buffer }[], key: string): string | undefined {
  const r = records.find((x) => x.key === key);
  if (!r) return undefined;
  const eq = r.record.indexOf(0x3d);
  return r.record.toString('utf8', eq + 1, r.record.length - 1);
}

/** A pax `x` header block for `size` bytes of records (ustar, owned by root, mode 0644). */
function paxHeader(size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write('././@PaxHeader', 0, 'utf8');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  h.write(Math.max(0, Math.floor(mtime)).toString(8).padStart(11, '0') + '\0', 136, 'latin1');
  h.write('x', 156, 'latin1');
  h.write('ustar\0' + '00', 257, 'latin1');
  setChecksum(h);
  return h;
}

function withData(data: Buffer): Buffer {
  const out = Buffer.alloc(padded(data.length));
  data.copy(out);
  return out;
}

/** A file entry (ustar header + data blocks). */
export function fileEntry(file: AppendedFile): Buffer {
  const data = Buffer.from(file.text, 'utf8');
  const h = Buffer.alloc(BLOCK);
  h.write('ustar\0' + '00', 257, 'latin1');
  if (!setHeaderName(h, `./${file.path}`)) throw new Error(`${file.path}: name too long for an appended file`);
  h.write(file.mode.toString(8).padStart(7, '0') + '\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(data.length.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  h.write(Math.max(0, Math.floor(file.mtime)).toString(8).padStart(11, '0') + '\0', 136, 'latin1');
  h.write('0', 156, 'latin1');
  h.write('root', 265, 'latin1');
  h.write('root', 297, 'latin1');
  setChecksum(h);
  return Buffer.concat([h, withData(data)]);
}

/** `rootfs/x` → `./x`; undefined for a name outside `rootfs/`. */
function underRootfs(name: string): string | undefined {
  const n = name.replace(/^(\.\/)+/, '');
  if (n === 'rootfs' || n === 'rootfs/') return './';
  return n.startsWith('rootfs/') ? `./${n.slice('rootfs/'.length)}` : undefined;
}

/** A member name LXC's tar would place outside the root filesystem (absolute, or with a `..`). */
function outside(name: string): boolean {
  return name.startsWith('/') || name.split('/').includes('..');
}

/** A member name or link target that leaves the root filesystem: refused (LXC could not unpack it anyway). */
export class OutsideMember extends Error {
  constructor(name: string, what = 'a member') {
    super(`${what} ${JSON.stringify(name.slice(0, 200))} lies outside the root filesystem (absolute, or with ..): LXC's tar would not unpack it there`);
  }
}

/**
 * The tar `source` as LXC's root tarball: `unified` copies only `rootfs/` (renamed), then
 * `append` and an end-of-archive marker, padded to a 10 KiB record as tar writes it. Every
 * member's name (from its header, a pax `x` or Solaris `X` record, or a GNU long name) and every
 * hard link's target must stay inside the root filesystem.
 */
export async function* lxcRootfsTar(source: AsyncIterable<Uint8Array>, options: { unified: boolean; append: AppendedFile[] }): AsyncGenerator<Buffer> {
  const reader = new ChunkReader(source[Symbol.asyncIterator]());
  let written = 0;
  const emit = (b: Buffer) => {
    written += b.length;
    return b;
  };
  // Entries that describe the next one (pax `x`/`X`, GNU `L`/`K`), held until it is known whether it is kept.
  let pending: { header: Buffer; data: Buffer }[] = [];
  const typeOf = (h: Buffer) => String.fromCharCode(h[156]!);
  for (;;) {
    const header = await reader.read(BLOCK);
    if (header.length < BLOCK) throw new TarCutShort();
    if (header.every((b) => b === 0)) {
      const second = await reader.read(BLOCK);
      if (second.length < BLOCK) throw new TarCutShort();
      if (second.every((b) => b === 0)) break;
      throw new Error('a zero block in the middle of the tar stream');
    }
    const type = typeOf(header);
    const size = entrySize(header);
    if (type === 'x' || type === 'X' || type === 'L' || type === 'K') {
      if (size > 1 << 20) throw new Error(`a tar ${type} entry of ${size} bytes`);
      const data = await reader.read(padded(size));
      if (data.length < padded(size)) throw new TarCutShort();
      pending.push({ header: Buffer.from(header), data: data.subarray(0, size) });
      continue;
    }
    if (type === 'g') {
      // a global pax header applies to what follows: kept as it is, unless it names members
      const data = await reader.read(padded(size));
      if (data.length < padded(size)) throw new TarCutShort();
      const records = paxRecords(data.subarray(0, size));
      for (const key of ['path', 'linkpath']) {
        const value = paxValue(records, key);
        if (value !== undefined) throw new OutsideMember(value, `a global pax ${key}`);
      }
      yield emit(header);
      yield emit(data);
      continue;
    }
    const pax = pending.filter((p) => typeOf(p.header) === 'x' || typeOf(p.header) === 'X');
    const records = pax.flatMap((p) => paxRecords(p.data));
    const longName = [...pending].reverse().find((p) => typeOf(p.header) === 'L');
    const longLink = [...pending].reverse().find((p) => typeOf(p.header) === 'K');
    const name = lastPaxValue(records, 'path') ?? (longName ? text(longName.data) : headerName(header));
    const linkName =
      type === '1' || type === '2' ? (lastPaxValue(records, 'linkpath') ?? (longLink ? text(longLink.data) : text(header.subarray(157, 257)))) : undefined;
    const held = pending;
    pending = [];
    if (!options.unified) {
      if (outside(name.replace(/^(\.\/)+/, ''))) throw new OutsideMember(name);
      if (type === '1' && linkName !== undefined && outside(linkName.replace(/^(\.\/)+/, ''))) throw new OutsideMember(linkName, 'a hard link to');
      for (const p of held) {
        yield emit(p.header);
        yield emit(withData(p.data));
      }
      yield emit(header);
      for await (const chunk of reader.chunks(padded(size))) yield emit(chunk);
      continue;
    }
    const renamed = underRootfs(name);
    if (renamed === undefined) {
      for await (const chunk of reader.chunks(padded(size))) void chunk; // skipped: metadata.yaml, templates/
      continue;
    }
    if (outside(renamed.slice(2))) throw new OutsideMember(name);
    const h = Buffer.from(header);
    const nameFits = setHeaderName(h, renamed);
    // A hard link names another entry of the archive: renamed the same way. A symbolic link's
    // target is the link's content, never changed.
    const hardLink = type === '1' ? linkName : undefined;
    const renamedLink = hardLink === undefined ? undefined : (underRootfs(hardLink) ?? hardLink);
    if (renamedLink !== undefined && outside(renamedLink.replace(/^(\.\/)+/, ''))) throw new OutsideMember(hardLink!, 'a hard link to');
    const linkFits = renamedLink === undefined ? true : setLinkName(h, renamedLink);
    setChecksum(h);
    // Every other pax record (xattrs, times, owners' names, sizes) is kept byte for byte.
    const kept = records.filter((r) => r.key !== 'path' && r.key !== 'linkpath').map((r) => r.record);
    if (!nameFits) kept.push(paxRecord('path', renamed));
    if (renamedLink !== undefined && !linkFits) kept.push(paxRecord('linkpath', renamedLink));
    if (kept.length) {
      const data = Buffer.concat(kept);
      yield emit(paxHeader(data.length, 0));
      yield emit(withData(data));
    }
    yield emit(h);
    for await (const chunk of reader.chunks(padded(size))) yield emit(chunk);
  }
  for (const file of options.append) yield emit(fileEntry(file));
  const end = Buffer.alloc(2 * BLOCK);
  yield emit(end);
  const pad = (RECORD - (written % RECORD)) % RECORD;
  if (pad) yield Buffer.alloc(pad);
}
