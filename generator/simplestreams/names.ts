// What a value that identifies a product (os, release, variant) may look like: it ends up in
// product keys, aliases and paths, so it starts with a letter or digit and holds no separators
// a client or a URL would read differently. And what an alias may look like: the one rule the
// config file, the planner and the mirror's filters all apply.

export const NAME_PART = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/;

const ALIAS = /^[a-z0-9](?:[a-z0-9._+~/-]*[a-z0-9._+~-])?$/;

/** Problems with one alias name, or undefined when clients will accept it. */
export function aliasProblem(alias: string): string | undefined {
  if (!ALIAS.test(alias) || alias.includes('//')) {
    return `alias "${alias}" is not valid: use lower case letters, digits and . _ + ~ - /, no spaces or commas, no leading or trailing /`;
  }
  return undefined;
}
