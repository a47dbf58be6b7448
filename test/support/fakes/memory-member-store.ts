import { randomBytes } from 'node:crypto';
import {
  type Campaign,
  ConflictError,
  type ImportJob,
  type ImportPartStore,
  type Member,
  type MemberDeps,
  type MemberPage,
  type MemberStore,
  type MessageStore,
  memberShard,
  type OptOut,
  type OptOutPage,
  type OptOutStore,
  type RecordPage,
  type RecordStore,
  type RunCounters,
  type RunStore,
  type SavedSegment,
  type SavedTemplate,
  type SegmentDeps,
  type SendRateLimiter,
  type TagJob,
  type TemplateDeps,
  ValidationError,
  type VersionedRecord,
} from '@qunfa/domain';
import { MemoryRunCounters, MemoryRunStore } from './memory-campaign-stores';
import { MemoryMessageStore, MemoryRateLimiter } from './memory-sending-stores';

/**
 * In-memory MemberStore and OptOutStore for domain and API unit tests. The DynamoDB stores
 * pass the same specification against DynamoDB Local (test/integration).
 */
export class MemoryMemberStore implements MemberStore {
  readonly members = new Map<string, Member>();
  readonly #key = (tenantId: string, memberId: string): string => `${tenantId}\u0000${memberId}`;

  async get(tenantId: string, memberId: string): Promise<Member | undefined> {
    return this.members.get(this.#key(tenantId, memberId));
  }
  async getMany(tenantId: string, memberIds: readonly string[]): Promise<Map<string, Member>> {
    const found = new Map<string, Member>();
    for (const id of memberIds) {
      const member = this.members.get(this.#key(tenantId, id));
      if (member) found.set(id, member);
    }
    return found;
  }
  async put(
    tenantId: string,
    writes: readonly { member: Member; expectedUpdatedAt?: string | null }[],
  ): Promise<void> {
    for (const { member, expectedUpdatedAt } of writes) {
      const current = this.members.get(this.#key(tenantId, member.memberId));
      if (expectedUpdatedAt === null && current) throw new ConflictError(`Member ${member.memberId} exists.`);
      if (typeof expectedUpdatedAt === 'string' && current?.updatedAt !== expectedUpdatedAt)
        throw new ConflictError(`Member ${member.memberId} was changed meanwhile.`);
      this.members.set(this.#key(tenantId, member.memberId), member);
    }
  }
  async delete(tenantId: string, memberId: string): Promise<Member | undefined> {
    const member = this.members.get(this.#key(tenantId, memberId));
    this.members.delete(this.#key(tenantId, memberId));
    return member;
  }
  async idsByPhone(tenantId: string, phone: string): Promise<string[]> {
    return this.#ofTenant(tenantId)
      .filter((m) => m.phone === phone)
      .map((m) => m.memberId);
  }
  async *scanShard(tenantId: string, shard: number, { pageSize = 1_000 } = {}): AsyncIterable<Member[]> {
    const inShard = this.#ofTenant(tenantId).filter((m) => memberShard(m.memberId) === shard);
    for (let i = 0; i < inShard.length; i += pageSize) yield inShard.slice(i, i + pageSize);
  }
  async list(
    tenantId: string,
    { limit, cursor, filter }: { limit: number; cursor?: string; filter?: (member: Member) => boolean },
  ): Promise<MemberPage> {
    const all = this.#ofTenant(tenantId).filter((m) => !filter || filter(m));
    const start = parseCursor(cursor);
    const members = all.slice(start, start + limit);
    return start + limit < all.length ? { members, cursor: String(start + limit) } : { members };
  }
  async updateTags(
    tenantId: string,
    memberId: string,
    { add, remove, at }: { add: readonly string[]; remove: readonly string[]; at: string },
  ): Promise<boolean> {
    const member = this.members.get(this.#key(tenantId, memberId));
    if (!member) return false;
    const tags = new Set(member.tags);
    for (const t of add) tags.add(t);
    for (const t of remove) tags.delete(t);
    this.members.set(this.#key(tenantId, memberId), { ...member, tags: [...tags].sort(), updatedAt: at });
    return true;
  }
  #ofTenant(tenantId: string): Member[] {
    return [...this.members.entries()]
      .filter(([key]) => key.startsWith(`${tenantId}\u0000`))
      .map(([, member]) => member)
      .sort((a, b) => a.memberId.localeCompare(b.memberId));
  }
}

/** Cursors are offsets here; anything else is refused as the DynamoDB stores refuse it. */
function parseCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  if (!/^\d+$/.test(cursor)) {
    throw new ValidationError([{ path: 'query.cursor', message: 'not a cursor this API returned' }]);
  }
  return Number(cursor);
}

export class MemoryOptOutStore implements OptOutStore {
  readonly optOuts = new Map<string, OptOut>();
  async add(tenantId: string, optOut: OptOut): Promise<void> {
    this.optOuts.set(`${tenantId}:${optOut.phoneHash}`, optOut);
  }
  async addIfAbsent(tenantId: string, optOut: OptOut): Promise<boolean> {
    if (this.optOuts.has(`${tenantId}:${optOut.phoneHash}`)) return false;
    this.optOuts.set(`${tenantId}:${optOut.phoneHash}`, optOut);
    return true;
  }
  async get(tenantId: string, phoneHash: string): Promise<OptOut | undefined> {
    return this.optOuts.get(`${tenantId}:${phoneHash}`);
  }
  /** In phone-hash order, so that any listed hash is a cursor, as in DynamoDB. */
  async list(tenantId: string, { limit, cursor }: { limit: number; cursor?: string }): Promise<OptOutPage> {
    const after = [...this.optOuts.entries()]
      .filter(([key]) => key.startsWith(`${tenantId}:`))
      .map(([, optOut]) => optOut)
      .filter((optOut) => cursor === undefined || optOut.phoneHash > cursor)
      .sort((a, b) => (a.phoneHash < b.phoneHash ? -1 : 1));
    const optOuts = after.slice(0, limit);
    const last = optOuts.at(-1);
    return after.length > limit && last ? { optOuts, cursor: last.phoneHash } : { optOuts };
  }
  async remove(
    tenantId: string,
    phoneHash: string,
    { ifAt }: { readonly ifAt?: string } = {},
  ): Promise<boolean> {
    const key = `${tenantId}:${phoneHash}`;
    const current = this.optOuts.get(key);
    if (!current || (ifAt !== undefined && current.at !== ifAt)) return false;
    return this.optOuts.delete(key);
  }
  async optedOut(tenantId: string, phoneHashes: readonly string[]): Promise<Set<string>> {
    return new Set(phoneHashes.filter((hash) => this.optOuts.has(`${tenantId}:${hash}`)));
  }
  async *all(tenantId: string): AsyncIterable<OptOut[]> {
    yield [...this.optOuts.entries()].filter(([key]) => key.startsWith(`${tenantId}:`)).map(([, o]) => o);
  }
  async forgetPhone(tenantId: string, phoneHash: string): Promise<void> {
    const current = this.optOuts.get(`${tenantId}:${phoneHash}`);
    if (!current) return;
    const { phone: _phone, ...rest } = current;
    this.optOuts.set(`${tenantId}:${phoneHash}`, rest);
  }
}

export function memoryMemberDeps(now: () => Date = () => new Date('2026-11-23T08:00:00Z')): MemberDeps &
  SegmentDeps & {
    members: MemoryMemberStore;
    optOuts: MemoryOptOutStore;
    segments: MemoryRecordStore<SavedSegment>;
  } {
  return {
    members: new MemoryMemberStore(),
    optOuts: new MemoryOptOutStore(),
    segments: new MemoryRecordStore<SavedSegment>(),
    random: (n) => randomBytes(n),
    now,
  };
}

/** In-memory RecordStore (segments, templates, imports) with the same conflicts as DynamoDB's. */
export class MemoryRecordStore<T extends VersionedRecord> implements RecordStore<T> {
  readonly records = new Map<string, T>();
  async get(tenantId: string, id: string): Promise<T | undefined> {
    return this.records.get(`${tenantId}\u0000${id}`);
  }
  async list(
    tenantId: string,
    { limit, cursor }: { limit: number; cursor?: string },
  ): Promise<RecordPage<T>> {
    const all = [...this.records.entries()]
      .filter(([key]) => key.startsWith(`${tenantId}\u0000`))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, record]) => record);
    const start = parseCursor(cursor);
    const items = all.slice(start, start + limit);
    return start + limit < all.length ? { items, cursor: String(start + limit) } : { items };
  }
  async create(tenantId: string, id: string, record: T): Promise<void> {
    if (this.records.has(`${tenantId}\u0000${id}`)) throw new ConflictError(`${id} already exists.`);
    this.records.set(`${tenantId}\u0000${id}`, record);
  }
  async replace(tenantId: string, id: string, record: T, expectedUpdatedAt: string): Promise<void> {
    if (this.records.get(`${tenantId}\u0000${id}`)?.updatedAt !== expectedUpdatedAt)
      throw new ConflictError(`${id} was changed or deleted meanwhile.`);
    this.records.set(`${tenantId}\u0000${id}`, record);
  }
  async delete(tenantId: string, id: string): Promise<boolean> {
    return this.records.delete(`${tenantId}\u0000${id}`);
  }
}

export class MemoryImportPartStore implements ImportPartStore {
  readonly parts = new Map<string, Uint8Array>();
  async put(tenantId: string, importId: string, part: number, bytes: Uint8Array): Promise<void> {
    this.parts.set(`${tenantId}:${importId}:${part}`, new Uint8Array(bytes));
  }
  async sizes(tenantId: string, importId: string): Promise<Map<number, number>> {
    const prefix = `${tenantId}:${importId}:`;
    return new Map(
      [...this.parts.entries()]
        .filter(([key]) => key.startsWith(prefix))
        .map(([key, bytes]) => [Number(key.slice(prefix.length)), bytes.byteLength]),
    );
  }
  async *read(tenantId: string, importId: string, count: number): AsyncIterable<Uint8Array> {
    for (let part = 1; part <= count; part++) {
      const bytes = this.parts.get(`${tenantId}:${importId}:${part}`);
      if (!bytes) throw new Error(`Part ${part} is missing.`);
      yield bytes;
    }
  }
  async delete(tenantId: string, importId: string): Promise<void> {
    for (const key of [...this.parts.keys()])
      if (key.startsWith(`${tenantId}:${importId}:`)) this.parts.delete(key);
  }
}

/** Every store the API and the importer use, behind the ports, for one test. */
export interface TestStores extends MemberDeps, SegmentDeps, TemplateDeps {
  readonly imports: RecordStore<ImportJob>;
  readonly parts: ImportPartStore;
  readonly tagJobs: RecordStore<TagJob>;
  readonly campaigns: RecordStore<Campaign>;
  readonly runs: RunStore;
  readonly runCounters: RunCounters;
  /** For test sends (the API specs that send); memory ones when left out. */
  readonly messages?: MessageStore;
  readonly rateLimiter?: SendRateLimiter;
}

export function memoryStores(now?: () => Date): TestStores {
  const deps = memoryMemberDeps(now);
  return {
    ...deps,
    imports: new MemoryRecordStore<ImportJob>(),
    parts: new MemoryImportPartStore(),
    tagJobs: new MemoryRecordStore<TagJob>(),
    templates: new MemoryRecordStore<SavedTemplate>(),
    campaigns: new MemoryRecordStore<Campaign>(),
    runs: new MemoryRunStore(),
    runCounters: new MemoryRunCounters(deps.now),
    messages: new MemoryMessageStore(),
    rateLimiter: new MemoryRateLimiter(),
  };
}
