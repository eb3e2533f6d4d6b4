// The mirror's `--filter KEY=GLOB` (and `mirror.filter` in staticstreams.yaml): which upstream
// images to copy. KEY is os, release, arch, variant, type, alias or version (the version key,
// what `promote` picks); GLOB a case-insensitive shell glob. The same key given twice means
// either; different keys must all match.

import picomatch from 'picomatch';

export const FILTER_KEYS = ['os', 'release', 'arch', 'variant', 'type', 'alias', 'version'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

export interface Filter {
  key: FilterKey;
  glob: string;
  test: (value: string) => boolean;
}

/** What is wrong with one KEY=GLOB, or undefined. */
export function filterProblem(spec: string): string | undefined {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) return `"${spec}" is not KEY=GLOB (e.g. os=ubuntu, arch=amd64, release=2*)`;
  const key = spec.slice(0, eq).trim().toLowerCase();
  if (!(FILTER_KEYS as readonly string[]).includes(key)) return `"${key}" is not a filter key; use one of ${FILTER_KEYS.join(', ')}`;
  return undefined;
}

/** Parses KEY=GLOB specs, assumed checked with filterProblem. */
export function parseFilters(specs: readonly string[]): Filter[] {
  return specs.map((spec) => {
    const eq = spec.indexOf('=');
    const key = spec.slice(0, eq).trim().toLowerCase() as FilterKey;
    const glob = spec.slice(eq + 1).trim();
    return { key, glob, test: picomatch(glob, { nocase: true, dot: true }) };
  });
}
