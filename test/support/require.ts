// Gates for tests that need root or Debian packages: outside CI they skip with a visible
// message; in CI (CI=true) a missing tool is a failure, never a silent skip.

import { haveTool } from './images.js';

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Returns a skip reason (to pass to node:test's `skip`) when a requirement is missing outside CI;
 * throws in CI. Returns false when everything is there.
 */
export function requirements(tools: string[], opts: { root?: boolean } = {}): string | false {
  const missing = tools.filter((t) => !haveTool(t));
  if (opts.root && process.getuid?.() !== 0) missing.push('root');
  if (missing.length === 0) return false;
  const message = `needs ${missing.join(', ')} (CI installs them: see .ci/run)`;
  if (IN_CI) throw new Error(`CI is missing what this test needs: ${message}`);
  process.stderr.write(`# SKIP: ${message}\n`);
  return message;
}
