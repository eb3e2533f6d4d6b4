// Version keys. Clients drop any version whose first 8 characters are not a date. The shapes in
// use: YYYYMMDD_HH:MM (images.linuxcontainers.org and lxc-ci; what OpenNebula's marketplace
// parses, with %Y%m%d_%H:%M), YYYYMMDD_HHMM (simplestream-maintainer, and staticstreams before
// 2026-12), YYYYMMDDhhmm (incus-simplestreams) and YYYYMMDD. We write one of them (UTC, from the
// image's serial when it starts with a date, else from creation_date) and read them all.

/** The shapes a version key is written in. */
export const VERSION_FORMATS = ['YYYYMMDD_HH:MM', 'YYYYMMDD_HHMM', 'YYYYMMDDhhmm', 'YYYYMMDD'] as const;
export type VersionFormat = (typeof VERSION_FORMATS)[number];
/** New trees: what images.linuxcontainers.org writes, so every consumer that parses keys can. */
export const DEFAULT_VERSION_FORMAT: VersionFormat = 'YYYYMMDD_HH:MM';

const SHAPES: Record<VersionFormat, RegExp> = {
  'YYYYMMDD_HH:MM': /^\d{8}_\d{2}:\d{2}$/,
  YYYYMMDD_HHMM: /^\d{8}_\d{4}$/,
  YYYYMMDDhhmm: /^\d{12}$/,
  YYYYMMDD: /^\d{8}$/,
};

function validDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d && y >= 1970;
}

/** True when clients will accept `key` as a version (its first 8 characters parse as YYYYMMDD). */
export function isValidVersionKey(key: string): boolean {
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(key);
  return !!m && validDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** The shape `key` is written in, when it is one of ours. */
export function versionFormatOf(key: string): VersionFormat | undefined {
  return isValidVersionKey(key) ? VERSION_FORMATS.find((f) => SHAPES[f].test(key)) : undefined;
}

function written(parts: { y: string; m: string; d: string; hh: string; mm: string }, format: VersionFormat): string {
  const { y, m, d, hh, mm } = parts;
  switch (format) {
    case 'YYYYMMDD_HH:MM':
      return `${y}${m}${d}_${hh}:${mm}`;
    case 'YYYYMMDD_HHMM':
      return `${y}${m}${d}_${hh}${mm}`;
    case 'YYYYMMDDhhmm':
      return `${y}${m}${d}${hh}${mm}`;
    case 'YYYYMMDD':
      return `${y}${m}${d}`;
  }
}

function fromEpoch(seconds: number, format: VersionFormat): string {
  const d = new Date(seconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return written({ y: String(d.getUTCFullYear()), m: p(d.getUTCMonth() + 1), d: p(d.getUTCDate()), hh: p(d.getUTCHours()), mm: p(d.getUTCMinutes()) }, format);
}

/** The version key for an image, in `format`. */
export function versionKey(serial: string | undefined, creationDate: number, format: VersionFormat = DEFAULT_VERSION_FORMAT): string {
  const m = serial ? /^(\d{4})(\d{2})(\d{2})(?:[_T-]?(\d{2}):?(\d{2}))?/.exec(serial) : null;
  if (m && validDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
    const hh = m[4] ?? '00';
    const mm = m[5] ?? '00';
    if (Number(hh) < 24 && Number(mm) < 60) return written({ y: m[1]!, m: m[2]!, d: m[3]!, hh, mm }, format);
  }
  return fromEpoch(creationDate, format);
}

/** Seconds since the epoch a version key names (YYYYMMDD, then optionally [_]HH[:]MM); 0 when it names none. */
export function versionKeyTime(key: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(?:_?(\d{2}):?(\d{2}))?/.exec(key);
  if (!m || !isValidVersionKey(key)) return 0;
  const [hh, mm] = [Number(m[4] ?? 0), Number(m[5] ?? 0)];
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), hh < 24 ? hh : 0, mm < 60 ? mm : 0) / 1000;
}

/**
 * Versions in time order, oldest first (the order of the JSON: consumers take the last one):
 * by the time a key names, then by the key. Plain string order misplaces keys of different
 * shapes on one day (`20261101_1200` sorts before `202611010900`).
 */
export function compareVersionKeys(a: string, b: string): number {
  return versionKeyTime(a) - versionKeyTime(b) || (a < b ? -1 : a > b ? 1 : 0);
}
