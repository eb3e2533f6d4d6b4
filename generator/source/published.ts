// Reads what a previously published tree says it holds: index.json → the products file (the
// state clients see), plus, when present, catalog.json (creation dates and descriptions) and
// staticstreams-state.json (files in their grace period). The tree may be ours or another
// tool's: the streams are validated with what the clients accept (simplestreams/schema.ts), and
// every problem is reported at once with the product, version and field it is in.

import { createHash } from 'node:crypto';
import { BuildError, BuildFailed } from '../util/errors.js';
import { catalogSchema, type Catalog } from '../formats/catalog.js';
import { STATE_PATH, stateSchema, type PublishedState } from '../formats/state.js';
import { INDEX_PATH } from '../render/streams.js';
import type { AcceptedProductsFile } from '../simplestreams/schema.js';
import { itemPathProblem } from '../simplestreams/item-paths.js';
import type { TreeSource } from './source.js';
import { parseTreeFile, readTree } from './tree.js';
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

export async function readPublished(source: TreeSource): Promise<PublishedTree> {
  const where = (rel: string) => `${source.label.replace(/\/+$/, '')}/${rel}`;
  const tree = await readTree(source, {
    mode: 'strict',
    fixes: {
      notFound: 'pass --previous the folder or base URL a previous `staticstreams build` published (the one holding streams/v1/index.json)',
      index: 'fix the tree, or publish without --previous',
      products: (rel) => `correct it in ${rel} (or remove that version), then build again: clients cannot use it as it is either`,
      missing: 'republish the previous tree: clients cannot read it either',
    },
  });
  if (tree.productsFiles.size !== 1)
    throw new BuildError(
      `${where(INDEX_PATH)}: lists ${tree.productsFiles.size} image-downloads products files; staticstreams carries over a tree of one`,
      'publish without --previous, or merge the trees first',
    );
  const [[productsPath, { text: productsText, products }]] = [...tree.productsFiles] as [[string, { text: string; products: ProductsFile }]];
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
