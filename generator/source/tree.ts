// The one reader of published simplestreams trees — ours, another tool's, an upstream's, a live
// server's: index.json, then every image-downloads products file it lists (as the clients read
// them: entries that list products), each read within its bound and validated with what the
// clients accept (simplestreams/schema.ts). Two modes:
// - `strict` (build --previous, mirror, promote): every problem at once, thrown (exit 1), each
//   with the file, the product, version and field it is in, and the caller's fix;
// - `report` (verify, list, doctor): problems collected, and whatever could be read returned,
//   products as found (each product and item is checked by the caller, with its files).

import { z } from 'zod';
import { BuildError, BuildFailed } from '../util/errors.js';
import { NotJson, parseJson, isObject } from '../util/json.js';
import { parseWith } from '../util/friendly.js';
import { INDEX_PATH } from '../render/streams.js';
import { acceptedIndexEntrySchema, acceptedIndexSchema, acceptedProductsSchema, insideTree, type AcceptedProductsFile } from '../simplestreams/schema.js';
import type { TreeSource } from './source.js';

/** What a reader needs of a tree: its files as text (null when missing), each read stopping past `maxBytes`. */
export type TextSource = Pick<TreeSource, 'label' | 'readText'>;

export interface TreeProblem {
  severity: 'error' | 'warning';
  /** Where: a file, or a product/version/item path. */
  where: string;
  message: string;
}

/** How much of a tree is read at most: no real server comes near. */
export interface TreeBounds {
  indexBytes: number;
  productsBytes: number;
}

export const TREE_BOUNDS: TreeBounds = { indexBytes: 16 * 2 ** 20, productsBytes: 256 * 2 ** 20 };

export type AcceptedIndex = z.infer<typeof acceptedIndexSchema>;

/** A products file as found: its products, each checked by the caller. */
export interface LooseProductsFile {
  products: Record<string, unknown>;
  [field: string]: unknown;
}

export interface StrictTree {
  index: AcceptedIndex;
  indexText: string;
  /** Products path → the file's text and content, for each image-downloads file the index lists (sorted by path). */
  productsFiles: Map<string, { text: string; products: AcceptedProductsFile }>;
}

export interface ReportedTree {
  index: Record<string, unknown>;
  indexText: string;
  productsFiles: Map<string, { text: string; products: LooseProductsFile }>;
}

/** What to tell the user to do, per kind of problem (strict mode). */
export interface TreeFixes {
  /** index.json is missing: this is no published tree. */
  notFound: string;
  /** index.json is broken. */
  index: string;
  /** A products file is broken (given its path). */
  products: string | ((rel: string) => string);
  /** A listed products file is missing. */
  missing: string;
}

const DEFAULT_FIXES: TreeFixes = {
  notFound: 'give the folder or base URL of a published simplestreams tree (the one holding streams/v1/index.json)',
  index: 'fix the tree (clients cannot read it either)',
  products: 'fix the products file (clients cannot use it as it is either)',
  missing: 'republish the tree: clients cannot read it either',
};

interface StrictOptions {
  mode: 'strict';
  bounds?: TreeBounds;
  fixes?: Partial<TreeFixes>;
}

interface ReportOptions {
  mode: 'report';
  bounds?: TreeBounds;
  /** Where the problems go. */
  problems: TreeProblem[];
}

/** Names a place in a products file the way a user looks for it. */
export function placeOf(path: readonly PropertyKey[]): string {
  const [top, product, versions, version, items, item, ...field] = path.map(String);
  if (top !== 'products' || product === undefined) return path.map(String).join('.') || '(top)';
  if (versions !== 'versions' || version === undefined)
    return `product ${product}${versions ? `, field ${[versions, version, items, item, ...field].filter((x) => x !== undefined).join('.')}` : ''}`;
  if (items !== 'items' || item === undefined)
    return `product ${product}, version ${version}${items ? `, field ${[items, item, ...field].filter((x) => x !== undefined).join('.')}` : ''}`;
  return `product ${product}, version ${version}, item ${item}${field.length ? `, field ${field.join('.')}` : ''}`;
}

/** Parses a tree's JSON file with `schema`: every problem at once, each named with its place and `fix`. */
export function parseTreeFile<T>(schema: z.ZodType<T>, text: string, where: string, fix: string): T {
  let data: unknown;
  try {
    data = parseJson(text);
  } catch (e) {
    throw new BuildError(`${where}: not JSON (${(e as Error).message})`, fix);
  }
  return parseWith(schema, data, where, {
    place: placeOf,
    fail: (issues) => {
      const problems = issues.map((issue) => new BuildError(`${where}: ${issue.field}: ${issue.message}`, fix));
      return problems.length === 1 ? problems[0]! : new BuildFailed(problems);
    },
  });
}

/** A path as the server decodes it: one that leaves the tree once decoded is refused too. */
export function decodedPath(rel: string): string {
  try {
    return decodeURIComponent(rel);
  } catch {
    return '..';
  }
}

/** The products files a client reads: image-downloads entries that list products, each path once, sorted. */
function productsPaths(entries: Iterable<{ datatype?: unknown; path?: unknown; products?: unknown }>): string[] {
  const paths = new Set<string>();
  for (const e of entries) {
    if (e.datatype === 'image-downloads' && Array.isArray(e.products) && e.products.length > 0 && typeof e.path === 'string') paths.add(e.path);
  }
  return [...paths].sort();
}

export function readTree(source: TextSource, options: StrictOptions): Promise<StrictTree>;
export function readTree(source: TextSource, options: ReportOptions): Promise<ReportedTree | undefined>;
export function readTree(source: TextSource, options: StrictOptions | ReportOptions): Promise<StrictTree | ReportedTree | undefined> {
  return options.mode === 'strict' ? readStrict(source, options) : readReported(source, options);
}

const whereIn = (source: TextSource) => (rel: string) => `${source.label.replace(/\/+$/, '')}/${rel}`;

async function readStrict(source: TextSource, { bounds = TREE_BOUNDS, fixes: given = {} }: StrictOptions): Promise<StrictTree> {
  const fixes = { ...DEFAULT_FIXES, ...given };
  const where = whereIn(source);
  const indexText = await source.readText(INDEX_PATH, bounds.indexBytes);
  if (indexText === null) throw new BuildError(`${where(INDEX_PATH)}: not found, so ${source.label} is no published tree`, fixes.notFound);
  const index = parseTreeFile(acceptedIndexSchema, indexText, where(INDEX_PATH), fixes.index);
  const productsFiles = new Map<string, { text: string; products: AcceptedProductsFile }>();
  const problems: BuildFailed['problems'] = [];
  for (const rel of productsPaths(Object.values(index.index))) {
    if (!insideTree(decodedPath(rel))) {
      problems.push(new BuildError(`${where(INDEX_PATH)}: products file ${JSON.stringify(rel)} leaves the tree`, fixes.index));
      continue;
    }
    const text = await source.readText(rel, bounds.productsBytes);
    if (text === null) {
      problems.push(new BuildError(`${where(rel)}: listed in ${where(INDEX_PATH)} but not found`, fixes.missing));
      continue;
    }
    try {
      productsFiles.set(rel, {
        text,
        products: parseTreeFile(acceptedProductsSchema, text, where(rel), typeof fixes.products === 'string' ? fixes.products : fixes.products(rel)),
      });
    } catch (e) {
      if (e instanceof BuildFailed) problems.push(...e.problems);
      else throw e;
    }
  }
  if (problems.length) throw problems.length === 1 ? problems[0]! : new BuildFailed(problems);
  return { index, indexText, productsFiles };
}

/** Why a file could not be read, with the fix when the reader knows one (an untrusted certificate). */
function readFailure(e: unknown): string {
  if (e instanceof BuildError) return `${e.message} (fix: ${e.fix})`;
  if (e instanceof NotJson) return e.message;
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** A file's JSON, or the reason it cannot be read (a missing file reads as ENOENT). */
async function readJson(source: TextSource, rel: string, maxBytes: number): Promise<{ text: string; data: unknown } | { failure: string }> {
  try {
    const text = await source.readText(rel, maxBytes);
    if (text === null) return { failure: 'ENOENT' };
    return { text, data: parseJson(text) };
  } catch (e) {
    return { failure: readFailure(e) };
  }
}

async function readReported(source: TextSource, { bounds = TREE_BOUNDS, problems }: ReportOptions): Promise<ReportedTree | undefined> {
  const err = (where: string, message: string) => problems.push({ severity: 'error', where, message });
  const read = await readJson(source, INDEX_PATH, bounds.indexBytes);
  if ('failure' in read) {
    err(INDEX_PATH, `cannot be read: ${read.failure}`);
    return undefined;
  }
  const index = read.data;
  if (!isObject(index) || index.format !== 'index:1.0' || !isObject(index.index)) {
    err(INDEX_PATH, 'is not a simplestreams index (format "index:1.0" with an "index" object)');
    return undefined;
  }
  // Each entry on its own: one broken entry does not hide the others.
  const usable: { name: string; path: string; products: string[] }[] = [];
  for (const [name, entry] of Object.entries(index.index)) {
    const where = `${INDEX_PATH} index.${name}`;
    const parsed = acceptedIndexEntrySchema.safeParse(entry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) err(where, `${issue.path.length ? `${issue.path.join('.')} ` : ''}${issue.message}`);
      continue;
    }
    if (parsed.data.datatype !== 'image-downloads') continue;
    if (!parsed.data.products?.length) {
      problems.push({ severity: 'warning', where, message: 'has no products: clients skip it' });
      continue;
    }
    usable.push({ name, path: parsed.data.path, products: parsed.data.products });
  }
  const productsFiles = new Map<string, { text: string; products: LooseProductsFile }>();
  for (const rel of [...new Set(usable.map((u) => u.path))].sort()) {
    const file = await readJson(source, rel, bounds.productsBytes);
    if ('failure' in file) {
      err(rel, `listed in the index but cannot be read: ${file.failure}`);
      continue;
    }
    const products = file.data;
    if (!isObject(products) || !isObject(products.products)) {
      err(rel, 'is not a products file (no "products" object)');
      continue;
    }
    if (products.format !== 'products:1.0')
      problems.push({ severity: 'warning', where: rel, message: `format is ${JSON.stringify(products.format)}, expected "products:1.0"` });
    for (const { name, path, products: names } of usable.filter((u) => u.path === rel)) {
      const listed = new Set(names);
      for (const key of Object.keys(products.products))
        if (!listed.has(key))
          problems.push({ severity: 'warning', where: `${INDEX_PATH} index.${name}`, message: `does not list product ${key} that ${path} holds` });
    }
    productsFiles.set(rel, { text: file.text, products: products as LooseProductsFile });
  }
  if (productsFiles.size === 0) err(INDEX_PATH, 'lists no usable image-downloads products file: clients see no images');
  return { index, indexText: read.text, productsFiles };
}
