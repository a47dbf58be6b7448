import * as z from 'zod';
import { callbackBatchMessage } from '../receipts/events';
import { tenantId } from '../tenancy/tenant';

// The bodies of the messages on qunfa's queues. Every message names its tenant; the
// consumer confines all its reads and writes to that tenant.

/** Start queue: a campaign run is due (from the scheduler, or "send now"). */
export const startMessage = z.object({
  type: z.literal('campaign.start'),
  tenantId,
  campaignId: z.string().min(1),
  /** The instant the schedule was meant to fire; a start far later than this is missed. */
  scheduledAt: z.iso.datetime({ offset: true }),
  /** Set when a checkpointed segmenter re-enqueues itself to continue a run. */
  runId: z.string().min(1).optional(),
});
export type StartMessage = z.infer<typeof startMessage>;

/** Send queue: a batch of recipients of one run, each already holding a message record. */
export const sendMessage = z.object({
  type: z.literal('send.batch'),
  tenantId,
  campaignId: z.string().min(1),
  runId: z.string().min(1),
  memberIds: z.array(z.string().min(1)).min(1).max(100),
});
export type SendMessage = z.infer<typeof sendMessage>;

/**
 * Receipt queue: what happened after a send, to be applied by the receipt processor. A
 * verified provider callback, read into events (receipts/events.ts); other kinds join it.
 */
export const receiptQueueMessage = z.discriminatedUnion('type', [callbackBatchMessage]);
export type ReceiptQueueMessage = z.infer<typeof receiptQueueMessage>;

/** Import queue: an uploaded member file is complete and may be processed. */
export const importMessage = z.object({
  type: z.literal('members.import'),
  tenantId,
  importId: z.string().min(1),
});
export type ImportMessage = z.infer<typeof importMessage>;

/** Import queue: tags to add to or remove from every member of a segment. */
export const tagJobMessage = z.object({
  type: z.literal('members.tag'),
  tenantId,
  jobId: z.string().min(1),
});
export type TagJobMessage = z.infer<typeof tagJobMessage>;

/** What the import queue carries: the member jobs too long for an API request. */
export const memberJobMessage = z.discriminatedUnion('type', [importMessage, tagJobMessage]);
export type MemberJobMessage = z.infer<typeof memberJobMessage>;
