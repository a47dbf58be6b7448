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
import { classifyNetworkError, httpStatusFailure, networkFailure } from '../transport';

// AWS End User Messaging SMS (pinpoint-sms-voice-v2) SendTextMessage: one number per call;
// Context is copied to the event destination, so receipts name our reference. The SDK client
// (@aws-sdk/client-pinpoint-sms-voice-v2, not yet a dependency) sits behind SendTextMessageClient:
// `{ sendTextMessage: (input, options) => client.send(new SendTextMessageCommand(input), options) }`.
// Errors are the SDK's service exceptions: a name, a Reason and $metadata.httpStatusCode.

export interface SendTextMessageInput {
  readonly DestinationPhoneNumber: string;
  readonly MessageBody: string;
  readonly OriginationIdentity?: string;
  readonly ConfigurationSetName?: string;
  readonly MessageType?: 'TRANSACTIONAL' | 'PROMOTIONAL';
  readonly Context?: Readonly<Record<string, string>>;
  readonly TimeToLive?: number;
}

export interface SendTextMessageClient {
  sendTextMessage(
    input: SendTextMessageInput,
    options: { abortSignal: AbortSignal },
  ): Promise<{ readonly MessageId?: string | undefined }>;
}

export interface AwsSmsProviderOptions {
  readonly client: SendTextMessageClient;
  readonly originationIdentity?: string;
  readonly configurationSetName?: string;
  /** Marketing goes PROMOTIONAL (the default); notices may go TRANSACTIONAL. */
  readonly messageType?: 'TRANSACTIONAL' | 'PROMOTIONAL';
  readonly timeoutMs?: number;
}

interface Meaning {
  readonly outcome: FailureOutcome;
  readonly scope: FailureScope;
  readonly reason: string;
}

// Source: the SendTextMessage API reference (Errors) and the exceptions' Reason enums.
const byName: Readonly<Record<string, Meaning>> = {
  ThrottlingException: {
    outcome: 'throttled',
    scope: 'account',
    reason: 'AWS is throttling SendTextMessage.',
  },
  InternalServerException: {
    outcome: 'retryable',
    scope: 'message',
    reason: 'AWS End User Messaging failed internally; it may work if tried again.',
  },
  ValidationException: {
    outcome: 'permanent',
    scope: 'message',
    reason: 'AWS refused the message as invalid.',
  },
  ConflictException: {
    outcome: 'permanent',
    scope: 'message',
    reason: 'The message conflicts with the state of the account or number.',
  },
  ResourceNotFoundException: {
    outcome: 'permanent',
    scope: 'account',
    reason: 'The origination identity or configuration set does not exist.',
  },
  AccessDeniedException: { outcome: 'permanent', scope: 'account', reason: 'AWS denied the request.' },
  ServiceQuotaExceededException: {
    outcome: 'retryable',
    scope: 'account',
    reason: 'An account quota (such as the monthly spend limit) is reached.',
  },
};

const byReason: Readonly<Record<string, Meaning>> = {
  DESTINATION_PHONE_NUMBER_OPTED_OUT: {
    outcome: 'permanent',
    scope: 'message',
    reason: 'The number is on the opt-out list.',
  },
  MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT: {
    outcome: 'retryable',
    scope: 'account',
    reason: 'The monthly SMS spend limit is reached.',
  },
};

const serviceError = z.looseObject({
  name: z.string(),
  message: z.string().optional(),
  Reason: z.string().optional(),
  $metadata: z.looseObject({ httpStatusCode: z.number().optional() }).optional(),
});

/** What an error thrown by the client means. */
export function awsSmsFailure(error: unknown): Failure {
  const parsed = serviceError.safeParse(error);
  if (parsed.success) {
    const { name, Reason, message } = parsed.data;
    const meaning = (Reason === undefined ? undefined : byReason[Reason]) ?? byName[name];
    if (meaning) {
      return {
        outcome: meaning.outcome,
        scope: meaning.scope,
        code: Reason ? `${name}:${Reason}` : name,
        reason: `${meaning.reason}${message ? ` (${message})` : ''}`,
      };
    }
    const status = parsed.data.$metadata?.httpStatusCode;
    if (status !== undefined) {
      const failure = httpStatusFailure({ status });
      // One message per call: what concerns the call concerns the message.
      return { ...failure, code: name, scope: failure.scope === 'batch' ? 'message' : failure.scope };
    }
  }
  // No service answer: a network failure or our own timeout.
  return { ...networkFailure(classifyNetworkError(error)), scope: 'message' };
}

export function buildSendTextMessageInput({
  message,
  originationIdentity,
  configurationSetName,
  messageType = 'PROMOTIONAL',
}: {
  message: TextMessage;
  originationIdentity?: string | undefined;
  configurationSetName?: string | undefined;
  messageType?: 'TRANSACTIONAL' | 'PROMOTIONAL';
}): SendTextMessageInput {
  return {
    DestinationPhoneNumber: message.phone,
    MessageBody: message.text,
    MessageType: messageType,
    Context: { reference: message.reference },
    ...(originationIdentity ? { OriginationIdentity: originationIdentity } : {}),
    ...(configurationSetName ? { ConfigurationSetName: configurationSetName } : {}),
  };
}

export async function sendWithAws({
  batch,
  client,
  input,
  timeoutMs,
}: {
  batch: SmsBatch;
  client: SendTextMessageClient;
  input: SendTextMessageInput;
  timeoutMs: number;
}): Promise<SendOutcome[]> {
  try {
    const answer = await client.sendTextMessage(input, { abortSignal: AbortSignal.timeout(timeoutMs) });
    if (!answer.MessageId) {
      return failAll(batch, {
        outcome: 'ambiguous',
        code: 'missing_message_id',
        reason: 'AWS answered without a MessageId; the message may have been sent.',
        scope: 'message',
      });
    }
    const providerMessageId = answer.MessageId;
    return batch.map((message) => ({ reference: message.reference, outcome: 'accepted', providerMessageId }));
  } catch (error) {
    return failAll(batch, awsSmsFailure(error));
  }
}

export function createAwsSmsProvider({
  client,
  originationIdentity,
  configurationSetName,
  messageType = 'PROMOTIONAL',
  timeoutMs = 5_000,
}: AwsSmsProviderOptions): SmsProvider {
  const capabilities = providerCapabilities.aws;
  return {
    id: 'aws',
    capabilities,
    async send(batch) {
      assertBatchSupported({ capabilities, batch });
      const [message] = batch.filter((m): m is TextMessage => 'text' in m);
      if (!message) return [];
      const input = buildSendTextMessageInput({
        message,
        originationIdentity,
        configurationSetName,
        messageType,
      });
      return sendWithAws({ batch, client, input, timeoutMs });
    },
  };
}
