// The Content-Type each file of a tree is served with, by its extension: by `serve`, and as the
// object metadata of a tree published to a bucket (where nothing else sets it). Pure.

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.xz': 'application/x-xz',
  '.gz': 'application/gzip',
  '.zst': 'application/zstd',
  '.squashfs': 'application/octet-stream',
  '.qcow2': 'application/octet-stream',
  '.woff2': 'font/woff2',
};

/** The Content-Type of a tree file (application/octet-stream for image files and what is not listed). */
export function contentTypeOf(file: string): string {
  const dot = file.lastIndexOf('.');
  return (dot > file.lastIndexOf('/') ? TYPES[file.slice(dot)] : undefined) ?? 'application/octet-stream';
}
