// What a `qunfa` command needs from the process: passed in, so that tests run the CLI
// in-process against a fake or the local stack and read what it printed.

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** The user's home folder, where `~/.qunfa/config.json` lives. */
  readonly home: string;
  /** A line of results (stdout). */
  out(line: string): void;
  /** A line of messages and progress (stderr). */
  err(line: string): void;
  /**
   * A terminal to draw live progress on (rewriting one line). Without it, progress is printed
   * as a line now and then, which is what a log file or a CI job wants.
   */
  readonly terminal?: { readonly columns: number; write(text: string): void } | undefined;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** 0 done, 1 the API or the run failed, 2 the command line is wrong, 3 no or a refused key, 4 not found. */
export const exitCodes = { ok: 0, failed: 1, usage: 2, auth: 3, notFound: 4 } as const;
export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** The command line is wrong: the message says how to write it. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose help to point at, e.g. `campaigns`. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command ran and failed; `code` says how (an auth or a missing-thing failure has its own). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: ExitCode = exitCodes.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const sleepOf = (io: CliIo) =>
  io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
export const nowOf = (io: CliIo) => io.now ?? Date.now;
