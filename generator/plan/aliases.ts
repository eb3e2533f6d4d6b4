// Product aliases: os/release/variant, os/release for the default variant, plus configured
// extras — lower case, and never claimed by two products of the same architecture.

import { BuildError } from '../util/errors.js';

export function defaultAliases(os: string, release: string, variant: string): string[] {
  const base = `${os}/${release}`.toLowerCase();
  const out = [`${base}/${variant.toLowerCase()}`];
  if (variant === 'default') out.push(base);
  return out;
}

export interface AliasClaim {
  product: string;
  arch: string;
  aliases: string[];
  /** The input files behind the product, for messages. */
  files: string[];
}

/**
 * Finds aliases claimed by two products of the same architecture: clients silently keep
 * only the first, so the other product's alias would point at the wrong image.
 */
export function aliasClashes(claims: AliasClaim[]): BuildError[] {
  const owners = new Map<string, AliasClaim>();
  const problems: BuildError[] = [];
  for (const claim of claims) {
    for (const alias of claim.aliases) {
      const k = `${claim.arch}\u0000${alias}`;
      const first = owners.get(k);
      if (first && first.product !== claim.product) {
        problems.push(
          new BuildError(
            `alias "${alias}" is claimed by two ${claim.arch} products: ${first.product} and ${claim.product} (clients would silently use only ${first.product < claim.product ? first.product : claim.product})`,
            'give one of them another variant, or change the aliases in staticstreams.yaml (products: … aliases / default_aliases: false)',
            [...first.files, ...claim.files],
            claim.files,
          ),
        );
      } else if (!first) {
        owners.set(k, claim);
      }
    }
  }
  return problems;
}
