// Reading a published tree in tests: the products file index.json names, as plain JSON.

import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface TreeItem {
  ftype: string;
  path: string;
  sha256: string;
  size: number;
  [k: string]: unknown;
}
export interface TreeProducts {
  products: Record<string, { aliases?: string; arch: string; versions: Record<string, { items: Record<string, TreeItem> }> }>;
}

/** The path of the products file the tree's index.json names. */
export const productsPath = (tree: string): string =>
  Object.values((JSON.parse(readFileSync(path.join(tree, 'streams/v1/index.json'), 'utf8')) as { index: Record<string, { path: string }> }).index)[0]!.path;

/** The products file the tree's index.json names. */
export const productsOf = (tree: string): TreeProducts => JSON.parse(readFileSync(path.join(tree, productsPath(tree)), 'utf8')) as TreeProducts;
