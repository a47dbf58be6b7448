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
