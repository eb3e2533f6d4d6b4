// The two real clients, driven alike: Debian's LXD 5.0 (`lxd` + `lxc`) and Incus 6.0 from
// bookworm-backports (`incusd` + `incus`). No systemd here, so each daemon is started by hand
// when needed (restarted after a CA change, which it reads only at start), given a `dir`
// storage pool and a root disk, and its commands run synchronously. e2e tests loop over
// CLIENTS so every scenario runs against both.

import { execFileSync, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { requirements } from './require.js';

export interface Client {
  /** "LXD" or "Incus", for test names. */
  readonly label: string;
  /** The command-line client: `lxc` or `incus`. */
  readonly command: string;
  /** Header prefix of the URL-import protocol: `LXD` or `Incus` (LXD-Image-Hash, Incus-Image-Hash). */
  readonly headerPrefix: 'LXD' | 'Incus';
  /** The Debian commands a test of this client needs (for requirements()). */
  readonly tools: string[];
  /** Runs a client command and returns its stdout; throws (with stderr) on failure. */
  run(args: string[], opts?: { timeout?: number }): string;
  /** Makes sure the daemon runs (restarted when `restart`, e.g. after a CA change) and has storage. */
  ensure(restart: boolean): void;
  /**
   * Forgets the index and products files the daemon cached (for an hour): stands in for that
   * hour passing, so the next command reads the remote afresh.
   */
  expireCache(): void;
  /** Runs each command, ignoring failures: clean-up of what may already be gone. */
  cleanup(commands: string[][]): void;
}

interface Daemon {
  label: string;
  command: string;
  headerPrefix: 'LXD' | 'Incus';
  tools: string[];
  /** argv of "wait until ready for N seconds", "shut down", "start in the background". */
  waitready: (seconds: number) => string[];
  shutdown: string[];
  start: string[];
  /** Where the daemon and the command-line client cache index and products files. */
  cacheDirs: string[];
  log: string;
}

function makeClient(d: Daemon): Client {
  const run = (args: string[], opts: { timeout?: number } = {}) =>
    execFileSync(d.command, args, { encoding: 'utf8', timeout: opts.timeout ?? 300_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = (seconds: number) => {
    const [cmd, ...args] = d.waitready(seconds);
    try {
      execFileSync(cmd!, args, { stdio: 'ignore', timeout: (seconds + 5) * 1000 });
      return true;
    } catch {
      return false;
    }
  };
  const cleanup = (commands: string[][]) => {
    for (const cmd of commands) {
      try {
        run(cmd);
      } catch {
        // already gone
      }
    }
  };
  return {
    label: d.label,
    command: d.command,
    headerPrefix: d.headerPrefix,
    tools: d.tools,
    run,
    cleanup,
    ensure(restart) {
      if (restart && ready(1)) {
        const [cmd, ...args] = d.shutdown;
        execFileSync(cmd!, args, { stdio: 'ignore', timeout: 120_000 });
      }
      if (!ready(1)) {
        const [cmd, ...args] = d.start;
        spawn(cmd!, [...args, '--group', 'root', '--logfile', d.log], { stdio: 'ignore', detached: true }).unref();
        if (!ready(60)) throw new Error(`the ${d.label} daemon did not start (see ${d.log})`);
      }
      const pools = JSON.parse(run(['storage', 'list', '--format', 'json'])) as { name: string }[];
      if (!pools.some((p) => p.name === 'default')) run(['storage', 'create', 'default', 'dir']);
      if (!/^root$/m.test(run(['profile', 'device', 'list', 'default'])))
        run(['profile', 'device', 'add', 'default', 'root', 'disk', 'path=/', 'pool=default']);
    },
    expireCache() {
      execFileSync('sh', ['-c', `find ${d.cacheDirs.join(' ')} -mindepth 2 -maxdepth 2 -name "*.json" -delete 2>/dev/null || true`]);
    },
  };
}

export const LXD = makeClient({
  label: 'LXD',
  command: 'lxc',
  headerPrefix: 'LXD',
  tools: ['lxd', 'lxc'],
  waitready: (s) => ['lxd', 'waitready', `--timeout=${s}`],
  shutdown: ['lxd', 'shutdown'],
  start: ['lxd'],
  cacheDirs: ['/var/cache/lxd', path.join(os.homedir(), '.cache/lxc')],
  log: '/var/tmp/staticstreams-lxd.log',
});

export const INCUS = makeClient({
  label: 'Incus',
  command: 'incus',
  headerPrefix: 'Incus',
  tools: ['incus', '/usr/libexec/incus/incusd'],
  waitready: (s) => ['incus', 'admin', 'waitready', `--timeout=${s}`],
  shutdown: ['incus', 'admin', 'shutdown'],
  start: ['/usr/libexec/incus/incusd'],
  cacheDirs: ['/var/cache/incus', path.join(os.homedir(), '.cache/incus')],
  log: '/var/tmp/staticstreams-incus.log',
});

export const CLIENTS: readonly Client[] = [LXD, INCUS];

/** requirements() for a test of `client` that also needs `tools`: a skip reason, or false. */
export function clientRequirements(client: Client, tools: string[]): string | false {
  return requirements([...client.tools, ...tools], { root: true });
}

/**
 * A file inside a container just launched, read with `exec … cat`. Seen with Incus in two full
 * runs (2026-12-07, the mirror and the sub-path tests): the first exec right after `launch`
 * printed nothing and exited 0 while the container was still starting; the same read a moment
 * later printed the file. An empty answer is asked again a few times before it counts.
 */
export function readInContainer(client: Client, container: string, file: string): string {
  for (let attempt = 0; ; attempt++) {
    const text = client.run(['exec', container, '--', 'cat', file]);
    if (text !== '' || attempt === 4) return text;
    execFileSync('sleep', ['1']);
  }
}
