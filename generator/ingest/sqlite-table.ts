// Reads the rows of one table of an SQLite database file held in memory: enough of the file
// format (https://www.sqlite.org/fileformat.html) to walk a table's b-tree, its records and their
// overflow pages. Used for rpm's rpmdb.sqlite, which is hostile input: every page number,
// offset and length is checked against the file, each page is visited once, and the rows and
// bytes read are bounded. Nothing of the database is ever executed or passed to SQLite itself.

/** A database that cannot be read as SQLite (the caller names the file). */
export class SqliteProblem extends Error {}

export type SqliteValue = null | number | bigint | string | Buffer;

const HEADER = Buffer.from('SQLite format 3\u0000', 'latin1');

interface Reader {
  file: Buffer;
  pageSize: number;
  usable: number;
  pages: number;
  visited: Set<number>;
}

/** Reads a varint at `at`: its value (as a number; large ones lose precision) and its length. */
function varint(b: Buffer, at: number, end: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 9; i++) {
    if (at + i >= end) throw new SqliteProblem('a varint runs past its page');
    const byte = b[at + i]!;
    if (i === 8) return [value * 256 + byte, 9];
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) return [value, i + 1];
  }
  throw new SqliteProblem('bad varint');
}

function page(r: Reader, n: number): { start: number; end: number; header: number } {
  if (!Number.isInteger(n) || n < 1 || n > r.pages) throw new SqliteProblem(`page ${n} is outside the file`);
  if (r.visited.has(n)) throw new SqliteProblem(`page ${n} is reached twice (a loop)`);
  r.visited.add(n);
  const start = (n - 1) * r.pageSize;
  return { start, end: start + r.usable, header: n === 1 ? start + 100 : start };
}

/** The payload of a cell whose first `local` bytes are at `at`, the rest on overflow pages. */
function payload(r: Reader, at: number, size: number, end: number, limit: number): Buffer {
  if (size > limit) throw new SqliteProblem(`a row of ${size} bytes is over the limit of ${limit}`);
  const u = r.usable;
  const x = u - 35;
  let local = size;
  if (size > x) {
    const m = Math.floor(((u - 12) * 32) / 255) - 23;
    const k = m + ((size - m) % (u - 4));
    local = k <= x ? k : m;
  }
  if (at + local > end) throw new SqliteProblem('a cell runs past its page');
  if (local === size) return r.file.subarray(at, at + size);
  const parts = [r.file.subarray(at, at + local)];
  let have = local;
  if (at + local + 4 > end) throw new SqliteProblem('a cell runs past its page');
  let next = r.file.readUInt32BE(at + local);
  while (have < size) {
    const p = page(r, next);
    next = r.file.readUInt32BE(p.start);
    const take = Math.min(size - have, u - 4);
    parts.push(r.file.subarray(p.start + 4, p.start + 4 + take));
    have += take;
  }
  return Buffer.concat(parts, size);
}

/** The values of a record (https://www.sqlite.org/fileformat.html#record_format). */
function record(b: Buffer): SqliteValue[] {
  const [headerSize, n0] = varint(b, 0, b.length);
  if (headerSize > b.length || headerSize < n0) throw new SqliteProblem('a record header runs past its record');
  const types: number[] = [];
  for (let at = n0; at < headerSize;) {
    const [t, n] = varint(b, at, headerSize);
    types.push(t);
    at += n;
  }
  const values: SqliteValue[] = [];
  let at = headerSize;
  for (const t of types) {
    const size = t >= 12 ? Math.floor((t - 12) / 2) : [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0][t]!;
    if (t === 10 || t === 11) throw new SqliteProblem('a record uses a reserved type');
    if (at + size > b.length) throw new SqliteProblem('a record value runs past its record');
    const v = b.subarray(at, at + size);
    if (t === 0) values.push(null);
    else if (t === 8 || t === 9) values.push(t - 8);
    else if (t === 7) values.push(v.readDoubleBE(0));
    else if (t <= 6) values.push(size <= 6 ? v.readIntBE(0, size) : v.readBigInt64BE(0));
    else if (t % 2 === 0) values.push(Buffer.from(v));
    else values.push(v.toString('utf8'));
    at += size;
  }
  return values;
}

/** Each row of the table b-tree at `root`, in rowid order, as its record's values. */
function* rows(r: Reader, root: number, limits: { rows: number; rowBytes: number }, counted: { rows: number }): Generator<SqliteValue[]> {
  const stack = [root];
  while (stack.length) {
    const p = page(r, stack.pop()!);
    const kind = r.file[p.header];
    if (kind !== 0x05 && kind !== 0x0d) throw new SqliteProblem(`page is not a table b-tree page (type ${kind})`);
    const interior = kind === 0x05;
    const cells = r.file.readUInt16BE(p.header + 3);
    const pointers = p.header + (interior ? 12 : 8);
    if (pointers + cells * 2 > p.end) throw new SqliteProblem('a page lists more cells than it holds');
    const children: number[] = [];
    for (let i = 0; i < cells; i++) {
      const at = p.start + r.file.readUInt16BE(pointers + i * 2);
      if (at < pointers || at >= p.end) throw new SqliteProblem('a cell is outside its page');
      if (interior) {
        if (at + 4 > p.end) throw new SqliteProblem('a cell runs past its page');
        children.push(r.file.readUInt32BE(at));
        continue;
      }
      const [size, n1] = varint(r.file, at, p.end);
      const [, n2] = varint(r.file, at + n1, p.end);
      if (++counted.rows > limits.rows) throw new SqliteProblem(`more than ${limits.rows} rows`);
      yield record(payload(r, at + n1 + n2, size, p.end, limits.rowBytes));
    }
    if (interior) children.push(r.file.readUInt32BE(p.header + 8));
    // depth first, leftmost child first: rows come out in rowid order
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
}

/**
 * The rows of table `name` (case-insensitive) in `file`, each as its columns' values (an
 * INTEGER PRIMARY KEY column reads as null: its value is the rowid). Throws SqliteProblem for a
 * file that is not SQLite, has no such table, or breaks a bound.
 */
export function readSqliteTable(file: Buffer, name: string, limits = { rows: 200_000, rowBytes: 16 * 1024 * 1024 }): SqliteValue[][] {
  if (file.length < 100 || !file.subarray(0, 16).equals(HEADER)) throw new SqliteProblem('is not an SQLite database');
  const raw = file.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw new SqliteProblem(`has a bad page size (${raw})`);
  const usable = pageSize - file[20]!;
  if (usable < 480) throw new SqliteProblem('reserves too much of each page');
  const r: Reader = { file, pageSize, usable, pages: Math.floor(file.length / pageSize), visited: new Set() };
  const counted = { rows: 0 };
  let root: number | undefined;
  for (const row of rows(r, 1, limits, counted)) {
    // sqlite_schema: type, name, tbl_name, rootpage, sql
    if (row[0] === 'table' && typeof row[1] === 'string' && row[1].toLowerCase() === name.toLowerCase()) root = Number(row[3]);
  }
  if (root === undefined) throw new SqliteProblem(`has no table ${name}`);
  return [...rows(r, root, limits, counted)];
}
