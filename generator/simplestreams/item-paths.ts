// Where a listed image file may live in a tree that is served from a web host: the allow-list
// applied to every item path read from a tree we did not write this run (an upstream to mirror,
// a previous tree, a tree to verify). A path is a host's configuration at the tree's root
// (`_worker.js`, `_redirects`, `_headers`, `.well-known/…`), one the build or the catalogue site
// writes (`catalog.json`, `streams/…`, `index.html`), or a page a browser runs on the catalogue's
// origin (`evil.html`, `x.svg`) — none of which a client ever needs. Image files live under
// images/ (where the cache rules, object storage and every known tool put them), in folders and
// files named with plain characters, ending in an image file's extension.

/** The tree's image folder. */
export const IMAGE_DIR = 'images/';

/** A folder or file name: plain characters, never hidden (`.x`) nor a host's special name (`_x`). */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._+~:@,=-]*$/;

/**
 * The endings of image files (tarballs in every compression clients read, squashfs, disk images,
 * deltas): what images.linuxcontainers.org, incus-simplestreams, simplestream-maintainer, Canonical's
 * cloud-images and staticstreams name them; and the files that describe an image: package
 * manifests (`.manifest`, Ubuntu's cloud images), package lists, SBOMs and changes (JSON, which
 * no browser runs).
 */
const IMAGE_FILE = /\.(tar|tgz|txz|tbz2?|tzst|gz|xz|bz2|zst|lzma|lz4|squashfs|sqfs|img|qcow2|raw|vcdiff|manifest|packages\.json|spdx\.json|changes\.json)$/i;

/**
 * What is wrong with `rel` as the path of a listed image file, or undefined when it may be served.
 * `anywhere`: a tree already published elsewhere (verify, a previous tree) may keep its files
 * outside images/ (Canonical's cloud-images use server/…), as long as each name is plain and an
 * image file's; what a mirror copies goes under images/ only.
 */
export function itemPathProblem(rel: string, { anywhere = false } = {}): string | undefined {
  if (!anywhere && (!rel.startsWith(IMAGE_DIR) || rel.length === IMAGE_DIR.length))
    return `is outside the tree's image folder ${IMAGE_DIR} (a path there could be a host's configuration, a page on the catalogue's origin, or a file the build writes)`;
  const bad = rel.split('/').find((s) => !SEGMENT.test(s));
  if (bad !== undefined)
    return `has the name ${JSON.stringify(bad)}: only plain names (letters, digits, . _ + ~ : @ , = -, not starting with . or _) are served`;
  if (!IMAGE_FILE.test(rel))
    return 'does not end in an image file extension (.tar.xz, .squashfs, .qcow2, .img, .vcdiff, …): a host could serve it as a page or script';
  return undefined;
}
