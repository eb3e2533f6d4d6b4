// Starts the real servers a built tree is served from in tests: Cloudflare's workerd through
// `wrangler pages dev` (from an empty folder, as a deploy would see only OUT), Caddy, and
// `staticstreams serve`, each in its own process. nginx lives in nginx.ts.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serverProcess, waitForPort, type RunningServer } from './server-process.js';

const WRANGLER = path.resolve('node_modules/.bin/wrangler');

export async function startWrangler(root: string, port: number, tls: { cert: string; key: string }): Promise<RunningServer & { log: () => string }> {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'ss-wrangler-'));
  let log = '';
  const child = spawn(
    WRANGLER,
    [
      'pages',
      'dev',
      root,
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--compatibility-date',
      '2026-05-01',
      '--local-protocol',
      'https',
      '--https-key-path',
      tls.key,
      '--https-cert-path',
      tls.cert,
      '--log-level',
      'warn',
    ],
    {
      cwd,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  try {
    await waitForPort(port, 90_000);
  } catch (e) {
    throw new Error(`wrangler pages dev did not start: ${(e as Error).message}\n${log}`, { cause: e });
  }
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    log: () => log,
    async stop() {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      await new Promise((r) => setTimeout(r, 300));
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

export async function startCaddy(root: string, port: number, tls: { cert: string; key: string }, snippet: string): Promise<RunningServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ss-caddy-'));
  const caddyfile = path.join(dir, 'Caddyfile');
  writeFileSync(
    caddyfile,
    `{
\tadmin off
\tauto_https off
}
https://127.0.0.1:${port} {
\ttls ${tls.cert} ${tls.key}
\troot * ${root}
\timport ${snippet}
\tfile_server
}
`,
  );
  execFileSync('caddy', ['validate', '--config', caddyfile, '--adapter', 'caddyfile'], {
    stdio: 'pipe',
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
  });
  return serverProcess(
    spawn('caddy', ['run', '--config', caddyfile, '--adapter', 'caddyfile'], {
      stdio: 'ignore',
      env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    }),
    port,
    dir,
  );
}

/** Runs the real `staticstreams serve` command in its own process (tests call clients synchronously). */
export async function startServe(root: string, port: number, tls: { cert: string; key: string }): Promise<RunningServer> {
  return serverProcess(
    spawn(process.execPath, [path.resolve('bin/staticstreams.js'), 'serve', root, '--port', String(port), '--tls-cert', tls.cert, '--tls-key', tls.key], {
      stdio: 'ignore',
    }),
    port,
  );
}
