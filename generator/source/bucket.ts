// The bucket (object storage), spoken to with the AWS SDK over the S3 API (AWS S3, Cloudflare R2, GCS interop,
// MinIO…): list what is there, upload a file in parts with its sha256 recorded and checked,
// read an object back to hash it, delete. Credentials come from the SDK's usual sources
// (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, instance roles).

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ObjectStorageSettings } from '../config/config.js';
import { BuildError } from '../util/errors.js';
import { IMMUTABLE } from '../render/cdn/cache-rules.js';
import { bucketLabel } from '../render/bucket-layout.js';
import { sha256Of } from '../fingerprint/stream-sha256.js';

export interface Bucket {
  readonly label: string;
  /** Key → size of every object under `prefix`. */
  list(prefix: string): Promise<Map<string, number>>;
  /** Size and recorded sha256 of an object, or null when there is none. */
  head(key: string): Promise<{ size: number; sha256?: string } | null>;
  /** Uploads `file` to `key` (in parts when large); fails if the bytes sent do not hash to `expected`. */
  upload(key: string, file: string, expected: { size: number; sha256: string }, onBytes: (n: number) => void): Promise<void>;
  /** Reads an object back: its size and sha256. */
  read(key: string): Promise<{ size: number; sha256: string }>;
  remove(key: string): Promise<void>;
  /** Every object under `prefix`: size, ETag (quotes removed) and when it was last written. */
  listDetailed(prefix: string): Promise<Map<string, ListedObject>>;
  /** An object's bytes as a stream, or null when there is none. */
  open(key: string): Promise<Readable | null>;
  /** A small object's text and ETag, or null when there is none. */
  getText(key: string, maxBytes: number): Promise<{ text: string; etag: string } | null>;
  /**
   * Writes a small object. `ifMatch`: only over the object with that ETag (compare-and-swap);
   * `ifNoneMatch: '*'`: only when there is none (create-only). Resolves to the new ETag, or to
   * 'precondition' when the condition failed (412: someone else wrote first).
   */
  putText(key: string, text: string | Uint8Array, o: PutOptions): Promise<string | 'precondition'>;
  close(): void;
}

export interface ListedObject {
  size: number;
  etag: string;
  modified: Date;
}

export interface PutOptions {
  contentType: string;
  cacheControl: string;
  ifMatch?: string;
  ifNoneMatch?: '*';
}

const unquote = (etag: string | undefined) => (etag ?? '').replace(/^W\//, '').replace(/^"|"$/g, '');

/** The sha256 is kept as user metadata (x-amz-meta-sha256), which every S3-compatible store keeps. */
const SHA_META = 'sha256';

export function openBucket(settings: ObjectStorageSettings): Bucket {
  // The SDK's notice about its future Node.js support says nothing about this run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = new S3Client({
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    region: settings.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: settings.force_path_style,
    // Only the checksums an operation requires: optional CRC trailers (aws-chunked bodies) are
    // refused by several S3-compatible stores; integrity is checked with our own sha256 instead.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = settings.bucket;
  const label = bucketLabel(settings);
  const explain = (what: string, key: string, e: unknown): never => {
    if (e instanceof BuildError) throw e;
    const err = e as Error & { $metadata?: { httpStatusCode?: number }; code?: string };
    const status = err.$metadata?.httpStatusCode;
    const why = `${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message}${status ? ` (HTTP ${status})` : ''}`;
    const fix =
      err.name === 'CredentialsProviderError' || status === 403 || err.name === 'InvalidAccessKeyId' || err.name === 'SignatureDoesNotMatch'
        ? 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) to a key that may list, read, write and delete in the bucket'
        : err.name === 'NoSuchBucket'
          ? 'create the bucket, or fix object_storage.bucket in staticstreams.yaml'
          : 'check object_storage (endpoint, region, bucket, force_path_style) in staticstreams.yaml and that the endpoint is reachable';
    throw new BuildError(`${label}: cannot ${what} ${key}: ${why}`, fix);
  };

  return {
    label,
    async list(prefix) {
      const out = new Map<string, number>();
      let token: string | undefined;
      try {
        do {
          const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }));
          for (const o of page.Contents ?? []) if (o.Key !== undefined) out.set(o.Key, o.Size ?? 0);
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      } catch (e) {
        explain('list', prefix || '(the bucket)', e);
      }
      return out;
    },
    async head(key) {
      try {
        const h = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        return { size: h.ContentLength ?? 0, ...(h.Metadata?.[SHA_META] ? { sha256: h.Metadata[SHA_META] } : {}) };
      } catch (e) {
        if (e instanceof S3ServiceException && (e.$metadata.httpStatusCode === 404 || e.name === 'NotFound' || e.name === 'NoSuchKey')) return null;
        return explain('look at', key, e);
      }
    },
    async upload(key, file, expected, onBytes) {
      const sent = createHash('sha256');
      let size = 0;
      const body = new PassThrough();
      const source = createReadStream(file);
      source.on('data', (chunk) => {
        const b = chunk as Buffer;
        sent.update(b);
        size += b.length;
      });
      source.on('error', (e) => body.destroy(e));
      source.pipe(body);
      const upload = new Upload({
        client,
        params: { Bucket, Key: key, Body: body, ContentType: 'application/octet-stream', CacheControl: IMMUTABLE, Metadata: { [SHA_META]: expected.sha256 } },
        partSize: settings.part_size_mib * 1024 * 1024,
        queueSize: 2,
        leavePartsOnError: false,
      });
      let last = 0;
      upload.on('httpUploadProgress', (p) => {
        if (p.loaded !== undefined && p.loaded > last) {
          onBytes(p.loaded - last);
          last = p.loaded;
        }
      });
      try {
        await upload.done();
      } catch (e) {
        explain('upload', key, e);
      }
      const sha256 = sent.digest('hex');
      if (size !== expected.size || sha256 !== expected.sha256) {
        await this.remove(key);
        throw new BuildError(
          `${file} changed while the build ran: uploaded ${size} bytes with sha256 ${sha256}, it was ${expected.size} bytes with sha256 ${expected.sha256}`,
          'do not change image files during a build; run it again',
        );
      }
    },
    async read(key) {
      try {
        const got = await client.send(new GetObjectCommand({ Bucket, Key: key }));
        return await sha256Of(got.Body as Readable);
      } catch (e) {
        return explain('read back', key, e);
      }
    },
    async remove(key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
      } catch (e) {
        explain('delete', key, e);
      }
    },
    async listDetailed(prefix) {
      const out = new Map<string, ListedObject>();
      let token: string | undefined;
      try {
        do {
          const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }));
          for (const o of page.Contents ?? [])
            if (o.Key !== undefined) out.set(o.Key, { size: o.Size ?? 0, etag: unquote(o.ETag), modified: o.LastModified ?? new Date(0) });
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      } catch (e) {
        explain('list', prefix || '(the bucket)', e);
      }
      return out;
    },
    async open(key) {
      try {
        const got = await client.send(new GetObjectCommand({ Bucket, Key: key }));
        return got.Body as Readable;
      } catch (e) {
        if (e instanceof S3ServiceException && (e.$metadata.httpStatusCode === 404 || e.name === 'NoSuchKey' || e.name === 'NotFound')) return null;
        return explain('read', key, e);
      }
    },
    async getText(key, maxBytes) {
      try {
        const got = await client.send(new GetObjectCommand({ Bucket, Key: key }));
        if ((got.ContentLength ?? 0) > maxBytes)
          throw new BuildError(
            `${label}${key}: is ${got.ContentLength} bytes, more than ${maxBytes}`,
            'check what wrote it: it is no file staticstreams writes',
          );
        const text = await got.Body!.transformToString('utf8');
        return { text, etag: unquote(got.ETag) };
      } catch (e) {
        if (e instanceof S3ServiceException && (e.$metadata.httpStatusCode === 404 || e.name === 'NoSuchKey' || e.name === 'NotFound')) return null;
        return explain('read', key, e);
      }
    },
    async putText(key, text, o) {
      try {
        const put = await client.send(
          new PutObjectCommand({
            Bucket,
            Key: key,
            Body: typeof text === 'string' ? Buffer.from(text, 'utf8') : text,
            ContentType: o.contentType,
            CacheControl: o.cacheControl,
            ...(o.ifMatch ? { IfMatch: `"${o.ifMatch}"` } : {}),
            ...(o.ifNoneMatch ? { IfNoneMatch: o.ifNoneMatch } : {}),
          }),
        );
        return unquote(put.ETag);
      } catch (e) {
        const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        // 412: the condition failed; 409 (ConditionalRequestConflict): another write of it is in flight; 404 on If-Match: it is gone.
        if (status === 412 || status === 409 || (o.ifMatch && status === 404)) return 'precondition';
        return explain('write', key, e);
      }
    },
    close() {
      client.destroy();
    },
  };
}
