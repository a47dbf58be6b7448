import { randomInt } from 'node:crypto';
import {
  type Campaign,
  type CampaignDeps,
  type CampaignRun,
  campaign,
  campaignRun,
  cleanDeltas,
  cleanFinalCounts,
  type FinalRunCounts,
  isRecountedKey,
  type RecordPage,
  type RunCounters,
  type RunDeltas,
  type RunStore,
  type RunTally,
  type SchedulerPort,
  tallyOf,
  ValidationError,
  withHourlyCounts,
} from '@qunfa/domain';
import { ConfigError, type FunctionConfig } from './config';
import { batchGetItems } from './dynamo/batch-get';
import { DynamoRecordStore } from './dynamo/record-store';
import { memberDeps } from './members';
import { EventBridgeScheduler } from './scheduler/event-bridge-scheduler';
import { templateStore } from './templates';
import {
  ConditionalCheckFailedException,
  type DocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from './wire/dynamodb';
import { SchedulerClient } from './wire/scheduler';

// Campaigns, their runs and the runs' counters on DynamoDB (docs/data-model.md):
//
// | item          | table     | pk                                         | sk                     |
// | campaign      | campaigns | `<tenant>#CAMPAIGN`                        | `<campaignId>`         |
// | run           | campaigns | `<tenant>#RUN`                             | `<campaignId>#<runId>` |
// | run counters  | metrics   | `<tenant>#RUN#<campaignId>#<runId>#<0–9>`  | `COUNTS`               |
// | final counts  | metrics   | `<tenant>#RUN#<campaignId>#<runId>#FINAL`  | `COUNTS`               |
//
// Campaigns and runs change a few times per run at most: one key per kind and tenant is far
// from any limit. Run ids sort by scheduled time, so a campaign's runs, newest first, are
// one Query on the sort-key prefix. Counters take one write per batch from every sender at
// once: at 5,000 messages/s in batches of 100 that is 50 writes/s, spread over ten shard keys
// (5 writes/s each, far under the 1,000 a partition takes), and a read is one BatchGetItem
// (the ten shards and the final counts, which a run's completion writes once).

/** Campaigns: campaigns table, kind CAMPAIGN, read back through `campaign`. */
export function campaignStore({
  client,
  tableName,
}: {
  client: DocumentClient;
  tableName: string;
}): DynamoRecordStore<Campaign> {
  return new DynamoRecordStore({ client, tableName, kind: 'CAMPAIGN', schema: campaign, label: 'Campaign' });
}

/** Runs: campaigns table, kind RUN, id `<campaignId>#<runId>`, read back through `campaignRun`. */
export class DynamoRunStore implements RunStore {
  readonly #client: DocumentClient;
  readonly #tableName: string;
  readonly #records: DynamoRecordStore<CampaignRun>;

  constructor({ client, tableName }: { client: DocumentClient; tableName: string }) {
    this.#client = client;
    this.#tableName = tableName;
    this.#records = new DynamoRecordStore({
      client,
      tableName,
      kind: 'RUN',
      schema: campaignRun,
      label: 'Run',
    });
  }

  get(tenantId: string, campaignId: string, runId: string): Promise<CampaignRun | undefined> {
    return this.#records.get(tenantId, `${campaignId}#${runId}`);
  }

  create(tenantId: string, run: CampaignRun): Promise<void> {
    return this.#records.create(tenantId, `${run.campaignId}#${run.runId}`, run);
  }

  replace(tenantId: string, run: CampaignRun, expectedUpdatedAt: string): Promise<void> {
    return this.#records.replace(tenantId, `${run.campaignId}#${run.runId}`, run, expectedUpdatedAt);
  }

  delete(tenantId: string, campaignId: string, runId: string): Promise<boolean> {
    return this.#records.delete(tenantId, `${campaignId}#${runId}`);
  }

  async list(
    tenantId: string,
    campaignId: string,
    { limit, cursor }: { limit: number; cursor?: string },
  ): Promise<RecordPage<CampaignRun>> {
    const pk = `${tenantId}#RUN`;
    const prefix = `${campaignId}#`;
    const start = cursor === undefined ? undefined : decodeCursor(cursor, prefix);
    const page = await this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
        ScanIndexForward: false,
        Limit: limit,
        ...(start === undefined ? {} : { ExclusiveStartKey: { pk, sk: start } }),
      }),
    );
    const items = (page.Items ?? []).map(({ pk: _pk, sk: _sk, ...rest }) => campaignRun.parse(rest));
    const last = page.LastEvaluatedKey?.sk;
    return typeof last === 'string' ? { items, cursor: Buffer.from(last).toString('base64url') } : { items };
  }
}

function decodeCursor(cursor: string, prefix: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(prefix) || Buffer.from(text).toString('base64url') !== cursor) {
    throw new ValidationError([{ path: 'query.cursor', message: 'not a cursor this API returned' }]);
  }
  return text;
}

/** Shards per run: ten keys take a run's batches at any provider rate qunfa is sized for. */
export const runCounterShards = 10;

const countsSortKey = 'COUNTS';

/**
 * RunCounters on the metrics table: each add goes to one shard, chosen at random, as a single
 * UpdateItem that ADDs every delta of the batch (atomic, so concurrent adds never lose one)
 * and stamps the first and latest time counted; the final counts are one PutItem on a key of
 * their own, conditional on the item not existing (the first stands); a read fetches the ten
 * shards and the final counts in one BatchGetItem and sums them, the recounted counters from
 * the final counts when they exist.
 */
export class DynamoRunCounters implements RunCounters {
  readonly #client: DocumentClient;
  readonly #tableName: string;
  readonly #now: () => Date;
  readonly #shard: () => number;

  constructor({
    client,
    tableName,
    now = () => new Date(),
    shard = () => randomInt(runCounterShards),
  }: {
    client: DocumentClient;
    tableName: string;
    now?: () => Date;
    /** Which shard an add goes to (tests pin it). */
    shard?: () => number;
  }) {
    this.#client = client;
    this.#tableName = tableName;
    this.#now = now;
    this.#shard = shard;
  }

  #pk(tenantId: string, campaignId: string, runId: string, shard: number | 'FINAL'): string {
    return `${tenantId}#RUN#${campaignId}#${runId}#${shard}`;
  }

  async add(tenantId: string, campaignId: string, runId: string, deltas: RunDeltas): Promise<void> {
    const update = this.addition(tenantId, campaignId, runId, deltas);
    if (update) await this.#client.send(new UpdateCommand(update));
  }

  /**
   * The update `add` makes (on a random shard), for a caller that writes it in a transaction
   * with its own item (a conversion counted once per event); undefined when nothing is added.
   */
  addition(
    tenantId: string,
    campaignId: string,
    runId: string,
    deltas: RunDeltas,
  ):
    | {
        TableName: string;
        Key: { pk: string; sk: string };
        UpdateExpression: string;
        ExpressionAttributeNames: Record<string, string>;
        ExpressionAttributeValues: Record<string, unknown>;
      }
    | undefined {
    const now = this.#now();
    // The timeline's hour buckets go with the same write (campaigns/counters.ts).
    const increments = [...cleanDeltas(withHourlyCounts({ deltas, at: now }))];
    if (increments.length === 0) return undefined;
    // Counter keys hold dots (`variant.A.sent`): always through placeholders, never as paths.
    const names: Record<string, string> = { '#first': 'firstAt', '#last': 'lastAt' };
    const values: Record<string, unknown> = { ':now': now.toISOString() };
    const adds = increments.map(([key, by], i) => {
      names[`#c${i}`] = key;
      values[`:c${i}`] = by;
      return `#c${i} :c${i}`;
    });
    return {
      TableName: this.#tableName,
      Key: { pk: this.#pk(tenantId, campaignId, runId, this.#shard()), sk: countsSortKey },
      UpdateExpression: `ADD ${adds.join(', ')} SET #first = if_not_exists(#first, :now), #last = :now`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  async finalize(
    tenantId: string,
    campaignId: string,
    runId: string,
    counts: FinalRunCounts,
  ): Promise<boolean> {
    const values = Object.fromEntries(cleanFinalCounts(counts));
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          // Counter keys are the attribute names, as on the shards.
          Item: {
            ...values,
            pk: this.#pk(tenantId, campaignId, runId, 'FINAL'),
            sk: countsSortKey,
            recountedAt: this.#now().toISOString(),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      // Final counts there already: another invocation completed the run first.
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Moves a completed run's final counts by `deltas` (recounted keys only: a receipt settling
   * an `unknown` after completion, campaigns/counters.ts). Nothing when the run has no final
   * counts yet: its recount, still to come, reads the record as moved. True when amended.
   */
  async amendFinal(tenantId: string, campaignId: string, runId: string, deltas: RunDeltas): Promise<boolean> {
    const increments = [...cleanDeltas(deltas)].filter(([key]) => isRecountedKey(key));
    if (increments.length === 0) return false;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const adds = increments.map(([key, by], i) => {
      names[`#c${i}`] = key;
      values[`:c${i}`] = by;
      return `#c${i} :c${i}`;
    });
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: { pk: this.#pk(tenantId, campaignId, runId, 'FINAL'), sk: countsSortKey },
          UpdateExpression: `ADD ${adds.join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async read(
    tenantId: string,
    campaignId: string,
    runId: string,
    { consistent = false }: { readonly consistent?: boolean } = {},
  ): Promise<RunTally> {
    const finalPk = this.#pk(tenantId, campaignId, runId, 'FINAL');
    const items = await batchGetItems({
      client: this.#client,
      tableName: this.#tableName,
      keys: [
        ...Array.from({ length: runCounterShards }, (_, shard) => ({
          pk: this.#pk(tenantId, campaignId, runId, shard),
          sk: countsSortKey,
        })),
        { pk: finalPk, sk: countsSortKey },
      ],
      consistentRead: consistent,
    });
    let firstAt: string | undefined;
    let lastAt: string | undefined;
    let final: Map<string, number> | undefined;
    const shards: Map<string, number>[] = [];
    for (const item of items) {
      const counts = new Map<string, number>();
      for (const [key, value] of Object.entries(item)) {
        if (typeof value === 'number') counts.set(key, value);
      }
      if (item.pk === finalPk) {
        final = counts;
        continue;
      }
      shards.push(counts);
      const { firstAt: first, lastAt: last } = item;
      if (typeof first === 'string') firstAt = firstAt && firstAt < first ? firstAt : first;
      if (typeof last === 'string') lastAt = lastAt && lastAt > last ? lastAt : last;
    }
    return tallyOf({ shards, final, firstAt, lastAt });
  }
}

/**
 * Campaign use-case dependencies on DynamoDB: campaigns and runs (campaigns table), run
 * counters (metrics table), templates and segments for references, and the scheduler
 * (EventBridge Scheduler in the function's schedule group, targeting the start queue).
 */
export function campaignDeps({
  client,
  config,
  scheduler,
}: {
  client: DocumentClient;
  config: Pick<FunctionConfig, 'table' | 'schedule' | 'functionId'>;
  /** Default: EventBridge Scheduler from `config.schedule`. */
  scheduler?: SchedulerPort;
}): CampaignDeps {
  const campaigns = config.table('campaigns');
  const { segments, random, now } = memberDeps({ client, config });
  return {
    campaigns: campaignStore({ client, tableName: campaigns }),
    runs: new DynamoRunStore({ client, tableName: campaigns }),
    runCounters: new DynamoRunCounters({ client, tableName: config.table('metrics'), now }),
    templates: templateStore({ client, tableName: campaigns }),
    segments,
    scheduler: scheduler ?? eventBridgeScheduler(config),
    random,
    now,
  };
}

/** The Scheduler port of a function that schedules: its group, role and target come from the env. */
export function eventBridgeScheduler(config: Pick<FunctionConfig, 'schedule' | 'functionId'>): SchedulerPort {
  if (!config.schedule) {
    throw new ConfigError(`Function ${config.functionId} does not schedule: it has no schedule group.`);
  }
  return new EventBridgeScheduler({
    // The endpoint comes from AWS_ENDPOINT_URL_SCHEDULER on the local stack.
    client: new SchedulerClient(),
    ...config.schedule,
  });
}
