import * as z from 'zod';

// The local stack's own log lines (start-up, pollers, gateway errors), human-readable on
// stderr. The handlers keep their own structured logger; this one only says what the
// emulation around them is doing.

export const logLevels = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'] as const;
export type LogLevel = (typeof logLevels)[number];
export const logLevel = z.enum(logLevels);

export interface LocalLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(component: string): LocalLogger;
}

const rank: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, SILENT: 100 };

/** The level LOG_LEVEL asks for, INFO when unset or not one of the known levels. */
export function levelFromEnv(value: string | undefined = process.env.LOG_LEVEL): LogLevel {
  const parsed = logLevel.safeParse(value?.toUpperCase());
  return parsed.success ? parsed.data : 'INFO';
}

export function createLogger({
  component,
  level = levelFromEnv(),
  write = (line) => process.stderr.write(`${line}\n`),
}: {
  component: string;
  level?: LogLevel;
  write?: (line: string) => void;
}): LocalLogger {
  const emit =
    (at: Exclude<LogLevel, 'SILENT'>) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (rank[at] < rank[level]) return;
      const time = new Date().toISOString().slice(11, 23);
      const detail = fields && Object.keys(fields).length > 0 ? ` ${formatFields(fields)}` : '';
      write(`${time} ${at.padEnd(5)} [${component}] ${message}${detail}`);
    };
  return {
    debug: emit('DEBUG'),
    info: emit('INFO'),
    warn: emit('WARN'),
    error: emit('ERROR'),
    child: (name) => createLogger({ component: `${component}:${name}`, level, write }),
  };
}

function formatFields(fields: Record<string, unknown>): string {
  return JSON.stringify(fields, (_key, value: unknown) =>
    value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value,
  );
}
