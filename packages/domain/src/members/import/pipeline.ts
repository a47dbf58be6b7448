import { ValidationError } from '../../shared/errors';
import { problemsOf } from '../../shared/problems';
import { type MemberWrite, memberChange } from '../changes';
import type { Member, MemberFields } from '../member';
import { cleanRow, type ImportSettings } from './clean';
import { duplicateTracker } from './dedupe';
import { formatImportTarget, type ImportMapping, importMapping } from './mapping';
import { readImportRows } from './read';
import type { ImportDuplicate, ImportEncoding, ImportFormat, ImportProblem, ImportReport } from './report';

// The import of one file: bytes in, a report out. Rows are read, cleaned and de-duplicated
// one at a time and written in batches through a port, so the file is never held whole.
// Re-running it on the same file writes nothing and reports every row unchanged (or
// invalid, or duplicate, as the first time).

/** How an import reads and writes members; DynamoDB on AWS and on the local stack. */
export interface MemberImportPort {
  /**
   * The stored members among `memberIds` (absent ids are missing from the map). Must read
   * its own writes (DynamoDB: a consistent read): a duplicate row in a later batch merges
   * into what an earlier batch saved.
   */
  load(memberIds: readonly string[]): Promise<Map<string, Member>>;
  /** Writes created and updated members (`previous` is what was loaded, for conditions). */
  save(changes: readonly MemberWrite[]): Promise<void>;
}

export interface ImportMembersOptions {
  readonly source: AsyncIterable<Uint8Array>;
  readonly format: ImportFormat;
  /** The merchant's column → field mapping; without it the usual headers are recognized. */
  readonly mapping?: ImportMapping;
  /** `auto` (default) detects UTF-8 or GB18030 from the bytes (see `decode.ts`). */
  readonly encoding?: ImportEncoding | 'auto';
  readonly settings: ImportSettings;
  /** The time of this import: every member it creates or changes gets it as `updatedAt`. */
  readonly now: Date;
  readonly port: MemberImportPort;
  /** Rows per load and save (default 100). */
  readonly batchSize?: number;
  /** How many invalid-row problems and duplicates the report lists (default 1,000 each). */
  readonly maxListed?: number;
  /** Called after every batch with the report so far (state `running`). */
  readonly onProgress?: (report: ImportReport) => void | Promise<void>;
}

/** The report `importMembers` returns: the run is over. */
export type FinishedImportReport = ImportReport & { readonly state: 'completed' | 'failed' };

interface PendingRow {
  readonly memberId: string;
  readonly phone: string;
  readonly fields: Omit<MemberFields, 'phone'>;
  /**
   * A later row of a member already in the file: its change counts as a duplicate, and the
   * member keeps the phone of the first row (its own only serves if the member is not found,
   * which a port that reads its own writes rules out).
   */
  readonly duplicate: boolean;
}

/**
 * Imports a file of members and returns its report.
 *
 * An invalid mapping throws ValidationError before a byte is read. A file that cannot be
 * read on (a bad encoding, a broken CSV, a mapped column missing from the header) ends
 * the report `failed` with the reason, after the rows before that point were imported. A
 * failure of the port is thrown as it is: the caller retries the whole file, which is safe
 * because a re-run changes only what the failed run did not.
 */
export async function importMembers({
  source,
  format,
  mapping: givenMapping,
  encoding: givenEncoding = 'auto',
  settings,
  now,
  port,
  batchSize = 100,
  maxListed = 1000,
  onProgress,
}: ImportMembersOptions): Promise<FinishedImportReport> {
  let mapping: ImportMapping | undefined;
  if (givenMapping !== undefined) {
    const parsed = importMapping.safeParse(givenMapping);
    if (!parsed.success) throw new ValidationError(problemsOf(parsed.error, 'mapping'));
    mapping = parsed.data;
  }

  const counts = { created: 0, updated: 0, unchanged: 0, invalid: 0, duplicate: 0 };
  const progress = { rowsRead: 0, bytesRead: 0 };
  const mapped: Record<string, string> = {};
  const ignored: string[] = [];
  const invalidRows: ImportProblem[] = [];
  const duplicates: ImportDuplicate[] = [];
  const truncated = { invalidRows: false, duplicates: false };
  let encoding: ImportEncoding | undefined;
  let failure: ImportReport['failure'];

  const report = <S extends ImportReport['state']>(state: S): ImportReport & { state: S } => ({
    state,
    format,
    ...(encoding && { encoding }),
    columns: { mapped: { ...mapped }, ignored: [...ignored] },
    progress: { ...progress },
    counts: { ...counts },
    invalidRows: [...invalidRows],
    duplicates: [...duplicates],
    truncated: { ...truncated },
    ...(failure && { failure }),
  });
  const listProblems = (problems: readonly ImportProblem[]): void => {
    counts.invalid++;
    for (const problem of problems) {
      if (invalidRows.length < maxListed) invalidRows.push(problem);
      else truncated.invalidRows = true;
    }
  };
  const listDuplicate = (duplicate: ImportDuplicate): void => {
    counts.duplicate++;
    if (duplicates.length < maxListed) duplicates.push(duplicate);
    else truncated.duplicates = true;
  };

  let batch: PendingRow[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    const loaded = await port.load([...new Set(rows.map((row) => row.memberId))]);
    const members = new Map<string, { previous: Member | undefined; current: Member | undefined }>();
    for (const { memberId, phone, fields, duplicate } of rows) {
      let state = members.get(memberId);
      if (state === undefined) {
        const stored = loaded.get(memberId);
        state = { previous: stored, current: stored };
        members.set(memberId, state);
      }
      const incoming = { ...fields, phone: (duplicate && state.current?.phone) || phone };
      const change = memberChange({ memberId, existing: state.current, incoming, now, mode: 'merge' });
      state.current = change.next;
      if (!duplicate) counts[change.kind]++;
    }
    const changes: MemberWrite[] = [];
    for (const { previous, current } of members.values()) {
      if (current === undefined || current === previous) continue;
      changes.push(
        previous === undefined
          ? { kind: 'created', next: current, previous }
          : { kind: 'updated', next: current, previous },
      );
    }
    if (changes.length > 0) await port.save(changes);
    await onProgress?.(report('running'));
  };

  const tracker = duplicateTracker();
  const items = readImportRows({
    source,
    format,
    mapping,
    encoding: givenEncoding,
    onEncoding: (value) => {
      encoding = value;
    },
    onBytes: (bytes) => {
      progress.bytesRead += bytes;
    },
  });
  for await (const item of items) {
    switch (item.kind) {
      case 'column':
        if (item.target) mapped[item.column] = formatImportTarget(item.target);
        else if (ignored.length < 200) ignored.push(item.column);
        break;
      case 'failure':
        failure = item.failure;
        break;
      case 'bad_line':
        progress.rowsRead++;
        listProblems([{ row: item.row, column: '', reason: item.reason }]);
        break;
      case 'row': {
        progress.rowsRead++;
        const cleaned = cleanRow({ row: item.row, cells: item.cells, settings });
        if (!cleaned.ok) {
          listProblems(cleaned.problems);
          break;
        }
        const verdict = tracker.admit(cleaned);
        if (verdict.kind === 'skip') {
          listDuplicate(verdict.duplicate);
          break;
        }
        const { memberId, fields } = cleaned;
        if (verdict.kind === 'merge') {
          listDuplicate(verdict.duplicate);
          batch.push({ memberId, phone: fields.phone, fields: verdict.fill, duplicate: true });
        } else {
          batch.push({ memberId, phone: fields.phone, fields, duplicate: false });
        }
        if (batch.length >= Math.max(1, batchSize)) await flush();
        break;
      }
    }
  }
  await flush();
  return report(failure ? 'failed' : 'completed');
}
