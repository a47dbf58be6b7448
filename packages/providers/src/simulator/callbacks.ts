import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';

// What the simulator POSTs to the API (`/callbacks/simulator/<account>`), and how it signs it.
//
// Each POST carries one JSON body, a batch of receipts or of replies, and two headers:
//   x-simulator-timestamp: Unix seconds when it was signed
//   x-simulator-signature: hex(HMAC-SHA256(accountSecret, timestamp + "." + rawBody))
// A receiver recomputes the HMAC over the raw body it received, compares in constant time, and
// refuses a timestamp more than 5 minutes away. Every POST, a retry included, has a fresh
// callbackId inside the signed body, so a replay of the same bytes is recognisable while a
// retry is not; receipts keep their receiptId across retries and duplicates.
//
// The account secret is derived from the simulator's one callback secret:
//   accountSecret = hex(HMAC-SHA256(callbackSecret, "account:" + account))
// so the local stack shares one variable (PROVIDER_SIMULATOR_CALLBACK_SECRET) and each
// account still has its own secret; a test may also give an account its own.

export const simulatorCallbackHeaders = {
  timestamp: 'x-simulator-timestamp',
  signature: 'x-simulator-signature',
} as const;

/** How far a callback's timestamp may be from the receiver's clock. */
export const simulatorCallbackToleranceSeconds = 300;

export const simulatorReceiptStatuses = ['delivered', 'failed', 'expired'] as const;
export type SimulatorReceiptStatus = (typeof simulatorReceiptStatuses)[number];

/** Carrier codes the simulator reports, after the codes of the SMPP world. */
export const simulatorReceiptCodes = {
  delivered: 'DELIVRD',
  unreachable: 'UNDELIV',
  expired: 'EXPIRED',
  partLost: 'UNDELIV',
} as const;

const isoTime = z.iso.datetime({ offset: true });

export const simulatorReceipt = z.object({
  /** The same across duplicates of one receipt. */
  receiptId: z.string(),
  messageId: z.string(),
  reference: z.string().exactOptional(),
  phone: z.string(),
  status: z.enum(simulatorReceiptStatuses),
  /** DELIVRD, UNDELIV or EXPIRED; `errorMessage` says why a part failed. */
  code: z.string(),
  errorMessage: z.string().exactOptional(),
  /** Which part of a multipart message this receipt is about (1-based) and how many there are. */
  part: z.number().int().min(1),
  parts: z.number().int().min(1),
  submittedAt: isoTime,
  doneAt: isoTime,
});
export type SimulatorReceipt = z.infer<typeof simulatorReceipt>;

export const simulatorReply = z.object({
  replyId: z.string(),
  /** Who replied (E.164). */
  phone: z.string(),
  text: z.string(),
  receivedAt: isoTime,
  /** The last message the simulator accepted for this phone on this account, if any. */
  inReplyTo: z.string().exactOptional(),
  reference: z.string().exactOptional(),
});
export type SimulatorReply = z.infer<typeof simulatorReply>;

const envelope = {
  callbackId: z.string(),
  account: z.string(),
  sentAt: isoTime,
};

export const simulatorCallback = z.discriminatedUnion('type', [
  z.object({ type: z.literal('receipts'), ...envelope, receipts: z.array(simulatorReceipt).min(1) }),
  z.object({ type: z.literal('replies'), ...envelope, replies: z.array(simulatorReply).min(1) }),
]);
export type SimulatorCallback = z.infer<typeof simulatorCallback>;

/** The secret that signs `account`'s callbacks. */
export function simulatorAccountSecret({
  callbackSecret,
  account,
}: {
  callbackSecret: string;
  account: string;
}): string {
  return createHmac('sha256', callbackSecret).update(`account:${account}`, 'utf8').digest('hex');
}

/** hex(HMAC-SHA256(secret, timestamp + "." + body)). */
export function signSimulatorCallback({
  secret,
  timestamp,
  body,
}: {
  secret: string;
  timestamp: number;
  body: string;
}): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

export type CallbackVerification =
  | { readonly ok: true; readonly timestamp: number }
  | { readonly ok: false; readonly reason: 'unsigned' | 'malformed' | 'stale' | 'forged' };

/** Checks a received callback's headers against its raw body. */
export function verifySimulatorCallback({
  secret,
  timestamp,
  signature,
  body,
  now,
  toleranceSeconds = simulatorCallbackToleranceSeconds,
}: {
  secret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  body: string;
  now: Date;
  toleranceSeconds?: number;
}): CallbackVerification {
  if (!timestamp || !signature) return { ok: false, reason: 'unsigned' };
  if (!/^\d{1,12}$/.test(timestamp) || !/^[0-9a-f]{64}$/.test(signature))
    return { ok: false, reason: 'malformed' };
  const seconds = Number(timestamp);
  if (Math.abs(now.getTime() / 1000 - seconds) > toleranceSeconds) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signSimulatorCallback({ secret, timestamp: seconds, body }), 'hex');
  const given = Buffer.from(signature, 'hex');
  return timingSafeEqual(expected, given)
    ? { ok: true, timestamp: seconds }
    : { ok: false, reason: 'forged' };
}
