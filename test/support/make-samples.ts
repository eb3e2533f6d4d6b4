// Regenerates the committed sample images in images/ (`npm run samples`). Needs busybox-static,
// squashfs-tools and qemu-utils. The output is committed so that a fresh clone builds without them.

import { rm } from 'node:fs/promises';
import path from 'node:path';
import { busyboxRootfs, metadataTarball, put, qcow2Bytes, rootTarball, squashfs, unifiedTarball, markerRootfs } from './images.js';

const root = path.resolve(process.argv[2] ?? 'images');
const common = { os: 'busybox', release: '1.36', serial: '20261101_1200', creationDate: 1793880000 };

await rm(root, { recursive: true, force: true });

// distrobuilder layout, bootable: lxd.tar.xz + rootfs.squashfs
await put(`${root}/busybox/amd64/lxd.tar.xz`, await metadataTarball({ ...common, description: 'BusyBox 1.36 (bootable sample)' }));
await put(`${root}/busybox/amd64/rootfs.squashfs`, await squashfs(await busyboxRootfs('staticstreams-sample')));

// the same product as a virtual machine: its own metadata + disk.qcow2
await put(
  `${root}/busybox/amd64-vm/lxd.tar.xz`,
  await metadataTarball({ ...common, description: 'BusyBox 1.36 VM (sample, empty disk)', extra: { 'requirements.secureboot': 'false' } }),
);
await put(`${root}/busybox/amd64-vm/disk.qcow2`, await qcow2Bytes(8));

// another architecture of the same release
await put(`${root}/busybox/arm64/lxd.tar.xz`, await metadataTarball({ ...common, architecture: 'aarch64', description: 'BusyBox 1.36 arm64 (sample)' }));
await put(`${root}/busybox/arm64/rootfs.squashfs`, await squashfs(markerRootfs('staticstreams-sample-arm64')));

// `lxc image export` layout: meta-NAME.tar.xz + NAME.tar.gz (a root tarball)
await put(
  `${root}/exported/meta-minimal.tar.xz`,
  await metadataTarball({ ...common, variant: 'minimal', description: 'BusyBox 1.36 minimal (root tarball sample)' }),
);
await put(`${root}/exported/minimal.tar.gz`, await rootTarball('staticstreams-sample-minimal', 'gzip'));

// a unified tarball (metadata.yaml + rootfs/)
await put(
  `${root}/unified/busybox-unified.tar.gz`,
  await unifiedTarball({ ...common, variant: 'unified', description: 'BusyBox 1.36 unified (sample)' }, 'staticstreams-sample-unified'),
);

await put(
  `${root}/unified/busybox-unified-arm64.tar.gz`,
  await unifiedTarball(
    { ...common, architecture: 'aarch64', variant: 'unified', description: 'BusyBox 1.36 unified arm64 (sample)' },
    'staticstreams-sample-unified-arm64',
  ),
);

console.log(`sample images written to ${root}`);
