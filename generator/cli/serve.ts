// `staticstreams serve [DIR]`: preview a built tree locally with the Netlify target's rules.

import type { Command } from 'commander';
import { UsageError } from '../util/errors.js';
import { parseFlags } from '../config/flags.js';
import type { Action } from './output.js';
import path from 'node:path';
import { printable } from '../util/printable.js';
import { readFile } from 'node:fs/promises';
import { parseHtpasswd, type HtpasswdUser } from '../config/htpasswd.js';
import { recordedAuth, STATE_PATH, type PublishedState } from '../formats/state.js';

interface ServeFlags {
  host: string;
  port: string;
  tlsCert?: string;
  tlsKey?: string;
  basePath?: string;
  htpasswd?: string;
  public?: boolean;
  quiet?: boolean;
}

/** The users' file a private tree was built with (its state file says so), if it is one. */
async function privateTree(dir: string): Promise<string | undefined> {
  try {
    const state = JSON.parse(await readFile(path.join(dir, STATE_PATH), 'utf8')) as PublishedState;
    return recordedAuth(state)?.htpasswd;
  } catch {
    return undefined;
  }
}

export async function runServe(dir: string, flags: ServeFlags): Promise<number | undefined> {
  // Every wrong flag at once, through the flags' one schema.
  const problems: string[] = [];
  let port = 0;
  try {
    port = parseFlags({ port: flags.port }).port!;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    problems.push(e.message);
  }
  if (!!flags.tlsCert !== !!flags.tlsKey) problems.push('--tls-cert and --tls-key go together');
  if (flags.basePath !== undefined && !/^\/(?:[A-Za-z0-9._~+@-]+\/?)*$/.test(flags.basePath))
    problems.push(`--base-path ${flags.basePath}: give the path the tree is served under, e.g. /lxd (letters, digits, . _ ~ + @ -)`);
  if (problems.length) throw new UsageError(problems.join('\nerror: '));
  const { startPreview } = await import('../serve/server.js');
  // One line per request (what a person previewing a tree wants to see), unless --quiet.
  const log = flags.quiet ? undefined : (line: string) => process.stdout.write(`${printable(line)}\n`);
  const tls = flags.tlsCert ? { cert: flags.tlsCert, key: flags.tlsKey! } : undefined;
  const basePath = flags.basePath?.replace(/\/+$/, '');
  let users: HtpasswdUser[] | undefined;
  const built = flags.htpasswd || flags.public ? undefined : await privateTree(dir);
  if (built)
    throw new UsageError(
      `${dir} is a private tree (built with auth.htpasswd ${built}): serving it without credentials would give it to anyone\n  fix: serve it with --htpasswd ${built} (or --public to serve it to anyone on purpose)`,
    );
  if (flags.htpasswd) {
    let text: string;
    try {
      text = await readFile(flags.htpasswd, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read --htpasswd ${flags.htpasswd} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    users = parseHtpasswd(text, flags.htpasswd);
  }
  const preview = await startPreview({
    dir,
    host: flags.host,
    port,
    tls,
    ...(basePath !== undefined ? { basePath } : {}),
    ...(users ? { users } : {}),
    ...(log ? { log } : {}),
  }).catch((e: NodeJS.ErrnoException) => {
    // What the user can change, said as usage errors (exit 2).
    if (e.code === 'EADDRINUSE') throw new UsageError(`port ${flags.port} is already in use (choose another with --port)`);
    if (e.code === 'ENOENT' && e.path && path.resolve(e.path) === path.resolve(dir))
      throw new UsageError(
        `cannot serve ${dir}: no such folder\n  fix: build it first (staticstreams build --out ${dir}), or give serve the folder a build wrote`,
      );
    if (e.code === 'ENOENT') throw new UsageError(`cannot serve ${dir}: ${e.path ?? e.message} does not exist`);
    throw e;
  });
  for (const e of preview.rules.errors) process.stderr.write(`warning: ${e}\n`);
  process.stdout.write(`serving ${dir} at ${preview.url}\n`);
  if (!flags.tlsCert) process.stdout.write('note: lxc remote add needs https: pass --tls-cert and --tls-key\n');
  const stop = () => void preview.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return undefined;
}

export function registerServe(program: Command, action: Action): void {
  program
    .command('serve')
    .description('preview a built tree locally, with the Netlify rules and import endpoints applied')
    .argument('[dir]', 'the built tree', 'dist')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on', '8080')
    .option('--tls-cert <file>', 'certificate (PEM) to serve HTTPS, as lxc remote add requires')
    .option('--tls-key <file>', 'private key (PEM) for --tls-cert')
    .option('--base-path <path>', "serve the tree under this path, e.g. /lxd (default: the path of the tree's base URL)")
    .option('--htpasswd <file>', 'serve privately: every request needs basic auth as a user of this htpasswd file (bcrypt, htpasswd -B)')
    .option('--public', 'serve a private tree (one built with auth.htpasswd) to anyone, without --htpasswd')
    .option('-q, --quiet', 'no line per request')
    .action(action((dir: string, flags: ServeFlags) => runServe(dir, flags)));
}
