// `staticstreams build`: the CLI layer over build() — flags, config file, progress, summary.

import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig, TARGETS, type Target } from '../config.js';
import { UsageError } from '../errors.js';
import { EXIT_OK, formatBytes, makeReporter, reportError } from './output.js';
import { installSignalCleanup } from '../emit/cleanup.js';

interface BuildFlags {
  images: string;
  out: string;
  baseUrl?: string;
  config?: string;
  site: boolean;
  target?: string;
  serverConfig?: string;
  keepGoing?: boolean;
  cache: boolean;
  json?: boolean;
  quiet?: boolean;
}

export async function runBuild(flags: BuildFlags): Promise<number> {
  try {
    if (flags.baseUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(flags.baseUrl)) {
      throw new UsageError(`--base-url must be an absolute http(s) URL, got "${flags.baseUrl}"`);
    }
    installSignalCleanup();
    const config = await loadConfig(flags.config ?? 'staticstreams.yaml', flags.config !== undefined);
    let targets: Target[] | undefined;
    if (flags.target !== undefined) {
      const names = flags.target.split(',').map((t) => t.trim()).filter(Boolean);
      const unknown = names.filter((t) => !(TARGETS as readonly string[]).includes(t));
      if (unknown.length || names.length === 0) throw new UsageError(`--target takes a comma-separated list of ${TARGETS.join(', ')}; got "${flags.target}"`);
      targets = names as Target[];
    }
    const started = Date.now();
    const { build } = await import('../build.js'); // loaded on use: --help stays fast
    const result = await build({
      images: flags.images,
      out: flags.out,
      baseUrl: flags.baseUrl,
      config,
      site: flags.site,
      targets,
      serverConfig: flags.serverConfig,
      keepGoing: flags.keepGoing === true,
      cache: flags.cache,
      reporter: makeReporter(process.stderr, flags.quiet === true || flags.json === true),
    });
    const versions = result.plan.products.reduce((n, p) => n + p.versions.length, 0);
    const summary = {
      ok: true,
      out: path.resolve(flags.out),
      products: result.plan.products.length,
      versions,
      images: result.images,
      bytesHashed: result.bytesHashed,
      filesLinked: result.placed.linked,
      filesCopied: result.placed.copied,
      index: result.indexPath,
      productsFile: result.productsPath,
      warnings: result.warnings,
      ignored: result.ignored,
      serverConfig: result.serverConfigFiles,
      skipped: result.skipped.map((p) => p.format()),
      cache: result.cache,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      seconds: (Date.now() - started) / 1000,
    };
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    } else if (!flags.quiet) {
      process.stdout.write(
        `built ${summary.out}: ${summary.products} products, ${versions} versions, ${summary.images} images ` +
          `(${formatBytes(summary.bytesHashed)} hashed, ${summary.filesLinked} files linked, ${summary.filesCopied} copied) in ${summary.seconds.toFixed(1)} s\n` +
          (result.skipped.length ? `left out ${result.skipped.length} problem image(s) (--keep-going): see the warnings above\n` : '') +
          `add it as a remote: lxc remote add NAME ${result.catalog.baseUrl ?? 'https://YOUR-HOST'} --protocol simplestreams\n`,
      );
    }
    return EXIT_OK;
  } catch (e) {
    if (flags.json) process.stdout.write(`${JSON.stringify({ ok: false, error: (e as Error).message })}\n`);
    return reportError(e);
  }
}

export function registerBuild(program: Command, setExit: (code: number) => void): void {
  program
    .command('build')
    .description('turn the image tarballs in --images into a simplestreams tree in --out')
    .option('--images <dir>', 'folder holding the images (searched recursively)', 'images')
    .option('--out <dir>', 'output folder (replaced atomically at the end)', 'dist')
    .option('--base-url <url>', 'absolute URL the output will be served at (used in catalog.json and the page)')
    .option('--config <file>', 'config file (default: staticstreams.yaml when present)')
    .option('--target <list>', `hosts to write rules for, comma-separated: ${TARGETS.join(', ')} (default: netlify, or targets in the config)`)
    .option('--server-config <dir>', 'where nginx/Caddy snippets and the Netlify edge function go (default: OUT-server-config, next to OUT)')
    .option('--keep-going', 'leave out images with problems (listed) and publish the rest')
    .option('--no-cache', 're-hash every file instead of reusing fingerprints of unchanged files')
    .option('--no-site', 'skip the catalogue website (index.html, products/, _astro/, pagefind/)')
    .option('--json', 'print a machine-readable summary on stdout')
    .option('-q, --quiet', 'print only warnings and errors')
    .action(async (flags: BuildFlags) => setExit(await runBuild(flags)));
}
