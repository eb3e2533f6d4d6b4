// What a value that identifies a product (os, release, variant) may look like: it ends up in
// product keys, aliases and paths, so it starts with a letter or digit and holds no separators
// a client or a URL would read differently.

export const NAME_PART = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/;
