// The things a merchant configures (segments, templates, imports, campaigns) are records of a
// kind, keyed by tenant and id, changed with optimistic concurrency. One port for all of them.

export interface VersionedRecord {
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface RecordPage<T> {
  readonly items: T[];
  readonly cursor?: string;
}

export interface RecordStore<T extends VersionedRecord> {
  get(tenantId: string, id: string): Promise<T | undefined>;
  list(tenantId: string, options: { limit: number; cursor?: string }): Promise<RecordPage<T>>;
  /** Throws ConflictError when the id is taken. */
  create(tenantId: string, id: string, record: T): Promise<void>;
  /** Throws ConflictError when the stored record's updatedAt is not `expectedUpdatedAt`. */
  replace(tenantId: string, id: string, record: T, expectedUpdatedAt: string): Promise<void>;
  /** Whether there was a record to delete. */
  delete(tenantId: string, id: string): Promise<boolean>;
}

/**
 * The `updatedAt` of a record's next version: now, or a millisecond after `previous` when the
 * clock has not moved, so every version has its own stamp for the conditional write to check.
 */
export function nextVersion({ now, previous }: { now: Date; previous: string }): string {
  return new Date(Math.max(now.getTime(), Date.parse(previous) + 1)).toISOString();
}
