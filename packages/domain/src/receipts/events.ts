import * as z from 'zod';
import { smsProviderId } from '../templates/pricing';
import { tenantId } from '../tenancy/tenant';

// What a provider callback says, once verified and read (the callbacks function parses each
// provider's own format into these): the one language the receipt processor understands.
// Every provider's quirks stay in its parser; nothing past the receipt queue knows Aliyun's
// `report_time` from Twilio's `MessageStatus`.

const instant = z.iso.datetime({ offset: true });
/** E.164, as every provider gives a number once normalized by its parser. */
const phone = z.string().regex(/^\+[1-9]\d{7,14}$/, 'an E.164 number');

/**
 * Why a message was not delivered, whatever the provider called it. The processor acts on
 * two: `invalid_number` marks the member's phone invalid (suppressed next time) and
 * `carrier_opt_out` records an opt-out. The provider's own code is kept beside it.
 */
export const undeliveredReasons = [
  'invalid_number',
  'carrier_opt_out',
  'unreachable',
  'blocked',
  'expired',
  'rejected',
  'unknown',
] as const;
export type UndeliveredReason = (typeof undeliveredReasons)[number];

/** A delivery receipt for one message, or one part of a multipart message. */
export const deliveryReceipt = z.object({
  kind: z.literal('receipt'),
  /** The provider's id of the message (what its send call answered). */
  providerMessageId: z.string().min(1).max(200),
  /** Our reference (`<runId>:<memberId>`, see messageReferenceOf), where the provider echoes it. */
  reference: z.string().min(1).max(128).exactOptional(),
  phone: phone.exactOptional(),
  /**
   * `sent`: the carrier took it (an intermediate report some providers give, never terminal);
   * `delivered`, `failed`, `expired`: the handset's answer.
   */
  status: z.enum(['sent', 'delivered', 'failed', 'expired']),
  /** Set for `failed` and `expired`. */
  reason: z.enum(undeliveredReasons).exactOptional(),
  /** The provider's or carrier's code as given (`DELIVRD`, `UNDELIV`, `30007`, `isv.…`). */
  code: z.string().max(100).exactOptional(),
  /** For a multipart message: which part (1-based) of how many. */
  part: z.number().int().min(1).exactOptional(),
  parts: z.number().int().min(1).exactOptional(),
  /** When the handset or carrier answered, as the provider says; else when it was received. */
  at: instant,
  /** The provider's id of this receipt, the same across its retries, where it has one. */
  receiptId: z.string().min(1).max(200).exactOptional(),
});
export type DeliveryReceipt = z.infer<typeof deliveryReceipt>;

/** A text a member sent back (an uplink, 上行). */
export const inboundReply = z.object({
  kind: z.literal('reply'),
  phone,
  text: z.string().max(2_000),
  at: instant,
  /** The provider's id of the reply, the same across its retries: replies are applied once. */
  replyId: z.string().min(1).max(200),
  /** The message replied to, where the provider says (its id, or our reference). */
  inReplyTo: z.string().min(1).max(200).exactOptional(),
  reference: z.string().min(1).max(128).exactOptional(),
});
export type InboundReply = z.infer<typeof inboundReply>;

export const callbackEvent = z.discriminatedUnion('kind', [deliveryReceipt, inboundReply]);
export type CallbackEvent = z.infer<typeof callbackEvent>;

/**
 * Receipt queue: one verified provider callback, read into events. A provider's batch is one
 * message (accepted or refused whole; SQS takes 256 KB, a callback is refused above that).
 */
export const callbackBatchMessage = z.object({
  type: z.literal('callback.batch'),
  tenantId,
  provider: smsProviderId,
  /** The provider account named in the callback URL. */
  account: z.string().min(1).max(100),
  /** The callback's own id where it has one (the simulator's callbackId), for the logs. */
  callbackId: z.string().min(1).max(200).exactOptional(),
  receivedAt: instant,
  events: z.array(callbackEvent).min(1).max(1_000),
});
export type CallbackBatchMessage = z.infer<typeof callbackBatchMessage>;
