// How the CLI talks: problems without stack traces, progress on a TTY, plain lines otherwise.

import { stat } from 'node:fs/promises';
import { BuildFailed, ImageError, UsageError, isReportable } from '../util/errors.js';
import type { Reporter } from '../pipeline/build.js';
import { printable } from '../util/printable.js';

import { formatBytes } from '../util/format.js';

export { formatBytes };

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

/** A tree named on the command line must exist when it is a folder (exit 2 otherwise). */
export async function requireTree(spec: string): Promise<void> {
  if (/^https?:\/\//i.test(spec)) return;
  try {
    if ((await stat(spec)).isDirectory()) return;
  } catch {
    throw new UsageError(`${spec} does not exist: give the folder of a published tree, or the URL it is served at`);
  }
  throw new UsageError(`${spec} is not a folder: give the folder of a published tree, or the URL it is served at`);
}

/**
 * Wraps a command's run function: the CLI's one catch. The function returns its exit code (or
 * undefined for a command that keeps running, like serve); whatever it throws is reported here —
 * with `--json`, also as `{"ok": false, "error", "problems"}` on stdout — and becomes the exit code.
 */
export type Action = <A extends unknown[]>(run: (...args: A) => Promise<number | undefined>) => (...args: A) => Promise<void>;

export function makeAction(setExit: (code: number) => void): Action {
  return (run) =>
    async (...args) => {
      try {
        const code = await run(...args);
        if (code !== undefined) setExit(code);
      } catch (e) {
        // commander passes (arguments…, options, command): --json is in the options.
        const options = args.at(-2) as { json?: boolean } | undefined;
        const command = (args.at(-1) as { name?: () => string } | undefined)?.name?.();
        if (options?.json) process.stdout.write(`${JSON.stringify(jsonFailure(e))}\n`);
        setExit(reportError(e, process.stderr, command));
      }
    };
}

/** A failure as --json reports it: every problem as the human output has them (where, what, the fix). */
function jsonFailure(e: unknown) {
  const problems = (e instanceof BuildFailed ? e.problems : isReportable(e) ? [e] : []).map((p) =>
    p instanceof ImageError ? { file: p.file, problem: p.problem, fix: p.fix } : { problem: p.problem, fix: p.fix, files: p.files },
  );
  return { ok: false, error: (e as Error).message, problems };
}

/** The commands that publish (their failure leaves the previous output as it was, and says so). */
const PUBLISHING = new Set(['build', 'prune', 'mirror', 'promote']);

/** Prints an error the way a user should see it and returns the exit code. `command`: which one failed (default build). */
export function reportError(e: unknown, stderr: NodeJS.WritableStream = process.stderr, command = 'build'): number {
  const publishing = PUBLISHING.has(command);
  const trailer = publishing ? 'nothing was published (the previous output is unchanged)\n' : '';
  if (e instanceof UsageError) {
    stderr.write(printable(`error: ${e.message}\n`));
    return EXIT_USAGE;
  }
  if (e instanceof BuildFailed) {
    for (const p of e.problems) stderr.write(printable(`error: ${p.format()}\n`));
    stderr.write(`${command} failed: ${e.message}${publishing ? '; nothing was published (the previous output is unchanged)' : ''}\n`);
    return EXIT_INVALID;
  }
  if (isReportable(e)) {
    stderr.write(printable(`error: ${e.format()}\n${trailer}`));
    return EXIT_INVALID;
  }
  const err = e as NodeJS.ErrnoException;
  const hint = err.code === 'ENOSPC' ? ' (the disk is full)' : err.code === 'EACCES' || err.code === 'EPERM' ? ' (permission denied)' : '';
  stderr.write(printable(`error: ${err.message ?? String(e)}${hint}\n${trailer}`));
  if (process.env.STATICSTREAMS_DEBUG) stderr.write(`${err.stack}\n`);
  return EXIT_INVALID;
}

/** Progress: a redrawn status line on a TTY, one line per phase otherwise; silent when quiet. */
export function makeReporter(stream: NodeJS.WriteStream, quiet: boolean): Reporter {
  const tty = stream.isTTY === true && !quiet;
  let lastDraw = 0;
  let drawn = false;
  const clear = () => {
    if (drawn) stream.write('\r\x1b[K');
    drawn = false;
  };
  return {
    phase(name) {
      if (quiet) return;
      clear();
      if (!tty) stream.write(`${name}\n`);
    },
    progress(action, done, total, current) {
      if (!tty) return;
      const now = Date.now();
      if (now - lastDraw < 100 && done < total) return;
      lastDraw = now;
      const pct = total ? Math.floor((done / total) * 100) : 100;
      const width = Math.max(10, (stream.columns ?? 80) - 40);
      const name = current.length > width ? `…${current.slice(-width + 1)}` : current;
      stream.write(`\r\x1b[K${action} ${pct}% ${formatBytes(done)}/${formatBytes(total)} ${name}`);
      drawn = true;
    },
    warn(message) {
      clear();
      stream.write(printable(`warning: ${message}\n`));
    },
  };
}
