// Dates and sizes as the site shows them (UTC, so a page reads the same everywhere).

export { formatBytes } from '../../../generator/util/format.js';

export function formatDate(iso: string): string {
  return iso.slice(0, 10);
}

export function formatSizeRange(min: number, max: number, format: (n: number) => string): string {
  return min === max ? format(min) : `${format(min)}–${format(max)}`;
}
