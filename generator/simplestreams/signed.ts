// The signed forms of a simplestreams tree, as Canonical's simplestreams tools read them: each
// JSON document clear-signed under the same name with `.sjson` (the index's products paths
// rewritten to their `.sjson`, so the whole chain is signed, as `make_signed_content_paths`
// does), a detached signature beside it as `.json.gpg` (the older convention), and per version
// folder a `SHA256SUMS` (as `sha256sum` writes it) with a detached `SHA256SUMS.asc`.

/** The clear-signed form of a JSON document: `streams/v1/index.json` → `streams/v1/index.sjson`. */
export function sjsonPath(jsonPath: string): string {
  return jsonPath.replace(/\.json$/, '.sjson');
}

/** The JSON document a `.sjson` path stands for. */
export function jsonPathOf(sjson: string): string {
  return sjson.replace(/\.sjson$/, '.json');
}

/** The detached signature beside a JSON document (`index.json.gpg`). */
export const detachedJsonSignature = (jsonPath: string): string => `${jsonPath}.gpg`;

/** A version folder's checksums, and their detached signature. */
export const CHECKSUMS = 'SHA256SUMS';
export const CHECKSUMS_SIGNATURE = 'SHA256SUMS.asc';

/** The paths an index names (the products files of each entry). */
export function indexPaths(index: unknown): string[] {
  const entries = (index as { index?: Record<string, { path?: unknown }> } | null)?.index;
  if (!entries || typeof entries !== 'object') return [];
  return Object.values(entries)
    .map((e) => e?.path)
    .filter((p): p is string => typeof p === 'string');
}

/**
 * The payload of index.sjson: index.json with each products path rewritten to its `.sjson`, in
 * the same layout (one-space indent, as the tree's other documents).
 */
export function signedIndexPayload(indexText: string): string {
  const index = JSON.parse(indexText) as { index: Record<string, { path: string }> };
  for (const entry of Object.values(index.index)) entry.path = sjsonPath(entry.path);
  return `${JSON.stringify(index, null, 1)}\n`;
}

/** A SHA256SUMS text: `sha256  name` lines sorted by name, names relative to the folder. */
export function renderChecksums(entries: { name: string; sha256: string }[]): string {
  return [...entries]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.name}\n`)
    .join('');
}

/** The entries of a SHA256SUMS text; `problem` names the first line that is not `sha256  name`. */
export function parseChecksums(text: string): { entries: { name: string; sha256: string }[]; problem?: string } {
  const entries: { name: string; sha256: string }[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const [i, line] of lines.entries()) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) return { entries, problem: `line ${i + 1} is not "SHA256  NAME"` };
    entries.push({ sha256: m[1]!, name: m[2]! });
  }
  return { entries };
}

/**
 * The folder whose SHA256SUMS lists each of a version's files: the deepest folder holding them
 * all (a version's LXC files sit in a sub-folder). Versions of trees that keep every file in one
 * folder (incus-simplestreams) share it, and share its SHA256SUMS.
 */
export function versionFolder(paths: string[]): string {
  const dirs = paths.map((p) => p.split('/').slice(0, -1));
  let common = dirs[0] ?? [];
  for (const d of dirs.slice(1)) {
    let n = 0;
    while (n < common.length && n < d.length && common[n] === d[n]) n++;
    common = common.slice(0, n);
  }
  return common.join('/');
}
