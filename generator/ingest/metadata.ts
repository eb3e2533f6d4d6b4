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
    .number({ invalid_type_error: 'must be an integer (seconds since 1970), not quoted', required_error: 'is missing' })
    .int('must be a whole number of seconds')
    .positive('must be after 1970 (LXD refuses 0)'),
  expiry_date: z.number({ invalid_type_error: 'must be an integer (seconds since 1970)' }).int().nonnegative().optional().nullable(),
});

function readProperties(doc: ReturnType<typeof parseDocument>): Record<string, string> {
  const root = doc.contents;
  if (!isMap(root)) return {};
  const pair = root.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === 'properties');
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
    if (key in properties) {
      throw new MetadataProblem(`properties.${key}`, 'is given twice', 'keep one of the two');
    }
    properties[key] = value;
  }
  return properties;
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
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, logLevel: 'error', lineCounter: lines });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const { line, col } = lines.linePos(first.pos[0]);
    throw new MetadataProblem(`line ${line}, column ${col}`, `is not valid YAML: ${first.message.split('\n')[0]}`, 'fix the YAML syntax there');
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
  const data = parseWith(shape, plain, 'metadata.yaml', {
    fail: (issues) => allOf([...problems, ...issues.map((i) => new MetadataProblem(i.field, i.message, fixes[i.field] ?? 'fix the field'))]),
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
  return {
    architecture,
    creationDate: parsed.data.creation_date,
    ...(parsed.data.expiry_date ? { expiryDate: parsed.data.expiry_date } : {}),
    properties,
  };
}
