// Module hooks for register.mjs: an import of `./x.js` from a TypeScript file resolves to `./x.ts`
// when that exists (the project writes its imports as the compiled files name them), and a `.ts`
// file is loaded through esbuild's transform (types stripped, nothing checked).

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

export async function resolve(specifier, context, next) {
  if (context.parentURL?.endsWith('.ts') && /^\.{1,2}\//.test(specifier) && specifier.endsWith('.js')) {
    const ts = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(ts))) return next(ts.href, context);
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const file = fileURLToPath(url);
  const { code } = await transform(await readFile(file, 'utf8'), { loader: 'ts', format: 'esm', sourcemap: 'inline', sourcefile: file, target: 'node22' });
  return { format: 'module', source: code, shortCircuit: true };
}
