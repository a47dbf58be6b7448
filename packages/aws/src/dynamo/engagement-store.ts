import {
  activityRetentionMs,
  type Conversion,
  type ConversionStore,
  forEachConcurrently,
  type MessageActivity,
  type MessageActivityInput,
  type MessageActivityStore,
  type RunDeltas,
  type ShortLink,
  type ShortLinkStore,
} from '@qunfa/domain';
import * as z from 'zod';
import type { DynamoRunCounters } from '../campaigns';
import {
  ConditionalCheckFailedException,
  type DocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteCommand,
  type TransactWriteItem,
  UpdateCommand,
} from '../wire/dynamodb';

// Short links, the member activity index and conversions, all in the messages table
// (docs/data-model.md, "messages"):
//
// | item        | pk                             | sk        |
// | short link  | `LINK#<code>`                  | `LINK`    |
// | activity    | `<tenant>#ACT#<memberId>`      | `<runId>` |
// | conversion  | `<tenant>#CONV#<eventId>`      | `CONV`    |
//
// A short link is the one key that does not start with the tenant: `GET /l/{code}` knows only
// the code. The code is the credential (8 random Base62 characters), the item names its
// tenant, and everything done after the look-up is keyed by that tenant, so no request can
// reach a tenant's data without one of its codes. Random codes spread the keys perfectly.

const seconds = (iso: string): number => Math.floor(Date.parse(iso) / 1_000);

const linkItem = z.object({
  code: z.string(),
  tenantId: z.string(),
  campaignId: z.string(),
  runId: z.string(),
  memberId: z.string(),
  variantId: z.string().exactOptional(),
  url: z.string(),
  expiresAt: z.number(),
});

export class DynamoShortLinkStore implements ShortLinkStore {
  readonly #client: DocumentClient;
  readonly #tableName: string;

  constructor({ client, tableName }: { client: DocumentClient; tableName: string }) {
    this.#client = client;
    this.#tableName = tableName;
  }

  /**
   * One conditional put per link, concurrently: DynamoDB bills write units, not requests, so
   * a BatchWriteItem would cost the same and could not refuse a code already taken. A taken
   * code (about one in 2 × 10⁶ at 100 million live links) throws: the sender releases the
   * batch's claims and the redelivery renders new codes.
   */
  async put(links: readonly ShortLink[]): Promise<void> {
    await forEachConcurrently(links, 25, async ({ expiresAt, ...link }) => {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: { pk: `LINK#${link.code}`, sk: 'LINK', ...link, expiresAt: seconds(expiresAt) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    });
  }

  async get(code: string): Promise<ShortLink | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: { pk: `LINK#${code}`, sk: 'LINK' } }),
    );
    if (!Item) return undefined;
    // TTL removes expired items within days, not at once: the expiry is read from the item.
    const { expiresAt, ...link } = linkItem.parse(Item);
    return { ...link, expiresAt: new Date(expiresAt * 1_000).toISOString() };
  }
}

const activityItem = z.object({
  sk: z.string(),
  campaignId: z.string(),
  variantId: z.string().exactOptional(),
  deliveredAt: z.string().exactOptional(),
  lastClickedAt: z.string().exactOptional(),
});

/**
 * The activity index: one item per (member, run), that is per message, written by a delivery
 * receipt and by each click, never by the sender (a message only sent is not attributed).
 * The sort key is the run id, which sorts by the run's scheduled time, so a member's recent
 * messages are one Query, newest first. Kept a day past the longest attribution window.
 */
export class DynamoMessageActivityStore implements MessageActivityStore {
  readonly #client: DocumentClient;
  readonly #tableName: string;

  constructor({ client, tableName }: { client: DocumentClient; tableName: string }) {
    this.#client = client;
    this.#tableName = tableName;
  }

  #update(input: MessageActivityInput, set: string, values: Record<string, unknown>, returnOld: boolean) {
    const { tenantId, memberId, runId, campaignId, variantId, at } = input;
    return new UpdateCommand({
      TableName: this.#tableName,
      Key: { pk: `${tenantId}#ACT#${memberId}`, sk: runId },
      UpdateExpression: `SET campaignId = :campaign, expiresAt = :ttl${variantId === undefined ? '' : ', variantId = :variant'}, ${set}`,
      ExpressionAttributeValues: {
        ':campaign': campaignId,
        ':ttl': Math.floor((at.getTime() + activityRetentionMs) / 1_000),
        ...(variantId === undefined ? {} : { ':variant': variantId }),
        ...values,
      },
      ...(returnOld ? { ReturnValues: 'UPDATED_OLD' as const } : {}),
    });
  }

  /**
   * One write that both counts and tells: `firstClickedAt` is set only if absent, and the old
   * value returned says whether this was the message's first click (unique clicks).
   */
  async recordClick(input: MessageActivityInput): Promise<{ readonly first: boolean }> {
    const at = input.at.toISOString();
    const { Attributes } = await this.#client.send(
      this.#update(
        input,
        'firstClickedAt = if_not_exists(firstClickedAt, :at), lastClickedAt = :at ADD clicks :one',
        { ':at': at, ':one': 1 },
        true,
      ),
    );
    return { first: Attributes?.firstClickedAt === undefined };
  }

  async recordDelivered(input: MessageActivityInput): Promise<void> {
    await this.#client.send(
      this.#update(
        input,
        'deliveredAt = if_not_exists(deliveredAt, :at)',
        { ':at': input.at.toISOString() },
        false,
      ),
    );
  }

  async recent(tenantId: string, memberId: string, { limit }: { limit: number }): Promise<MessageActivity[]> {
    const { Items = [] } = await this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `${tenantId}#ACT#${memberId}` },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return Items.map((item) => {
      const { sk, campaignId, variantId, deliveredAt, lastClickedAt } = activityItem.parse(item);
      return {
        runId: sk,
        campaignId,
        ...(variantId === undefined ? {} : { variantId }),
        ...(deliveredAt === undefined ? {} : { deliveredAt }),
        ...(lastClickedAt === undefined ? {} : { clickedAt: lastClickedAt }),
      };
    });
  }
}

/** An eventId is remembered this long: a retry after a year counts again. */
const conversionRetentionSeconds = 400 * 86_400;

const conversionItem = z.object({ conversion: z.string() });
const storedConversion = z.object({
  eventId: z.string(),
  type: z.enum(['purchase', 'signup', 'custom']),
  name: z.string().exactOptional(),
  amount: z.string().exactOptional(),
  currency: z.string().exactOptional(),
  memberId: z.string(),
  at: z.string(),
  attribution: z
    .object({
      campaignId: z.string(),
      runId: z.string(),
      variantId: z.string().exactOptional(),
      by: z.enum(['click', 'delivery']),
      touchedAt: z.string(),
    })
    .exactOptional(),
  revenueCounted: z.boolean(),
  recordedAt: z.string(),
});

/**
 * Conversions: the event item (conditional on its absence) and the run's counter add in one
 * transaction, so an event is counted exactly once however often it is reported.
 */
export class DynamoConversionStore implements ConversionStore {
  readonly #client: DocumentClient;
  readonly #tableName: string;
  readonly #counters: Pick<DynamoRunCounters, 'addition'>;

  constructor({
    client,
    tableName,
    counters,
  }: {
    client: DocumentClient;
    tableName: string;
    counters: Pick<DynamoRunCounters, 'addition'>;
  }) {
    this.#client = client;
    this.#tableName = tableName;
    this.#counters = counters;
  }

  async record({
    tenantId,
    conversion,
    deltas,
  }: {
    tenantId: string;
    conversion: Conversion;
    deltas: RunDeltas | undefined;
  }): Promise<{ readonly recorded: true } | { readonly recorded: false; readonly existing?: Conversion }> {
    const key = { pk: `${tenantId}#CONV#${conversion.eventId}`, sk: 'CONV' };
    const attribution = conversion.attribution;
    const addition =
      attribution && deltas
        ? this.#counters.addition(tenantId, attribution.campaignId, attribution.runId, deltas)
        : undefined;
    const put = {
      TableName: this.#tableName,
      Item: {
        ...key,
        conversion: JSON.stringify(conversion),
        expiresAt: seconds(conversion.recordedAt) + conversionRetentionSeconds,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    };
    try {
      if (addition) {
        const items: TransactWriteItem[] = [{ Put: put }, { Update: addition }];
        await this.#client.send(new TransactWriteCommand({ TransactItems: items }));
      } else {
        await this.#client.send(new PutCommand(put));
      }
      return { recorded: true };
    } catch (error) {
      const duplicate =
        error instanceof ConditionalCheckFailedException ||
        (error instanceof TransactionCanceledException &&
          error.CancellationReasons[0]?.Code === 'ConditionalCheckFailed');
      if (!duplicate) throw error;
    }
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: key, ConsistentRead: true }),
    );
    if (!Item) return { recorded: false };
    const existing = storedConversion.parse(JSON.parse(conversionItem.parse(Item).conversion));
    return { recorded: false, existing };
  }
}
