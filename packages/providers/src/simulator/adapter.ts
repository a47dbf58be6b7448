import * as z from 'zod';
import { providerCapabilities } from '../capabilities';
import {
  assertBatchSupported,
  type Failure,
  failAll,
  isTemplateMessage,
  type SendOutcome,
  type SmsBatch,
  type SmsMessage,
  type SmsProvider,
  widenToBatch,
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
import {
  defaultSimulatorAccount,
  type SimulatorSendMessage,
  simulatorAccepted,
  simulatorAccountHeader,
  simulatorBatchAnswer,
  simulatorError,
} from './protocol';

// The provider port over the local simulator's HTTP API (./protocol.ts). Used by the sender on
// the local stack, where PROVIDER_SIMULATOR_URL gives the base URL, exactly as a real adapter
// is used on AWS: the same timeouts, the same ambiguity when no answer comes back.

export interface SimulatorProviderOptions {
  /** The simulator's base URL, e.g. http://127.0.0.1:38237 (PROVIDER_SIMULATOR_URL). */
  readonly baseUrl: string;
  /** The provider account (the tenant's); its callbacks go to /callbacks/simulator/<account>. */
  readonly account?: string;
  readonly timeoutMs?: number;
  readonly fetch?: FetchLike;
}

/** The simulator's wire form of a message. */
export function toSimulatorMessage(message: SmsMessage): SimulatorSendMessage {
  const base = { to: message.phone, reference: message.reference };
  if (isTemplateMessage(message)) {
    return {
      ...base,
      template: {
        code: message.template.code,
        params: Object.fromEntries(message.template.params.map(({ name, value }) => [name, value])),
      },
      signature: message.signature,
    };
  }
  return {
    ...base,
    text: message.text,
    ...(message.signature === undefined ? {} : { signature: message.signature }),
  };
}

/** What a simulator code means for the sender. */
export function simulatorFailure({
  code,
  message,
  retryAfterMs,
}: {
  code: string;
  message: string;
  retryAfterMs?: number | undefined;
}): Failure {
  switch (code) {
    case 'throttled':
      return {
        outcome: 'throttled',
        code,
        reason: message,
        scope: 'account',
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    case 'unavailable':
      return { outcome: 'retryable', code, reason: message, scope: 'batch' };
    case 'template_not_found':
      return { outcome: 'permanent', code, reason: message, scope: 'account' };
    case 'batch_too_large':
      return { outcome: 'permanent', code, reason: message, scope: 'batch' };
    default:
      // invalid_number, invalid_request and anything newer: this message will never go.
      return { outcome: 'permanent', code, reason: message, scope: 'message' };
  }
}

const errorAnswer = (result: Extract<HttpExchange, { kind: 'answered' }>): Failure => {
  const parsed = simulatorError.safeParse(parseJsonBody(result.body));
  if (!parsed.success) return httpStatusFailure(result);
  return simulatorFailure({
    code: parsed.data.code,
    message: parsed.data.message,
    retryAfterMs: parsed.data.retryAfterMs ?? parseRetryAfter(result.headers.get('retry-after')),
  });
};

const unreadable = (status: number): Failure => ({
  outcome: 'ambiguous',
  code: 'unreadable_answer',
  reason: `The simulator answered HTTP ${status} with a body that is not its answer; the messages may have been accepted.`,
  scope: 'batch',
});

export function parseSimulatorAnswer({
  batch,
  result,
}: {
  batch: SmsBatch;
  result: HttpExchange;
}): SendOutcome[] {
  if (result.kind !== 'answered') return failAll(batch, networkFailure(result));
  const json = parseJsonBody(result.body);
  if (batch.length === 1 && result.status === 202) {
    const accepted = simulatorAccepted.safeParse(json);
    if (!accepted.success) return failAll(batch, unreadable(result.status));
    return batch.map((message) => ({
      reference: message.reference,
      outcome: 'accepted',
      providerMessageId: accepted.data.messageId,
      parts: accepted.data.parts,
    }));
  }
  if (batch.length > 1 && result.status === 200) {
    const answer = simulatorBatchAnswer.safeParse(json);
    if (!answer.success || answer.data.results.length !== batch.length)
      return failAll(batch, unreadable(result.status));
    const { results } = answer.data;
    return batch.map((message, index): SendOutcome => {
      const item = results[index];
      if (!item) return { reference: message.reference, ...unreadable(result.status) };
      return item.status === 'accepted'
        ? {
            reference: message.reference,
            outcome: 'accepted',
            providerMessageId: item.messageId,
            parts: item.parts,
          }
        : { reference: message.reference, ...simulatorFailure({ code: item.code, message: item.message }) };
    });
  }
  if (result.status >= 200 && result.status < 300) return failAll(batch, unreadable(result.status));
  return failAll(batch, widenToBatch(errorAnswer(result), batch.length));
}

export function createSimulatorProvider({
  baseUrl,
  account = defaultSimulatorAccount,
  timeoutMs = 5_000,
  fetch = globalThis.fetch,
}: SimulatorProviderOptions): SmsProvider {
  const capabilities = providerCapabilities.simulator;
  const base = baseUrl.replace(/\/+$/, '');
  const headers = { 'content-type': 'application/json', [simulatorAccountHeader]: account };
  return {
    id: 'simulator',
    capabilities,
    async send(batch) {
      assertBatchSupported({ capabilities, batch });
      const messages = batch.map(toSimulatorMessage);
      const single = messages.length === 1 ? messages[0] : undefined;
      const result = await exchange({
        fetch,
        url: single ? `${base}/v1/messages` : `${base}/v1/messages/batch`,
        init: { method: 'POST', headers, body: JSON.stringify(single ?? { messages }) },
        timeoutMs,
      });
      return parseSimulatorAnswer({ batch, result });
    },
  };
}

/** The variables the local stack gives functions for the simulator. */
export const simulatorEnvNames = {
  url: 'PROVIDER_SIMULATOR_URL',
  callbackSecret: 'PROVIDER_SIMULATOR_CALLBACK_SECRET',
} as const;

const simulatorEnv = z.object({
  [simulatorEnvNames.url]: z.url({ protocol: /^https?$/ }),
  [simulatorEnvNames.callbackSecret]: z.string().min(16).optional(),
});

export interface SimulatorSettings {
  readonly baseUrl: string;
  readonly callbackSecret?: string;
}

/** Reads the simulator's settings from the environment; throws naming the variable at fault. */
export function loadSimulatorSettings(env: Readonly<Record<string, string | undefined>>): SimulatorSettings {
  const parsed = simulatorEnv.safeParse(env);
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0])))].join(', ');
    throw new Error(
      `The SMS simulator is not configured: set ${names} (see packages/local/src/environment.ts).`,
    );
  }
  const secret = parsed.data[simulatorEnvNames.callbackSecret];
  return {
    baseUrl: parsed.data[simulatorEnvNames.url],
    ...(secret === undefined ? {} : { callbackSecret: secret }),
  };
}
