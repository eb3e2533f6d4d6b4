// Which addresses are inside a network rather than on the internet: loopback, private ranges,
// link-local, unique-local, unspecified. A server on the internet that redirects a reader to
// one of them is pointing it at the reader's own network (where an error would then quote what
// an internal service answered): readers refuse that hop.

import { lookup } from 'node:dns/promises';
import net from 'node:net';

/** A block list of `ranges` (prefix, length) of one address family. */
function blockList(family: 'ipv4' | 'ipv6', ranges: readonly (readonly [string, number])[]): net.BlockList {
  const list = new net.BlockList();
  for (const [prefix, bits] of ranges) list.addSubnet(prefix, bits, family);
  return list;
}

const PRIVATE_V4 = blockList('ipv4', [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
]);
const PRIVATE_V6 = blockList('ipv6', [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
]);

/** True for an address inside a network (see above). */
export function isPrivateAddress(ip: string): boolean {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (v4mapped) return PRIVATE_V4.check(v4mapped, 'ipv4');
  if (net.isIPv4(ip)) return PRIVATE_V4.check(ip, 'ipv4');
  if (net.isIPv6(ip)) return PRIVATE_V6.check(ip, 'ipv6');
  return false;
}

/** Each host name's verdict, looked up once per run (a bucket redirect is followed for every file). */
const verdicts = new Map<string, Promise<boolean>>();

/** True when `host` (a name or an address) resolves to an address inside a network. */
export function isPrivateHost(host: string): Promise<boolean> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (net.isIP(bare)) return Promise.resolve(isPrivateAddress(bare));
  if (bare === 'localhost' || bare.endsWith('.localhost')) return Promise.resolve(true);
  let verdict = verdicts.get(bare);
  if (!verdict)
    verdicts.set(
      bare,
      (verdict = lookup(bare, { all: true }).then(
        (all) => all.some((a) => isPrivateAddress(a.address)),
        () => false, // not resolvable: the request itself fails with the reason
      )),
    );
  return verdict;
}

/** A redirect from a public host to a private one (see above). */
export async function redirectsInward(from: string, to: string): Promise<boolean> {
  if (from === to) return false;
  return !(await isPrivateHost(from)) && (await isPrivateHost(to));
}
