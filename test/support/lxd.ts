// Drives the real LXD daemon from Debian's package: starts it when needed (no systemd here),
// gives it a storage pool, and runs `lxc` commands.

import { execFileSync, spawn } from 'node:child_process';

export function lxc(args: string[], opts: { timeout?: number } = {}): string {
  return execFileSync('lxc', args, { encoding: 'utf8', timeout: opts.timeout ?? 300_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

function daemonReady(seconds: number): boolean {
  try {
    execFileSync('lxd', ['waitready', `--timeout=${seconds}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Makes sure the daemon runs (restarted when `restart`, e.g. after a CA change) and has storage. */
export function ensureLxd(restart: boolean): void {
  if (restart && daemonReady(1)) {
    execFileSync('lxd', ['shutdown'], { stdio: 'ignore', timeout: 120_000 });
  }
  if (!daemonReady(1)) {
    const child = spawn('lxd', ['--group', 'root', '--logfile', '/var/tmp/staticstreams-lxd.log'], { stdio: 'ignore', detached: true });
    child.unref();
    if (!daemonReady(60)) throw new Error('the LXD daemon did not start (see /var/tmp/staticstreams-lxd.log)');
  }
  const pools = JSON.parse(lxc(['storage', 'list', '--format', 'json'])) as { name: string }[];
  if (!pools.some((p) => p.name === 'default')) lxc(['storage', 'create', 'default', 'dir']);
  const devices = lxc(['profile', 'device', 'list', 'default']);
  if (!/^root$/m.test(devices)) lxc(['profile', 'device', 'add', 'default', 'root', 'disk', 'path=/', 'pool=default']);
}

/**
 * Forgets the index and products files LXD cached (for an hour) under /var/cache/lxd: stands in
 * for that hour passing, so the next command reads the remote afresh.
 */
export function expireSimplestreamsCache(): void {
  execFileSync('sh', ['-c', 'find /var/cache/lxd -mindepth 2 -maxdepth 2 -name "*.json" -delete 2>/dev/null || true']);
}

/** Runs each `lxc` command, ignoring failures: test clean-up of what may already be gone. */
export function lxcCleanup(commands: string[][]): void {
  for (const cmd of commands) {
    try {
      lxc(cmd);
    } catch {
      // already gone
    }
  }
}
