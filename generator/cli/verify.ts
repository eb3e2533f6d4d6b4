// `staticstreams verify [DIR|URL]`: re-reads a published tree (a folder, or a live server, fetching
// every file as a client would) and checks every client rule.

import type { Command } from 'commander';
import { EXIT_INVALID, EXIT_OK, requireTree, type Action } from './output.js';
import { printable } from '../util/printable.js';
import { count } from '../util/format.js';
import type { VerifyReport } from '../inspect/verify.js';
import { loadKeyring } from './keyring.js';

interface VerifyFlags {
  json?: boolean;
  quick?: boolean;
  keyring?: string;
  requireSignature?: boolean;
}

/** What the signature check concluded, in one line. */
function signatureLine(s: NonNullable<VerifyReport['signatures']>): string {
  if (!s.signed) return 'not signed';
  if (!s.signer) return 'signed, but the signature of streams/v1/index.sjson does not verify';
  const chain = s.complete ? 'the whole chain verifies' : 'the chain does not verify in full';
  return s.trusted
    ? `signed by ${s.signer}, a key in --keyring: ${chain}`
    : `signed by ${s.signer}, the tree's own published key: ${chain}, but nothing says the key is the publisher's (give --keyring FILE to trust it)`;
}

export async function runVerify(dir: string, flags: VerifyFlags): Promise<number> {
  await requireTree(dir);
  const keyring = flags.keyring ? await loadKeyring(flags.keyring) : undefined;
  const { verifyTree } = await import('../inspect/verify.js');
  const report = await verifyTree(dir, { quick: flags.quick === true, ...(keyring ? { keyring } : {}), requireSignature: flags.requireSignature === true });
  const errors = report.problems.filter((p) => p.severity === 'error');
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ok: errors.length === 0, ...report }, null, 2)}\n`);
  } else {
    for (const p of report.problems) process.stdout.write(printable(`${p.severity}: ${p.where}: ${p.message}\n`));
    // An unsigned tree checked without --keyring says nothing of signatures.
    if (report.signatures && (report.signatures.signed || keyring || flags.requireSignature))
      process.stdout.write(printable(`signatures: ${signatureLine(report.signatures)}\n`));
    process.stdout.write(
      `${errors.length === 0 ? 'ok' : 'FAILED'}: ${count(report.products, 'product')}, ${count(report.images, 'image')}, ${count(report.files, 'file')} checked; ` +
        `${count(errors.length, 'error')}, ${count(report.problems.length - errors.length, 'warning')}\n`,
    );
  }
  return errors.length === 0 ? EXIT_OK : EXIT_INVALID;
}

export function registerVerify(program: Command, action: Action): void {
  program
    .command('verify')
    .description("check a published tree (this tool's or another's) against the rules LXD and Incus enforce")
    .argument('[dir|url]', 'the published tree: its folder, or the URL it is served at (every file is downloaded and hashed)', 'dist')
    .option('--json', 'print the report as JSON')
    .option('--quick', 'check sizes and sha256 only; skip decompressing every tarball to its end')
    .option('--keyring <file>', 'OpenPGP public keys to trust (armored or binary, as `gpg --export` writes them): the signed chain must verify against them')
    .option('--require-signature', 'fail a tree that is not signed')
    .action(action((dir: string, flags: VerifyFlags) => runVerify(dir, flags)));
}
