// A local S3-compatible bucket for tests: s3rver in its own process (so tests that call clients
// synchronously do not stall it), reached by the real AWS SDK over HTTP with s3rver's fixed
// credentials, which are put in this process's environment where the SDK looks for them.

import { spawn } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, serverProcess } from './server-process.js';
import { type ObjectStorageSettings } from '../../generator/index.js';

export const S3_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

export interface LocalBucket {
  endpoint: string;
  bucket: string;
  /** Where an object is downloadable without credentials. */
  publicUrl: string;
  /** The folder s3rver keeps the bucket in. */
  dir: string;
  settings(extra?: Partial<ObjectStorageSettings>): ObjectStorageSettings;
  /** An object's bytes over plain HTTP (as a client would get them), or null on 404. */
  get(key: string): Promise<Buffer | null>;
  /** Deletes an object (as something outside the build would). */
  remove(key: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startS3(bucket = 'staticstreams-test'): Promise<LocalBucket> {
  Object.assign(process.env, S3_CREDENTIALS);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ss-s3-'));
  const port = await freePort();
  const script = fileURLToPath(new URL('./s3-server.js', import.meta.url));
  if (!existsSync(script)) throw new Error(`${script} is missing: run tsc`);
  const child = spawn(process.execPath, [script, String(port), dir, bucket], { stdio: ['ignore', 'ignore', 'inherit'] });
  const server = await serverProcess(child, port, dir);
  const endpoint = `http://127.0.0.1:${port}`;
  const publicUrl = `${endpoint}/${bucket}`;
  return {
    endpoint,
    bucket,
    publicUrl,
    dir,
    settings: (extra = {}) => ({
      bucket,
      endpoint,
      public_url: publicUrl,
      region: 'us-east-1',
      prefix: '',
      force_path_style: true,
      verify: 'read-back',
      part_size_mib: 5,
      concurrency: 4,
      publishers: 'many',
      ...extra,
    }),
    async get(key) {
      const res = await fetch(`${publicUrl}/${key}`);
      if (res.status === 404) return null;
      if (!res.ok) throw new Error(`${publicUrl}/${key}: HTTP ${res.status}`);
      return Buffer.from(await res.arrayBuffer());
    },
    async remove(key) {
      const res = await fetch(`${publicUrl}/${key}`, { method: 'DELETE' });
      if (res.status !== 204) throw new Error(`DELETE ${publicUrl}/${key}: HTTP ${res.status}`);
    },
    stop: () => server.stop(),
  };
}
