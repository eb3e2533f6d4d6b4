// The corpus of bad inputs: each case writes files into an images folder that already holds one
// good image, and states the exact problem `staticstreams build` must report (exit code 1,
// file + problem + fix, no stack trace, previous output untouched). Generated, never committed:
// `npm run corpus -- DIR` writes every case into DIR/<case>/ to try by hand.

import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  compress,
  metadataTarball,
  metadataYaml,
  qcow2Bytes,
  rootTarball,
  squashfs,
  tarball,
  unifiedTarball,
  markerRootfs,
  type Compression,
  type TarEntry,
} from '../support/images.js';

export interface CorpusCase {
  name: string;
  /** Writes the case's files into the images folder. */
  setup(images: string): Promise<void>;
  /** What stderr must say. */
  expect: RegExp;
  /** Run the build as an unprivileged user (root reads every file regardless of permissions). */
  unprivileged?: boolean;
  /** Programs the setup runs (Debian packages CI installs). */
  tools?: string[];
  /** With --keep-going the good image is still published (false when the problem is not an image's). */
  keepGoingPublishes?: boolean;
}

const meta = (o: Parameters<typeof metadataYaml>[0] = {}) => metadataYaml({ os: 'bad', release: '1', ...o });
const metaTar = (yaml: string | Buffer, extra: TarEntry[] = []) => tarball([{ name: 'metadata.yaml', content: yaml }, ...extra]);

async function put(dir: string, rel: string, data: Buffer | string): Promise<void> {
  await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
  await writeFile(path.join(dir, rel), data);
}

/** A split image (metadata tarball + root tarball) in `folder`. */
async function split(dir: string, folder: string, metaBytes: Buffer): Promise<void> {
  await put(dir, `${folder}/lxd.tar.xz`, metaBytes);
  await put(dir, `${folder}/rootfs.tar.gz`, await rootTarball(folder, 'gzip'));
}

const EXT: Record<Compression, string> = { none: 'tar', gzip: 'tar.gz', xz: 'tar.xz', zstd: 'tar.zst', bzip2: 'tar.bz2' };
const TOOL: Partial<Record<Compression, string[]>> = { zstd: ['zstd'], bzip2: ['bzip2'] };
/** Incompressible file content, so that a cut in the compressed bytes is a cut in the middle of the tar. */
const filler = (marker: string) => Buffer.concat([randomBytes(192 * 1024), Buffer.from(`${marker}\n`)]);

/** The tar bytes up to the end of the last entry: a whole archive but for its end-of-archive marker. */
function withoutEndMarker(tar: Buffer): Buffer {
  let end = tar.length;
  while (end > 0 && tar[end - 1] === 0) end--;
  return tar.subarray(0, Math.ceil(end / 512) * 512);
}

/** Cut short after metadata.yaml, for each compression: unified images and split root tarballs. */
const cutShort: CorpusCase[] = (['gzip', 'xz', 'zstd', 'bzip2', 'none'] as const).flatMap((c): CorpusCase[] => [
  {
    name: `unified ${c} tarball cut short after metadata.yaml`,
    tools: TOOL[c],
    setup: async (d) => {
      const tar = await tarball([
        { name: 'metadata.yaml', content: meta() },
        { name: 'rootfs/' },
        ...markerRootfs('cut', 'rootfs/'),
        { name: 'rootfs/big', content: filler('cut') },
      ]);
      const bytes = compress(tar, c);
      await put(d, `bad/u.${EXT[c]}`, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    },
    expect: new RegExp(`bad/u\\.${EXT[c].replace('.', '\\.')}: is cut short or corrupt`),
  },
  {
    name: `split root tarball (${c}) cut in half`,
    tools: TOOL[c],
    setup: async (d) => {
      await put(d, 'bad/lxd.tar.xz', await metaTar(meta()));
      const bytes = compress(await tarball([{ name: './' }, ...markerRootfs('cut', './'), { name: './big', content: filler('cut') }]), c);
      await put(d, `bad/rootfs.${EXT[c]}`, bytes.subarray(0, Math.floor(bytes.length / 2)));
    },
    expect: new RegExp(`bad/rootfs\\.${EXT[c].replace('.', '\\.')}: is cut short or corrupt`),
  },
]);

export const CASES: CorpusCase[] = [
  ...cutShort,
  {
    name: 'unified tarball cut exactly at a tar header boundary (no end-of-archive marker)',
    setup: async (d) => {
      const tar = await tarball([{ name: 'metadata.yaml', content: meta() }, { name: 'rootfs/' }, ...markerRootfs('cut', 'rootfs/')]);
      await put(d, 'bad/u.tar.gz', compress(withoutEndMarker(tar), 'gzip'));
    },
    expect: /bad\/u\.tar\.gz: has no tar end-of-archive marker/,
  },
  {
    name: 'root tarball cut exactly at a tar header boundary (no end-of-archive marker)',
    setup: async (d) => {
      await put(d, 'bad/lxd.tar.xz', await metaTar(meta()));
      await put(d, 'bad/rootfs.tar', withoutEndMarker(await tarball([{ name: './' }, ...markerRootfs('cut', './')])));
    },
    expect: /bad\/rootfs\.tar: has no tar end-of-archive marker/,
  },
  {
    name: 'metadata tarball cut short at a tar header boundary',
    setup: async (d) => {
      await put(
        d,
        'bad/lxd.tar.xz',
        compress(
          withoutEndMarker(await tarball([{ name: 'metadata.yaml', content: meta() }, { name: 'templates/' }, { name: 'templates/a.tpl', content: 'a\n' }])),
          'xz',
        ),
      );
      await put(d, 'bad/rootfs.tar.gz', await rootTarball('bad', 'gzip'));
    },
    expect: /bad\/lxd\.tar\.xz: has no tar end-of-archive marker/,
  },
  { name: 'empty file', setup: (d) => put(d, 'bad/lxd.tar.xz', ''), expect: /bad\/lxd\.tar\.xz: is empty/ },
  {
    name: 'random bytes',
    setup: (d) => put(d, 'bad/image.tar.gz', randomBytes(4096).fill(0x41, 0, 8)),
    expect: /bad\/image\.tar\.gz: is not a tarball, squashfs or qcow2 file/,
  },
  {
    name: 'truncated gzip',
    setup: async (d) => put(d, 'bad/u.tar.gz', (await unifiedTarball({ os: 'bad' }, 'x', { compression: 'gzip' })).subarray(0, 100)),
    expect: /bad\/u\.tar\.gz: is cut short or corrupt/,
  },
  {
    name: 'truncated xz',
    setup: async (d) => put(d, 'bad/lxd.tar.xz', (await metadataTarball({ os: 'bad' }, 'xz')).subarray(0, 80)),
    expect: /bad\/lxd\.tar\.xz: is cut short or corrupt/,
  },
  {
    name: 'truncated zstd',
    setup: async (d) => put(d, 'bad/lxd.tar.zst', (await metadataTarball({ os: 'bad' }, 'zstd')).subarray(0, 60)),
    expect: /bad\/lxd\.tar\.zst: is cut short or corrupt/,
  },
  {
    name: 'truncated bzip2',
    setup: async (d) => put(d, 'bad/lxd.tar.bz2', (await metadataTarball({ os: 'bad' }, 'bzip2')).subarray(0, 60)),
    expect: /bad\/lxd\.tar\.bz2: is cut short or corrupt/,
  },
  {
    name: 'truncated squashfs',
    tools: ['mksquashfs'],
    setup: async (d) => {
      await put(d, 'bad/lxd.tar.xz', await metadataTarball({ os: 'bad' }));
      await put(d, 'bad/rootfs.squashfs', (await squashfs(markerRootfs('x'))).subarray(0, 200));
    },
    expect: /bad\/rootfs\.squashfs: squashfs is truncated/,
  },
  {
    name: 'truncated qcow2',
    tools: ['qemu-img'],
    setup: async (d) => {
      await put(d, 'bad/lxd.tar.xz', await metadataTarball({ os: 'bad' }));
      await put(d, 'bad/disk.qcow2', (await qcow2Bytes(8)).subarray(0, 4096));
    },
    expect: /bad\/disk\.qcow2: qcow2 disk is truncated/,
  },
  {
    name: 'tarball without metadata.yaml',
    setup: async (d) => put(d, 'bad/lxd.tar', await tarball([{ name: 'templates/' }, { name: 'templates/a.tpl', content: 'a' }])),
    expect: /bad\/lxd\.tar: the tarball has no metadata\.yaml/,
  },
  {
    name: 'metadata.yaml is a directory',
    setup: async (d) => put(d, 'bad/lxd.tar', await tarball([{ name: 'metadata.yaml/' }])),
    expect: /bad\/lxd\.tar: metadata\.yaml is a directory, not a regular file/,
  },
  {
    name: 'metadata.yaml is a symlink',
    setup: async (d) => put(d, 'bad/lxd.tar', await tarball([{ name: 'metadata.yaml', type: 'symlink', linkname: '/etc/shadow' }])),
    expect: /metadata\.yaml is a symlink, not a regular file/,
  },
  {
    name: 'metadata.yaml is a hard link',
    setup: async (d) =>
      put(
        d,
        'bad/lxd.tar',
        await tarball([
          { name: 'metadata.yaml', type: 'link', linkname: 'templates/x' },
          { name: 'templates/x', content: meta() },
        ]),
      ),
    expect: /metadata\.yaml is a link, not a regular file/,
  },
  {
    name: 'metadata.yaml over 1 MiB',
    setup: async (d) => put(d, 'bad/lxd.tar', await metaTar(`${meta()}# ${'x'.repeat(1024 * 1024)}\n`)),
    expect: /metadata\.yaml is \d+ bytes, over LXD's limit of 1 MiB/,
  },
  {
    name: 'invalid YAML',
    setup: async (d) => split(d, 'bad', await metaTar('architecture: [x86_64\n')),
    expect: /bad\/lxd\.tar\.xz: metadata\.yaml: line 2, column 1: is not valid YAML: Flow sequence/,
  },
  {
    name: 'a misspelt top-level key (propertes)',
    setup: async (d) => split(d, 'bad', await metaTar('architecture: x86_64\ncreation_date: 1793577600\npropertes:\n  os: bad\n  release: "1"\n')),
    expect:
      /metadata\.yaml: propertes: is not a key LXD reads \(did you mean properties\?\); properties\.os: is missing; properties\.release: is missing\n {2}fix: rename propertes to properties/,
  },
  {
    name: 'YAML alias bomb',
    setup: async (d) => {
      const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      for (let i = 1; i < 10; i++)
        lines.push(
          `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
            .fill(`*${String.fromCharCode(96 + i)}`)
            .join(',')}]`,
        );
      await split(d, 'bad', await metaTar(`${meta()}${lines.join('\n')}\n`));
    },
    expect: /metadata\.yaml: cannot be read: .*alias/i,
  },
  {
    name: 'creation_date as a string',
    setup: async (d) => split(d, 'bad', await metaTar('architecture: x86_64\ncreation_date: "1700000000"\nproperties:\n  os: a\n  release: b\n')),
    expect: /metadata\.yaml: creation_date: must be an integer/,
  },
  {
    name: 'properties as a list',
    setup: async (d) => split(d, 'bad', await metaTar('architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  - os\n')),
    expect: /metadata\.yaml: properties: must be a map/,
  },
  {
    name: 'unknown architecture',
    setup: async (d) => split(d, 'bad', await metaTar(meta({ architecture: 'sparc64' }))),
    expect: /metadata\.yaml: architecture: "sparc64" is not an architecture LXD knows/,
  },
  {
    name: 'creation_date 0',
    setup: async (d) => split(d, 'bad', await metaTar(meta({ creationDate: 0 }))),
    expect: /metadata\.yaml: creation_date: must be after 1970/,
  },
  {
    name: 'creation_date negative',
    setup: async (d) => split(d, 'bad', await metaTar(meta({ creationDate: -100 }))),
    expect: /metadata\.yaml: creation_date: must be after 1970/,
  },
  {
    name: 'creation_date far in the future',
    setup: async (d) => split(d, 'bad', await metaTar(meta({ creationDate: 4102444800 }))),
    expect: /metadata\.yaml: creation_date: 4102444800 is 2100-01-01T00:00:00\.000Z, in the future/,
  },
  {
    name: 'property with a control character',
    setup: async (d) => split(d, 'bad', await metaTar(`${meta()}  name: "a\\u0007b"\n`)),
    expect: /metadata\.yaml: properties\.name: contains a control character/,
  },
  {
    name: 'property with a newline',
    setup: async (d) => split(d, 'bad', await metaTar(`${meta()}  name: "line1\\nline2"\n`)),
    expect: /metadata\.yaml: properties\.name: contains a control character or line break/,
  },
  {
    name: 'property that is not UTF-8',
    setup: async (d) =>
      split(d, 'bad', await metaTar(Buffer.concat([Buffer.from(meta()), Buffer.from('  name: '), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\n')]))),
    expect: /metadata\.yaml: is not valid UTF-8/,
  },
  {
    name: 'tar entry with ..',
    setup: async (d) => split(d, 'bad', await metaTar(meta(), [{ name: 'templates/../../../etc/cron.d/x', content: 'x' }])),
    expect: /entry "templates\/\.\.\/\.\.\/\.\.\/etc\/cron\.d\/x" points outside the archive/,
  },
  {
    name: 'tar entry with an absolute path',
    setup: async (d) => split(d, 'bad', await metaTar(meta(), [{ name: '/etc/passwd', content: 'x' }])),
    expect: /entry "\/etc\/passwd" \(file\) is not allowed in a metadata tarball/,
  },
  {
    name: 'a symlink to an absolute path in the metadata tarball',
    setup: async (d) => split(d, 'bad', await metaTar(meta(), [{ name: 'extra', type: 'symlink', linkname: '/etc/shadow' }])),
    expect: /entry "extra" \(symlink\) links to "\/etc\/shadow", outside templates\//,
  },
  {
    name: 'a hard link to ../ in the metadata tarball',
    setup: async (d) => split(d, 'bad', await metaTar(meta(), [{ name: 'notes', type: 'link', linkname: '../../etc/passwd' }])),
    expect: /entry "notes" \(link\) links to "\.\.\/\.\.\/etc\/passwd", outside templates\//,
  },
  {
    name: 'device node in the metadata tarball',
    setup: async (d) => split(d, 'bad', await metaTar(meta(), [{ name: 'dev-null', type: 'character-device' }])),
    expect: /entry "dev-null" \(character-device\) is not allowed in a metadata tarball/,
  },
  {
    name: 'metadata.yaml twice',
    setup: async (d) => split(d, 'bad', await metaTar(meta(), [{ name: 'metadata.yaml', content: meta({ os: 'other' }) }])),
    expect: /the tarball holds metadata\.yaml twice/,
  },
  {
    name: 'split pair whose halves disagree (the rootfs is another metadata tarball)',
    setup: async (d) => {
      await put(d, 'bad/meta-x.tar.xz', await metadataTarball({ os: 'bad' }));
      await put(d, 'bad/x.tar.xz', await metadataTarball({ os: 'bad', release: '2' }));
    },
    expect: /bad\/meta-x\.tar\.xz: is a metadata tarball with no rootfs file next to it/,
  },
  {
    name: 'two images with the same fingerprint',
    setup: async (d) => {
      const bytes = await unifiedTarball({ os: 'dup', release: '1' }, 'same');
      await put(d, 'a/dup.tar.gz', bytes);
      await put(d, 'b/dup.tar.gz', bytes);
    },
    expect: /two inputs are the same image \(fingerprint [0-9a-f]{64}\)[\s\S]*files: a\/dup\.tar\.gz, b\/dup\.tar\.gz/,
  },
  {
    name: 'the same alias claimed by two products',
    setup: async (d) => {
      await put(d, 'a/a.tar.gz', await unifiedTarball({ os: 'Clash', release: '1' }, 'a'));
      await put(d, 'b/b.tar.gz', await unifiedTarball({ os: 'clash', release: '1' }, 'b'));
    },
    expect: /alias "clash\/1\/default" is claimed by two amd64 products: Clash:1:amd64:default and clash:1:amd64:default/,
  },
  {
    name: 'a symlink loop in the input folder',
    setup: async (d) => {
      await mkdir(path.join(d, 'loop'), { recursive: true });
      await symlink('..', path.join(d, 'loop', 'up'));
    },
    expect: /loop\/up: is a symlink loop/,
  },
  {
    name: 'an unreadable file',
    unprivileged: true,
    setup: async (d) => {
      await put(d, 'bad/secret.tar.xz', await metadataTarball({ os: 'bad' }));
      const { chmod } = await import('node:fs/promises');
      await chmod(path.join(d, 'bad/secret.tar.xz'), 0o000);
    },
    expect: /bad\/secret\.tar\.xz: cannot be read \(EACCES\)/,
  },
];

/** Names that must work: spaces, unicode and shell metacharacters in file and folder names. */
export async function oddNames(images: string): Promise<void> {
  await put(images, 'odd names/ünï cødé $(touch pwned) ;`x`/lxd.tar.xz', await metadataTarball({ os: 'odd', release: '1' }));
  await put(images, 'odd names/ünï cødé $(touch pwned) ;`x`/root fs & more.tar.gz', await rootTarball('odd', 'gzip'));
  await put(images, 'odd names/it\'s "quoted".tar.gz', await unifiedTarball({ os: 'odd', release: '2' }, 'q'));
}

/** `npm run corpus -- DIR`: writes every case into DIR/<case>/. */
if (process.argv[1]?.endsWith('cases.js') && process.argv[2]) {
  for (const c of CASES) await c.setup(path.join(process.argv[2], c.name.replace(/[^a-z0-9]+/gi, '-')));
  await oddNames(path.join(process.argv[2], 'odd-names'));
  console.log(`${CASES.length} cases written to ${process.argv[2]}`);
}
