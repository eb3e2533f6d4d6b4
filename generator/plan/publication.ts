// What one run publishes (pure): the newly built products merged into the previous tree's,
// retention applied, the files to list, and which unlisted files keep their grace period.

import { BuildError } from '../util/errors.js';
import type { GraceEntry } from '../formats/state.js';
import { mergeWithPrevious } from './merge.js';
import type { PlannedFile, PlannedProduct } from './products.js';
import { applyRetention, carryGrace, type Dropped, type RetentionPolicy, type Unlisted } from './retention.js';
import { dropOrphanDeltas } from './deltas.js';

export interface PreviousState {
  products: PlannedProduct[];
  productsPath: string;
  productsFile: { sha256: string; size: number };
  grace: GraceEntry[];
}

export interface Publication {
  products: PlannedProduct[];
  problems: BuildError[];
  added: string[];
  unchanged: string[];
  replaced: string[];
  dropped: Dropped[];
  /** Products left without any image of a type they had (a container or VM gone through --replace or retention). */
  warnings: string[];
}

export function planPublication(
  fresh: PlannedProduct[],
  previous: PreviousState | null,
  opts: { replace: boolean | ReadonlySet<string>; retention: RetentionPolicy; nowMs: number },
): Publication {
  const merged = previous
    ? mergeWithPrevious(previous.products, fresh, { replace: opts.replace })
    : { products: fresh, problems: [], added: fresh.flatMap((p) => p.versions.map((v) => `${p.key} ${v.key}`)), unchanged: [], replaced: [] };
  const retained = applyRetention(merged.products, opts.retention, opts.nowMs / 1000);
  const products = dropOrphanDeltas(retained.products);
  return { ...merged, products, dropped: retained.dropped, warnings: previous ? lostTypes(previous.products, products) : [] };
}

const typesOf = (p: PlannedProduct) => new Set(p.versions.flatMap((v) => v.images.map((i) => i.type)));

/** Each product that had an image of a type before and has none now. */
export function lostTypes(before: PlannedProduct[], after: PlannedProduct[]): string[] {
  const now = new Map(after.map((p) => [p.key, typesOf(p)]));
  const warnings: string[] = [];
  for (const p of before) {
    const still = now.get(p.key);
    for (const type of typesOf(p)) {
      if (still?.has(type) === false) {
        const last = [...p.versions].reverse().find((v) => v.images.some((i) => i.type === type))!.key;
        warnings.push(
          `${p.key} no longer has a ${type === 'container' ? 'container' : 'virtual-machine'} image: version ${last}, the last with one, was replaced or dropped by retention; \`${type === 'container' ? 'launch' : 'launch --vm'}\` of its aliases stops working`,
        );
      }
    }
  }
  return warnings;
}

/** Every file the products list, once each, by path. */
export function listedFiles(products: PlannedProduct[]): PlannedFile[] {
  const files = new Map<string, PlannedFile>();
  for (const p of products) for (const v of p.versions) for (const i of v.items) files.set(i.file.path, i.file);
  return [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * One path, one file: a path listed by two items with two different files (two upstreams, or an
 * upstream and the images folder, naming the same path) would serve one of them to the other's
 * clients, whose hash check then fails. Each such path, naming both places. `where`: how to name
 * a product's source (a mirror's upstream URL).
 */
export function pathClashes(products: PlannedProduct[], where: (product: string) => string = () => ''): BuildError[] {
  const first = new Map<string, { file: PlannedFile; place: string }>();
  const problems: BuildError[] = [];
  for (const p of products)
    for (const v of p.versions)
      for (const i of v.items) {
        const place = `${where(p.key)}product ${p.key} version ${v.key} (sha256 ${i.file.sha256})`;
        const seen = first.get(i.file.path);
        if (!seen) first.set(i.file.path, { file: i.file, place });
        else if (seen.file.sha256 !== i.file.sha256 || seen.file.size !== i.file.size)
          problems.push(
            new BuildError(
              `${i.file.path} is listed twice, with two different files: by ${seen.place} and by ${place}`,
              'leave one of them out (--filter, or move the image out of the images folder): one path can serve only one file',
            ),
          );
      }
  return problems;
}

/** The grace list after this run, given what it lists (`listed`: paths, the new products file included). */
export function graceAfter(
  previous: PreviousState | null,
  publication: Publication,
  listed: Set<string>,
  nowMs: number,
  graceMs: number,
  /** `product version` withdrawn by this run. */
  withdrawn: ReadonlySet<string> = new Set(),
): { keep: GraceEntry[]; expired: GraceEntry[] } {
  if (!previous) return { keep: [], expired: [] };
  const dropped = new Set(publication.dropped.map((d) => `${d.product} ${d.version}`));
  const replaced = new Set(publication.replaced);
  const unlisted: Unlisted[] = [];
  for (const p of previous.products) {
    for (const v of p.versions) {
      const name = `${p.key} ${v.key}`;
      const reason = dropped.has(name)
        ? `retention dropped ${name}`
        : replaced.has(name)
          ? `--replace replaced ${name}`
          : withdrawn.has(name)
            ? `withdrawn: ${name}`
            : `no longer listed: ${name}`;
      for (const i of v.items) if (!listed.has(i.file.path)) unlisted.push({ path: i.file.path, sha256: i.file.sha256, size: i.file.size, reason });
    }
  }
  if (!listed.has(previous.productsPath))
    unlisted.push({ path: previous.productsPath, ...previous.productsFile, reason: 'superseded products file (clients cache it for an hour)' });
  return carryGrace(previous.grace, unlisted, listed, nowMs, graceMs);
}
