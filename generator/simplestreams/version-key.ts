// Version keys. We write YYYYMMDD_HHMM in UTC, from the image's serial when it starts with a
// date, else from creation_date. Clients drop any version whose first 8 characters are not a
// date; trees made by other tools use YYYYMMDD_HHMM (simplestream-maintainer, lxc-ci),
// YYYYMMDDhhmm (incus-simplestreams) or YYYYMMDD, all of which we read and keep as they are.

/** A valid key: a real calendar date, then optionally _HHMM. */
export const VERSION_KEY = /^(\d{4})(\d{2})(\d{2})(?:_(\d{2})(\d{2}))?/;

function validDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d && y >= 1970;
}

/** True when clients will accept `key` as a version (its first 8 characters parse as YYYYMMDD). */
export function isValidVersionKey(key: string): boolean {
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(key);
  return !!m && validDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

function fromEpoch(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}_${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

/** The version key for an image. */
export function versionKey(serial: string | undefined, creationDate: number): string {
  const m = serial ? /^(\d{4})(\d{2})(\d{2})(?:[_T-]?(\d{2}):?(\d{2}))?/.exec(serial) : null;
  if (m && validDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
    const hh = m[4] ?? '00';
    const mm = m[5] ?? '00';
    if (Number(hh) < 24 && Number(mm) < 60) return `${m[1]}${m[2]}${m[3]}_${hh}${mm}`;
  }
  return fromEpoch(creationDate);
}

/** Seconds since the epoch a version key names (YYYYMMDD, then optionally [_]HHMM); 0 when it names none. */
export function versionKeyTime(key: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(?:_?(\d{2})(\d{2}))?/.exec(key);
  if (!m || !isValidVersionKey(key)) return 0;
  const [hh, mm] = [Number(m[4] ?? 0), Number(m[5] ?? 0)];
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), hh < 24 ? hh : 0, mm < 60 ? mm : 0) / 1000;
}
