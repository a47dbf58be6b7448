import {
  type CapSend,
  decideCapClaim,
  eventMove,
  type FrequencyCapClaim,
  type FrequencyCapStore,
  fitInBudget,
  type MessageRecord,
  type MessageStore,
  type MoveResult,
  memberShard,
  type NewMessageRecord,
  type OutgoingSms,
  type RateTake,
  type RunBudgetStore,
  type SenderProvider,
  type SendRateLimiter,
  type SmsProviderId,
  type SmsSendOutcome,
} from '@qunfa/domain';

// In-memory ports of the sending side for unit tests: message records, run budgets,
// frequency caps, a rate limiter that grants everything, and a provider that records what it
// was given. The DynamoDB adapters pass the same specifications against DynamoDB Local
// (test/integration: message-store, budget-dynamo, sending-dynamo).

/** Message records with the one table of moves (record.ts), conditional as DynamoDB's are. */
export class MemoryMessageStore implements MessageStore {
  readonly records = new Map<string, MessageRecord>();
  readonly #done = new Map<string, Set<number>>();
  readonly #key = (tenantId: string, runId: string, memberId: string): string =>
    `${tenantId}\u0000${runId}\u0000${memberId}`;

  async create(
    tenantId: string,
    { campaignId, runId }: { campaignId: string; runId: string },
    records: readonly NewMessageRecord[],
    now: Date,
  ): Promise<{ created: string[]; existing: number }> {
    const at = now.toISOString();
    const created: string[] = [];
    let existing = 0;
    for (const record of records) {
      const key = this.#key(tenantId, runId, record.memberId);
      if (this.records.has(key)) {
        existing++;
        continue;
      }
      this.records.set(key, { ...record, runId, campaignId, attempts: 0, createdAt: at, updatedAt: at });
      created.push(record.memberId);
    }
    return { created, existing };
  }

  async get(tenantId: string, runId: string, memberId: string): Promise<MessageRecord | undefined> {
    return this.records.get(this.#key(tenantId, runId, memberId));
  }

  claim(tenantId: string, runId: string, memberId: string, { token, now }: { token: string; now: Date }) {
    return this.move(tenantId, runId, memberId, { event: 'claim', token, now });
  }

  async move(
    tenantId: string,
    runId: string,
    memberId: string,
    { event, token, claimedBefore, now, set = {} }: Parameters<MessageStore['move']>[3],
  ): Promise<MoveResult> {
    const key = this.#key(tenantId, runId, memberId);
    const current = this.records.get(key);
    if (!current) return { moved: false };
    const { from, to } = eventMove(event);
    const claimed = current.state === 'claimed';
    const refused =
      !from.includes(current.state) ||
      (event !== 'claim' && token !== undefined && claimed && current.claimToken !== token) ||
      (claimedBefore !== undefined &&
        claimed &&
        !(current.claimedAt !== undefined && current.claimedAt < claimedBefore.toISOString()));
    if (refused) return { moved: false, current };
    const at = now.toISOString();
    const defined = Object.fromEntries(Object.entries(set).filter(([, value]) => value !== undefined));
    const next: MessageRecord = {
      ...current,
      ...defined,
      state: to,
      updatedAt: at,
      ...(event === 'claim'
        ? { claimToken: token ?? '', claimedAt: at, attempts: current.attempts + 1 }
        : {}),
    };
    this.records.set(key, next);
    return { moved: true, record: next };
  }

  async *scan(tenantId: string, runId: string): AsyncIterable<MessageRecord[]> {
    const prefix = `${tenantId}\u0000${runId}\u0000`;
    const page = [...this.records].filter(([key]) => key.startsWith(prefix)).map(([, record]) => record);
    if (page.length > 0) yield page;
  }

  async *scanShard(tenantId: string, runId: string, shard: number): AsyncIterable<MessageRecord[]> {
    for await (const page of this.scan(tenantId, runId)) {
      const inShard = page.filter((record) => memberShard(record.memberId) === shard);
      if (inShard.length > 0) yield inShard;
    }
  }

  /** RunMessagePages: in member id order, the cursor the last member id given. */
  async page(
    tenantId: string,
    runId: string,
    {
      limit,
      cursor,
      state,
      variantId,
    }: { limit: number; cursor?: string; state?: string; variantId?: string },
  ): Promise<{ records: MessageRecord[]; cursor?: string }> {
    const matching: MessageRecord[] = [];
    for await (const page of this.scan(tenantId, runId)) matching.push(...page);
    const records = matching
      .filter(
        (record) =>
          (state === undefined || record.state === state) &&
          (variantId === undefined || record.variantId === variantId),
      )
      .filter((record) => cursor === undefined || record.memberId > cursor)
      .sort((a, b) => a.memberId.localeCompare(b.memberId));
    const page = records.slice(0, limit);
    const last = page.at(-1);
    return records.length > limit && last ? { records: page, cursor: last.memberId } : { records: page };
  }

  async shardsDone(tenantId: string, runId: string): Promise<Set<number>> {
    return new Set(this.#done.get(`${tenantId}\u0000${runId}`));
  }

  async markShardDone(tenantId: string, runId: string, shard: number): Promise<void> {
    const key = `${tenantId}\u0000${runId}`;
    this.#done.set(key, new Set([...(this.#done.get(key) ?? []), shard]));
  }

  /** Every record of a run, by member id. */
  ofRun(tenantId: string, runId: string): MessageRecord[] {
    const prefix = `${tenantId}\u0000${runId}\u0000`;
    return [...this.records]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, record]) => record)
      .sort((a, b) => a.memberId.localeCompare(b.memberId));
  }
}

/**
 * Run budgets in a map, with the adapter's algorithm (the batch at once, else as many as
 * fit), and every write it would make listed in `writes`, so tests can count them.
 */
export class MemoryRunBudget implements RunBudgetStore {
  readonly #reserved = new Map<string, number>();
  readonly writes: { kind: 'reserve' | 'refused' | 'adjust'; runId: string; micros: number }[] = [];
  readonly #key = (tenantId: string, campaignId: string, runId: string): string =>
    `${tenantId}\u0000${campaignId}\u0000${runId}`;

  async reserve(
    tenantId: string,
    campaignId: string,
    runId: string,
    { capMicros, costs }: { capMicros: number; costs: readonly number[] },
  ): Promise<boolean[]> {
    const key = this.#key(tenantId, campaignId, runId);
    const total = costs.reduce((sum, cost) => sum + cost, 0);
    if (total === 0) return costs.map(() => true);
    if (this.#add(key, runId, capMicros, total)) return costs.map(() => true);
    const fits = fitInBudget({ availableMicros: capMicros - (this.#reserved.get(key) ?? 0), costs });
    const fitting = costs.reduce((sum, cost, i) => (fits[i] ? sum + cost : sum), 0);
    if (fitting > 0 && !this.#add(key, runId, capMicros, fitting)) {
      throw new Error('The memory budget changed within one reservation.');
    }
    return fits;
  }

  async adjust(tenantId: string, campaignId: string, runId: string, byMicros: number): Promise<void> {
    if (byMicros === 0) return;
    const key = this.#key(tenantId, campaignId, runId);
    this.writes.push({ kind: 'adjust', runId, micros: byMicros });
    this.#reserved.set(key, (this.#reserved.get(key) ?? 0) + byMicros);
  }

  async reserved(tenantId: string, campaignId: string, runId: string): Promise<number> {
    return this.#reserved.get(this.#key(tenantId, campaignId, runId)) ?? 0;
  }

  /** The conditional add: refused (and listed as such) when it would pass the cap. */
  #add(key: string, runId: string, capMicros: number, micros: number): boolean {
    const reserved = this.#reserved.get(key) ?? 0;
    if (reserved + micros > capMicros) {
      this.writes.push({ kind: 'refused', runId, micros });
      return false;
    }
    this.writes.push({ kind: 'reserve', runId, micros });
    this.#reserved.set(key, reserved + micros);
    return true;
  }
}

/** Each member's sends in a map: the frequency-cap decisions, without the races. */
export class MemoryCapStore implements FrequencyCapStore {
  readonly sends = new Map<string, CapSend[]>();
  claims = 0;

  async claim(input: Parameters<FrequencyCapStore['claim']>[0]): Promise<FrequencyCapClaim> {
    this.claims++;
    const key = `${input.tenantId}/${input.memberKey}`;
    const decision = decideCapClaim({ ...input, sends: this.sends.get(key) ?? [], rules: input.caps });
    if (!decision.granted) {
      return {
        granted: false,
        reason: 'capped',
        cap: decision.cap,
        retryAt: new Date(decision.retryAt).toISOString(),
      };
    }
    this.sends.set(key, [...decision.sends]);
    return {
      granted: true,
      token: { tenantId: input.tenantId, memberKey: input.memberKey, claimId: input.claimId },
    };
  }

  async release({ tenantId, memberKey, claimId }: { tenantId: string; memberKey: string; claimId: string }) {
    const key = `${tenantId}/${memberKey}`;
    this.sends.set(
      key,
      (this.sends.get(key) ?? []).filter((send) => send.claimId !== claimId),
    );
  }
}

/** Grants every take, and lists them (account and parts). */
export class MemoryRateLimiter implements SendRateLimiter {
  readonly takes: { account: string; parts: number }[] = [];

  async take({ account, parts }: Parameters<SendRateLimiter['take']>[0]): Promise<RateTake> {
    this.takes.push({ account, parts });
    return { granted: true };
  }
}

type Answer = Exclude<SmsSendOutcome, { outcome: 'accepted' }>['outcome'];

/**
 * A free-text provider that accepts every message, except those to numbers given an answer
 * in `answers` (refused, throttled, …), and records what it accepted.
 */
export class RecordingProvider implements SenderProvider {
  readonly id: SmsProviderId;
  readonly capabilities = {
    content: ['text'] as const,
    countingRule: 'standard' as const,
    echoesReference: true,
  };
  readonly accepted: OutgoingSms[] = [];
  readonly answers = new Map<string, { outcome: Answer; code: string }>();
  /** Parts the provider says it billed, when it says (else the sender's own count stands). */
  billedParts: number | undefined;
  #next = 0;

  constructor(id: SmsProviderId = 'simulator') {
    this.id = id;
  }

  async send(batch: readonly OutgoingSms[]): Promise<readonly SmsSendOutcome[]> {
    return batch.map((sms) => {
      const answer = this.answers.get(sms.phone);
      if (answer) {
        return { reference: sms.reference, ...answer, reason: `refused: ${answer.code}`, scope: 'message' };
      }
      this.accepted.push(sms);
      return {
        reference: sms.reference,
        outcome: 'accepted',
        providerMessageId: `rec-${++this.#next}`,
        ...(this.billedParts === undefined ? {} : { parts: this.billedParts }),
      };
    });
  }

  /** How many messages each phone received. */
  byPhone(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const sms of this.accepted) counts.set(sms.phone, (counts.get(sms.phone) ?? 0) + 1);
    return counts;
  }
}
