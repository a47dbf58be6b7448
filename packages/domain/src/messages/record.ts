import * as z from 'zod';

// One record per (campaign run, member): the unit of "never twice, never lost"
// (ARCHITECTURE.md invariants 1 and 2). The segmenter creates it, pending or already
// suppressed; the sender claims it with a conditional write before the provider call and
// records the answer; receipts settle what the provider did. Every move below is a
// conditional write on the state it leaves, so two workers can never both make it.
//
//   pending ──claim──▶ claimed ──accepted──▶ sent ──receipt──▶ delivered | failed | expired
//      ▲                 │  │  └─refused──▶ failed (with reason)
//      └────release──────┘  └─lease lost──▶ unknown   (the provider may have it: never resent)
//   pending ──suppress──▶ suppressed (with reason: opted out since, capped, quiet hours, …)
//
// A record is terminal in delivered, failed, expired, unknown or suppressed. `sent` waits
// for a receipt; the receipts issue turns a `sent` without one into `unknown` in time.

export const messageStates = [
  'pending',
  'claimed',
  'sent',
  'delivered',
  'failed',
  'expired',
  'unknown',
  'suppressed',
] as const;
export type MessageState = (typeof messageStates)[number];

export const terminalMessageStates: ReadonlySet<MessageState> = new Set([
  'delivered',
  'failed',
  'expired',
  'unknown',
  'suppressed',
]);

export const messageEvents = [
  'claim',
  'release',
  'accepted',
  'refused',
  'suppress',
  'leaseLost',
  'delivered',
  'undeliverable',
  'expired',
  'receiptTimeout',
] as const;
export type MessageEvent = (typeof messageEvents)[number];

/** The one table of legal moves: `from` → event → `to`. Anything else is refused. */
export const messageTransitions: Readonly<Record<MessageState, Partial<Record<MessageEvent, MessageState>>>> =
  {
    pending: { claim: 'claimed', suppress: 'suppressed' },
    claimed: {
      release: 'pending',
      accepted: 'sent',
      refused: 'failed',
      leaseLost: 'unknown',
      suppress: 'suppressed',
    },
    // A lost lease concerns a claim only: a send the provider accepted is never made unknown by
    // it, only by waiting too long for its receipt.
    sent: { delivered: 'delivered', undeliverable: 'failed', expired: 'expired', receiptTimeout: 'unknown' },
    // Receipts may arrive after a send was given up as unknown: they settle it.
    unknown: { delivered: 'delivered', undeliverable: 'failed', expired: 'expired' },
    delivered: {},
    failed: {},
    expired: {},
    suppressed: {},
  };

export function nextMessageState(from: MessageState, event: MessageEvent): MessageState | undefined {
  return messageTransitions[from][event];
}

/** The states an event moves from, and the one state it moves to (the same from each). */
export function eventMove(event: MessageEvent): { readonly from: MessageState[]; readonly to: MessageState } {
  const from = messageStates.filter((state) => messageTransitions[state][event] !== undefined);
  const to = from.map((state) => messageTransitions[state][event]);
  const [first] = to;
  if (first === undefined || to.some((state) => state !== first)) {
    throw new Error(`Event ${event} must lead to one state from every state it leaves.`);
  }
  return { from, to: first };
}

/** Why a targeted member got no message; each one's own terminal state. */
export const messageSuppressionReasons = [
  'opted_out',
  'no_consent',
  'invalid_phone',
  'holdout',
  'missing_variable',
  'capped',
  'quiet_hours',
  'duplicate_phone',
  'cancelled',
  'over_budget',
] as const;
export type MessageSuppressionReason = (typeof messageSuppressionReasons)[number];

export const messageRecord = z.object({
  runId: z.string(),
  campaignId: z.string(),
  memberId: z.string(),
  variantId: z.string().exactOptional(),
  state: z.enum(messageStates),
  reason: z.string().exactOptional(),
  /** Who holds the claim (a random token per attempt) and since when. */
  claimToken: z.string().exactOptional(),
  claimedAt: z.string().exactOptional(),
  providerMessageId: z.string().exactOptional(),
  parts: z.number().int().min(1).exactOptional(),
  costMicros: z.number().int().min(0).exactOptional(),
  attempts: z.number().int().min(0),
  /**
   * Receipts (receipts/status.ts): the parts of a multipart message reported delivered so
   * far (the message is delivered once all are), the provider's code of the settling receipt
   * and when the handset or carrier answered.
   */
  deliveredParts: z.array(z.number().int().min(1)).exactOptional(),
  receiptCode: z.string().exactOptional(),
  receiptAt: z.string().exactOptional(),
  /** A test send's record (POST /campaigns/{id}/test-send): in no run's counters or caps. */
  test: z.boolean().exactOptional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type MessageRecord = z.infer<typeof messageRecord>;

/**
 * What the segmenter writes for a member: to be sent (pending) or not (suppressed, why). A
 * test send (messages/test-send.ts) writes its records the same way, marked `test`.
 */
export type NewMessageRecord = Pick<MessageRecord, 'memberId'> & {
  readonly variantId?: string;
  readonly test?: true;
} & (
    | { readonly state: 'pending' }
    | { readonly state: 'suppressed'; readonly reason: MessageSuppressionReason }
  );

/** A move's outcome: made, or refused because the record was not in the state it needs. */
export type MoveResult =
  | { readonly moved: true; readonly record: MessageRecord }
  | { readonly moved: false; readonly current?: MessageRecord };

/** Persistence of message records; DynamoDB (messages table) on AWS and locally. */
export interface MessageStore {
  /**
   * Creates the records that do not exist yet and leaves existing ones alone, so a segmenter
   * that runs twice creates nothing twice. Returns how many it created.
   */
  create(
    tenantId: string,
    run: { campaignId: string; runId: string },
    records: readonly NewMessageRecord[],
    now: Date,
  ): Promise<{ created: string[]; existing: number }>;
  get(tenantId: string, runId: string, memberId: string): Promise<MessageRecord | undefined>;
  /** pending → claimed, with a fresh token. */
  claim(
    tenantId: string,
    runId: string,
    memberId: string,
    claim: { token: string; now: Date },
  ): Promise<MoveResult>;
  /**
   * Any legal move from the states it names, guarded by the claim token where the record is
   * claimed (only the claimant may settle its claim).
   */
  move(
    tenantId: string,
    runId: string,
    memberId: string,
    move: {
      event: MessageEvent;
      token?: string;
      /** For `leaseLost` from claimed: only a claim taken before this instant is given up. */
      claimedBefore?: Date;
      now: Date;
      set?: Partial<Pick<MessageRecord, 'reason' | 'providerMessageId' | 'parts' | 'costMicros'>>;
      /**
       * Whether receipts will look the record up by `set.providerMessageId` (an index entry,
       * one more write unit): only for providers whose receipts do not echo our reference.
       * Default true.
       */
      findByProviderMessageId?: boolean;
    },
  ): Promise<MoveResult>;
  /** Every record of a run, in pages (reports and completion checks). */
  scan(tenantId: string, runId: string): AsyncIterable<MessageRecord[]>;
  /**
   * The records of a run whose members fall in one audience shard (memberShard), in pages:
   * a retry's audience, read shard by shard as the segmenter checkpoints.
   */
  scanShard(tenantId: string, runId: string, shard: number): AsyncIterable<MessageRecord[]>;
  /** The segmenter's checkpoints: audience shards whose records all exist and are enqueued. */
  shardsDone(tenantId: string, runId: string): Promise<Set<number>>;
  markShardDone(tenantId: string, runId: string, shard: number): Promise<void>;
}
