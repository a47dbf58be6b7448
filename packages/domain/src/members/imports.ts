import * as z from 'zod';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { type RandomBytes, randomBase62 } from '../shared/ids';
import type { RecordStore } from '../shared/records';
import { nextVersion } from '../shared/records';
import type { TenantStore } from '../tenancy/store';
import { importMapping } from './import/mapping';
import { importMembers } from './import/pipeline';
import { type ImportReport, importEncodings, importFormats, importReport } from './import/report';
import type { MemberStore } from './store';

// A member import is uploaded in parts and processed by the importer function, so that a file
// of any size fits API Gateway's 10 MB and Lambda's 6 MB request limits and is never held
// whole in memory (docs/imports.md):
//   1. POST /imports                      → an import in state `uploading`
//   2. PUT  /imports/{id}/parts/{n}       → part n (1, 2, …; ≤ 4 MB; any byte boundary)
//   3. POST /imports/{id}/start {parts}   → `queued`; a message on the import queue
//   4. the importer streams parts 1…n in order through one decoder and parser → `running`
//      with progress, then `completed` (or `failed`) with the report
// Re-sending a part replaces it; a redelivered import message runs the file again, which
// changes nothing that the first run already wrote (upserts compare before they write).

export const maxPartBytes = 4 * 1024 * 1024;
export const maxParts = 10_000;
/** Uploaded parts and finished imports are kept this long, then expire. */
export const importRetentionDays = 7;

export const importStates = ['uploading', 'queued', 'running', 'completed', 'failed'] as const;
export type ImportState = (typeof importStates)[number];

export const newImport = z.strictObject({
  format: z.enum(importFormats).default('csv'),
  /** `auto`: UTF-8 (with or without BOM) unless the bytes are not UTF-8, then GB18030. */
  encoding: z.enum(['auto', ...importEncodings]).default('auto'),
  /** Source column → field; omitted: common Chinese and English headers are recognized. */
  mapping: importMapping.exactOptional(),
  name: z.string().trim().min(1).max(200).exactOptional(),
});
export type NewImport = z.infer<typeof newImport>;

export const importJob = z.object({
  importId: z.string(),
  name: z.string().exactOptional(),
  format: z.enum(importFormats),
  encoding: z.enum(['auto', ...importEncodings]),
  mapping: z.record(z.string(), z.string()).exactOptional(),
  state: z.enum(importStates),
  parts: z.number().int().min(0),
  bytes: z.number().int().min(0),
  report: importReport.exactOptional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  queuedAt: z.string().exactOptional(),
  finishedAt: z.string().exactOptional(),
  /** Epoch seconds: DynamoDB TTL removes the record this long after it finished. */
  expiresAt: z.number().exactOptional(),
  /** Set when the importer itself failed (not the file): the upload is kept for a week. */
  error: z.string().exactOptional(),
});
export type ImportJob = z.infer<typeof importJob>;

/** The uploaded bytes of imports, part by part. */
export interface ImportPartStore {
  put(tenantId: string, importId: string, part: number, bytes: Uint8Array, expiresAt: number): Promise<void>;
  /** Which parts are stored, with their sizes. */
  sizes(tenantId: string, importId: string): Promise<Map<number, number>>;
  /** Parts 1…count in order, each as its stored chunks. */
  read(tenantId: string, importId: string, count: number): AsyncIterable<Uint8Array>;
  delete(tenantId: string, importId: string): Promise<void>;
}

export interface ImportDeps {
  readonly imports: RecordStore<ImportJob>;
  readonly parts: ImportPartStore;
  readonly enqueue: (message: { tenantId: string; importId: string }) => Promise<void>;
  readonly random: RandomBytes;
  readonly now: () => Date;
}

const expiry = (now: Date): number => Math.floor(now.getTime() / 1000) + importRetentionDays * 86_400;

export async function createImport(
  deps: ImportDeps,
  { tenantId, options }: { tenantId: string; options: NewImport },
): Promise<ImportJob> {
  const now = deps.now();
  const job: ImportJob = {
    importId: `imp_${randomBase62({ random: deps.random, length: 12 })}`,
    ...(options.name === undefined ? {} : { name: options.name }),
    format: options.format,
    encoding: options.encoding,
    ...(options.mapping === undefined ? {} : { mapping: options.mapping }),
    state: 'uploading',
    parts: 0,
    bytes: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    // An upload abandoned half-way goes away by itself.
    expiresAt: expiry(now),
  };
  await deps.imports.create(tenantId, job.importId, job);
  return job;
}

export async function getImport(
  deps: Pick<ImportDeps, 'imports'>,
  { tenantId, importId }: { tenantId: string; importId: string },
): Promise<ImportJob> {
  const job = await deps.imports.get(tenantId, importId);
  if (!job) throw new NotFoundError(`No import ${importId}.`);
  return job;
}

export async function uploadPart(
  deps: ImportDeps,
  {
    tenantId,
    importId,
    part,
    bytes,
  }: { tenantId: string; importId: string; part: number; bytes: Uint8Array },
): Promise<{ part: number; bytes: number }> {
  const job = await getImport(deps, { tenantId, importId });
  if (job.state !== 'uploading') {
    throw new ConflictError(`Import ${importId} is ${job.state}; parts can only be added while uploading.`);
  }
  if (bytes.byteLength === 0) throw new ValidationError([{ path: 'body', message: 'the part is empty' }]);
  if (bytes.byteLength > maxPartBytes) {
    throw new ValidationError([{ path: 'body', message: `a part holds at most ${maxPartBytes} bytes` }]);
  }
  await deps.parts.put(tenantId, importId, part, bytes, expiry(deps.now()));
  return { part, bytes: bytes.byteLength };
}

/** Closes the upload: parts 1…`parts` must all be there; then the importer takes the file. */
export async function startImport(
  deps: ImportDeps,
  { tenantId, importId, parts }: { tenantId: string; importId: string; parts: number },
): Promise<ImportJob> {
  const job = await getImport(deps, { tenantId, importId });
  if (job.state === 'queued' && job.parts === parts) {
    // A retried start (the first answer was lost): enqueue again; the importer skips a duplicate.
    await deps.enqueue({ tenantId, importId });
    return job;
  }
  if (job.state !== 'uploading') throw new ConflictError(`Import ${importId} is already ${job.state}.`);
  const sizes = await deps.parts.sizes(tenantId, importId);
  const missing = Array.from({ length: parts }, (_, i) => i + 1).filter((n) => !sizes.has(n));
  const extra = [...sizes.keys()].filter((n) => n > parts);
  if (missing.length > 0 || extra.length > 0) {
    throw new ValidationError([
      {
        path: 'body.parts',
        message:
          missing.length > 0
            ? `parts ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''} were not uploaded`
            : `parts ${extra.slice(0, 10).join(', ')} lie beyond the ${parts} announced`,
      },
    ]);
  }
  const now = deps.now();
  const queued: ImportJob = {
    ...job,
    state: 'queued',
    parts,
    bytes: [...sizes.values()].reduce((a, b) => a + b, 0),
    queuedAt: now.toISOString(),
    updatedAt: now.toISOString(),
    expiresAt: expiry(now),
  };
  // The state change is conditional on the version read, so two starts cannot both enqueue.
  await deps.imports.replace(tenantId, importId, queued, job.updatedAt);
  await deps.enqueue({ tenantId, importId });
  return queued;
}

export interface ImporterDeps {
  readonly imports: RecordStore<ImportJob>;
  readonly parts: ImportPartStore;
  readonly members: MemberStore;
  readonly tenants: Pick<TenantStore, 'getTenant'>;
  readonly now: () => Date;
  /** How often progress is written back while a file is read (default every 2 s). */
  readonly progressEveryMs?: number;
}

/** A run whose record has not moved for this long is taken to have died with its invocation. */
const staleRunMs = 5 * 60_000;

export type ImportRunOutcome = 'completed' | 'failed' | 'skipped';

/**
 * The importer's work for one import message: stream the uploaded parts through the import
 * pipeline, write progress as it goes, and finish with the report. A message for an import
 * that is finished, or running and alive, is a duplicate delivery and is skipped.
 */
export async function runImport(
  deps: ImporterDeps,
  { tenantId, importId }: { tenantId: string; importId: string },
): Promise<ImportRunOutcome> {
  const job = await deps.imports.get(tenantId, importId);
  if (!job || job.state === 'completed' || job.state === 'failed' || job.state === 'uploading')
    return 'skipped';
  if (job.state === 'running' && deps.now().getTime() - Date.parse(job.updatedAt) < staleRunMs)
    return 'skipped';
  const tenant = await deps.tenants.getTenant(tenantId);
  if (!tenant) return 'skipped';

  let current: ImportJob = job;
  const save = async (next: Omit<ImportJob, 'updatedAt'>): Promise<void> => {
    const written: ImportJob = {
      ...next,
      updatedAt: nextVersion({ now: deps.now(), previous: current.updatedAt }),
    };
    await deps.imports.replace(tenantId, importId, written, current.updatedAt);
    current = written;
  };
  // Taking the run is a conditional write: of two deliveries racing here, one wins.
  await save({ ...job, state: 'running' });

  const progressEveryMs = deps.progressEveryMs ?? 2_000;
  let lastProgress = deps.now().getTime();
  const mapping = job.mapping === undefined ? undefined : importMapping.parse(job.mapping);
  let report: ImportReport;
  try {
    report = await importMembers({
      source: deps.parts.read(tenantId, importId, job.parts),
      format: job.format,
      ...(mapping === undefined ? {} : { mapping }),
      encoding: job.encoding,
      settings: { defaultRegion: tenant.defaultRegion, timeZone: tenant.timeZone },
      now: deps.now(),
      // 400 rows a batch: four BatchGets and four transactions in flight per round trip.
      batchSize: 400,
      port: {
        load: (memberIds) => deps.members.getMany(tenantId, memberIds),
        save: (changes) =>
          deps.members.put(
            tenantId,
            changes.map((change) => ({
              member: change.next,
              expectedUpdatedAt: change.previous?.updatedAt ?? null,
            })),
          ),
      },
      onProgress: async (progress) => {
        const at = deps.now().getTime();
        if (at - lastProgress < progressEveryMs) return;
        lastProgress = at;
        await save({ ...current, report: progress });
      },
    });
  } catch (error) {
    // The store failed, not the file. The import is marked failed so that no one waits on it,
    // and the error goes up: the message is retried (and skipped), then lands in the DLQ,
    // whose alarm tells the operator.
    const finished = deps.now();
    await save({
      ...current,
      state: 'failed',
      error: 'The import stopped on an internal error; nothing is lost, upload the file again.',
      finishedAt: finished.toISOString(),
      expiresAt: expiry(finished),
    });
    throw error;
  }
  const outcome = report.state === 'completed' ? 'completed' : 'failed';
  const finished = deps.now();
  await save({
    ...current,
    state: outcome,
    report,
    finishedAt: finished.toISOString(),
    expiresAt: expiry(finished),
  });
  await deps.parts.delete(tenantId, importId);
  return outcome;
}
