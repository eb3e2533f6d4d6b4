// The staticstreams command line: one file per command, each a thin layer over the library.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerBuild } from './build.js';
import { registerPrune } from './prune.js';
import { registerWithdraw } from './withdraw.js';
import { registerMirror } from './mirror.js';
import { registerPromote } from './promote.js';
import { registerList } from './list.js';
import { registerDiff } from './diff.js';
import { registerVerify } from './verify.js';
import { registerServe } from './serve.js';
import { registerDoctor } from './doctor.js';
import { EXIT_OK, EXIT_USAGE, makeAction } from './output.js';
import { redactCredentials } from '../util/url.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Runs the CLI with `argv` (as process.argv) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  // A closed pipe (`staticstreams list | head`) ends the command quietly, as for any Unix tool.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? EXIT_OK);
      throw e;
    });
    // A URL given as https://USER:PASSWORD@host is printed without its user and password,
    // wherever it appears (messages, progress, summaries, --json): the CLI prints only text.
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) =>
      write(typeof chunk === 'string' ? redactCredentials(chunk) : chunk, ...rest)) as typeof stream.write;
  }
  let code = EXIT_OK;
  const setExit = (c: number) => {
    code = c;
  };
  const program = new Command()
    .name('staticstreams')
    .description('Turn a folder of LXD/Incus image tarballs into a static simplestreams image server.')
    .version(pkg.version)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  // Every command runs through one action wrapper: the CLI's one catch (output.ts makeAction).
  const action = makeAction(setExit);
  registerBuild(program, action);
  registerPrune(program, action);
  registerWithdraw(program, action);
  registerMirror(program, action);
  registerPromote(program, action);
  registerVerify(program, action);
  registerList(program, action);
  registerDiff(program, action);
  registerServe(program, action);
  registerDoctor(program, action);
  program.addHelpText('after', '\nExit codes: 0 success, 1 invalid input or failed check, 2 wrong usage.\n');
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    throw e;
  }
  return code;
}
