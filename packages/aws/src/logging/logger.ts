import { maskPhonesDeep } from '@qunfa/domain';
import type { Context } from 'aws-lambda';

// The functions' structured logs: one JSON line per call, in the layout Powertools wrote
// (level, message, timestamp, service, cold_start, function_name, function_request_id,
// xray_trace_id, then the call's attributes), so Logs Insights queries keep working. Our own
// because Powertools cost ~22 KB and part of the import time of every bundle for the little
// of it we use.

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

export type LogAttributes = Readonly<Record<string, unknown>>;

/** A line's text, or its text with attributes (`{ message, keyword, phone }`). */
export type LogMessage = string | (LogAttributes & { readonly message: string });

/** After the message: attributes merged into the line, an Error written under `error`, a string under `extra`. */
export type LogExtra = LogAttributes | Error | string | null | undefined;

export interface QunfaLogger {
  debug(message: LogMessage, ...extras: LogExtra[]): void;
  info(message: LogMessage, ...extras: LogExtra[]): void;
  warn(message: LogMessage, ...extras: LogExtra[]): void;
  error(message: LogMessage, ...extras: LogExtra[]): void;
  /** Puts the function name and request id (and cold_start) on every later line. */
  addContext(context: Pick<Context, 'functionName' | 'awsRequestId'>): void;
  /** Puts these attributes on every later line, until removed. */
  appendKeys(attributes: LogAttributes): void;
  removeKeys(keys: readonly string[]): void;
}

const severity: Readonly<Record<LogLevel, number>> = { DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, SILENT: 28 };

/** The line's own fields: an attribute of the same name is dropped, as Powertools dropped it. */
const reservedKeys = new Set(['level', 'message', 'timestamp', 'service']);

export function createLogger({
  service,
  level = 'INFO',
}: {
  service: string;
  level?: LogLevel;
}): QunfaLogger {
  const threshold = severity[level] ?? severity.INFO;
  const serviceName = `qunfa-${service}`;
  const keys = new Map<string, unknown>();
  let context: { functionName: string; requestId: string; coldStart: boolean } | undefined;
  // Each function builds its logger once, at module scope: the first request it sees is the
  // process's first invocation.
  let firstRequestId: string | undefined;

  const log =
    (lineLevel: Exclude<LogLevel, 'SILENT'>) =>
    (message: LogMessage, ...extras: LogExtra[]): void => {
      if (severity[lineLevel] < threshold) return;
      try {
        const line: Record<string, unknown> = {
          level: lineLevel,
          message: typeof message === 'string' ? message : message.message,
          timestamp: new Date().toISOString(),
          service: serviceName,
          cold_start: context?.coldStart,
          function_name: context?.functionName,
          function_request_id: context?.requestId,
          xray_trace_id: xrayTraceId(),
        };
        for (const [key, value] of keys) line[key] = value;
        if (typeof message !== 'string') merge(line, message);
        for (const extra of extras) {
          if (extra === null || extra === undefined) continue;
          if (extra instanceof Error) line.error = extra;
          else if (typeof extra === 'string') line.extra = extra;
          else merge(line, extra);
        }
        // Invariant 7: the whole line, message and keys included, goes through the mask.
        write(lineLevel, JSON.stringify(maskPhonesDeep(line)));
      } catch (failure) {
        // A logger never throws: a getter or proxy that throws while the line is walked
        // costs the line, not the invocation.
        writeUnloggable(lineLevel, serviceName, failure);
      }
    };

  return {
    debug: log('DEBUG'),
    info: log('INFO'),
    warn: log('WARN'),
    error: log('ERROR'),
    addContext: ({ functionName, awsRequestId }) => {
      firstRequestId ??= awsRequestId;
      context = {
        functionName,
        requestId: awsRequestId,
        coldStart: awsRequestId === firstRequestId && onDemand(),
      };
    },
    appendKeys: (attributes) => {
      for (const [key, value] of Object.entries(attributes)) if (!reservedKeys.has(key)) keys.set(key, value);
    },
    removeKeys: (names) => {
      for (const name of names) keys.delete(name);
    },
  };
}

function merge(line: Record<string, unknown>, attributes: LogAttributes): void {
  for (const [key, value] of Object.entries(attributes)) if (!reservedKeys.has(key)) line[key] = value;
}

/**
 * Provisioned concurrency and SnapStart initialise before any request: their first
 * invocation is not a cold start (as Powertools counted it). Unset outside Lambda.
 */
function onDemand(): boolean {
  const initialization = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
  return initialization === undefined || initialization === 'on-demand';
}

/** `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=…;Sampled=1` → the Root; read per line, it changes per invocation. */
function xrayTraceId(): string | undefined {
  const header = process.env._X_AMZN_TRACE_ID;
  if (!header) return undefined;
  if (!header.includes('=')) return header;
  for (const field of header.split(';')) {
    const [name, value] = field.split('=');
    if (name?.trim() === 'Root') return value;
  }
  return undefined;
}

/** Warnings and errors go to stderr, as Powertools' console wrote them; the rest to stdout. */
function write(level: Exclude<LogLevel, 'SILENT'>, json: string): void {
  const stream = level === 'WARN' || level === 'ERROR' ? process.stderr : process.stdout;
  try {
    stream.write(`${json}\n`);
  } catch {
    // A closed stream loses the line; the invocation goes on.
  }
}

/** Fixed text and the failure's class only: its message could hold the very value that failed. */
function writeUnloggable(level: Exclude<LogLevel, 'SILENT'>, service: string, failure: unknown): void {
  try {
    const line = {
      level,
      message: 'log line could not be written',
      timestamp: new Date().toISOString(),
      service,
      failure: failure instanceof Error ? String(failure.name) : typeof failure,
    };
    write(level, JSON.stringify(maskPhonesDeep(line)));
  } catch {
    // Nothing is left to write with.
  }
}
