// ingest/lxc-meta.ts: the paths an upstream's LXC templates name must be regular files of its root
// tarball under folders only (LXC runs `sed -i` on them on the host).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { templatedProblems, withAncestors } from '../../generator/ingest/lxc-meta.js';

describe('templated paths in the root tarball', () => {
  it('watches each path and every folder above it', () => {
    assert.deepEqual(withAncestors(['etc/hostname', 'etc/sysconfig/network']), ['etc', 'etc/hostname', 'etc/sysconfig', 'etc/sysconfig/network']);
  });
  const cases: [string, Record<string, string>, boolean, RegExp | null][] = [
    ['regular files under folders', { etc: 'directory', 'etc/hostname': 'file' }, false, null],
    ['missing (LXC skips it)', { etc: 'directory' }, false, null],
    ['the file is a symbolic link', { etc: 'directory', 'etc/hostname': 'symlink' }, false, /\/etc\/hostname is not a regular file .*a symlink/],
    ['a folder above it is a link', { etc: 'symlink' }, false, /\/etc is a symlink/],
    ['a hard link', { 'etc/hostname': 'link' }, false, /a link/],
    ['entries of a type the walk does not read', { 'etc/hostname': 'file' }, true, /Solaris X headers/],
  ];
  for (const [name, seen, odd, problem] of cases)
    it(name, () => {
      const problems = templatedProblems(['etc/hostname'], seen, odd);
      if (problem) assert.match(problems.join('\n'), problem);
      else assert.deepEqual(problems, []);
    });
  it('no templates: nothing to check', () => assert.deepEqual(templatedProblems([], { etc: 'symlink' }, true), []));
});
