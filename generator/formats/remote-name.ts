// The remote name the site's commands use when the config names none: taken from the host
// (images.example.org → example), never "images" or "local", which LXD and Incus already define.

const GENERIC = new Set(['www', 'images', 'image', 'cdn', 'static', 'dl', 'download', 'downloads', 'mirror', 'lxd', 'incus']);
const RESERVED = new Set(['images', 'local', 'ubuntu', 'ubuntu-daily', 'ubuntu-minimal', 'ubuntu-minimal-daily']);

export function defaultRemoteName(baseUrl: string | undefined): string {
  if (!baseUrl) return 'myimages';
  let host: string;
  try {
    host = new URL(baseUrl).hostname.toLowerCase();
  } catch {
    return 'myimages';
  }
  if (/^[\d.]+$/.test(host) || host.includes(':') || host === 'localhost') return 'myimages';
  const labels = host.split('.');
  if (labels.length > 1) labels.pop(); // the top-level domain
  const name = labels.find((l) => !GENERIC.has(l)) ?? labels[0] ?? '';
  const clean = name
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return clean && !RESERVED.has(clean) && /^[a-z0-9]/.test(clean) ? clean : 'myimages';
}
