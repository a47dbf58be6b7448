import * as z from 'zod';
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

/** Receipt queue: a verified provider callback (receipt, reply or click), as received. */
export const receiptMessage = z.object({
  type: z.enum(['receipt', 'reply', 'click']),
  tenantId,
  provider: z.string().min(1),
  receivedAt: z.iso.datetime({ offset: true }),
  payload: z.unknown(),
});
export type ReceiptMessage = z.infer<typeof receiptMessage>;

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
