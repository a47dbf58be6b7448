import type { CallbackEvent, Problem, UndeliveredReason } from '@qunfa/domain';
import {
  type CallbackReader,
  invalid,
  mediaTypeOf,
  problemsOf,
  readJson,
  unauthorized,
  unsupportedMediaType,
} from '../callbacks/reader';
import {
  type SimulatorCallback,
  simulatorCallback,
  simulatorCallbackHeaders,
  simulatorReceiptCodes,
  verifySimulatorCallback,
} from './callbacks';

// The callback endpoint's side of the simulator's callbacks (./callbacks.ts): verify the
// signature over the raw body, read the batch into events, and hand back its callbackId so
// the endpoint refuses the same signed bytes a second time.

const reasonByCode: Readonly<Record<string, UndeliveredReason>> = {
  [simulatorReceiptCodes.unreachable]: 'unreachable',
  [simulatorReceiptCodes.expired]: 'expired',
};

const e164 = /^\+[1-9]\d{7,14}$/;

/** A verified simulator callback → events (one bad item refuses the whole batch). */
export function simulatorCallbackEvents(
  callback: SimulatorCallback,
): { ok: true; events: CallbackEvent[] } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  if (callback.type === 'receipts') {
    const events = callback.receipts.map((receipt, i): CallbackEvent => {
      if (!e164.test(receipt.phone))
        problems.push({ path: `body.receipts.${i}.phone`, message: 'not an E.164 number' });
      const failed = receipt.status !== 'delivered';
      return {
        kind: 'receipt',
        providerMessageId: receipt.messageId,
        ...(receipt.reference === undefined ? {} : { reference: receipt.reference }),
        phone: receipt.phone,
        status: receipt.status,
        ...(failed ? { reason: reasonByCode[receipt.code] ?? 'unknown' } : {}),
        code: receipt.code,
        part: receipt.part,
        parts: receipt.parts,
        at: receipt.doneAt,
        receiptId: receipt.receiptId,
      };
    });
    return problems.length > 0 ? { ok: false, problems } : { ok: true, events };
  }
  const events = callback.replies.map((reply, i): CallbackEvent => {
    if (!e164.test(reply.phone))
      problems.push({ path: `body.replies.${i}.phone`, message: 'not an E.164 number' });
    return {
      kind: 'reply',
      phone: reply.phone,
      text: reply.text,
      at: reply.receivedAt,
      replyId: reply.replyId,
      ...(reply.inReplyTo === undefined ? {} : { inReplyTo: reply.inReplyTo }),
      ...(reply.reference === undefined ? {} : { reference: reply.reference }),
    };
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, events };
}

export const simulatorCallbackReader: CallbackReader = {
  provider: 'simulator',
  kinds: [undefined],
  read({ request, secret, now }) {
    const body = request.body.toString('utf8');
    const verified = verifySimulatorCallback({
      secret,
      timestamp: request.headers[simulatorCallbackHeaders.timestamp],
      signature: request.headers[simulatorCallbackHeaders.signature],
      body,
      now,
    });
    if (!verified.ok) {
      const why = {
        unsigned: 'The callback is not signed (x-simulator-timestamp and x-simulator-signature).',
        malformed: 'The callback signature headers are malformed.',
        stale: 'The callback was signed more than 5 minutes away from now.',
        forged: 'The callback signature does not match its body.',
      } as const;
      return unauthorized(why[verified.reason]);
    }
    const type = mediaTypeOf(request.headers);
    if (type !== 'application/json') {
      return unsupportedMediaType(type, 'application/json');
    }
    const json = readJson(request.body);
    if (!json.ok) return invalid(json.problems);
    const parsed = simulatorCallback.safeParse(json.value);
    if (!parsed.success) return invalid(problemsOf(parsed.error));
    if (parsed.data.account !== request.account) {
      return invalid([
        { path: 'body.account', message: `is ${parsed.data.account}, not the account of the URL` },
      ]);
    }
    const read = simulatorCallbackEvents(parsed.data);
    if (!read.ok) return invalid(read.problems);
    return {
      ok: true,
      events: read.events,
      replayKey: { callbackId: parsed.data.callbackId, signedAt: new Date(verified.timestamp * 1000) },
      answer: {
        status: 200,
        contentType: 'application/json; charset=utf-8',
        body: JSON.stringify({ accepted: read.events.length, callbackId: parsed.data.callbackId }),
      },
    };
  },
};
