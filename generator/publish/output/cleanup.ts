// Synchronous clean-up on SIGINT/SIGTERM: staged folders and locks register here, and the CLI
// runs them before exiting. A swap in progress (two renames) is let finish first.

const cleanups = new Set<() => void>();
let critical = 0;
let pendingSignal: NodeJS.Signals | undefined;

export function onInterrupt(fn: () => void): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

function exitFor(signal: NodeJS.Signals): never {
  for (const fn of [...cleanups].reverse()) {
    try {
      fn();
    } catch {
      // best effort: the next build cleans up what is left
    }
  }
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

/** Runs `fn` with signals deferred until it is done. */
export async function uninterruptible<T>(fn: () => Promise<T>): Promise<T> {
  critical++;
  try {
    return await fn();
  } finally {
    critical--;
    if (critical === 0 && pendingSignal) exitFor(pendingSignal);
  }
}

/** Installs SIGINT/SIGTERM handlers that clean up and exit (for the CLI). */
export function installSignalCleanup(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\ninterrupted (${signal}): nothing was published, the previous output is unchanged\n`);
      if (critical > 0) pendingSignal = signal;
      else exitFor(signal);
    });
  }
}
