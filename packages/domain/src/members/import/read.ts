import { parse } from 'csv-parse';
import { decodeText, EncodingError } from './decode';
import {
  bindHeader,
  type ImportMapping,
  type ImportTarget,
  parseImportTarget,
  recognizeColumn,
} from './mapping';
import type { ImportEncoding, ImportFailure, ImportFormat } from './report';

// A file → its rows, one at a time: bytes are decoded, parsed and bound to targets as they
// arrive, so memory holds a chunk and a row, never the file. Rows are numbered as a person
// sees them: in a CSV the header is row 1 and a quoted cell with line breaks is still one
// row (as in Excel); in JSON lines a row is a line.

/** One cell of a row with the target its column fills. */
export interface ImportCell {
  readonly column: string;
  readonly target: ImportTarget;
  readonly value: unknown;
}

export type ImportItem =
  /** A column of the file (the header's, or a JSON key seen for the first time). */
  | { readonly kind: 'column'; readonly column: string; readonly target: ImportTarget | undefined }
  | { readonly kind: 'row'; readonly row: number; readonly cells: readonly ImportCell[] }
  /** A JSON line that is not an object: reported as an invalid row. */
  | { readonly kind: 'bad_line'; readonly row: number; readonly reason: 'invalid_json' | 'not_an_object' }
  /** The file cannot be read further; always the last item. */
  | { readonly kind: 'failure'; readonly failure: ImportFailure };

/** The longest row or line accepted: an unclosed quote must not swallow the file. */
export const maxRowBytes = 1_000_000;

/** Distinct JSON keys read from one file; keys beyond are ignored. */
export const maxJsonKeys = 1000;

export interface ReadImportOptions {
  readonly source: AsyncIterable<Uint8Array>;
  readonly format: ImportFormat;
  /** Checked with `importMapping` beforehand; `undefined` recognizes the usual headers. */
  readonly mapping: ImportMapping | undefined;
  readonly encoding?: ImportEncoding | 'auto';
  readonly onEncoding?: (encoding: ImportEncoding) => void;
  readonly onBytes?: (bytes: number) => void;
}

export function readImportRows({
  source,
  format,
  mapping,
  encoding = 'auto',
  onEncoding,
  onBytes,
}: ReadImportOptions): AsyncGenerator<ImportItem, void, undefined> {
  const text = decodeText({
    source,
    encoding,
    ...(onEncoding && { onEncoding }),
    ...(onBytes && { onBytes }),
  });
  return format === 'csv' ? readCsv(text, mapping) : readJsonLines(text, mapping);
}

const emptyCell = /^[\s\u00a0\u3000]*$/;

/**
 * CSV records as the text arrives. Records are taken from the parser as it finds them
 * (`on_record`), not from its readable side: a stream that errors drops what it has
 * buffered, and every row before a broken quote or a bad byte must still be imported. When
 * the text fails, the parser is not ended, so a row cut by the failure is not read as a
 * short row.
 */
async function* csvRecords(text: AsyncIterable<string>): AsyncGenerator<unknown, void, undefined> {
  const records: unknown[] = [];
  const parser = parse({
    // Short and long rows are read as they are (a missing cell is empty, an extra one
    // ignored); a stray quote inside a cell (`5" screen`) is text, as Excel writes it.
    relax_column_count: true,
    relax_quotes: true,
    // Blank lines are kept so that row numbers stay those of the sheet; they are skipped below.
    skip_empty_lines: false,
    max_record_size: maxRowBytes,
    on_record: (record: unknown) => {
      records.push(record);
      return null;
    },
  });
  let failed: Error | undefined;
  parser.on('error', (error) => {
    failed ??= error;
  });
  parser.resume();
  try {
    for await (const chunk of text) {
      await new Promise<void>((resolve) => parser.write(chunk, () => resolve()));
      yield* records.splice(0);
      if (failed) throw failed;
    }
    await new Promise<void>((resolve) => {
      parser.once('error', () => resolve());
      parser.once('finish', () => resolve());
      parser.end();
    });
    yield* records.splice(0);
    if (failed) throw failed;
  } finally {
    parser.destroy();
  }
}

async function* readCsv(
  text: AsyncIterable<string>,
  mapping: ImportMapping | undefined,
): AsyncGenerator<ImportItem, void, undefined> {
  let row = 0;
  let bindings: readonly { index: number; column: string; target: ImportTarget }[] | undefined;
  try {
    for await (const record of csvRecords(text)) {
      row++;
      if (!Array.isArray(record)) continue;
      const values: readonly unknown[] = record;
      const blank = values.every((value) => typeof value !== 'string' || emptyCell.test(value));
      if (blank) continue;
      // The first row that is not blank is the header (blank lines above it are skipped).
      if (bindings === undefined) {
        const header = values.map((value) => (typeof value === 'string' ? value : ''));
        const bound = bindHeader({ header, mapping });
        if (!bound.ok) {
          yield { kind: 'failure', failure: { reason: bound.reason, message: bound.message, row } };
          return;
        }
        bindings = bound.bindings;
        for (const binding of bound.bindings)
          yield { kind: 'column', column: binding.column, target: binding.target };
        for (const column of bound.ignored) yield { kind: 'column', column, target: undefined };
        continue;
      }
      const cells = bindings.map(({ index, column, target }) => ({ column, target, value: values[index] }));
      yield { kind: 'row', row, cells };
    }
  } catch (error) {
    yield { kind: 'failure', failure: readFailure(error, row + 1) };
    return;
  }
  if (bindings === undefined) {
    yield {
      kind: 'failure',
      failure: { reason: 'empty_file', message: 'The file is empty: no header row.' },
    };
  }
}

function readFailure(error: unknown, row: number): ImportFailure {
  if (error instanceof EncodingError) return { reason: 'bad_encoding', message: error.message, row };
  if (
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    error.code.startsWith('CSV_')
  ) {
    const line =
      'lines' in error && typeof error.lines === 'number' ? ` (line ${error.lines} of the file)` : '';
    const reason = error.code === 'CSV_MAX_RECORD_SIZE' ? 'line_too_long' : 'malformed_csv';
    return { reason, message: `${error.message}${line}`, row };
  }
  throw error;
}

async function* readJsonLines(
  text: AsyncIterable<string>,
  mapping: ImportMapping | undefined,
): AsyncGenerator<ImportItem, void, undefined> {
  const targets = new Map<string, ImportTarget | undefined>();
  let row = 0;
  let rest = '';
  const lineItems = function* (line: string): Generator<ImportItem, void, undefined> {
    row++;
    if (emptyCell.test(line)) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      yield { kind: 'bad_line', row, reason: 'invalid_json' };
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      yield { kind: 'bad_line', row, reason: 'not_an_object' };
      return;
    }
    const cells: ImportCell[] = [];
    for (const [column, cell] of flatten(value)) {
      let target = targets.get(column);
      if (target === undefined && !targets.has(column)) {
        target = targetOfKey(column, mapping);
        // Keys are remembered up to a bound: a file with a million distinct keys must not
        // grow the map (or every member's attributes) without end. Later keys are ignored.
        if (targets.size < maxJsonKeys) {
          targets.set(column, target);
          yield { kind: 'column', column, target };
        } else {
          target = undefined;
        }
      }
      if (target) cells.push({ column, target, value: cell });
    }
    yield { kind: 'row', row, cells };
  };
  try {
    for await (const chunk of text) {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      if (rest.length > maxRowBytes) {
        yield { kind: 'failure', failure: lineTooLong(row + 1) };
        return;
      }
      for (const line of lines) yield* lineItems(line);
    }
    if (rest !== '') yield* lineItems(rest);
  } catch (error) {
    if (!(error instanceof EncodingError)) throw error;
    yield { kind: 'failure', failure: { reason: 'bad_encoding', message: error.message, row: row + 1 } };
  }
}

function lineTooLong(row: number): ImportFailure {
  return { reason: 'line_too_long', message: `Line ${row} is longer than ${maxRowBytes} characters.`, row };
}

/** `{"attributes": {"visits": 3}}` reads as the key `attributes.visits`, one level deep. */
function* flatten(object: object): Generator<[string, unknown], void, undefined> {
  for (const [key, value] of Object.entries(object)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value)) yield [`${key}.${inner}`, innerValue];
    } else {
      yield [key, value];
    }
  }
}

function targetOfKey(key: string, mapping: ImportMapping | undefined): ImportTarget | undefined {
  if (mapping === undefined) return recognizeColumn(key)?.target;
  const text = mapping[key];
  return text === undefined ? undefined : parseImportTarget(text);
}
