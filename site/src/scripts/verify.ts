// The in-browser verifier on product pages: hashes a dropped or picked file with hash-wasm's
// streaming SHA-256 (so multi-GB files never sit in memory), shows progress, and says whether it
// matches one of the image's published files. Nothing leaves the browser.

import { createSHA256 } from 'hash-wasm';
import { formatBytes } from '../lib/format.js';

interface Expected {
  name: string;
  sha256: string;
  size: number;
  /** Which build it belongs to: version (arch, type fingerprint). */
  of?: string;
}

async function sha256Of(file: File, progress: (done: number) => void): Promise<string> {
  const hasher = await createSHA256();
  hasher.init();
  const reader = file.stream().getReader();
  let done = 0;
  let last = 0;
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) break;
    hasher.update(value);
    done += value.byteLength;
    if (performance.now() - last > 100) {
      last = performance.now();
      progress(done);
    }
  }
  progress(done);
  return hasher.digest('hex');
}

function setup(zone: HTMLElement): void {
  const expected = JSON.parse(zone.dataset.verify ?? '[]') as Expected[];
  const input = zone.querySelector<HTMLInputElement>('[data-verify-input]')!;
  const bar = zone.querySelector('progress')!;
  const result = zone.querySelector<HTMLElement>('.result')!;
  let running = 0;

  const check = async (file: File) => {
    const run = ++running;
    result.className = 'result';
    result.textContent = `Hashing ${file.name} (${formatBytes(file.size)})…`;
    bar.hidden = false;
    bar.value = 0;
    try {
      const sha = await sha256Of(file, (done) => {
        if (run === running) bar.value = file.size ? done / file.size : 1;
      });
      if (run !== running) return;
      const hit = expected.find((e) => e.sha256 === sha);
      if (hit) {
        result.className = 'result match';
        result.textContent = `✓ Match: ${file.name} is ${hit.name} of ${hit.of ?? 'this image'} (sha256 ${sha}).`;
      } else {
        result.className = 'result mismatch';
        const sizeHint = expected.some((e) => e.size === file.size)
          ? ''
          : ` Its size (${file.size.toLocaleString('en')} bytes) matches none of the published files.`;
        result.textContent = `✗ No match: ${file.name} has sha256 ${sha}, which is no file published here.${sizeHint}`;
      }
    } catch (e) {
      if (run !== running) return;
      result.className = 'result mismatch';
      result.textContent = `Could not read ${file.name}: ${(e as Error).message}`;
    } finally {
      if (run === running) bar.hidden = true;
    }
  };

  zone.hidden = false;
  input.addEventListener('change', () => {
    if (input.files?.[0]) void check(input.files[0]);
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    const file = e.dataTransfer?.files[0];
    if (file) void check(file);
  });
}

for (const zone of document.querySelectorAll<HTMLElement>('[data-verify]')) setup(zone);
