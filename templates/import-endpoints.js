// Direct URL import endpoints (`lxc image import https://HOST/import/…`, `incus image import …`),
// shared by every host that runs code: the Netlify Edge Function, the Cloudflare Pages worker and
// `staticstreams serve`. Plain JavaScript with no imports, so it runs on Deno, workerd and Node.
// The generator inlines this file (without its last `export` line) into the generated edge code.
//
// The map it reads (built from catalog.json by the generator):
//   { base: "" | "/lxd" (the path the tree is served at: every endpoint is under it),
//     arches: { <any architecture name>: <debian name> }, defaultArch: "amd64" | null,
//     images: { <fingerprint>: { url: <absolute URL of the unified tarball>, clients: ["lxd", "incus"] } },
//     aliases: { <alias>: { <debian arch>: <fingerprint> } },
//     private: true (only for a private tree: Cache-Control says private, never public) }
//
// Paths:  /import/sha256/<fingerprint>     one image
//         /import/alias/<alias>@<arch>     the newest unified image of an alias on one architecture
//         /import/alias/<alias>            the same, architecture picked from the client's
//                                          LXD-Server-Architectures / Incus-Server-Architectures header

const IMPORT_PREFIX = '/import/';
const SHORT_CACHE = 'max-age=60, must-revalidate';
const LONG_CACHE = 'max-age=31536000, immutable';

/** A Cache-Control value: public, or private for a private tree (no shared cache may keep it). */
function cacheControl(map, value) {
  return `${map.private ? 'private' : 'public'}, ${value}`;
}

/** `object[key]` when the object itself has it: a path like /import/sha256/__proto__ finds nothing. */
function own(object, key) {
  return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

/** The Debian names of the architectures a client lists (native first), unknown names dropped. */
function requestedArchitectures(request, map) {
  const raw = request.headers.get('LXD-Server-Architectures') || request.headers.get('Incus-Server-Architectures') || '';
  const out = [];
  for (const name of raw.split(',')) {
    const arch = own(map.arches, name.trim());
    if (arch && !out.includes(arch)) out.push(arch);
  }
  return out;
}

/** Picks the architecture of `available` (arch → fingerprint) for this request, or null. */
function pickArchitecture(request, map, available) {
  const requested = requestedArchitectures(request, map);
  if (requested.length > 0) return requested.find((a) => own(available, a) !== undefined) ?? null;
  if (map.defaultArch && own(available, map.defaultArch) !== undefined) return map.defaultArch;
  const all = Object.keys(available);
  return all.length === 1 ? all[0] : null;
}

function textResponse(request, status, body, headers) {
  const h = new Headers(headers);
  h.set('Content-Type', 'text/plain; charset=utf-8');
  return new Response(request.method === 'HEAD' ? null : body, { status, headers: h });
}

function imageResponse(request, map, fingerprint, cache, extra) {
  const image = own(map.images, fingerprint);
  if (!image) return textResponse(request, 404, `no image with fingerprint ${fingerprint} here\n`, { 'Cache-Control': cacheControl(map, SHORT_CACHE) });
  const headers = { 'Cache-Control': cacheControl(map, cache), ...extra };
  if (image.clients.includes('lxd')) {
    headers['LXD-Image-Hash'] = fingerprint;
    headers['LXD-Image-URL'] = image.url;
  }
  if (image.clients.includes('incus')) {
    headers['Incus-Image-Hash'] = fingerprint;
    headers['Incus-Image-URL'] = image.url;
  }
  return textResponse(request, 200, `import this image with: lxc image import ${new URL(request.url).href}\nfile: ${image.url}\n`, headers);
}

/** Answers an import endpoint request, or returns null for any other path. */
function handleImport(request, map) {
  const url = new URL(request.url);
  const prefix = (map.base || '') + IMPORT_PREFIX;
  if (!url.pathname.startsWith(prefix)) return null;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return textResponse(request, 405, 'use GET or HEAD\n', { Allow: 'GET, HEAD' });
  }
  let rest;
  try {
    rest = decodeURIComponent(url.pathname.slice(prefix.length));
  } catch {
    return textResponse(request, 400, 'bad path\n', {});
  }
  if (rest.startsWith('sha256/')) return imageResponse(request, map, rest.slice('sha256/'.length), LONG_CACHE, {});
  if (!rest.startsWith('alias/')) return textResponse(request, 404, 'unknown import endpoint\n', { 'Cache-Control': cacheControl(map, SHORT_CACHE) });
  const spec = rest.slice('alias/'.length);
  const at = spec.lastIndexOf('@');
  const alias = at >= 0 ? spec.slice(0, at) : spec;
  const available = own(map.aliases, alias);
  if (!available) return textResponse(request, 404, `no alias ${alias} with a directly importable (unified) image\n`, { 'Cache-Control': cacheControl(map, SHORT_CACHE) });
  const arch = at >= 0 ? spec.slice(at + 1) : pickArchitecture(request, map, available);
  const names = Object.keys(available).sort().join(', ');
  if (!arch || own(available, arch) === undefined) {
    const asked = requestedArchitectures(request, map).join(', ') || 'none given';
    return textResponse(request, 404, `alias ${alias} has no image for the architectures asked (${asked}); available: ${names}\n`, {
      'Cache-Control': cacheControl(map, SHORT_CACHE),
      'Vary': 'LXD-Server-Architectures, Incus-Server-Architectures',
      'X-Available-Architectures': names,
    });
  }
  return imageResponse(request, map, own(available, arch), SHORT_CACHE, at >= 0 ? {} : { 'Vary': 'LXD-Server-Architectures, Incus-Server-Architectures' });
}

export { handleImport, pickArchitecture };
