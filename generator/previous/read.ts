// Reads what a previously published tree says it holds: index.json → the products file (the
// state clients see), plus, when present, catalog.json (creation dates and descriptions) and
// staticstreams-state.json (files in their grace period). Each is validated with its schema.

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { BuildError } from '../errors.js';
import { catalogSchema, type Catalog } from '../emit/catalog-schema.js';
import { STATE_PATH, stateSchema, type PublishedState } from '../emit/state-schema.js';
import { INDEX_PATH } from '../emit/streams.js';
import { indexFileSchema, productsFileSchema } from '../emit/streams-schema.js';
import type { PreviousSource } from './source.js';

export type ProductsFile = z.infer<typeof productsFileSchema>;

export interface PublishedTree {
  source: PreviousSource;
  productsPath: string;
  products: ProductsFile;
  /** The products file's own bytes: it is kept for the grace period once superseded. */
  productsFile: { sha256: string; size: number };
  catalog: Catalog | null;
  state: PublishedState | null;
}

function parse<T>(schema: z.ZodType<T>, text: string, where: string, fix: string): T {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new BuildError(`${where}: not JSON (${(e as Error).message})`, fix);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BuildError(`${where}: ${issue.path.join('.') || '(top)'}: ${issue.message}`, fix);
  }
  return parsed.data;
}

export async function readPublished(source: PreviousSource): Promise<PublishedTree> {
  const where = (rel: string) => `${source.label.replace(/\/+$/, '')}/${rel}`;
  const indexText = await source.readText(INDEX_PATH);
  if (indexText === null) {
    throw new BuildError(`${where(INDEX_PATH)}: not found, so ${source.label} is no published tree`, 'pass --previous the folder or base URL a previous `staticstreams build` published (the one holding streams/v1/index.json)');
  }
  const index = parse(indexFileSchema, indexText, where(INDEX_PATH), 'fix the tree, or publish without --previous');
  const entries = Object.values(index.index);
  if (entries.length !== 1) throw new BuildError(`${where(INDEX_PATH)}: lists ${entries.length} products files; staticstreams merges with a tree of one`, 'publish without --previous, or merge the trees first');
  const productsPath = entries[0]!.path;
  const productsText = await source.readText(productsPath);
  if (productsText === null) throw new BuildError(`${where(productsPath)}: listed in index.json but not found`, 'republish the previous tree: clients cannot read it either');
  const products = parse(productsFileSchema, productsText, where(productsPath), 'fix the products file, or publish without --previous');
  const catalogText = await source.readText('catalog.json');
  const catalogParsed = catalogText === null ? null : catalogSchema.safeParse(JSON.parse(catalogText));
  const stateText = await source.readText(STATE_PATH);
  const state = stateText === null ? null : parse(stateSchema, stateText, where(STATE_PATH), `fix or delete ${STATE_PATH} (files in their grace period are then forgotten)`);
  const bytes = Buffer.from(productsText);
  return {
    source,
    productsPath,
    products,
    productsFile: { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length },
    catalog: catalogParsed?.success ? catalogParsed.data : null,
    state,
  };
}
