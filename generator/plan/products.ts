// Plans the simplestreams products from hashed images: product keys, versions, items with
// their output paths and combined hashes, aliases and requirements. Pure: no I/O.

import { BuildError, ImageError } from '../util/errors.js';
import { tarExtension } from '../ingest/detect.js';
import { imageLabel, type HashedFile, type HashedImage } from '../ingest/model.js';
import { overridesFor, type Config } from '../config/config.js';
import { aliasClashes, defaultAliases } from './aliases.js';
import { aliasProblem, NAME_PART } from '../simplestreams/names.js';
import { compareVersionKeys, DEFAULT_VERSION_FORMAT, versionKey, type VersionFormat } from '../simplestreams/version-key.js';
import { ROOTFS_FTYPES, type ImageKind } from '../simplestreams/ftypes.js';
import { compareStrings } from '../util/compare.js';

export type Client = 'lxd' | 'incus';

/**
 * Where a planned file's bytes come from: an input file (with the identity it was found and
 * hashed under, when known), or the previously published tree.
 */
export type FileOrigin =
  | { kind: 'input'; path: string; rel: string; dev?: number; ino?: number }
  | { kind: 'previous' }
  /** A small file this build makes (a package list, an SBOM): its bytes, made again when written. */
  | { kind: 'made'; rel: string; bytes(): Buffer };

/** A file placed in the output tree. */
export interface PlannedFile {
  origin: FileOrigin;
  /** Path relative to the output root, `/`-separated; immutable (its name holds its hash). */
  path: string;
  sha256: string;
  size: number;
}

export interface PlannedItem {
  key: string;
  ftype: string;
  file: PlannedFile;
  /** combined_*_sha256 fields (metadata items only). */
  combined: Record<string, string>;
  combinedType?: ImageKind;
  /** Delta items (squashfs.vcdiff): the older version of the product this delta applies to. */
  deltaBase?: string;
}

export interface PlannedImage {
  fingerprint: string;
  type: ImageKind;
  /** The clients that can see this image. */
  clients: Client[];
  /** Bytes: metadata + rootfs, or the unified file. */
  size: number;
  /** ftype → file, in the order the client downloads them. */
  files: { ftype: string; file: PlannedFile }[];
  created: number;
  serial?: string;
  description?: string;
  /** Names the image in messages: its input files, or where it was published. */
  label: string;
}

export interface PlannedVersion {
  key: string;
  items: PlannedItem[];
  images: PlannedImage[];
}

export interface PlannedProduct {
  key: string;
  os: string;
  release: string;
  arch: string;
  canonicalArch: string;
  variant: string;
  aliases: string[];
  releaseTitle: string;
  releaseCodename?: string;
  supported?: boolean;
  supportEol?: string;
  requirements: Record<string, string>;
  /** Oldest first (string order = time order). */
  versions: PlannedVersion[];
  /** Carried over from a tree another tool made: its published aliases are kept. */
  adopted?: boolean;
}

export interface Plan {
  products: PlannedProduct[];
  /** Every file to place in the output, once each. */
  files: PlannedFile[];
  warnings: string[];
}

const ROOTFS_FTYPE = { squashfs: 'squashfs', 'root-tarball': 'root.tar.xz', qcow2: 'disk-kvm.img' } as const;
const ROOTFS_ITEM_KEY = { squashfs: 'root.squashfs', 'root-tarball': 'root.tar.xz', qcow2: 'disk.qcow2' } as const;
const SHORT = { squashfs: 'squashfs', 'root.tar.xz': 'roottar', 'disk-kvm.img': 'vm' } as Record<string, string>;
/** Preference when several rootfs types share a version: squashfs > root.tar.xz > disk-kvm.img. */
const FTYPE_ORDER = ['squashfs', 'root.tar.xz', 'disk-kvm.img'];

function fileName(file: HashedFile): string {
  const tag = file.sha256.slice(0, 16);
  switch (file.part) {
    case 'metadata':
      return `meta-${tag}.${tarExtension(file.compression)}`;
    case 'squashfs':
      return `rootfs-${tag}.squashfs`;
    case 'root-tarball':
      return `rootfs-${tag}.${tarExtension(file.compression)}`;
    case 'qcow2':
      return `disk-${tag}.qcow2`;
    case 'unified':
      return `image-${tag}.${tarExtension(file.compression)}`;
  }
}

interface Identified {
  image: HashedImage;
  product: string;
  os: string;
  release: string;
  variant: string;
  version: string;
}

/** The shape a product's version keys are published in, by product key or os:release:arch:variant. */
export type PublishedFormats = ReadonlyMap<string, VersionFormat>;

function identify(image: HashedImage, formatOf: (product: string) => VersionFormat): Identified | ImageError {
  const p = image.metadata.properties;
  const label = imageLabel(image);
  for (const field of ['os', 'release'] as const) {
    if (!p[field]) {
      return new ImageError(
        label,
        `metadata.yaml: properties.${field} is missing or empty (it names the product)`,
        `add \`${field}: …\` under properties in metadata.yaml`,
      );
    }
  }
  const variant = p.variant || 'default';
  for (const [field, value] of [
    ['os', p.os!],
    ['release', p.release!],
    ['variant', variant],
  ] as const) {
    if (!NAME_PART.test(value)) {
      return new ImageError(
        label,
        `metadata.yaml: properties.${field} "${value}" cannot be used in a product key, alias or path`,
        `use letters, digits and . _ + ~ - only (no spaces, colons or slashes) in properties.${field}`,
      );
    }
  }
  const arch = image.metadata.architecture.debian;
  const product = `${p.os}:${p.release}:${arch}:${variant}`;
  return {
    image,
    product,
    os: p.os!,
    release: p.release!,
    variant,
    version: versionKey(p.serial, image.metadata.creationDate, formatOf(product)),
  };
}

function planVersion(
  productKey: string,
  dir: string,
  key: string,
  members: Identified[],
  problems: (ImageError | BuildError)[],
  warnings: string[],
): PlannedVersion {
  const items: PlannedItem[] = [];
  const images: PlannedImage[] = [];
  const place = (f: HashedFile): PlannedFile => ({
    origin: { kind: 'input', path: f.source.path, rel: f.source.rel, dev: f.source.dev, ino: f.source.ino },
    path: `${dir}/${fileName(f)}`,
    sha256: f.sha256,
    size: f.size,
  });

  // Split images: one item per rootfs type, metadata tarballs shared by content.
  const split = members.filter((m) => m.image.kind === 'split');
  const byFtype = new Map<string, Identified>();
  for (const m of split) {
    const root = m.image.files[1]!;
    const ftype = ROOTFS_FTYPE[root.part as keyof typeof ROOTFS_FTYPE];
    const other = byFtype.get(ftype);
    if (other) {
      problems.push(
        new BuildError(
          `product ${productKey} version ${key} would hold two ${ftype} images (clients can tell only one ${ftype} per version apart)`,
          'give the images different serials (properties.serial) or different variants (properties.variant)',
          [imageLabel(other.image), imageLabel(m.image)],
          [imageLabel(m.image)],
        ),
      );
      continue;
    }
    byFtype.set(ftype, m);
  }
  const ordered = [...byFtype].sort(([a], [b]) => FTYPE_ORDER.indexOf(a) - FTYPE_ORDER.indexOf(b));
  const metas = new Map<string, { file: PlannedFile; combined: Record<string, string>; ftypes: string[] }>();
  for (const [ftype, m] of ordered) {
    const [metaFile, rootFile] = m.image.files as [HashedFile, HashedFile];
    let meta = metas.get(metaFile.sha256);
    if (!meta) metas.set(metaFile.sha256, (meta = { file: place(metaFile), combined: {}, ftypes: [] }));
    meta.ftypes.push(ftype);
    for (const field of ROOTFS_FTYPES[ftype]!.combined) meta.combined[field] = m.image.fingerprint;
    const root = place(rootFile);
    items.push({ key: ROOTFS_ITEM_KEY[rootFile.part as keyof typeof ROOTFS_ITEM_KEY], ftype, file: root, combined: {} });
    images.push({
      fingerprint: m.image.fingerprint,
      type: m.image.type,
      clients: ['lxd', 'incus'],
      size: metaFile.size + rootFile.size,
      files: [
        { ftype: 'lxd.tar.xz', file: meta.file },
        { ftype, file: root },
      ],
      created: m.image.metadata.creationDate,
      serial: m.image.metadata.properties.serial,
      description: m.image.metadata.properties.description,
      label: imageLabel(m.image),
    });
  }
  [...metas.values()].forEach((meta, i) => {
    const suffix = i === 0 ? '' : `-${meta.ftypes.map((f) => SHORT[f]).join('-')}`;
    for (const client of ['lxd', 'incus']) {
      items.push({ key: `${client}${suffix}.tar.xz`, ftype: `${client}.tar.xz`, file: meta.file, combined: meta.combined });
    }
  });

  // Unified images: one combined item per client that can use it, and one image of each type
  // per version (a client resolving the version or its alias could get either of two).
  const unified: Identified[] = [];
  for (const m of members.filter((x) => x.image.kind === 'unified').sort((a, b) => compareStrings(a.image.fingerprint, b.image.fingerprint))) {
    const other = unified.find((u) => u.image.type === m.image.type);
    const splitTwin = [...byFtype.values()].find((x) => x.image.type === m.image.type);
    if (!other && splitTwin) {
      problems.push(
        new BuildError(
          `product ${productKey} version ${key} would hold a split and a unified ${m.image.type} image (a client resolving the version or its alias could get either)`,
          'keep one form of the image, or give them different serials (properties.serial) or different variants (properties.variant)',
          [imageLabel(splitTwin.image), imageLabel(m.image)],
          [imageLabel(m.image)],
        ),
      );
      continue;
    }
    if (other) {
      problems.push(
        new BuildError(
          `product ${productKey} version ${key} would hold two unified ${m.image.type} images (a client resolving the version or its alias could get either)`,
          'give the images different serials (properties.serial) or different variants (properties.variant)',
          [imageLabel(other.image), imageLabel(m.image)].sort(),
          [imageLabel(m.image)],
        ),
      );
      continue;
    }
    unified.push(m);
  }
  unified.forEach((m, i) => {
    const file = place(m.image.files[0]!);
    const suffix = i === 0 ? '' : `-${m.image.fingerprint.slice(0, 12)}`;
    const clients: Client[] = m.image.type === 'virtual-machine' ? ['incus'] : ['lxd', 'incus'];
    if (m.image.type === 'virtual-machine') {
      warnings.push(
        `${imageLabel(m.image)}: a unified virtual-machine image is published for Incus only (LXD, and Incus releases that ignore combined_type, read every unified image as a container); export it as a split image (metadata tarball + disk.qcow2) to serve every client`,
      );
    }
    for (const client of clients) {
      items.push({ key: `${client}_combined${suffix}.tar.gz`, ftype: `${client}_combined.tar.gz`, file, combined: {}, combinedType: m.image.type });
    }
    images.push({
      fingerprint: m.image.fingerprint,
      type: m.image.type,
      clients,
      size: file.size,
      files: [{ ftype: `${clients[0]}_combined.tar.gz`, file }],
      created: m.image.metadata.creationDate,
      serial: m.image.metadata.properties.serial,
      description: m.image.metadata.properties.description,
      label: imageLabel(m.image),
    });
  });

  items.sort((a, b) => compareStrings(a.key, b.key));
  return { key, items, images: orderImages(images) };
}

/** A version's images in a stable order: unified ones, then split images by rootfs preference. */
export function orderImages(images: PlannedImage[]): PlannedImage[] {
  const rank = (i: PlannedImage) => FTYPE_ORDER.indexOf(i.files[1]?.ftype ?? 'z');
  return [...images].sort((a, b) => rank(a) - rank(b) || compareStrings(a.fingerprint, b.fingerprint));
}

/**
 * `published`: the shape each product of the previous tree writes its version keys in; a product
 * keeps it (it never mixes shapes), new products take `version_format` (default YYYYMMDD_HH:MM).
 */
export function planProducts(
  hashed: HashedImage[],
  config: Config,
  published: PublishedFormats = new Map(),
): { plan: Plan; problems: (ImageError | BuildError)[] } {
  const problems: (ImageError | BuildError)[] = [];
  const warnings: string[] = [];
  const kept = new Set<string>();
  const formatOf = (product: string) => {
    const format = published.get(product);
    if (!format) return config.version_format ?? DEFAULT_VERSION_FORMAT;
    if (config.version_format && format !== config.version_format && !kept.has(product)) {
      kept.add(product);
      warnings.push(
        `${product} keeps the shape of its published version keys (${format}), not version_format ${config.version_format}: a product never mixes shapes`,
      );
    }
    return format;
  };

  // Fingerprints must be unique across the whole tree ("More than one match" otherwise).
  const byFingerprint = new Map<string, HashedImage>();
  const unique: HashedImage[] = [];
  for (const image of hashed) {
    const first = byFingerprint.get(image.fingerprint);
    if (first) {
      problems.push(
        new BuildError(
          `two inputs are the same image (fingerprint ${image.fingerprint}); clients fail with "More than one match" on a duplicate fingerprint`,
          'remove one of the copies from the images folder',
          [imageLabel(first), imageLabel(image)],
          [imageLabel(image)],
        ),
      );
      continue;
    }
    byFingerprint.set(image.fingerprint, image);
    unique.push(image);
  }

  const groups = new Map<string, Identified[]>();
  for (const image of unique) {
    const id = identify(image, formatOf);
    if (id instanceof ImageError) {
      problems.push(id);
      continue;
    }
    const list = groups.get(id.product) ?? [];
    list.push(id);
    groups.set(id.product, list);
  }

  const products: PlannedProduct[] = [];
  for (const [key, members] of [...groups].sort(([a], [b]) => compareStrings(a, b))) {
    const first = members[0]!;
    const arch = first.image.metadata.architecture;
    const o = overridesFor(config, key);
    const byVersion = new Map<string, Identified[]>();
    for (const m of members) byVersion.set(m.version, [...(byVersion.get(m.version) ?? []), m]);
    // The version's folder is its key without colons (a name every host and file system takes).
    const versions = [...byVersion]
      .sort(([a], [b]) => compareVersionKeys(a, b))
      .map(([v, ms]) =>
        planVersion(key, `images/${first.os}/${first.release}/${arch.debian}/${first.variant}/${v.replace(/:/g, '')}`, v, ms, problems, warnings),
      );

    const newest = byVersion.get(versions[versions.length - 1]!.key)!;
    const props = newest[0]!.image.metadata.properties;
    const requirements: Record<string, string> = {};
    for (const m of newest) {
      for (const [k, v] of Object.entries(m.image.metadata.properties)) {
        if (!k.startsWith('requirements.')) continue;
        const name = k.slice('requirements.'.length);
        if (name in requirements && requirements[name] !== v) {
          problems.push(
            new BuildError(
              `product ${key}: images of version ${versions[versions.length - 1]!.key} disagree on requirements.${name} ("${requirements[name]}" vs "${v}")`,
              `set the same requirements.${name} in both metadata.yaml files, or set it for the product in staticstreams.yaml`,
              newest.map((n) => imageLabel(n.image)),
              [imageLabel(m.image)],
            ),
          );
        }
        requirements[name] = v;
      }
    }
    Object.assign(requirements, o.requirements);

    const aliases = [...new Set([...(o.default_aliases ? defaultAliases(first.os, first.release, first.variant) : []), ...o.aliases])];
    for (const alias of aliases) {
      const problem = aliasProblem(alias);
      if (problem)
        problems.push(
          new BuildError(
            `product ${key}: ${problem}`,
            'change the alias in staticstreams.yaml, or the os/release/variant properties it is made from',
            members.map((m) => imageLabel(m.image)),
          ),
        );
    }
    const product: PlannedProduct = {
      key,
      os: first.os,
      release: first.release,
      arch: arch.debian,
      canonicalArch: arch.canonical,
      variant: first.variant,
      aliases,
      releaseTitle: o.release_title ?? props.release_title ?? first.release,
      requirements: Object.fromEntries(Object.entries(requirements).sort(([a], [b]) => compareStrings(a, b))),
      versions,
    };
    const codename = o.release_codename ?? props.release_codename;
    if (codename) product.releaseCodename = codename;
    if (o.supported !== undefined) product.supported = o.supported;
    if (o.support_eol !== undefined) product.supportEol = o.support_eol;
    products.push(product);
  }

  problems.push(
    ...aliasClashes(
      products.map((p) => ({
        product: p.key,
        arch: p.arch,
        aliases: p.aliases,
        files: p.versions.flatMap((v) => v.images.map((i) => i.label)),
      })),
    ),
  );

  const files = new Map<string, PlannedFile>();
  for (const p of products) for (const v of p.versions) for (const i of v.items) files.set(i.file.path, i.file);
  return { plan: { products, files: [...files.values()].sort((a, b) => compareStrings(a.path, b.path)), warnings }, problems };
}
