// Errors that carry what a user needs to act: the file, what is wrong, and how to fix it.

/** A problem with one input file (or a pair of files) that makes it unpublishable. */
export class ImageError extends Error {
  constructor(
    /** The file (relative to the images folder when possible) the problem is in. */
    readonly file: string,
    /** What is wrong, e.g. `metadata.yaml: architecture "foo" is not known to LXD`. */
    readonly problem: string,
    /** How to fix it. */
    readonly fix: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'ImageError';
  }

  /** The multi-line form printed by the CLI. */
  format(): string {
    return `${this.file}: ${this.problem}\n  fix: ${this.fix}`;
  }
}

/** A problem with the set of images as a whole (duplicates, alias clashes) or with the output. */
export class BuildError extends Error {
  constructor(
    readonly problem: string,
    readonly fix: string,
    /** The files involved, if any. */
    readonly files: string[] = [],
    /** With --keep-going: the images (labels) to leave out to get past this problem (default: files). */
    readonly skip?: string[],
  ) {
    super(problem);
    this.name = 'BuildError';
  }

  format(): string {
    const files = this.files.length ? `\n  files: ${this.files.join(', ')}` : '';
    return `${this.problem}${files}\n  fix: ${this.fix}`;
  }
}

/** Several problems found in one run; the build reports them all at once. */
export class BuildFailed extends Error {
  constructor(readonly problems: (ImageError | BuildError)[]) {
    super(`${problems.length} problem${problems.length === 1 ? '' : 's'} found`);
    this.name = 'BuildFailed';
  }
}

/** Wrong command-line usage (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function isReportable(e: unknown): e is ImageError | BuildError {
  return e instanceof ImageError || e instanceof BuildError;
}
