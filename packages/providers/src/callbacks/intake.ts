import {
  type CallbackBatchMessage,
  callbackBatchMessage,
  type Problem,
  type SmsProviderId,
  type TenantStore,
} from '@qunfa/domain';
import { aliyunCallbackReader } from '../aliyun/callbacks';
import { simulatorCallbackReader } from '../simulator/callback-reader';
import { simulatorCallbackToleranceSeconds } from '../simulator/callbacks';
import { tencentCallbackReader } from '../tencent/callbacks';
import { twilioCallbackReader } from '../twilio/callbacks';
import type { CallbackAnswer, CallbackReader, CallbackRequest, CallbackSecrets } from './reader';

// Taking in one provider callback (the callbacks function's one use case):
//   1. refuse a body larger than a receipt-queue message can be (413);
//   2. find the account's tenant (404) and its secret for this provider (401 without one);
//   3. the provider's reader authenticates (401), then reads the body into events (400:
//      one bad item refuses the whole batch, so a provider's retry brings it all again);
//   4. claim the callback's id, where the signed body has one: a second callback with the
//      same id is the same bytes again, a replay (401);
//   5. enqueue ONE callback.batch message on the receipt queue and answer as the provider
//      expects. When the enqueue fails the claim is given back and the error propagates (5xx),
//      so the provider's retry, or the same bytes resent, is taken.
// A retry that arrives after an accepted callback (its answer was lost) is enqueued again:
// the receipt processor applies a receiptId or replyId once.

/** SQS's message size limit; a callback whose batch message would not fit is refused whole. */
export const maxCallbackBytes = 256 * 1024;

/** Providers that POST to /callbacks/<provider>/…; AWS End User Messaging publishes to SNS instead. */
export const callbackReaders: Readonly<Partial<Record<SmsProviderId, CallbackReader>>> = {
  simulator: simulatorCallbackReader,
  aliyun: aliyunCallbackReader,
  tencent: tencentCallbackReader,
  twilio: twilioCallbackReader,
};

/** Remembers the callback ids seen, each until its signature could no longer be fresh. */
export interface CallbackReplayGuard {
  /** False when the id was claimed before (a replay). */
  claim(input: {
    tenantId: string;
    provider: SmsProviderId;
    callbackId: string;
    expiresAt: Date;
  }): Promise<boolean>;
  /** Forgets a claim whose callback was not enqueued. */
  release(input: { tenantId: string; provider: SmsProviderId; callbackId: string }): Promise<void>;
}

export interface CallbackIntakeDeps {
  readonly tenants: Pick<TenantStore, 'getTenant'>;
  readonly secrets: CallbackSecrets;
  readonly replays: CallbackReplayGuard;
  readonly enqueue: (message: CallbackBatchMessage) => Promise<void>;
  readonly now: () => Date;
  readonly log?: (message: string, attributes: Record<string, unknown>) => void;
}

export type CallbackRefusalKind =
  /** The provider takes no callbacks at this path (a sub-path it does not use). */
  'no_endpoint' | 'not_found' | 'unauthorized' | 'invalid' | 'too_large' | 'unsupported_media_type';

export type CallbackOutcome =
  | {
      readonly accepted: true;
      readonly answer: CallbackAnswer;
      /** Events enqueued (0: acknowledged, nothing to apply). */
      readonly events: number;
      readonly tenantId: string;
      readonly callbackId?: string;
    }
  | {
      readonly accepted: false;
      readonly refusal: CallbackRefusalKind;
      readonly message: string;
      readonly problems?: readonly Problem[];
      /** For unsupported_media_type: what to send instead. */
      readonly expected?: string;
    };

const refuse = (
  refusal: CallbackRefusalKind,
  message: string,
  problems?: readonly Problem[],
): CallbackOutcome => ({ accepted: false, refusal, message, ...(problems ? { problems } : {}) });

/** How long past its signing a callback id is remembered: longer than a signature stays fresh. */
const replayMemorySeconds = 2 * simulatorCallbackToleranceSeconds + 60;

export async function acceptCallback({
  deps,
  request,
}: {
  deps: CallbackIntakeDeps;
  request: CallbackRequest;
}): Promise<CallbackOutcome> {
  const reader = callbackReaders[request.provider];
  if (!reader?.kinds.includes(request.kind)) {
    return refuse('no_endpoint', `No callback endpoint for ${request.provider} at this path.`);
  }
  if (request.body.length > maxCallbackBytes) {
    return refuse('too_large', `The callback body is larger than ${maxCallbackBytes} bytes.`);
  }
  // For now the account in the URL is the tenant: each tenant is its own provider account.
  const tenant = await deps.tenants.getTenant(request.account);
  if (!tenant) return refuse('not_found', `No provider account ${request.account}.`);
  const secret = await deps.secrets.secretFor({ provider: request.provider, account: request.account });
  if (secret === undefined) {
    deps.log?.('callback refused: no callback secret configured', {
      provider: request.provider,
      tenantId: tenant.tenantId,
    });
    return refuse('unauthorized', `Callbacks from ${request.provider} are not configured for this account.`);
  }

  const now = deps.now();
  const reading = reader.read({ request, secret, now });
  if (!reading.ok) {
    if (reading.refusal === 'invalid') return refuse('invalid', reading.message, reading.problems);
    if (reading.refusal === 'unsupported_media_type') {
      return {
        accepted: false,
        refusal: reading.refusal,
        message: reading.message,
        expected: reading.expected,
      };
    }
    return refuse(reading.refusal, reading.message);
  }
  const callbackId = reading.replayKey?.callbackId;
  if (reading.events.length === 0) {
    return { accepted: true, answer: reading.answer, events: 0, tenantId: tenant.tenantId };
  }

  const candidate = {
    type: 'callback.batch' as const,
    tenantId: tenant.tenantId,
    provider: request.provider,
    account: request.account,
    ...(callbackId === undefined ? {} : { callbackId }),
    receivedAt: now.toISOString(),
    events: [...reading.events],
  };
  const message = callbackBatchMessage.safeParse(candidate);
  if (!message.success) {
    return refuse(
      'invalid',
      'The callback does not make a valid batch of events.',
      message.error.issues.map((issue) => ({
        path: ['body', ...issue.path.map(String)].join('.'),
        message: issue.message,
      })),
    );
  }
  if (Buffer.byteLength(JSON.stringify(message.data), 'utf8') > maxCallbackBytes) {
    return refuse(
      'too_large',
      'The callback holds more than one receipt-queue message can carry; send smaller batches.',
    );
  }

  const key = { tenantId: tenant.tenantId, provider: request.provider };
  if (reading.replayKey) {
    const expiresAt = new Date(reading.replayKey.signedAt.getTime() + replayMemorySeconds * 1000);
    const fresh = await deps.replays.claim({ ...key, callbackId: reading.replayKey.callbackId, expiresAt });
    if (!fresh) return refuse('unauthorized', 'This callback was received before: a replay is refused.');
  }
  try {
    await deps.enqueue(message.data);
  } catch (error) {
    if (reading.replayKey) {
      await deps.replays.release({ ...key, callbackId: reading.replayKey.callbackId }).catch(() => undefined);
    }
    throw error;
  }
  return {
    accepted: true,
    answer: reading.answer,
    events: message.data.events.length,
    tenantId: tenant.tenantId,
    ...(callbackId === undefined ? {} : { callbackId }),
  };
}
