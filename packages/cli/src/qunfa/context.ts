import type { Api } from './client';
import type { CliIo, ExitCode } from './io';
import { UsageError } from './io';

/** The parsed command line (see `options` in main.ts). */
export type Values = Readonly<Record<string, string | boolean | undefined>>;

export interface Context {
  readonly io: CliIo;
  /** The API client, made on first use (so `--help` and usage errors need no key). */
  api(): Promise<Api>;
  readonly values: Values;
  /** After the noun and the verb. */
  readonly args: readonly string[];
  readonly json: boolean;
}

export type Command = (context: Context) => Promise<ExitCode>;

export function stringOption(context: Context, name: string): string | undefined {
  const value = context.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function intOption(
  context: Context,
  name: string,
  { min, max }: { min: number; max: number },
): number | undefined {
  const text = stringOption(context, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not ${text}.`);
  return value;
}

export function secondsOption(context: Context, name: string, fallback: number): number {
  const text = stringOption(context, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`--${name} is a number of seconds, such as 2.`);
  return value;
}

/** The one positional argument a command takes, e.g. a campaign id. */
export function argument(context: Context, what: string, group: string): string {
  const [value, extra] = context.args;
  if (value === undefined) throw new UsageError(`Name the ${what}.`, group);
  if (extra !== undefined) throw new UsageError(`Unexpected argument: ${extra}.`, group);
  return value;
}

/** A JSON document from `--<flag> '{...}'` or from a file. */
export function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${where} is not valid JSON: ${(error as Error).message}`);
  }
}

export function printJson(context: Context, value: unknown): void {
  context.io.out(JSON.stringify(value, null, 2));
}
