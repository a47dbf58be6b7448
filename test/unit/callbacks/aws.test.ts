import { readAwsSmsPayload } from '@qunfa/providers';
import { describe, expect, it } from 'vitest';
import { callbackJson } from './support';

// AWS End User Messaging SMS event-destination events and two-way replies
// (docs.aws.amazon.com/sms-voice/latest/userguide/configuration-sets-event-format.html,
// two-way-sms-payload.html), bare or inside an SNS notification.

const now = new Date('2023-06-17T04:12:00Z');
const event = callbackJson('aws', 'sms-event') as Record<string, unknown>;

describe('AWS End User Messaging SMS events', () => {
  it('reads a final TEXT_SUCCESSFUL as a delivery with our reference from its context', () => {
    expect(readAwsSmsPayload({ value: event, now })).toEqual({
      ok: true,
      events: [
        {
          kind: 'receipt',
          providerMessageId: '862a8790-60c0-4430-9b2b-658bdexample',
          reference: 'run-01J:m-000123',
          phone: '+14255550156',
          status: 'delivered',
          code: 'SUCCESSFUL',
          parts: 1,
          at: '2023-06-17T04:11:43.470Z',
          receiptId: 'aws:862a8790-60c0-4430-9b2b-658bdexample:TEXT_SUCCESSFUL',
        },
      ],
    });
  });

  it.each([
    ['TEXT_INVALID', 'failed', 'invalid_number'],
    ['TEXT_CARRIER_UNREACHABLE', 'failed', 'unreachable'],
    ['TEXT_CARRIER_BLOCKED', 'failed', 'blocked'],
    ['TEXT_TTL_EXPIRED', 'expired', 'expired'],
  ])('reads %s as %s (%s)', (eventType, status, reason) => {
    const read = readAwsSmsPayload({ value: { ...event, eventType, isFinal: true }, now });

    expect(read).toMatchObject({ ok: true, events: [{ status, reason }] });
  });

  it('acknowledges TEXT_PENDING without a receipt', () => {
    expect(
      readAwsSmsPayload({ value: { ...event, eventType: 'TEXT_PENDING', isFinal: false }, now }),
    ).toEqual({
      ok: true,
      events: [],
    });
  });

  it('reads a two-way reply inside an SNS notification, at the notification time', () => {
    const notification = {
      Type: 'Notification',
      MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:qunfa-inbound',
      Message: JSON.stringify(callbackJson('aws', 'inbound-sms')),
      Timestamp: '2023-06-17T04:11:59.000Z',
    };

    expect(readAwsSmsPayload({ value: notification, now })).toEqual({
      ok: true,
      events: [
        {
          kind: 'reply',
          phone: '+14255550182',
          text: 'EXAMPLE',
          at: '2023-06-17T04:11:59.000Z',
          replyId: 'aws:cae173d2-66b9-564c-8309-21f858e9fb84',
          inReplyTo: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        },
      ],
    });
  });

  it('refuses an event whose destination is not E.164', () => {
    expect(
      readAwsSmsPayload({ value: { ...event, destinationPhoneNumber: '4255550156' }, now }),
    ).toMatchObject({
      ok: false,
      problems: [{ path: 'body.destinationPhoneNumber' }],
    });
  });
});
