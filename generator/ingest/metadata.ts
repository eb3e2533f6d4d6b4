// The one schema for an image's metadata.yaml: parses it safely and checks every field
// LXD and Incus check on import, plus what staticstreams needs to place the image.

import { parseDocument, isMap, isScalar, isPair, LineCounter } from 'yaml';
import { z } from 'zod';
import { versionKey, versionKeyTime } from '../simplestreams/version-key.js';
import { closest, parseWith } from '../util/friendly.js';
import { findArchitecture, knownArchitectureNames, type Architecture } from '../simplestreams/architectures.js';

export interface ImageMetadata {
  architecture: Architecture;
  /** creation_date, epoch seconds. */
  creationDate: number;
  expiryDate?: number;
  /** properties, every value as the string LXD would read (Go's YAML keeps a scalar's source text). */
  properties: Record<string, string>;
  /** What is read as the clients read it but deserves a word (a key written twice). */
  warnings?: string[];
}

/** A problem in metadata.yaml: which field, what is wrong, how to fix it. */
export class MetadataProblem extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(field ? `metadata.yaml: ${field}: ${problem}` : `metadata.yaml: ${problem}`);
  }
}

/** Several problems of one metadata.yaml, reported at once (each `field: problem`, each fix). */
function allOf(problems: MetadataProblem[]): MetadataProblem {
  if (problems.length === 1) return problems[0]!;
  return new MetadataProblem(
    '',
    problems.map((p) => (p.field ? `${p.field}: ${p.problem}` : p.problem)).join('; '),
    [...new Set(problems.map((p) => p.fix))].join('; '),
  );
}

/** The top-level keys LXD and Incus read from metadata.yaml. */
const KNOWN_KEYS = ['architecture', 'creation_date', 'expiry_date', 'properties', 'templates'];

/** YAML aliases expanded before refusing the document (a "billion laughs" guard). */
const MAX_ALIAS_COUNT = 100;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const shape = z.object({
  architecture: z.string({ invalid_type_error: 'must be a string', required_error: 'is missing' }),
  creation_date: z
    .number({ invalid_type_error: 'must be an integer (seconds since 1970), not text', required_error: 'is missing' })
    .int('must be a whole number of seconds')
    .positive('must be after 1970 (LXD refuses 0)'),
  expiry_date: z.number({ invalid_type_error: 'must be an integer (seconds since 1970)' }).int().nonnegative().optional().nullable(),
});

function readProperties(doc: ReturnType<typeof parseDocument>): Record<string, string> {
  const root = doc.contents;
  if (!isMap(root)) return {};
  // (written twice, the last one is read: Go's yaml.v2 in LXD, Incus and incus-simplestreams)
  const pair = [...root.items].reverse().find((p) => isPair(p) && isScalar(p.key) && p.key.value === 'properties');
  if (!pair || pair.value === null || (isScalar(pair.value) && pair.value.value === null)) return {};
  if (!isMap(pair.value)) {
    throw new MetadataProblem('properties', 'must be a map of names to strings', 'write properties as `name: value` lines indented under `properties:`');
  }
  const properties: Record<string, string> = {};
  for (const item of pair.value.items) {
    if (!isScalar(item.key) || (typeof item.key.value !== 'string' && typeof item.key.value !== 'number')) {
      throw new MetadataProblem('properties', 'has a key that is not a plain string', 'use plain names as property keys');
    }
    const key = String(item.key.source ?? item.key.value);
    let value: string;
    if (item.value === null || item.value === undefined) value = '';
    else if (isScalar(item.value)) value = item.value.value === null ? '' : String(item.value.source ?? item.value.value);
    else throw new MetadataProblem(`properties.${key}`, 'must be a string, not a list or map', `write it as \`${key}: "text"\``);
    if (CONTROL.test(key) || CONTROL.test(value)) {
      throw new MetadataProblem(
        `properties.${key}`,
        'contains a control character or line break',
        'keep property values on one line, without control characters',
      );
    }
    properties[key] = value; // a key written twice: the last one, as the clients read it
  }
  return properties;
}

/** Keys written twice in a map (at any depth), each named with its line: the last one is read. */
function duplicateKeys(node: unknown, lines: LineCounter, where: string, found: string[] = []): string[] {
  if (!isMap(node)) return found;
  const seen = new Set<string>();
  for (const item of node.items) {
    if (!isScalar(item.key)) continue;
    const key = String(item.key.source ?? item.key.value);
    const field = where ? `${where}.${key}` : key;
    if (seen.has(key)) {
      const line = item.key.range ? lines.linePos(item.key.range[0]).line : undefined;
      found.push(`${field} is written twice${line ? ` (again on line ${line})` : ''}: the last one is read, as LXD and Incus read it; keep one`);
    }
    seen.add(key);
    if (found.length < 20) duplicateKeys(item.value, lines, field, found);
  }
  return found;
}

/** Clock skew tolerated before a creation_date counts as "in the future". */
const FUTURE_TOLERANCE = 24 * 3600;

/**
 * What is wrong with an image dated after `now` (epoch seconds: the build's one clock), past the
 * clock skew tolerated: a creation_date in the future, or a serial naming one (its version would
 * sort after every real one and pin the product).
 */
export function futureProblem(metadata: Pick<ImageMetadata, 'creationDate' | 'properties'>, now: number): MetadataProblem | undefined {
  if (metadata.creationDate > now + FUTURE_TOLERANCE)
    return new MetadataProblem(
      'creation_date',
      `${metadata.creationDate} is ${new Date(metadata.creationDate * 1000).toISOString()}, in the future (more than a day after ${new Date(now * 1000).toISOString()}, the build's clock)`,
      'set creation_date to the time the image was built (seconds since 1970, e.g. `date +%s`)',
    );
  const serial = metadata.properties.serial;
  if (serial !== undefined && versionKeyTime(versionKey(serial, metadata.creationDate)) > now + FUTURE_TOLERANCE)
    return new MetadataProblem(
      'properties.serial',
      `"${serial}" names ${new Date(versionKeyTime(versionKey(serial, metadata.creationDate)) * 1000).toISOString()}, in the future (more than a day after ${new Date(now * 1000).toISOString()}, the build's clock)`,
      'set serial to the build time (YYYYMMDD_HHMM, e.g. `date -u +%Y%m%d_%H%M`), or remove it',
    );
  return undefined;
}

/**
 * Parses and validates metadata.yaml bytes. Throws MetadataProblem. `now` (epoch seconds): also
 * refuse an image dated in its future (the build checks that with its own clock, futureProblem).
 */
export function parseMetadata(bytes: Uint8Array, now?: number): ImageMetadata {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MetadataProblem('', 'is not valid UTF-8', 'save metadata.yaml as UTF-8');
  }
  const lines = new LineCounter();
  // A key written twice is read as LXD and Incus read it (Go's yaml.v2: the last one wins), with a warning.
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false, logLevel: 'error', lineCounter: lines });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const { line, col } = lines.linePos(first.pos[0]);
    // An indentation error is found where the parser gives up (often the line above the one
    // that is wrong): the lines every error spans are named.
    const last = Math.max(...doc.errors.map((e) => lines.linePos(Math.max(e.pos[0], e.pos[1] - 1)).line));
    const where = last > line ? `lines ${line}–${last}` : `line ${line}, column ${col}`;
    throw new MetadataProblem(
      where,
      `is not valid YAML: ${first.message.split('\n')[0]}`,
      `fix the YAML syntax there (check the indentation of ${last > line ? `lines ${line} to ${last}` : `line ${line}`})`,
    );
  }
  let plain: unknown;
  try {
    plain = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    throw new MetadataProblem('', `cannot be read: ${(e as Error).message}`, 'remove YAML aliases/anchors that expand excessively');
  }
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    throw new MetadataProblem('', 'is not a YAML map', 'write metadata.yaml as `key: value` lines (architecture, creation_date, properties)');
  }
  const problems: MetadataProblem[] = [];
  // A key LXD does not read is ignored, as LXD ignores it, unless it is a misspelt one it reads.
  for (const key of Object.keys(plain)) {
    const guess = KNOWN_KEYS.includes(key) ? undefined : closest(key, KNOWN_KEYS);
    if (guess) problems.push(new MetadataProblem(key, `is not a key LXD reads (did you mean ${guess}?)`, `rename ${key} to ${guess}`));
  }
  const fixes: Record<string, string> = {
    architecture: `set architecture to one of: ${knownArchitectureNames().join(', ')}`,
    creation_date: 'set creation_date to the build time in seconds since 1970, e.g. the output of `date +%s`',
    expiry_date: 'set expiry_date to seconds since 1970, or remove it',
  };
  if (problems.some((p) => p.problem.includes('did you mean properties'))) {
    // properties.os and properties.release name the product: missing with the misspelt key.
    const properties = (plain as { properties?: Record<string, unknown> }).properties;
    for (const field of ['os', 'release'])
      if (!properties?.[field]) problems.push(new MetadataProblem(`properties.${field}`, 'is missing', `set properties.${field}`));
  }
  // A date written as a date (2026-12-01, or with a time): said as such, with the number to write.
  const written = (plain as { creation_date?: unknown }).creation_date;
  const asDate = typeof written === 'string' && /^\d{4}-\d\d-\d\d/.test(written.trim()) ? Date.parse(written.trim()) : NaN;
  const messages: Record<string, string> = Number.isFinite(asDate) ? { creation_date: `is the date "${written as string}", not seconds since 1970` } : {};
  if (Number.isFinite(asDate))
    fixes.creation_date = `write creation_date: ${Math.floor(asDate / 1000)} (that time in seconds since 1970, as \`date -u -d '${(written as string).trim()}' +%s\` prints it)`;
  const data = parseWith(shape, plain, 'metadata.yaml', {
    fail: (issues) =>
      allOf([...problems, ...issues.map((i) => new MetadataProblem(i.field, messages[i.field] ?? i.message, fixes[i.field] ?? 'fix the field'))]),
  });
  if (problems.length) throw allOf(problems);
  const parsed = { data };
  if (now !== undefined) {
    const future = futureProblem({ creationDate: parsed.data.creation_date, properties: readProperties(doc) }, now);
    if (future) throw future;
  }
  const architecture = findArchitecture(parsed.data.architecture);
  if (!architecture) {
    throw new MetadataProblem(
      'architecture',
      `"${parsed.data.architecture}" is not an architecture LXD knows (the image would vanish from the client)`,
      `use one of: ${knownArchitectureNames().join(', ')} (or a Debian name such as amd64, arm64)`,
    );
  }
  const properties = readProperties(doc);
  const warnings = duplicateKeys(doc.contents, lines, '');
  return {
    architecture,
    creationDate: parsed.data.creation_date,
    ...(parsed.data.expiry_date ? { expiryDate: parsed.data.expiry_date } : {}),
    properties,
    ...(warnings.length ? { warnings } : {}),
  };
}
