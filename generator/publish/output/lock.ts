// One build at a time per output folder: a lock file next to it holding the builder's pid.
// A lock left by a dead process is taken over; a live one stops the second build with a message.

import { readFileSync, rmSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
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
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      const unregister = onInterrupt(() => {
        if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
      });
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
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (pid && pid !== process.pid && alive(pid)) {
        throw new BuildError(
          `another staticstreams build (pid ${pid}) is writing ${out} right now`,
          `wait for it to finish; if no build is running, remove ${file}`,
        );
      }
      await rm(file, { force: true }); // left by a build that died
    }
  }
  throw new BuildError(`cannot take the lock ${file}`, `remove ${file} if no build is running`);
}
