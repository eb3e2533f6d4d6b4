// The publishing commands as library calls, each one typed struct and one call (as Incus's
// cmd/incus-simplestreams has one struct and run() per command), each a build of its own kind:
//   prune     a published tree → itself, retention and grace applied
//   withdraw  a published tree → itself without the named versions, recorded so they stay out
//   mirror    upstream servers → a tree that follows them (on top of what it holds)
//   promote   one channel's chosen versions → another channel's tree, adding only
// The CLI's files are a parse, one of these, and a print.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadRecordedConfig } from '../config/config.js';
import { DEFAULT_HTTP, type HttpLimits } from '../source/http.js';
import type { Filter } from '../config/filters.js';
import type { UpstreamTrust } from '../source/upstream.js';
import { build } from './build.js';
import type { BuildOptions, BuildResult } from './context.js';

/** What every command that rewrites a published tree in place takes: build's options but its inputs. */
export type TreeCommandOptions = Omit<BuildOptions, 'images' | 'previous' | 'out' | 'mirror' | 'withdraw' | 'replace'> & {
  /** The published tree (a folder), read and rewritten atomically. */
  tree: string;
};

/** The settings a tree was built with, when the caller gives no config (a cron job). */
async function configOf(options: TreeCommandOptions): Promise<BuildOptions['config']> {
  return options.config ?? (await loadRecordedConfig(options.tree));
}

/** Retention and grace applied to a published tree in place. */
export async function prune(options: TreeCommandOptions): Promise<BuildResult> {
  const { tree, ...rest } = options;
  return build({ ...rest, config: await configOf(options), previous: tree, out: tree, cache: options.cache ?? true });
}

export interface WithdrawOptions extends TreeCommandOptions {
  /** PRODUCT/VERSION (either key shape) or an image fingerprint (12 or more hex digits), each. */
  versions: string[];
}

/**
 * Takes versions off a published tree at once: unlisted from the indexes (their files stay for
 * the grace period), aliases moving to the newest version left, signed again, and recorded in the
 * tree's state so that no later build publishes their images again.
 */
export async function withdraw(options: WithdrawOptions): Promise<BuildResult> {
  const { tree, versions, ...rest } = options;
  return build({ ...rest, config: await configOf(options), previous: tree, out: tree, withdraw: versions, cache: options.cache ?? true });
}

/** What mirror and promote read: the upstreams, what to take from them, and how. */
export interface UpstreamOptions {
  upstreams: string[];
  filters?: Filter[];
  /** The N newest versions of each selected product. */
  keep?: number;
  http?: HttpLimits;
  /** Files downloaded at a time (default 4). */
  concurrency?: number;
  /** Signed chains checked against a keyring under a policy. */
  trust?: UpstreamTrust;
}

export type MirrorOptions = Omit<BuildOptions, 'mirror' | 'previous' | 'withdraw'> & UpstreamOptions;

const holdsTree = (out: string) => existsSync(path.join(out, 'streams', 'v1', 'index.json'));

function upstreamsOf(o: UpstreamOptions) {
  return {
    upstreams: o.upstreams,
    filters: o.filters ?? [],
    ...(o.keep !== undefined ? { keep: o.keep } : {}),
    http: o.http ?? DEFAULT_HTTP,
    concurrency: o.concurrency ?? 4,
    ...(o.trust ? { trust: o.trust } : {}),
  };
}

/** A verified copy of upstream servers into `out`, on top of what `out` already holds (only new versions are downloaded). */
export async function mirror(options: MirrorOptions): Promise<BuildResult> {
  const { upstreams, filters, keep, http, concurrency, trust, ...rest } = options;
  return build({
    ...rest,
    ...(holdsTree(options.out) ? { previous: options.out } : {}),
    mirror: upstreamsOf({
      upstreams,
      ...(filters ? { filters } : {}),
      ...(keep !== undefined ? { keep } : {}),
      ...(http ? { http } : {}),
      ...(concurrency ? { concurrency } : {}),
      ...(trust ? { trust } : {}),
    }),
  });
}

export type PromoteOptions = Omit<BuildOptions, 'mirror' | 'withdraw'> & UpstreamOptions;

/**
 * Chosen versions of one channel's tree (`upstreams`, usually one) into another (`out`, on top of
 * `previous`, the live tree of that channel, else what `out` holds): only adds; a version key the
 * target already publishes with other images is refused unless `replace`.
 */
export async function promote(options: PromoteOptions): Promise<BuildResult> {
  const { upstreams, filters, keep, http, concurrency, trust, previous, replace, ...rest } = options;
  const on = previous ?? (holdsTree(options.out) ? options.out : undefined);
  return build({
    ...rest,
    ...(on ? { previous: on } : {}),
    mirror: {
      ...upstreamsOf({
        upstreams,
        ...(filters ? { filters } : {}),
        ...(keep !== undefined ? { keep } : {}),
        ...(http ? { http } : {}),
        ...(concurrency ? { concurrency } : {}),
        ...(trust ? { trust } : {}),
      }),
      addOnly: true,
      replace: replace === true,
    },
  });
}
