// What lives in the bucket when object storage is on: the image files (output paths under
// images/), each at PREFIX + its output path; and where a client asking the main host for
// /images/… is sent.

import type { ObjectStorageSettings } from '../config/config.js';
import { safeUrl } from './cdn/header-safety.js';
import { IMAGE_DIR } from '../simplestreams/item-paths.js';

/** The image files' folder (simplestreams/item-paths.ts): what goes to the bucket. */
export const BLOB_DIR = IMAGE_DIR;

/** True for output paths that go to the bucket (image files) rather than into the static tree. */
export const isBucketFile = (rel: string) => rel.startsWith(BLOB_DIR);

export const bucketKey = (settings: Pick<ObjectStorageSettings, 'prefix'>, rel: string) => `${settings.prefix}${rel}`;

/** `s3://bucket/prefix`, for messages. */
export const bucketLabel = (settings: Pick<ObjectStorageSettings, 'bucket' | 'prefix'>) => `s3://${settings.bucket}/${settings.prefix}`;

export interface BlobRedirect {
  /** The path prefix on the main host, e.g. /images/ */
  from: string;
  /** The absolute URL the rest of the path is appended to. */
  to: string;
}

/** /images/REST on the main host → PUBLIC_URL/PREFIX/images/REST. */
export function blobRedirect(settings: Pick<ObjectStorageSettings, 'public_url' | 'prefix'>): BlobRedirect {
  return { from: `/${BLOB_DIR}`, to: safeUrl(`${settings.public_url.replace(/\/+$/, '')}/${bucketKey(settings, BLOB_DIR)}`) };
}
