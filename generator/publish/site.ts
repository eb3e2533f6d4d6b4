// Renders the catalogue website (the Astro project in site/) into the staged output, next to
// the streams, from the catalog of this build. Astro builds into a scratch folder inside the
// staged output (renderSite, which may run while the build writes the streams), whose files then
// move up (placeSite, once the streams are written); a failed site build fails the whole build.

import { copyFile, cp, mkdir, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SiteSettings } from '../config/config.js';
import { BuildError } from '../util/errors.js';
import type { Catalog } from '../formats/catalog.js';
import { publishedLogoName, siteInputSchema, type SiteInput, type SitePackages } from '../formats/site-input.js';
import { defaultRemoteName } from '../formats/remote-name.js';
import { groupProducts } from '../formats/groups.js';
import { count } from '../util/format.js';

const require = createRequire(import.meta.url);

/** The Astro project (from build/generator/publish/ back to the package root). */
export const SITE_ROOT = fileURLToPath(new URL('../../../site/', import.meta.url));
/** The sources the project imports (its input schema, the product grouping). */
const GENERATOR_SOURCES = fileURLToPath(new URL('../../../generator/', import.meta.url));

/**
 * A copy of the Astro project in the work folder, beside a link to the sources it imports, so
 * the relative imports between them hold and Astro's own folders (`.astro/`) are written there.
 */
async function projectCopy(work: string): Promise<string> {
  const root = path.join(work, 'site');
  await cp(SITE_ROOT, root, {
    recursive: true,
    filter: (from) => !/^(?:\.astro|node_modules|dist)$/.test(path.relative(SITE_ROOT, from).split(path.sep)[0]!),
  });
  await symlink(GENERATOR_SOURCES, path.join(work, 'generator'), 'dir');
  return root;
}

export interface SiteOptions {
  /** The staged output folder. */
  dir: string;
  catalog: Catalog;
  settings: SiteSettings;
  builtAt: Date;
  /** A private tree: the commands show USER:PASSWORD in the URL. */
  private?: boolean;
  /** What the catalogue shows of packages. */
  described?: SitePackages;
}

/** The path part of the base URL, as Astro's `base` ("/" or "/sub/"). */
export function basePath(baseUrl: string | undefined): string {
  if (!baseUrl) return '/';
  const p = new URL(baseUrl).pathname.replace(/\/+$/, '');
  return `${p}/`;
}

/**
 * The pages the site must have that `out` lacks: the home page and feed, and each product's
 * page and feed (a page that failed to render must not go unnoticed, however Astro reports it).
 */
export function missingPages(out: string, slugs: string[]): string[] {
  return sitePages(slugs).filter((rel) => !statSync(path.join(out, rel), { throwIfNoEntry: false })?.isFile());
}

/** The pages the site has for products with these slugs: the home page and feed, each product's page and feed. */
export function sitePages(slugs: string[]): string[] {
  return ['index.html', 'feed.xml', ...slugs.flatMap((s) => [`products/${s}/index.html`, `products/${s}/feed.xml`])];
}

/** Astro's scratch folder inside the staged output. */
const workFolder = (dir: string) => path.join(dir, '.site-build');

/**
 * Builds the site into the scratch folder. While Astro runs the current folder is that scratch
 * folder: whatever runs alongside must use absolute paths.
 */
export async function renderSite(options: SiteOptions): Promise<{ pages: number }> {
  const groups = groupProducts(options.catalog);
  const pages = 1 + groups.length;
  const { dir, catalog, settings } = options;
  const work = workFolder(dir);
  await mkdir(work, { recursive: true });
  let logo: string | undefined;
  if (settings.logo) {
    logo = publishedLogoName(settings.logo);
    try {
      await copyFile(settings.logo, path.join(dir, logo));
    } catch (e) {
      throw new BuildError(
        `cannot read the site logo ${settings.logo}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        'fix site.logo in staticstreams.yaml (a path relative to the config file)',
      );
    }
  }
  const input: SiteInput = siteInputSchema.parse({
    format: 'staticstreams-site-input:1',
    builtAt: options.builtAt.toISOString(),
    settings: {
      title: settings.title,
      description: settings.description,
      ...(logo ? { logo } : {}),
      remoteName: settings.remote_name ?? defaultRemoteName(catalog.baseUrl),
      staleAfterDays: settings.stale_after_days,
      private: options.private === true,
    },
    catalog,
    ...(options.described ? { described: options.described } : {}),
  });
  const inputFile = path.join(work, 'input.json');
  await writeFile(inputFile, JSON.stringify(input));
  const astroOut = path.join(work, 'out');
  // Astro prerenders from a server bundle in its output folder, which imports Astro's own
  // dependencies: link the folder holding them next to it, wherever OUT is.
  await symlink(path.dirname(path.dirname(require.resolve('astro/package.json'))), path.join(work, 'node_modules'), 'dir');
  const root = await projectCopy(work);

  process.env.ASTRO_TELEMETRY_DISABLED = '1'; // never phone home from a build
  const { build } = await import('astro');
  // Astro puts its prerender bundle under the current folder unless the output is inside it:
  // run it from the work folder, so nothing is written into (or needed from) the user's folder.
  const cwd = process.cwd();
  process.chdir(work);
  try {
    await build({
      root,
      outDir: astroOut,
      cacheDir: path.join(work, 'cache'),
      base: basePath(catalog.baseUrl),
      ...(catalog.baseUrl ? { site: new URL(catalog.baseUrl).origin } : {}),
      logLevel: 'error',
      vite: {
        define: { __STATICSTREAMS_SITE_INPUT__: JSON.stringify(inputFile) },
        logLevel: 'error',
        cacheDir: path.join(work, 'vite-cache'),
      },
    });
  } catch (e) {
    process.chdir(cwd);
    throw new BuildError(
      `the catalogue site failed to build: ${(e as Error).message.split('\n')[0]}`,
      'build with --no-site to publish without it, and report this with the catalog.json of the build',
    );
  }
  process.chdir(cwd);
  const missing = missingPages(
    astroOut,
    groups.map((g) => g.slug),
  );
  if (missing.length) {
    throw new BuildError(
      `the catalogue site is missing ${count(missing.length, 'page')} it should have: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}`,
      'build with --no-site to publish without it, and report this with the catalog.json of the build',
    );
  }
  return { pages };
}

/** Moves the rendered site up into the staged output, next to the streams written meanwhile. */
export async function placeSite(dir: string): Promise<void> {
  const work = workFolder(dir);
  const astroOut = path.join(work, 'out');
  for (const name of await readdir(astroOut)) {
    const target = path.join(dir, name);
    if (
      await stat(target).then(
        () => true,
        () => false,
      )
    ) {
      throw new BuildError(`the catalogue site wants to write ${name}, which the streams already use`, 'rename the page or file in site/ that produces it');
    }
    await rename(path.join(astroOut, name), target);
  }
  await rm(work, { recursive: true, force: true });
}
