import { buildTwilioRequest, createTwilioProvider, parseTwilioAnswer } from '@qunfa/providers';
import { describe, expect, it } from 'vitest';
import { answered, providerFixture, textMessage } from './support';

describe('Twilio adapter', () => {
  it('POSTs To, Body, From and a StatusCallback naming our reference, with Basic auth', () => {
    const request = buildTwilioRequest({
      message: textMessage(),
      accountSid: 'AC123',
      authToken: 'token',
      from: '+14155552345',
      statusCallbackUrl: 'https://api.example.com/callbacks/twilio/t-1',
    });

    expect(request.url).toBe('https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json');
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('AC123:token').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      To: '+14155550123',
      Body: 'Your points expire soon',
      From: '+14155552345',
      StatusCallback: 'https://api.example.com/callbacks/twilio/t-1?reference=run-1%3Am-1',
    });
  });

  it('accepts a created Message with its sid and segments (documented example)', () => {
    const [result] = parseTwilioAnswer({
      batch: [textMessage()],
      result: answered(201, providerFixture('twilio', 'message-created')),
    });

    expect(result).toEqual({
      reference: 'run-1:m-1',
      outcome: 'accepted',
      providerMessageId: 'SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      parts: 1,
    });
  });

  it.each([
    ['invalid-to-21211', 400, 'permanent', 'message', '21211'],
    ['unsubscribed-21610', 400, 'permanent', 'message', '21610'],
    ['too-many-requests-20429', 429, 'throttled', 'account', '20429'],
    ['authenticate-20003', 401, 'permanent', 'account', '20003'],
  ] as const)('maps %s to %s (%s)', (fixture, status, outcome, scope, code) => {
    const [result] = parseTwilioAnswer({
      batch: [textMessage()],
      result: answered(status, providerFixture('twilio', fixture), { 'retry-after': '2' }),
    });

    expect(result).toMatchObject({ outcome, scope, code });
  });

  it('waits as long as Retry-After says when throttled', () => {
    const [result] = parseTwilioAnswer({
      batch: [textMessage()],
      result: answered(429, providerFixture('twilio', 'too-many-requests-20429'), { 'retry-after': '2' }),
    });

    expect(result).toMatchObject({ outcome: 'throttled', retryAfterMs: 2_000 });
  });

  it('treats a 500 as ambiguous and a 503 as retryable', () => {
    const batch = [textMessage()];

    expect(parseTwilioAnswer({ batch, result: answered(500, '') })).toEqual([
      expect.objectContaining({ outcome: 'ambiguous', code: 'http_500' }),
    ]);
    expect(parseTwilioAnswer({ batch, result: answered(503, '') })).toEqual([
      expect.objectContaining({ outcome: 'retryable', code: 'http_503' }),
    ]);
  });

  it('needs a sender: a From number or a Messaging Service', () => {
    expect(() => createTwilioProvider({ accountSid: 'AC1', authToken: 't' })).toThrow(
      /From number or a MessagingServiceSid/,
    );
  });
});
