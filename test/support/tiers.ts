// The test tiers as `npm test` runs them, side by side: the end-to-end tier (real LXD, Incus,
// LXC, servers and Chromium: one file at a time, as its files share the daemons and restart them)
// beside the unit and integration tiers (independent files in temporary folders, several at a
// time). Each is its own `node --test`; their lines are printed as they come, prefixed with the
// tier. Exits 1 when any tier failed. At the end it takes the test CA out of the system trust
// store again when this run put it there (the daemons keep what they loaded until restarted).
//
//   node build/test/support/tiers.js [--only e2e|fast] [--concurrency N]
//
// STATICSTREAMS_TEST_ALSO_NODE=/path/to/node adds the unit and integration tiers again under that
// Node (CI: Node 24 beside the Node 22 floor), as a third tier beside the others.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { TEST_CA_IN_STORE } from './tls.js';

interface Tier {
  name: string;
  files: string[];
  concurrency: number;
  /** The node binary (default: this one). */
  node?: string;
}

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '..');
const filesOf = (dir: string) =>
  readdirSync(path.join(root, dir))
    .filter((f) => f.endsWith('.test.js'))
    .sort()
    .map((f) => path.join('build/test', dir, f));

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const only = option('--only');
const concurrency = Number(option('--concurrency') ?? 2);
const fast = [...filesOf('unit'), ...filesOf('integration')];
/** Not run again under the other Node: package.test installs the packed tarball under Node 24 itself. */
const ONCE = new Set(['package.test.js']);
const also = process.env.STATICSTREAMS_TEST_ALSO_NODE;
const tiers: Tier[] = [
  { name: 'e2e', files: filesOf('e2e'), concurrency: 1 },
  { name: 'fast', files: fast, concurrency },
  ...(also
    ? [
        {
          name: `fast@${execFileSync(also, ['--version'], { encoding: 'utf8' }).trim()}`,
          files: fast.filter((f) => !ONCE.has(path.basename(f))),
          concurrency,
          node: also,
        },
      ]
    : []),
].filter((t) => !only || t.name.startsWith(only));

function run(tier: Tier): Promise<{ tier: Tier; code: number; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(
      tier.node ?? process.execPath,
      ['--test', '--test-reporter=spec', `--test-concurrency=${tier.concurrency}`, '--test-timeout=600000', ...tier.files],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        // That Node first on PATH too, for what the tests start by name (npm, npx).
        env: tier.node ? { ...process.env, PATH: `${path.dirname(tier.node)}:${process.env.PATH}` } : process.env,
      },
    );
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream.setEncoding('utf8').on('data', (d: string) => {
        const lines = (rest + d).split('\n');
        rest = lines.pop()!;
        for (const line of lines) process.stdout.write(`[${tier.name}] ${line}\n`);
      });
      stream.on('end', () => rest && process.stdout.write(`[${tier.name}] ${rest}\n`));
    }
    child.on('close', (code) => resolve({ tier, code: code ?? 1, seconds: (Date.now() - started) / 1000 }));
  });
}

const caBefore = existsSync(TEST_CA_IN_STORE);
const results = await Promise.all(tiers.map(run));
if (!caBefore && existsSync(TEST_CA_IN_STORE)) {
  rmSync(TEST_CA_IN_STORE);
  try {
    execFileSync('update-ca-certificates', ['--fresh'], { stdio: 'ignore' });
  } catch {
    // not Debian's ca-certificates: nothing else to undo
  }
}
for (const r of results)
  process.stdout.write(`tier ${r.tier.name}: ${r.tier.files.length} files, ${r.code === 0 ? 'passed' : 'FAILED'} in ${r.seconds.toFixed(0)} s\n`);
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
