import type { Member } from './member';

/** A page of members and where the next one starts (opaque to callers). */
export interface MemberPage {
  readonly members: Member[];
  readonly cursor?: string;
}

/** Persistence of members, one tenant at a time; DynamoDB on AWS and on the local stack. */
export interface MemberStore {
  get(tenantId: string, memberId: string): Promise<Member | undefined>;
  /**
   * Members by id (absent ids are simply missing from the map). Strongly consistent unless
   * `consistent: false`: half the read cost, for a reader that may see a change a second late.
   */
  getMany(
    tenantId: string,
    memberIds: readonly string[],
    options?: { readonly consistent?: boolean },
  ): Promise<Map<string, Member>>;
  /**
   * Writes members. With `expectedUpdatedAt` (undefined: must not exist yet) a write that
   * would overwrite a concurrent change fails with ConflictError instead.
   */
  put(
    tenantId: string,
    writes: readonly { member: Member; expectedUpdatedAt?: string | null }[],
  ): Promise<void>;
  /** Removes the member and returns what was removed. */
  delete(tenantId: string, memberId: string): Promise<Member | undefined>;
  /** Member ids with this E.164 number (members may share a household number). */
  idsByPhone(tenantId: string, phone: string): Promise<string[]>;
  /** One shard's members in pages; the audience resolver reads every shard in parallel. */
  scanShard(tenantId: string, shard: number, options?: { pageSize?: number }): AsyncIterable<Member[]>;
  /**
   * Pages through every shard in turn, for listing. With a filter, at most `scanBudget`
   * members are read per call, so a page may hold fewer than `limit` and still have a cursor.
   */
  list(
    tenantId: string,
    options: { limit: number; cursor?: string; filter?: (member: Member) => boolean; scanBudget?: number },
  ): Promise<MemberPage>;
  /** Adds and removes tags atomically, without reading the member first. */
  updateTags(
    tenantId: string,
    memberId: string,
    change: { add: readonly string[]; remove: readonly string[]; at: string },
  ): Promise<boolean>;
}

export interface OptOut {
  readonly phoneHash: string;
  /** The number in clear while it is needed for exports; removed when its member is erased. */
  readonly phone?: string;
  /** Where it came from: `sms` (a reply), `carrier`, `api`, `import` … */
  readonly source: string;
  /** Why, in the merchant's words (the API's `reason`), when given. */
  readonly reason?: string;
  readonly at: string;
}

/** A page of opt-outs; `cursor` is the phone hash of the last one (a list resumes after it). */
export interface OptOutPage {
  readonly optOuts: OptOut[];
  readonly cursor?: string;
}

/** Opt-outs, keyed by phone hash so that they survive erasure. */
export interface OptOutStore {
  add(tenantId: string, optOut: OptOut): Promise<void>;
  /** Adds unless the number is opted out already (the first time and source stay); true if added. */
  addIfAbsent(tenantId: string, optOut: OptOut): Promise<boolean>;
  /** One opt-out, read strongly consistent. */
  get(tenantId: string, phoneHash: string): Promise<OptOut | undefined>;
  /**
   * Opt-outs a page at a time, in a fixed order. Any listed opt-out's phone hash is a cursor
   * that resumes right after it, so a reader may stop in the middle of a page.
   */
  list(tenantId: string, options: { limit: number; cursor?: string }): Promise<OptOutPage>;
  /**
   * Removes the opt-out; with `ifAt`, only the one recorded at that time, so an opt-out that
   * arrived since it was read (a reply, say) is never wiped: answers whether it was removed.
   */
  remove(tenantId: string, phoneHash: string, options?: { readonly ifAt?: string }): Promise<boolean>;
  /** Which of these numbers are opted out; `consistent` reads what was written a moment ago. */
  optedOut(
    tenantId: string,
    phoneHashes: readonly string[],
    options?: { readonly consistent?: boolean },
  ): Promise<Set<string>>;
  /** Every opt-out of the tenant (the segmenter loads them once per run). */
  all(tenantId: string): AsyncIterable<OptOut[]>;
  /** Drops the number in clear, keeping the hash (member erasure). */
  forgetPhone(tenantId: string, phoneHash: string): Promise<void>;
}
