// Reads what a previously published tree says it holds: index.json → the products file (the
// state clients see), plus, when present, catalog.json (creation dates and descriptions) and
// staticstreams-state.json (files in their grace period). The tree may be ours or another
// tool's: the streams are validated with what the clients accept (simplestreams/schema.ts), and
// every problem is reported at once with the product, version and field it is in.

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { BuildError, BuildFailed } from '../util/errors.js';
import { catalogSchema, type Catalog } from '../formats/catalog.js';
import { STATE_PATH, stateSchema, type PublishedState } from '../formats/state.js';
import { INDEX_PATH } from '../render/streams.js';
import { acceptedIndexSchema, acceptedProductsSchema, type AcceptedProductsFile } from '../simplestreams/schema.js';
import { itemPathProblem } from '../simplestreams/item-paths.js';
import type { TreeSource } from './source.js';
import { parseJson } from '../util/json.js';

export type ProductsFile = AcceptedProductsFile;

export interface PublishedTree {
  source: TreeSource;
  productsPath: string;
  products: ProductsFile;
  /** The products file's own bytes: it is kept for the grace period once superseded. */
  productsFile: { sha256: string; size: number };
  catalog: Catalog | null;
  state: PublishedState | null;
  /** Made by another tool (no staticstreams catalog.json): its products are adopted. */
  foreign: boolean;
}

/** Names a place in a products file the way a user looks for it. */
function placeOf(path: (string | number)[]): string {
  const [top, product, versions, version, items, item, ...field] = path.map(String);
  if (top !== 'products' || product === undefined) return path.join('.') || '(top)';
  if (versions !== 'versions' || version === undefined)
    return `product ${product}${versions ? `, field ${[versions, version, items, item, ...field].filter((x) => x !== undefined).join('.')}` : ''}`;
  if (items !== 'items' || item === undefined)
    return `product ${product}, version ${version}${items ? `, field ${[items, item, ...field].filter((x) => x !== undefined).join('.')}` : ''}`;
  return `product ${product}, version ${version}, item ${item}${field.length ? `, field ${field.join('.')}` : ''}`;
}

export function parseTreeFile<T>(schema: z.ZodType<T>, text: string, where: string, fix: string): T {
  let data: unknown;
  try {
    data = parseJson(text);
  } catch (e) {
    throw new BuildError(`${where}: not JSON (${(e as Error).message})`, fix);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => new BuildError(`${where}: ${placeOf(issue.path)}: ${issue.message}`, fix));
    throw problems.length === 1 ? problems[0]! : new BuildFailed(problems);
  }
  return parsed.data;
}

export async function readPublished(source: TreeSource): Promise<PublishedTree> {
  const where = (rel: string) => `${source.label.replace(/\/+$/, '')}/${rel}`;
  const indexText = await source.readText(INDEX_PATH);
  if (indexText === null) {
    throw new BuildError(
      `${where(INDEX_PATH)}: not found, so ${source.label} is no published tree`,
      'pass --previous the folder or base URL a previous `staticstreams build` published (the one holding streams/v1/index.json)',
    );
  }
  const index = parseTreeFile(acceptedIndexSchema, indexText, where(INDEX_PATH), 'fix the tree, or publish without --previous');
  // As the clients do: only image-downloads entries that list products are read.
  const entries = Object.values(index.index).filter((e) => e.datatype === 'image-downloads' && (e.products?.length ?? 0) > 0);
  if (entries.length !== 1)
    throw new BuildError(
      `${where(INDEX_PATH)}: lists ${entries.length} image-downloads products files; staticstreams carries over a tree of one`,
      'publish without --previous, or merge the trees first',
    );
  const productsPath = entries[0]!.path;
  const productsText = await source.readText(productsPath);
  if (productsText === null)
    throw new BuildError(`${where(productsPath)}: listed in index.json but not found`, 'republish the previous tree: clients cannot read it either');
  const products = parseTreeFile(
    acceptedProductsSchema,
    productsText,
    where(productsPath),
    `correct it in ${productsPath} (or remove that version), then build again: clients cannot use it as it is either`,
  );
  const unsafe = Object.entries(products.products).flatMap(([key, p]) =>
    Object.entries(p.versions).flatMap(([vkey, v]) =>
      Object.entries(v.items).flatMap(([ikey, item]) => {
        const problem = itemPathProblem(item.path, { anywhere: true });
        return problem
          ? [
              new BuildError(
                `${where(productsPath)}: product ${key}, version ${vkey}, item ${ikey}: path ${JSON.stringify(item.path)} ${problem}`,
                'remove that item from the previous tree (no client needs it), then build again',
              ),
            ]
          : [];
      }),
    ),
  );
  if (unsafe.length) throw unsafe.length === 1 ? unsafe[0]! : new BuildFailed(unsafe);
  // A host that answers a missing file with its home page (a single-page-app fallback) sends
  // HTML: that is no catalog. Anything else that does not parse is named with its fix.
  let catalogText = await source.readText('catalog.json');
  if (catalogText !== null && /^\s*</.test(catalogText)) catalogText = null;
  let catalogJson: unknown;
  try {
    catalogJson = catalogText === null ? null : parseJson(catalogText);
  } catch (e) {
    throw new BuildError(
      `${where('catalog.json')}: is not JSON (${(e as Error).message})`,
      "republish the previous tree (its catalog.json is damaged), or delete catalog.json from it to carry the tree over as another tool's",
    );
  }
  const catalogParsed = catalogJson === null ? null : catalogSchema.safeParse(catalogJson);
  const stateText = await source.readText(STATE_PATH);
  const state =
    stateText === null
      ? null
      : parseTreeFile(stateSchema, stateText, where(STATE_PATH), `fix or delete ${STATE_PATH} (files in their grace period are then forgotten)`);
  const bytes = Buffer.from(productsText);
  return {
    source,
    productsPath,
    products,
    productsFile: { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length },
    catalog: catalogParsed?.success ? catalogParsed.data : null,
    state,
    foreign: catalogText === null,
  };
}
