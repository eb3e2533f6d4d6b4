// The copy-paste commands the site shows: adding the remote, launching, copying and importing.
// Pure string building; every value is shell-quoted when it needs to be.

/** Quotes a word for a POSIX shell when it holds anything beyond safe characters. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export const PLACEHOLDER_URL = 'https://THIS-SERVER';

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
