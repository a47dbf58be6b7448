import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CallbackEvent, DeliveryReceipt, Problem, UndeliveredReason } from '@qunfa/domain';
import * as z from 'zod';
import {
  type CallbackReader,
  type CallbackReading,
  invalid,
  mediaTypeOf,
  problemsOf,
  unauthorized,
  unsupportedMediaType,
} from '../callbacks/reader';

// Twilio's webhooks: the status callback of an outbound message (StatusCallback, which the
// adapter points at /callbacks/twilio/<account>/receipts?reference=<ours>) and the incoming
// message webhook of the number or messaging service (/callbacks/twilio/<account>/replies).
// Both are application/x-www-form-urlencoded POSTs signed with X-Twilio-Signature:
// base64(HMAC-SHA1(authToken, url + each POST parameter's name and value, sorted by name)).
// Sources: twilio.com/docs/usage/security, /docs/messaging/guides/track-outbound-message-status,
// /docs/messaging/twiml (an empty <Response/> sends no reply).
//
// Twilio's signature has no timestamp or nonce: a replayed callback verifies. It is harmless
// because a status is applied once per (MessageSid, status) and a reply once per MessageSid.

export const twilioSignatureHeader = 'x-twilio-signature';

/** The X-Twilio-Signature of a POST to `url` with `params` (repeated names: each value, sorted). */
export function twilioSignature({
  authToken,
  url,
  params,
}: {
  authToken: string;
  url: string;
  params: URLSearchParams | Readonly<Record<string, string>>;
}): string {
  const pairs = params instanceof URLSearchParams ? [...params.entries()] : Object.entries(params);
  const byName = new Map<string, string[]>();
  for (const [name, value] of pairs) byName.set(name, [...(byName.get(name) ?? []), value]);
  const names = [...byName.keys()].sort();
  const data =
    url +
    names
      .map((name) =>
        (byName.get(name) ?? [])
          .sort()
          .map((value) => name + value)
          .join(''),
      )
      .join('');
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

export function verifyTwilioSignature({
  authToken,
  url,
  params,
  signature,
}: {
  authToken: string;
  url: string;
  params: URLSearchParams | Readonly<Record<string, string>>;
  signature: string | undefined;
}): boolean {
  if (!signature) return false;
  const expected = Buffer.from(twilioSignature({ authToken, url, params }), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

const sid = z.string().regex(/^(SM|MM|SS)[0-9a-fA-F]{32}$/, 'a Twilio message SID');
const e164 = z.string().regex(/^\+[1-9]\d{7,14}$/, 'an E.164 number');

/** Every MessageStatus Twilio documents for a message. */
export const twilioMessageStatuses = [
  'accepted',
  'scheduled',
  'canceled',
  'queued',
  'sending',
  'sent',
  'failed',
  'delivered',
  'undelivered',
  'receiving',
  'received',
  'read',
  'partially_delivered',
] as const;

export const twilioStatusCallback = z.object({
  MessageSid: sid,
  MessageStatus: z.enum(twilioMessageStatuses),
  AccountSid: z.string().min(1),
  To: e164.exactOptional(),
  From: z.string().exactOptional(),
  ErrorCode: z
    .string()
    .regex(/^\d{1,6}$/)
    .exactOptional(),
});
export type TwilioStatusCallback = z.infer<typeof twilioStatusCallback>;

export const twilioIncomingMessage = z.object({
  MessageSid: sid,
  AccountSid: z.string().min(1),
  From: e164,
  To: z.string().min(1),
  Body: z.string().max(2_000),
});
export type TwilioIncomingMessage = z.infer<typeof twilioIncomingMessage>;

/**
 * Twilio error codes of undelivered messages (twilio.com/docs/api/errors). 21610: the
 * recipient replied STOP to this sender; 30004 also covers a handset that blocks the sender.
 */
const reasonByCode: Readonly<Record<string, UndeliveredReason>> = {
  '21211': 'invalid_number',
  '21614': 'invalid_number',
  '30005': 'invalid_number',
  '30006': 'invalid_number',
  '21610': 'carrier_opt_out',
  '30003': 'unreachable',
  '30004': 'blocked',
  '30007': 'blocked',
  '30034': 'rejected',
  '30001': 'expired',
  '30008': 'unknown',
};

export function twilioUndeliveredReason(code: string | undefined): UndeliveredReason {
  return code === undefined ? 'unknown' : (reasonByCode[code] ?? 'unknown');
}

/** A status callback → the receipt it says, or none for the steps before the carrier. */
export function receiptOfTwilioStatus({
  status,
  reference,
  at,
}: {
  status: TwilioStatusCallback;
  reference: string | undefined;
  at: Date;
}): DeliveryReceipt | undefined {
  const base = {
    kind: 'receipt' as const,
    providerMessageId: status.MessageSid,
    ...(reference ? { reference } : {}),
    ...(status.To ? { phone: status.To } : {}),
    ...(status.ErrorCode ? { code: status.ErrorCode } : {}),
    at: at.toISOString(),
    // The same across Twilio's retries of one status; the next status is another receipt.
    receiptId: `twilio:${status.MessageSid}:${status.MessageStatus}`,
  };
  switch (status.MessageStatus) {
    case 'sent':
      return { ...base, status: 'sent' };
    case 'delivered':
    case 'read':
      return { ...base, status: 'delivered' };
    case 'undelivered':
    case 'failed':
      return { ...base, status: 'failed', reason: twilioUndeliveredReason(status.ErrorCode) };
    case 'canceled':
      return { ...base, status: 'failed', reason: 'rejected' };
    default:
      // accepted, scheduled, queued, sending (and the inbound-only states): nothing settled yet.
      return undefined;
  }
}

const emptyTwiml = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

export const twilioCallbackReader: CallbackReader = {
  provider: 'twilio',
  kinds: ['receipts', 'replies'],
  read({ request, secret, now }): CallbackReading {
    const type = mediaTypeOf(request.headers);
    if (type !== 'application/x-www-form-urlencoded') {
      return unsupportedMediaType(type, 'application/x-www-form-urlencoded');
    }
    const params = new URLSearchParams(request.body.toString('utf8'));
    const signature = request.headers[twilioSignatureHeader];
    if (!verifyTwilioSignature({ authToken: secret, url: request.url, params, signature })) {
      return unauthorized(
        signature
          ? 'The X-Twilio-Signature does not match this URL and body.'
          : 'X-Twilio-Signature is missing.',
      );
    }
    const form = Object.fromEntries(params);
    if (request.kind === 'replies') {
      const parsed = twilioIncomingMessage.safeParse(form);
      if (!parsed.success) return invalid(problemsOf(parsed.error));
      const reply: CallbackEvent = {
        kind: 'reply',
        phone: parsed.data.From,
        text: parsed.data.Body,
        at: now.toISOString(),
        replyId: `twilio:${parsed.data.MessageSid}`,
      };
      return {
        ok: true,
        events: [reply],
        answer: { status: 200, contentType: 'text/xml; charset=utf-8', body: emptyTwiml },
      };
    }
    const parsed = twilioStatusCallback.safeParse(form);
    if (!parsed.success) return invalid(problemsOf(parsed.error));
    const reference = request.query.reference;
    const problems: Problem[] = [];
    if (reference !== undefined && (reference.length === 0 || reference.length > 128)) {
      problems.push({ path: 'query.reference', message: 'must be 1 to 128 characters' });
    }
    if (problems.length > 0) return invalid(problems);
    const receipt = receiptOfTwilioStatus({ status: parsed.data, reference, at: now });
    return { ok: true, events: receipt ? [receipt] : [], answer: { status: 200 } };
  },
};
