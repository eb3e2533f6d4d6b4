// Writes server configuration (nginx, Caddy, Netlify edge function) outside the published
// folder, each file replaced atomically (written beside, then renamed over).

import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { insideRoot } from './blobs.js';
import { byEntryKey } from '../util/compare.js';

export async function writeServerConfig(dir: string, files: Map<string, string>): Promise<string[]> {
  const written: string[] = [];
  for (const [rel, text] of [...files].sort(byEntryKey)) {
    const full = insideRoot(dir, rel);
    await mkdir(path.dirname(full), { recursive: true });
    const tmp = `${full}.tmp-${process.pid}`;
    await writeFile(tmp, text);
    await rename(tmp, full);
    written.push(full);
  }
  return written;
}
