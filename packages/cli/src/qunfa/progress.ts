import { type CliIo, nowOf } from './io';

/**
 * A progress display: on a terminal one line rewritten in place; elsewhere (a pipe, a log, a
 * test) a line at most every `everyMs`, and the last one always.
 */
export class Progress {
  private lastLine = '';
  private lastPrinted = 0;
  private drawn = false;

  constructor(
    private readonly io: CliIo,
    private readonly everyMs = 5_000,
  ) {}

  get width(): number {
    return Math.max(40, (this.io.terminal?.columns ?? 100) - 1);
  }

  update(line: string): void {
    if (this.io.terminal) {
      this.io.terminal.write(`\r\x1b[2K${line}`);
      this.drawn = true;
      return;
    }
    const now = nowOf(this.io)();
    this.lastLine = line;
    if (now - this.lastPrinted >= this.everyMs) {
      this.io.err(line);
      this.lastPrinted = now;
      this.lastLine = '';
    }
  }

  /** Ends the display with `line` (or the last update) left on screen. */
  done(line?: string): void {
    if (this.io.terminal) {
      if (line !== undefined) this.io.terminal.write(`\r\x1b[2K${line}`);
      if (this.drawn || line !== undefined) this.io.terminal.write('\n');
      this.drawn = false;
      return;
    }
    const last = line ?? this.lastLine;
    if (last) this.io.err(last);
    this.lastLine = '';
  }
}
