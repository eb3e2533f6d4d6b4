// One build at a time per output folder: a lock file next to it holding the builder's pid.
// A lock left by a dead process is taken over; a live one stops the second build with a message.

import { readFileSync, rmSync } from 'node:fs';
import { open, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { BuildError } from '../../util/errors.js';
import { onInterrupt } from './cleanup.js';

export function lockPath(out: string): string {
  const resolved = path.resolve(out);
  return path.join(path.dirname(resolved), `.${path.basename(resolved)}.lock`);
}

/** True while process `pid` exists (EPERM: it exists but is someone else's). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface OutputLock {
  release(): Promise<void>;
}

export async function lockOutput(out: string): Promise<OutputLock> {
  const file = lockPath(out);
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      const handle = await open(file, 'wx');
      // Ours from the moment it exists: a signal while its pid is being written removes it too
      // (empty, it is still the one this build created; taken over, it holds another pid).
      const unregister = onInterrupt(() => {
        const held = readFileSync(file, 'utf8').trim();
        if (held === String(process.pid) || held === '') rmSync(file, { force: true });
      });
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      return {
        async release() {
          unregister();
          await rm(file, { force: true });
        },
      };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new BuildError(`cannot create the output folder's parent ${path.dirname(file)}`, 'create it, or choose another --out');
      }
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
        throw new BuildError(
          `cannot write next to the output folder: ${path.dirname(file)} is not writable (${code}: permission denied)`,
          'choose an --out in a folder you can write, or fix its permissions',
        );
      }
      if (code !== 'EEXIST') throw e;
      const pid = await holder(file);
      if (pid && pid !== process.pid && alive(pid)) busy(out, file, pid);
      if (!pid && Date.now() - ((await stat(file).catch(() => undefined))?.mtimeMs ?? 0) < FRESH_MS) {
        // Just created, its pid not written yet: a live build's.
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      // Left by a build that died: taken over under a second lock, so that of several builds
      // finding it at once, one removes it (the others then meet the new holder's lock).
      await takeOver(file, pid, out);
    }
  }
  throw new BuildError(`cannot take the lock ${file}`, `remove ${file} if no build is running`);
}

const holder = async (file: string) => Number((await readFile(file, 'utf8').catch(() => '')).trim());

function busy(out: string, file: string, pid: number): never {
  throw new BuildError(`another staticstreams build (pid ${pid}) is writing ${out} right now`, `wait for it to finish; if no build is running, remove ${file}`);
}

/** An empty lock file younger than this is being written by a live build. */
const FRESH_MS = 5_000;

/** A takeover lock older than this whose process is gone was left by a crash mid-takeover. */
const TAKEOVER_STALE_MS = 10_000;

/** Removes the lock `file` left by the dead `stale` pid, if it still is that one; waits while another build takes it over. */
async function takeOver(file: string, stale: number, out: string): Promise<void> {
  const guard = `${file}.takeover`;
  let handle;
  try {
    handle = await open(guard, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const other = await holder(guard);
    const age = Date.now() - ((await stat(guard).catch(() => undefined))?.mtimeMs ?? Date.now());
    if (!alive(other) && age > TAKEOVER_STALE_MS) await rm(guard, { force: true });
    else await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30));
    return; // try the lock again
  }
  try {
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
    // Under the takeover lock, the lock is still the dead build's (or gone): nobody took it meanwhile.
    const now = await holder(file);
    if (now && now !== stale && now !== process.pid && alive(now)) busy(out, file, now);
    if (now === stale) await rm(file, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}
