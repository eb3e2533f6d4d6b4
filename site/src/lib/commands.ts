// The copy-paste commands the site shows: adding the remote, launching, copying and importing.
// Pure string building; every value is shell-quoted when it needs to be.

/** Quotes a word for a POSIX shell when it holds anything beyond safe characters. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export const PLACEHOLDER_URL = 'https://THIS-SERVER';

/** A private server's URL as both clients take it: basic-auth credentials in the URL (placeholders to replace). */
export function withCredentials(url: string): string {
  return url.replace(/^(https?:\/\/)/, '$1USER:PASSWORD@');
}

export function remoteAddCommands(remote: string, url: string) {
  return {
    lxd: `lxc remote add ${shellWord(remote)} ${shellWord(url)} --protocol simplestreams`,
    incus: `incus remote add ${shellWord(remote)} ${shellWord(url)} --protocol simplestreams`,
  };
}

export function launchCommands(remote: string, ref: string, vm: boolean) {
  const target = shellWord(`${remote}:${ref}`);
  const flag = vm ? ' --vm' : '';
  return {
    lxdLaunch: `lxc launch ${target} c1${flag}`,
    incusLaunch: `incus launch ${target} c1${flag}`,
    lxdCopy: `lxc image copy ${target} local:${vm ? ' --vm' : ''}`,
  };
}

export function importCommand(url: string): string {
  return `lxc image import ${shellWord(url)}`;
}

/** LXC's download template (`lxc-create -t download`); `server`: host[:port][/path], as its --server takes it. */
export function lxcCreateCommand(server: string, o: { dist: string; release: string; arch: string; variant: string }): string {
  return `lxc-create -n c1 -t download -- --server ${shellWord(server)} -d ${shellWord(o.dist)} -r ${shellWord(o.release)} -a ${shellWord(o.arch)} --variant ${shellWord(o.variant)}`;
}

/** What LXC's --server takes from a base URL: the host and path, without the scheme. */
export function lxcServer(baseUrl: string | undefined): string {
  return baseUrl ? baseUrl.replace(/^https?:\/\//, '').replace(/\/+$/, '') : PLACEHOLDER_URL.replace(/^https:\/\//, '');
}

/** How to check a signed tree's chain with only its public key: gpgv, Canonical's sstream-query, staticstreams verify. */
export function verifyCommands(url: string, signing: { keyring: string; index: string }) {
  const at = (rel: string) => `${url.replace(/\/+$/, '')}/${rel}`;
  const keyring = `./${signing.keyring.split('/').pop()}`;
  const index = signing.index.split('/').pop()!;
  return {
    key: `curl -fsSLo ${shellWord(keyring)} ${shellWord(at(signing.keyring))}`,
    gpgv: `curl -fsSLO ${shellWord(at(signing.index))} && gpgv --keyring ${shellWord(keyring)} ${shellWord(index)}`,
    sstream: `sstream-query --keyring=${shellWord(keyring)} ${shellWord(at(signing.index))}`,
    staticstreams: `staticstreams verify ${shellWord(url)} --keyring ${shellWord(keyring)}`,
  };
}

/** A fingerprint in gpg's groups of four. */
export function groupedFingerprint(fingerprint: string): string {
  return fingerprint.replace(/(.{4})(?=.)/g, '$1 ');
}
