import { awsSmsFailure, createAwsSmsProvider, type SendTextMessageInput } from '@qunfa/providers';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { providerFixture, textMessage } from './support';

// The documented error bodies of SendTextMessage, turned into what the AWS SDK throws for
// them: an Error named after __type, with the body's fields and the HTTP status.
const errorBody = z.looseObject({ __type: z.string(), Message: z.string(), Reason: z.string().optional() });

function sdkError(fixture: string, httpStatusCode: number): Error {
  const body = errorBody.parse(JSON.parse(providerFixture('aws', fixture)));
  return Object.assign(new Error(body.Message), {
    name: body.__type,
    ...(body.Reason === undefined ? {} : { Reason: body.Reason }),
    $metadata: { httpStatusCode },
  });
}

describe('AWS End User Messaging SMS adapter', () => {
  it('sends one text with our reference in Context and answers its MessageId', async () => {
    const inputs: SendTextMessageInput[] = [];
    const provider = createAwsSmsProvider({
      originationIdentity: 'pool-123',
      client: {
        sendTextMessage: async (input) => {
          inputs.push(input);
          return z
            .object({ MessageId: z.string() })
            .parse(JSON.parse(providerFixture('aws', 'send-text-message')));
        },
      },
    });

    const outcomes = await provider.send([textMessage()]);

    expect(inputs).toEqual([
      {
        DestinationPhoneNumber: '+14155550123',
        MessageBody: 'Your points expire soon',
        MessageType: 'PROMOTIONAL',
        OriginationIdentity: 'pool-123',
        Context: { reference: 'run-1:m-1' },
      },
    ]);
    expect(outcomes).toEqual([
      {
        reference: 'run-1:m-1',
        outcome: 'accepted',
        providerMessageId: 'd61c8f0e-6b2a-4a1d-9f3e-7c5b2a1e0f98',
      },
    ]);
  });

  it.each([
    ['throttling', 429, 'throttled', 'account', 'ThrottlingException'],
    [
      'conflict-opted-out',
      409,
      'permanent',
      'message',
      'ConflictException:DESTINATION_PHONE_NUMBER_OPTED_OUT',
    ],
    ['validation', 400, 'permanent', 'message', 'ValidationException:INVALID_PARAMETER'],
    [
      'monthly-spend-limit',
      402,
      'retryable',
      'account',
      'ServiceQuotaExceededException:MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT',
    ],
    ['internal-server', 500, 'retryable', 'message', 'InternalServerException'],
  ] as const)('maps %s to %s (%s)', (fixture, status, outcome, scope, code) => {
    expect(awsSmsFailure(sdkError(fixture, status))).toMatchObject({ outcome, scope, code });
  });

  it('treats our own timeout as ambiguous: the request had left', async () => {
    const provider = createAwsSmsProvider({
      timeoutMs: 20,
      client: {
        sendTextMessage: (_input, { abortSignal }) =>
          new Promise((_resolve, reject) =>
            abortSignal.addEventListener('abort', () => reject(abortSignal.reason)),
          ),
      },
    });

    const [result] = await provider.send([textMessage()]);

    expect(result).toMatchObject({ outcome: 'ambiguous', code: 'timeout' });
  });

  it('treats a refused connection as retryable: nothing was sent', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' });

    expect(awsSmsFailure(refused)).toMatchObject({ outcome: 'retryable', code: 'econnrefused' });
  });
});
