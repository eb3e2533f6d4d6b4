// A local S3 store that enforces conditional writes: moto (the AWS service emulator, Python's
// `moto_server`), as the --target bucket tests need it — If-None-Match: * (create-only) and
// If-Match: ETAG (compare-and-swap) on PutObject answer 412 as AWS does. s3rver ignores both, so
// a test against it would prove nothing. The bucket is made publicly readable (a bucket policy),
// as the README asks of a real one, and reached by the real AWS SDK with throwaway credentials.

import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutBucketCorsCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, serverProcess } from './server-process.js';
import type { ObjectStorageSettings } from '../../generator/index.js';

export const MOTO_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };

export interface MotoBucket {
  endpoint: string;
  bucket: string;
  /** Where the bucket's objects are readable without credentials (path style). */
  publicUrl: string;
  settings(extra?: Partial<ObjectStorageSettings>): ObjectStorageSettings;
  /** staticstreams.yaml's object_storage section for these settings. */
  yaml(extra?: Partial<ObjectStorageSettings>): string;
  /** The environment a publisher process needs (credentials). */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startMoto(bucket = 'images'): Promise<MotoBucket> {
  Object.assign(process.env, MOTO_CREDENTIALS);
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ss-moto-'));
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore', cwd: dir });
  const server = await serverProcess(child, port, dir);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  await client.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }],
      }),
    }),
  );
  // Web UIs read the indexes from other origins: the bucket's CORS rule, as docs/object-storage.md shows.
  await client.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'], AllowedHeaders: ['*'], MaxAgeSeconds: 3600 }] },
    }),
  );
  client.destroy();
  const publicUrl = `${endpoint}/${bucket}`;
  const settings = (extra: Partial<ObjectStorageSettings> = {}): ObjectStorageSettings => ({
    bucket,
    endpoint,
    public_url: publicUrl,
    region: 'us-east-1',
    prefix: '',
    force_path_style: true,
    verify: 'size',
    part_size_mib: 8,
    concurrency: 4,
    publishers: 'many',
    ...extra,
  });
  return {
    endpoint,
    bucket,
    publicUrl,
    settings,
    yaml: (extra = {}) =>
      `object_storage:\n${Object.entries(settings(extra))
        .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
        .join('\n')}\n`,
    env: { ...process.env, ...MOTO_CREDENTIALS },
    stop: () => server.stop(),
  };
}
