import { readFile, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import {
  type ImportJob,
  type ImportProblem,
  type ImportReport,
  importReasonText,
  maxPartBytes,
} from '@qunfa/domain';
import { parse } from 'csv-parse/sync';
import {
  argument,
  type Command,
  type Context,
  parseJson,
  printJson,
  secondsOption,
  stringOption,
} from '../context';
import { formatBytes, formatDuration, formatNumber, progressLine, table } from '../format';
import { CliError, type ExitCode, exitCodes, nowOf, sleepOf, UsageError } from '../io';
import { Progress } from '../progress';

// `qunfa members import FILE`: the import API in its four steps (open, upload the parts,
// start, follow), with a progress bar for each half, the report, and the invalid rows written
// beside the file so that a person can fix them and import that file again.

const formats = ['csv', 'jsonl'] as const;
const encodings = ['auto', 'utf-8', 'gb18030'] as const;

export const importMembers: Command = async (context) => {
  const file = resolve(context.io.cwd, argument(context, 'file to import, e.g. members.csv', 'members'));
  const format = stringOption(context, 'format') ?? (/\.(jsonl|ndjson)$/i.test(file) ? 'jsonl' : 'csv');
  if (!formats.includes(format as (typeof formats)[number]))
    throw new UsageError(`--format is csv or jsonl, not ${format}.`, 'members');
  const encoding = stringOption(context, 'encoding') ?? 'auto';
  if (!encodings.includes(encoding as (typeof encodings)[number]))
    throw new UsageError(`--encoding is auto, utf-8 or gb18030, not ${encoding}.`, 'members');
  const mappingFile = stringOption(context, 'mapping');
  const mapping =
    mappingFile === undefined
      ? undefined
      : parseJson(await readText(resolve(context.io.cwd, mappingFile), '--mapping'), mappingFile);
  const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(
      error.code === 'ENOENT' ? `No file ${file}: check the path.` : `Cannot read ${file}: ${error.message}`,
    );
  });
  if (bytes.length === 0) throw new CliError(`${file} is empty: there is nothing to import.`);
  const interval = secondsOption(context, 'interval', 1);
  const api = await context.api();
  const progress = new Progress(context.io);
  const now = nowOf(context.io);

  const job = await api.call<ImportJob>('POST', '/imports', {
    json: {
      format,
      encoding,
      name: stringOption(context, 'name') ?? basename(file),
      ...(mapping === undefined ? {} : { mapping }),
    },
  });
  const parts = Math.max(1, Math.ceil(bytes.length / maxPartBytes));
  const contentType = format === 'csv' ? 'text/csv' : 'application/x-ndjson';
  const uploadStart = now();
  for (let part = 1; part <= parts; part++) {
    const chunk = bytes.subarray((part - 1) * maxPartBytes, part * maxPartBytes);
    await api.request('PUT', `/imports/${job.importId}/parts/${part}`, { bytes: chunk, contentType });
    const sent = Math.min(bytes.length, part * maxPartBytes);
    const elapsed = (now() - uploadStart) / 1000;
    progress.update(
      progressLine({
        label: 'Uploading',
        done: sent,
        total: bytes.length,
        width: progress.width,
        unit: formatBytes,
        rate: elapsed > 0 ? `${formatBytes(sent / elapsed)}/s` : undefined,
        note: `part ${part}/${parts}`,
      }),
    );
  }
  progress.done();
  await api.request('POST', `/imports/${job.importId}/start`, { json: { parts } });

  let current = job;
  const readStart = now();
  while (current.state !== 'completed' && current.state !== 'failed') {
    await sleepOf(context.io)(interval * 1000);
    current = await api.call<ImportJob>('GET', `/imports/${job.importId}`);
    const read = current.report?.progress.bytesRead ?? 0;
    const rows = current.report?.progress.rowsRead ?? 0;
    const elapsed = (now() - readStart) / 1000;
    const rate = elapsed > 0 ? rows / elapsed : 0;
    const bytesPerSecond = elapsed > 0 ? read / elapsed : 0;
    progress.update(
      progressLine({
        label: current.state === 'queued' ? 'Queued   ' : 'Importing',
        done: read,
        total: bytes.length,
        width: progress.width,
        unit: formatBytes,
        rate: rows > 0 ? `${formatNumber(rows)} rows · ${formatNumber(Math.round(rate))} rows/s` : undefined,
        etaSeconds: bytesPerSecond > 0 && read > 0 ? (bytes.length - read) / bytesPerSecond : undefined,
      }),
    );
  }
  progress.done();

  const report = current.report;
  const invalidFile = `${file}.invalid.csv`;
  let written = 0;
  if (report && report.invalidRows.length > 0) {
    written = await writeInvalidRows({ bytes, report, to: invalidFile, env: context.io.env });
  }
  if (context.json) {
    printJson(context, { ...current, ...(written > 0 ? { invalidRowsFile: invalidFile } : {}) });
  } else {
    context.io.out(
      importSummary(current, {
        seconds: (now() - uploadStart) / 1000,
        invalidFile: written > 0 ? invalidFile : undefined,
      }),
    );
  }
  return current.state === 'completed' ? exitCodes.ok : exitCodes.failed;
};

async function readText(path: string, flag: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => {
    throw new UsageError(`${flag}: cannot read ${path}.`);
  });
}

/** The text a person reads at the end of an import. */
export function importSummary(
  job: ImportJob,
  { seconds, invalidFile }: { seconds?: number; invalidFile?: string | undefined },
): string {
  const report = job.report;
  const lines = [
    `Import ${job.importId} ${job.state}${seconds === undefined ? '' : ` in ${formatDuration(seconds)}`}.`,
  ];
  if (!report) {
    lines.push(job.error ? `The importer failed: ${job.error}` : 'No report.');
    return lines.join('\n');
  }
  const counts = report.counts;
  const imported = counts.created + counts.updated + counts.unchanged;
  lines.push(
    '',
    table(
      ['', 'rows'],
      [
        ['read', report.progress.rowsRead],
        ['imported', imported],
        ['  created', counts.created],
        ['  updated', counts.updated],
        ['  unchanged', counts.unchanged],
        ['invalid', counts.invalid],
        ['duplicate', counts.duplicate],
      ],
    ),
  );
  const mapped = Object.entries(report.columns.mapped);
  if (mapped.length > 0)
    lines.push('', `Columns: ${mapped.map(([column, field]) => `${column} → ${field}`).join(', ')}`);
  if (report.columns.ignored.length > 0) lines.push(`Ignored columns: ${report.columns.ignored.join(', ')}`);
  if (report.failure)
    lines.push(
      '',
      `The file stopped at row ${report.failure.row ?? '?'}: ${report.failure.message} (${report.failure.reason})`,
      'Rows before it were imported; fix the file and import it again.',
    );
  if (report.duplicates.length > 0) {
    const shown = report.duplicates
      .slice(0, 5)
      .map((d) => `row ${d.row} repeats row ${d.duplicateOf} (same ${d.by})`);
    lines.push(
      '',
      `Duplicates (the later row is skipped): ${shown.join('; ')}${report.duplicates.length > 5 ? '; …' : ''}`,
    );
  }
  if (counts.invalid > 0) {
    lines.push('');
    if (invalidFile)
      lines.push(
        `${counts.invalid} invalid row${counts.invalid === 1 ? '' : 's'} written to ${invalidFile}:`,
        'fix them there and import that file again (its last two columns are ignored).',
      );
    else lines.push(`${counts.invalid} invalid row${counts.invalid === 1 ? '' : 's'}:`);
    const first = report.invalidRows.slice(0, 10);
    lines.push(
      table(
        ['row', 'column', 'reason'],
        first.map((p) => [p.row, p.column, p.reason]),
      ),
    );
    if (report.invalidRows.length > first.length)
      lines.push(`… and ${report.invalidRows.length - first.length} more problems.`);
    if (report.truncated.invalidRows)
      lines.push('The report lists the first invalid rows only: import the fixed file to find the rest.');
  }
  return lines.join('\n');
}

/**
 * Writes the refused rows as they are in the file, each followed by its row number and what is
 * wrong with it, to `to`: a CSV (UTF-8 with BOM, for Excel) a person fixes and imports again.
 * Rows are numbered as the import numbers them: the header is row 1, a quoted cell with line
 * breaks is one row, blank rows count.
 */
export async function writeInvalidRows({
  bytes,
  report,
  to,
  env,
}: {
  bytes: Uint8Array;
  report: ImportReport;
  to: string;
  env: Readonly<Record<string, string | undefined>>;
}): Promise<number> {
  const chinese = /^zh/i.test(env.LC_ALL ?? env.LANG ?? '');
  const byRow = new Map<number, ImportProblem[]>();
  for (const problem of report.invalidRows)
    byRow.set(problem.row, [...(byRow.get(problem.row) ?? []), problem]);
  const describe = (problems: readonly ImportProblem[]) =>
    problems
      .map((p) => `${p.column}: ${importReasonText[p.reason][chinese ? 'zh-CN' : 'en']} (${p.reason})`)
      .join('; ');
  const text = new TextDecoder(report.encoding ?? 'utf-8').decode(bytes);
  let header: string[];
  let rows: string[][];
  if (report.format === 'csv') {
    const records = parse(text, {
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: false,
    }) as string[][];
    const headerIndex = records.findIndex((record) => record.some((cell) => cell.trim() !== ''));
    header = records[headerIndex] ?? [];
    rows = [...byRow].map(([row, problems]) => {
      const record = records[row - 1] ?? [];
      const cells = header.map((_, i) => record[i] ?? '');
      return [...cells, String(row), describe(problems)];
    });
  } else {
    const lines = text.split(/\r?\n/);
    header = ['line'];
    rows = [...byRow].map(([row, problems]) => [lines[row - 1] ?? '', String(row), describe(problems)]);
  }
  const csv = [[...header, 'import_row', 'import_problems'], ...rows]
    .map((row) => row.map(csvCell).join(','))
    .join('\r\n');
  await writeFile(to, `\uFEFF${csv}\r\n`);
  return rows.length;
}

/**
 * One CSV field: quoted when it holds a comma, quote or line break; a cell Excel would run as
 * a formula (`=…`, `@…`, `+A1`) gets a leading `'`, but a phone number such as +86 138… stays
 * as it is, so the fixed file imports again.
 */
export function csvCell(value: string): string {
  const defused = /^[=@\t\r]|^[+-](?![\d\s(])/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(defused) ? `"${defused.replaceAll('"', '""')}"` : defused;
}

export async function membersCommand(context: Context, verb: string | undefined): Promise<ExitCode> {
  if (verb === 'import') return importMembers(context);
  throw new UsageError(
    verb ? `Unknown command: members ${verb}.` : 'Say what to do: members import FILE.',
    'members',
  );
}
