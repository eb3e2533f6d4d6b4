#!/usr/bin/env node
// Entry point of the `staticstreams` command: runs the compiled CLI (shipped built in the packed
// tarball; in a clone, `npm run compile` builds it).
let main;
try {
  ({ main } = await import('../build/generator/cli/main.js'));
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('build/generator/cli/main.js')) throw e;
  process.stderr.write(
    'error: the CLI is not compiled yet (build/ is missing)\n  fix: run `npm run compile` in this clone (a packed tarball ships it compiled)\n',
  );
  process.exit(2);
}
process.exitCode = await main(process.argv);
