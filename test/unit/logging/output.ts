import { vi } from 'vitest';

// The logger writes each line with `process.stdout.write` (warnings and errors with
// `process.stderr.write`), so spying on both streams' `write` captures exactly the lines that
// would reach CloudWatch. Call it in a beforeEach, before the logger is created, and
// `vi.restoreAllMocks()` / `vi.unstubAllEnvs()` in an afterEach.

export interface LogOutput {
  /** Everything written, as one string. */
  text(): string;
  /** Every line written, parsed: each must be a JSON object. */
  lines(): Record<string, unknown>[];
}

export function captureLogOutput(): LogOutput {
  const written: string[] = [];
  const capture = (chunk: unknown): boolean => {
    written.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  return {
    text: () => written.join(''),
    lines: () =>
      written
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line)),
  };
}
