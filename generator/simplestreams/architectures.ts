// The architectures LXD and Incus know (shared/osarch), with the names each side uses:
// the client's canonical name (shown by `lxc image list`) and the Debian name public servers put in products.

export interface Architecture {
  /** LXD's canonical name, e.g. x86_64. */
  canonical: string;
  /** The name used in the products file, aliases and paths, e.g. amd64. */
  debian: string;
  /** Every other name LXD accepts for it. */
  aliases: readonly string[];
}

const TABLE: readonly Architecture[] = [
  { canonical: 'i686', debian: 'i386', aliases: ['i386', 'i586', '386', 'x86', 'generic_32'] },
  { canonical: 'x86_64', debian: 'amd64', aliases: ['amd64', 'generic_64'] },
  { canonical: 'armv6l', debian: 'armel', aliases: ['armel', 'arm'] },
  { canonical: 'armv7l', debian: 'armhf', aliases: ['armhf', 'armhfp', 'armv7a_hardfp', 'armv7', 'armv7a_vfpv3_hardfp'] },
  { canonical: 'armv8l', debian: 'armv8l', aliases: [] },
  { canonical: 'aarch64', debian: 'arm64', aliases: ['arm64', 'arm64_generic'] },
  { canonical: 'ppc', debian: 'powerpc', aliases: ['powerpc'] },
  { canonical: 'ppc64', debian: 'ppc64', aliases: ['powerpc64'] },
  { canonical: 'ppc64le', debian: 'ppc64el', aliases: ['ppc64el'] },
  { canonical: 's390x', debian: 's390x', aliases: [] },
  { canonical: 'mips', debian: 'mipsel', aliases: ['mipsel', 'mipsle'] },
  { canonical: 'mips64', debian: 'mips64el', aliases: ['mips64el', 'mips64le'] },
  { canonical: 'riscv32', debian: 'riscv32', aliases: [] },
  { canonical: 'riscv64', debian: 'riscv64', aliases: [] },
  { canonical: 'loongarch64', debian: 'loong64', aliases: ['loong64'] },
];

const BY_NAME = new Map<string, Architecture>();
for (const arch of TABLE) {
  for (const name of [arch.canonical, arch.debian, ...arch.aliases]) BY_NAME.set(name, arch);
}

/** Looks an architecture up by any name LXD accepts (case-sensitive, as LXD is). */
export function findArchitecture(name: string): Architecture | undefined {
  return BY_NAME.get(name);
}

/** Every accepted name, for error messages. */
export function knownArchitectureNames(): string[] {
  return TABLE.map((a) => a.canonical);
}
