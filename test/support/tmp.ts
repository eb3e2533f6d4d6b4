// Temporary folders for tests, removed when the test ends (KEEP_TMP=1 keeps them, to look at a failure).

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

export async function tempDir(t: TestContext | { after(fn: () => unknown): void }, prefix = 'ss-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  if (!process.env.KEEP_TMP) t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
