import type { CallbackEvent, DeliveryReceipt, Problem, UndeliveredReason } from '@qunfa/domain';
import * as z from 'zod';
import { problemsOf } from '../callbacks/reader';

// AWS End User Messaging SMS does not call an HTTP URL: delivery events go to the
// configuration set's event destination (an SNS topic, Firehose or CloudWatch; EventBridge
// gets them too) and two-way replies to the phone number's SNS topic. These parsers read both
// payloads into events, for the subscriber that feeds the receipt queue on AWS (see
// docs/callbacks.md); SNS's own signature is checked by that subscription, not here.
// Sources: docs.aws.amazon.com/sms-voice/latest/userguide/configuration-sets-event-format.html,
// configuration-sets-event-types.html, two-way-sms-payload.html.

const e164 = z.string().regex(/^\+[1-9]\d{7,14}$/, 'an E.164 number');

export const awsSmsEventTypes = [
  'TEXT_PENDING',
  'TEXT_QUEUED',
  'TEXT_SUCCESSFUL',
  'TEXT_DELIVERED',
  'TEXT_BLOCKED',
  'TEXT_TTL_EXPIRED',
  'TEXT_CARRIER_UNREACHABLE',
  'TEXT_INVALID',
  'TEXT_INVALID_MESSAGE',
  'TEXT_CARRIER_BLOCKED',
  'TEXT_UNREACHABLE',
  'TEXT_SPAM',
  'TEXT_UNKNOWN',
  'TEXT_PROTECT_BLOCKED',
] as const;

export const awsSmsEvent = z.object({
  eventType: z.enum(awsSmsEventTypes),
  eventVersion: z.string().exactOptional(),
  /** Unix milliseconds. */
  eventTimestamp: z.number().int().positive(),
  isFinal: z.boolean().exactOptional(),
  destinationPhoneNumber: e164,
  messageId: z.string().min(1).max(200),
  messageStatus: z.string().min(1).max(100),
  messageStatusDescription: z.string().exactOptional(),
  /** The Context given to SendTextMessage: the adapter puts our reference there. */
  context: z.record(z.string(), z.string()).exactOptional(),
  totalMessageParts: z.number().int().min(1).exactOptional(),
});
export type AwsSmsEvent = z.infer<typeof awsSmsEvent>;

export const awsInboundMessage = z.object({
  originationNumber: e164,
  destinationNumber: z.string().min(1),
  messageKeyword: z.string().exactOptional(),
  messageBody: z.string().max(2_000),
  inboundMessageId: z.string().min(1).max(200),
  previousPublishedMessageId: z.string().min(1).max(200).exactOptional(),
});
export type AwsInboundMessage = z.infer<typeof awsInboundMessage>;

type Outcome = Pick<DeliveryReceipt, 'status'> & { reason?: UndeliveredReason };

const outcomeByType: Readonly<Record<(typeof awsSmsEventTypes)[number], Outcome | undefined>> = {
  // Not settled yet.
  TEXT_PENDING: undefined,
  TEXT_QUEUED: undefined,
  // "Depending on the destination country TEXT_DELIVERED and TEXT_SUCCESSFUL may be used
  // interchangeably": a final SUCCESSFUL is a delivery (see outcomeOf).
  TEXT_SUCCESSFUL: { status: 'sent' },
  TEXT_DELIVERED: { status: 'delivered' },
  TEXT_BLOCKED: { status: 'failed', reason: 'blocked' },
  TEXT_CARRIER_BLOCKED: { status: 'failed', reason: 'blocked' },
  TEXT_SPAM: { status: 'failed', reason: 'blocked' },
  TEXT_PROTECT_BLOCKED: { status: 'failed', reason: 'rejected' },
  TEXT_INVALID_MESSAGE: { status: 'failed', reason: 'rejected' },
  TEXT_TTL_EXPIRED: { status: 'expired', reason: 'expired' },
  TEXT_CARRIER_UNREACHABLE: { status: 'failed', reason: 'unreachable' },
  TEXT_UNREACHABLE: { status: 'failed', reason: 'unreachable' },
  TEXT_INVALID: { status: 'failed', reason: 'invalid_number' },
  TEXT_UNKNOWN: { status: 'failed', reason: 'unknown' },
};

function outcomeOf(event: AwsSmsEvent): Outcome | undefined {
  if (event.eventType === 'TEXT_SUCCESSFUL' && event.isFinal === true) return { status: 'delivered' };
  return outcomeByType[event.eventType];
}

/** An SNS notification's `Message` is the payload as a JSON string; anything else is the payload. */
function unwrapSns(value: unknown): { payload: unknown; timestamp?: string } {
  const notification = z
    .object({
      Type: z.literal('Notification'),
      Message: z.string(),
      Timestamp: z.iso.datetime().exactOptional(),
    })
    .safeParse(value);
  if (!notification.success) return { payload: value };
  const { Message, Timestamp } = notification.data;
  let payload: unknown = Message;
  try {
    payload = JSON.parse(Message);
  } catch {
    // Not JSON: refused below as not a payload.
  }
  return Timestamp === undefined ? { payload } : { payload, timestamp: Timestamp };
}

/**
 * One delivery event or two-way reply (bare, or inside an SNS notification) → events: none
 * for a step before the carrier answers. A reply carries no time of its own: SNS's Timestamp
 * when there is one, else `now`.
 */
export function readAwsSmsPayload({
  value,
  now,
}: {
  value: unknown;
  now: Date;
}): { ok: true; events: CallbackEvent[] } | { ok: false; problems: Problem[] } {
  const { payload, timestamp } = unwrapSns(value);
  const inbound = awsInboundMessage.safeParse(payload);
  if (inbound.success) {
    return {
      ok: true,
      events: [
        {
          kind: 'reply',
          phone: inbound.data.originationNumber,
          text: inbound.data.messageBody,
          at: timestamp ?? now.toISOString(),
          replyId: `aws:${inbound.data.inboundMessageId}`,
          ...(inbound.data.previousPublishedMessageId
            ? { inReplyTo: inbound.data.previousPublishedMessageId }
            : {}),
        },
      ],
    };
  }
  const parsed = awsSmsEvent.safeParse(payload);
  if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error) };
  const event = parsed.data;
  const outcome = outcomeOf(event);
  if (!outcome) return { ok: true, events: [] };
  const reference = event.context?.reference;
  return {
    ok: true,
    events: [
      {
        kind: 'receipt',
        providerMessageId: event.messageId,
        ...(reference ? { reference } : {}),
        phone: event.destinationPhoneNumber,
        ...outcome,
        code: event.messageStatus,
        ...(event.totalMessageParts === undefined ? {} : { parts: event.totalMessageParts }),
        at: new Date(event.eventTimestamp).toISOString(),
        receiptId: `aws:${event.messageId}:${event.eventType}`,
      },
    ],
  };
}
