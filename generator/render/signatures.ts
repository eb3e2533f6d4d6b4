// What a signed tree adds to the rendered streams: the documents to sign and how (clear-signed
// `.sjson`, detached `.json.gpg`, detached `.asc`), the SHA256SUMS of each version folder, and the
// time each signature carries. Pure: the signing itself (signing/) runs over this list. A
// signature's time is its document's own (the streams' `updated`, a version's newest image), never
// the clock, so an unchanged document gets the same signature on every build.

import type { Plan } from '../plan/products.js';
import { INDEX_PATH } from './streams.js';
import { LXC_INDEX_PATHS } from './lxc.js';
import {
  CHECKSUMS,
  CHECKSUMS_SIGNATURE,
  detachedJsonSignature,
  renderChecksums,
  signedIndexPayload,
  sjsonPath,
  versionFolder,
} from '../simplestreams/signed.js';

export interface SignatureJob {
  /** Where the signed document (clear) or the signature (detached) is written. */
  path: string;
  /** The text signed. */
  text: string;
  form: 'clear' | 'detached';
  /** The signature's time, epoch seconds (before the key existed: the key's own time is used). */
  time: number;
  /** The unsigned file whose content decides this one (the same text, same key: the same signature). */
  basis: string;
}

export interface SignaturePlan {
  /** Unsigned texts to publish with the tree (each version folder's SHA256SUMS). */
  texts: Map<string, string>;
  jobs: SignatureJob[];
}

/** `streams`: the rendered streams (path → text); `updated`: their time, epoch seconds. */
export function planSignatures(plan: Plan, streams: Map<string, string>, updated: number): SignaturePlan {
  const jobs: SignatureJob[] = [];
  for (const [path, text] of streams) {
    if (path === INDEX_PATH) {
      jobs.push({ path: sjsonPath(path), text: signedIndexPayload(text), form: 'clear', time: updated, basis: path });
      jobs.push({ path: detachedJsonSignature(path), text, form: 'detached', time: updated, basis: path });
    } else if (path.startsWith('streams/v1/') && path.endsWith('.json')) {
      jobs.push({ path: sjsonPath(path), text, form: 'clear', time: updated, basis: path });
      jobs.push({ path: detachedJsonSignature(path), text, form: 'detached', time: updated, basis: path });
    } else if ((LXC_INDEX_PATHS as readonly string[]).includes(path)) {
      jobs.push({ path: `${path}.asc`, text, form: 'detached', time: updated, basis: path });
    }
  }

  // Each version's files, by the folder that holds them all.
  const folders = new Map<string, { entries: Map<string, string>; time: number }>();
  for (const p of plan.products)
    for (const v of p.versions) {
      const paths = v.items.map((i) => i.file.path);
      const folder = versionFolder(paths);
      if (!folder) continue; // files at the tree's root: no folder of the version's own
      const time = Math.max(0, ...v.images.map((i) => i.created));
      const f = folders.get(folder) ?? { entries: new Map<string, string>(), time: 0 };
      for (const i of v.items) f.entries.set(i.file.path.slice(folder.length + 1), i.file.sha256);
      f.time = Math.max(f.time, time);
      folders.set(folder, f);
    }
  const texts = new Map<string, string>();
  for (const [folder, f] of [...folders].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const text = renderChecksums([...f.entries].map(([name, sha256]) => ({ name, sha256 })));
    texts.set(`${folder}/${CHECKSUMS}`, text);
    jobs.push({ path: `${folder}/${CHECKSUMS_SIGNATURE}`, text, form: 'detached', time: f.time, basis: `${folder}/${CHECKSUMS}` });
  }
  return { texts, jobs };
}
