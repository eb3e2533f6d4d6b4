// What a build is given (BuildOptions) and answers (BuildResult), and the one BuildContext every
// stage shares (pipeline/build.ts makes it; read.ts, derive.ts and publish.ts take it).

import type { Reporter } from '../util/reporter.js';
import path from 'node:path';
import { type Config, type Target } from '../config/config.js';
import { BuildError, ImageError } from '../util/errors.js';
import { WorkerPool } from '../pool/pool.js';
import { FingerprintCache } from '../fingerprint/cache.js';
import { type Plan, type PlannedProduct } from '../plan/products.js';
import type { PublishedTree } from '../source/published.js';
import type { GraceEntry } from '../formats/state.js';
import type { Catalog } from '../formats/catalog.js';
import type { PlaceStats } from '../publish/blobs.js';
import type { SpareEntry } from '../publish/output/spare.js';
import type { Settings } from '../config/settings.js';
import type { Withdrawn } from '../plan/withdraw.js';
import type { TreeSource } from '../source/source.js';
import type { Keyring, SigningKey } from '../signing/openpgp.js';
import type { TargetAuth } from '../render/cdn/targets.js';
import type { BucketStats } from '../publish/bucket/sync.js';
import type { DeltaResult } from '../publish/deltas.js';
import type { LxcResult } from '../publish/lxc.js';
import type { Mirrored, MirrorOptions, MirrorStats } from './mirror.js';

export interface BuildOptions {
  /** The images folder; none (prune) publishes only what `previous` holds. */
  images?: string;
  out: string;
  /** A previously published tree (folder or base URL) to publish on top of. */
  previous?: string;
  /** Let a new image take a version key the previous tree holds with other images. */
  replace?: boolean;
  /** Keep at most this many versions per product (default: the config's retention.keep). */
  retain?: number;
  /** Drop versions older than this many days (default: the config's retention.days). */
  retainDays?: number;
  /** Grace period of unlisted files, e.g. "6h" (default: the config's retention.grace). */
  grace?: string;
  /** Make squashfs deltas for new versions (default: the config's deltas). Needs xdelta3. */
  deltas?: boolean;
  /** Derive LXC's files for container versions that lack them (default: the config's lxc). Needs xz, and sqfs2tar for squashfs images. */
  lxc?: boolean;
  /** Publish package lists, SBOMs and changes of container images (default: the config's manifests, on). */
  manifests?: boolean;
  /** Plan and report, write nothing. */
  dryRun?: boolean;
  baseUrl?: string;
  config?: Config;
  /** Render the catalogue website into the output (default true). */
  site?: boolean;
  /** The build's clock (default: now): retention, grace periods and the site's "stale" badges count from it. */
  now?: Date;
  /** The config file `config` was read from, if any: its folder is never replaced. */
  configFile?: string;
  /** Hosts to write rules for (default: the config's targets, else netlify). */
  targets?: Target[];
  /** Where nginx/Caddy/Netlify config goes (default: config server_config, else OUT-server-config). */
  serverConfig?: string;
  /** Leave out images with problems (listed in the result) and publish the rest. */
  keepGoing?: boolean;
  /** Reuse fingerprints of files proven unchanged (default true); false re-hashes everything. */
  cache?: boolean;
  /**
   * Sign the tree with this OpenPGP secret key file (default: STATICSTREAMS_SIGNING_KEY in `env`,
   * else the config's signing.key_file); a passphrase comes from STATICSTREAMS_SIGNING_PASSPHRASE.
   */
  signKey?: string;
  /** Publish unsigned on top of a signed previous tree (without it, a signed previous tree needs a key). */
  unsigned?: boolean;
  /** Keys the previous tree may be signed by besides the build's own (the old key of a rotation). */
  keyring?: Keyring;
  /** The previous tree as a source already open (the bucket's live tree, --target bucket). */
  previousSource?: TreeSource;
  /** Internal: one attempt of a --target bucket build (the commit is the caller's). */
  bucketStage?: boolean;
  /** Withdraw these versions of the previous tree (PRODUCT/VERSION or an image fingerprint): `staticstreams withdraw`. */
  withdraw?: string[];
  /** The environment the signing key and passphrase are read from (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Mirror these upstream servers into the output (with the images folder's images, if any). */
  mirror?: Omit<MirrorOptions, 'downloads'>;
  reporter?: Reporter;
}

export type { Reporter };
export type { MirrorStats };

/** Where a mirror's downloads wait for the publish (next to OUT, like the fingerprint cache). */
export function downloadsPath(out: string): string {
  const resolved = path.resolve(out);
  return path.join(path.dirname(resolved), `.${path.basename(resolved)}.downloads`);
}

export interface BuildResult {
  plan: Plan;
  catalog: Catalog;
  indexPath: string;
  productsPath: string;
  warnings: string[];
  /** Files in the images folder that are not image files, left out. */
  ignored: string[];
  /** Server config files written (absolute paths). */
  serverConfigFiles: string[];
  /** With keepGoing: the problems whose images were left out. */
  skipped: (ImageError | BuildError)[];
  /** Fingerprint cache hits and misses (files and combined hashes). */
  cache: { hits: number; misses: number };
  images: number;
  /** Pages of the catalogue site (0 with site: false). */
  sitePages: number;
  bytesHashed: number;
  placed: PlaceStats;
  /** With deltas: the deltas made in this run (`of`: the size of the file each replaces). */
  deltas: DeltaResult['made'];
  /** With --lxc: the container versions LXC's files were made for in this run (sizes in bytes). */
  lxc: LxcResult['made'];
  /** With object storage (config object_storage): what was uploaded to and deleted from the bucket. */
  bucket?: BucketStats;
  /** With --target bucket: the commit, and how many times another publisher committed first. */
  bucketCommit?: BucketCommit;
  /** What changed against the previous tree, and the grace list. */
  lifecycle: Lifecycle;
  /** With mirror: what was copied from the upstreams. */
  mirror?: MirrorStats;
  /** True when nothing was written (dryRun). */
  dryRun: boolean;
}

/** What the bucket target adds to a build's result: the commit, and how many tries it took. */
export interface BucketCommit {
  status: 'committed' | 'unchanged';
  /** Commits refused because another publisher committed first (each followed by a new plan). */
  retries: number;
  /** The fixed-name files follow this commit (false: a newer one appeared; its publisher does it). */
  converged: boolean;
  deleted: string[];
}

export interface Lifecycle {
  previous?: string;
  added: string[];
  /** Rebuilt from the images with the same fingerprints as published. */
  unchanged: string[];
  replaced: string[];
  /** Published before and still listed, not built by this run (carried over). */
  kept: string[];
  /** `product version` dropped by retention. */
  dropped: string[];
  /** `product version` withdrawn by this run. */
  withdrawn: string[];
  /** Files kept only for their grace period, and those whose period ended (left out now). */
  grace: GraceEntry[];
  expired: GraceEntry[];
}

/** What every stage of one build shares; `problems` collects what is wrong, reported all at once. */
export interface BuildContext {
  options: BuildOptions;
  reporter: Reporter;
  config: Config;
  /** Flags over config, resolved once (config/settings.ts). */
  settings: Settings;
  previous: PublishedTree | null;
  /** The previous tree's products as planned ones (adopted when another tool made it), and the items added so both clients see them. */
  carried: { products: PlannedProduct[]; twins: number } | null;
  pool: WorkerPool;
  cache: FingerprintCache;
  problems: (ImageError | BuildError)[];
  /** With mirror: the upstream products to publish, and what copying them took. */
  mirrored?: Mirrored;
  /** The key the tree is signed with, when it is. */
  signer?: SigningKey;
  /** A private tree: its htpasswd file and users. */
  auth?: TargetAuth;
  /** Every version withdrawn from the tree (before and by this run): kept out of what it publishes. */
  withdrawn: Withdrawn[];
  /** The listing of the output's spare tree, being made (see publish/output/spare.ts). */
  spare?: Promise<SpareEntry[] | null>;
}
