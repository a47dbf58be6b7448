import * as z from 'zod';
import { providerCapabilities } from '../capabilities';
import {
  assertBatchSupported,
  type Failure,
  type FailureOutcome,
  type FailureScope,
  failAll,
  type SendOutcome,
  type SmsBatch,
  type SmsProvider,
  type TextMessage,
} from '../port';
import {
  exchange,
  type FetchLike,
  type HttpExchange,
  httpStatusFailure,
  networkFailure,
  parseJsonBody,
  parseRetryAfter,
} from '../transport';

// Twilio Programmable Messaging: POST /2010-04-01/Accounts/{AccountSid}/Messages.json,
// form-encoded To, Body and From (or MessagingServiceSid), HTTP Basic auth. 201 answers the
// Message resource (sid, num_segments); a refusal answers {code, message, more_info, status}.
// Our reference rides on the StatusCallback URL, so status callbacks name it.

export interface TwilioProviderOptions {
  readonly accountSid: string;
  readonly authToken: string;
  /** A Twilio number or alphanumeric sender id; or use messagingServiceSid. */
  readonly from?: string;
  readonly messagingServiceSid?: string;
  /** Where Twilio posts status callbacks; `reference=<ours>` is added to its query. */
  readonly statusCallbackUrl?: string;
  /** Default https://api.twilio.com */
  readonly endpoint?: string;
  readonly timeoutMs?: number;
  readonly fetch?: FetchLike;
}

interface Meaning {
  readonly outcome: FailureOutcome;
  readonly scope: FailureScope;
  readonly reason: string;
}

// Source: Twilio error and warning dictionary (twilio.com/docs/api/errors).
const meanings: Readonly<Record<string, Meaning>> = {
  '20429': { outcome: 'throttled', scope: 'account', reason: 'Too many requests.' },
  '14107': { outcome: 'throttled', scope: 'account', reason: 'SMS send rate limit exceeded.' },
  '21211': { outcome: 'permanent', scope: 'message', reason: "Invalid 'To' phone number." },
  '21614': { outcome: 'permanent', scope: 'message', reason: "'To' is not a valid mobile number." },
  '21612': {
    outcome: 'permanent',
    scope: 'message',
    reason: "The 'To' number cannot be reached by SMS from this sender.",
  },
  '21610': {
    outcome: 'permanent',
    scope: 'message',
    reason: 'The recipient replied STOP to this sender (unsubscribed recipient).',
  },
  '21408': {
    outcome: 'permanent',
    scope: 'message',
    reason: "Sending to the 'To' number's region is not enabled on this account.",
  },
  '21617': { outcome: 'permanent', scope: 'message', reason: 'The body is over 1,600 characters.' },
  '21602': { outcome: 'permanent', scope: 'message', reason: 'The message body is missing.' },
  '21606': { outcome: 'permanent', scope: 'account', reason: "The 'From' number cannot send SMS." },
  '21659': {
    outcome: 'permanent',
    scope: 'account',
    reason: "The 'From' is not a Twilio number of this account.",
  },
  '21212': { outcome: 'permanent', scope: 'account', reason: "Invalid 'From' number." },
  '20003': { outcome: 'permanent', scope: 'account', reason: 'Twilio refused the credentials.' },
  '20404': { outcome: 'permanent', scope: 'account', reason: 'The account or resource was not found.' },
  '30002': { outcome: 'permanent', scope: 'account', reason: 'The Twilio account is suspended.' },
};

export function twilioFailure({
  code,
  message,
  status,
  headers,
}: {
  code: number | undefined;
  message?: string | undefined;
  status: number;
  headers?: Headers;
}): Failure {
  const known = code === undefined ? undefined : meanings[String(code)];
  const detail = message ? ` (${message})` : '';
  if (known) {
    const retryAfterMs =
      known.outcome === 'throttled' ? parseRetryAfter(headers?.get('retry-after') ?? null) : undefined;
    return {
      outcome: known.outcome,
      scope: known.scope,
      code: String(code),
      reason: `${known.reason}${detail}`,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }
  const byStatus = httpStatusFailure(headers ? { status, headers } : { status });
  return code === undefined
    ? byStatus
    : {
        ...byStatus,
        code: String(code),
        reason: `${byStatus.reason}${detail}`,
        scope: byStatus.scope === 'batch' ? 'message' : byStatus.scope,
      };
}

const twilioMessage = z.looseObject({ sid: z.string(), num_segments: z.string().nullish() });
const twilioError = z.looseObject({ code: z.number().int().optional(), message: z.string().optional() });

export function buildTwilioRequest({
  message,
  accountSid,
  authToken,
  from,
  messagingServiceSid,
  statusCallbackUrl,
  endpoint = 'https://api.twilio.com',
}: {
  message: TextMessage;
  accountSid: string;
  authToken: string;
  from?: string | undefined;
  messagingServiceSid?: string | undefined;
  statusCallbackUrl?: string | undefined;
  endpoint?: string;
}): { url: string; headers: Record<string, string>; body: string } {
  const form = new URLSearchParams({ To: message.phone, Body: message.text });
  if (messagingServiceSid) form.set('MessagingServiceSid', messagingServiceSid);
  else if (from) form.set('From', from);
  if (statusCallbackUrl) {
    const callback = new URL(statusCallbackUrl);
    callback.searchParams.set('reference', message.reference);
    form.set('StatusCallback', callback.toString());
  }
  return {
    url: `${endpoint}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`,
    headers: {
      authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: form.toString(),
  };
}

export function parseTwilioAnswer({
  batch,
  result,
}: {
  batch: SmsBatch;
  result: HttpExchange;
}): SendOutcome[] {
  if (result.kind !== 'answered') return failAll(batch, networkFailure(result));
  const json = parseJsonBody(result.body);
  if (result.status === 200 || result.status === 201) {
    const parsed = twilioMessage.safeParse(json);
    if (!parsed.success) {
      return failAll(batch, {
        outcome: 'ambiguous',
        code: 'unreadable_answer',
        reason: 'Twilio answered 201 without a Message resource; the message may have been created.',
        scope: 'batch',
      });
    }
    const parts = Number(parsed.data.num_segments ?? '0');
    return batch.map((message) => ({
      reference: message.reference,
      outcome: 'accepted',
      providerMessageId: parsed.data.sid,
      // With a Messaging Service num_segments is 0 until a sender is picked.
      ...(Number.isInteger(parts) && parts > 0 ? { parts } : {}),
    }));
  }
  const error = twilioError.safeParse(json);
  const failure = twilioFailure({
    code: error.success ? error.data.code : undefined,
    message: error.success ? error.data.message : undefined,
    status: result.status,
    headers: result.headers,
  });
  return failAll(batch, failure);
}

export function createTwilioProvider({
  accountSid,
  authToken,
  from,
  messagingServiceSid,
  statusCallbackUrl,
  endpoint = 'https://api.twilio.com',
  timeoutMs = 10_000,
  fetch = globalThis.fetch,
}: TwilioProviderOptions): SmsProvider {
  if (!from && !messagingServiceSid) throw new Error('Twilio needs a From number or a MessagingServiceSid.');
  const capabilities = providerCapabilities.twilio;
  return {
    id: 'twilio',
    capabilities,
    async send(batch) {
      assertBatchSupported({ capabilities, batch });
      const [message] = batch.filter((m): m is TextMessage => 'text' in m);
      if (!message) return [];
      const request = buildTwilioRequest({
        message,
        accountSid,
        authToken,
        from,
        messagingServiceSid,
        statusCallbackUrl,
        endpoint,
      });
      const result = await exchange({
        fetch,
        url: request.url,
        init: { method: 'POST', headers: request.headers, body: request.body },
        timeoutMs,
      });
      return parseTwilioAnswer({ batch, result });
    },
  };
}
