// The one string order of the code base (code-unit order, as JSON keys and file paths sort in
// every output, independent of the locale), for sort() calls.

export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Entries ([key, value]) by key. */
export const byEntryKey = <T>([a]: [string, T], [b]: [string, T]): number => compareStrings(a, b);

/** Objects by their `key` field. */
export const byKey = <T extends { key: string }>(a: T, b: T): number => compareStrings(a.key, b.key);
