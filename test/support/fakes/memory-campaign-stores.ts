import {
  type CampaignRun,
  ConflictError,
  cleanDeltas,
  cleanFinalCounts,
  type FinalRunCounts,
  type RecordPage,
  type RunCounters,
  type RunDeltas,
  type RunStore,
  type RunTally,
  tallyOf,
  ValidationError,
  withHourlyCounts,
} from '@qunfa/domain';

/**
 * In-memory RunStore and RunCounters for unit tests. The DynamoDB adapters pass the same
 * specification against DynamoDB Local (test/integration/campaigns-dynamo.test.ts).
 */
export class MemoryRunStore implements RunStore {
  readonly runs = new Map<string, CampaignRun>();
  readonly #key = (tenantId: string, campaignId: string, runId: string): string =>
    `${tenantId}\u0000${campaignId}#${runId}`;

  async get(tenantId: string, campaignId: string, runId: string): Promise<CampaignRun | undefined> {
    return this.runs.get(this.#key(tenantId, campaignId, runId));
  }
  async list(
    tenantId: string,
    campaignId: string,
    { limit, cursor }: { limit: number; cursor?: string },
  ): Promise<RecordPage<CampaignRun>> {
    const prefix = `${tenantId}\u0000${campaignId}#`;
    const all = [...this.runs.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => b.localeCompare(a))
      .map(([, run]) => run);
    if (cursor !== undefined && !/^\d+$/.test(cursor)) {
      throw new ValidationError([{ path: 'query.cursor', message: 'not a cursor this API returned' }]);
    }
    const start = Number(cursor ?? 0);
    const items = all.slice(start, start + limit);
    return start + limit < all.length ? { items, cursor: String(start + limit) } : { items };
  }
  async create(tenantId: string, run: CampaignRun): Promise<void> {
    const key = this.#key(tenantId, run.campaignId, run.runId);
    if (this.runs.has(key)) throw new ConflictError(`Run ${run.runId} already exists.`);
    this.runs.set(key, run);
  }
  async replace(tenantId: string, run: CampaignRun, expectedUpdatedAt: string): Promise<void> {
    const key = this.#key(tenantId, run.campaignId, run.runId);
    if (this.runs.get(key)?.updatedAt !== expectedUpdatedAt) {
      throw new ConflictError(`Run ${run.runId} was changed or deleted meanwhile.`);
    }
    this.runs.set(key, run);
  }
  async delete(tenantId: string, campaignId: string, runId: string): Promise<boolean> {
    return this.runs.delete(this.#key(tenantId, campaignId, runId));
  }
}

/** One counter map per run (a single shard), with the first and latest time counted, and its final counts. */
export class MemoryRunCounters implements RunCounters {
  readonly #runs = new Map<string, { counts: Map<string, number>; firstAt: string; lastAt: string }>();
  readonly #finals = new Map<string, Map<string, number>>();
  readonly #now: () => Date;

  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
  }

  async add(tenantId: string, campaignId: string, runId: string, deltas: RunDeltas): Promise<void> {
    const now = this.#now();
    const increments = cleanDeltas(withHourlyCounts({ deltas, at: now }));
    if (increments.size === 0) return;
    const key = `${tenantId}\u0000${campaignId}#${runId}`;
    const at = now.toISOString();
    const run = this.#runs.get(key) ?? { counts: new Map<string, number>(), firstAt: at, lastAt: at };
    for (const [counter, by] of increments) run.counts.set(counter, (run.counts.get(counter) ?? 0) + by);
    this.#runs.set(key, { ...run, lastAt: at });
  }

  async read(tenantId: string, campaignId: string, runId: string): Promise<RunTally> {
    const key = `${tenantId}\u0000${campaignId}#${runId}`;
    const run = this.#runs.get(key);
    const final = this.#finals.get(key);
    if (!run) return tallyOf({ shards: [], final });
    return tallyOf({ shards: [run.counts], final, firstAt: run.firstAt, lastAt: run.lastAt });
  }

  async finalize(
    tenantId: string,
    campaignId: string,
    runId: string,
    counts: FinalRunCounts,
  ): Promise<boolean> {
    const key = `${tenantId}\u0000${campaignId}#${runId}`;
    const final = cleanFinalCounts(counts);
    if (this.#finals.has(key)) return false;
    this.#finals.set(key, final);
    return true;
  }
}
