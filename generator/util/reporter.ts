// How a long-running command reports progress: the pipeline and the writer call it, the CLI
// draws it on a TTY or prints lines.

/** Receives progress; the CLI draws it on a TTY or prints lines. */
export interface Reporter {
  phase(name: string): void;
  /** A long step's bytes done of total (`action`: hashing, uploading…), on the file `current`. */
  progress(action: string, done: number, total: number, current: string): void;
  warn(message: string): void;
}
