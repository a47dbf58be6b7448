import {
  receiptOfTwilioStatus,
  twilioCallbackReader,
  twilioSignature,
  twilioStatusCallback,
  twilioUndeliveredReason,
  verifyTwilioSignature,
} from '@qunfa/providers';
import { describe, expect, it } from 'vitest';
import { callbackJson, callbackRequest } from './support';

// Twilio status callbacks and incoming messages, signed with X-Twilio-Signature
// (twilio.com/docs/usage/security).

const authToken = 'twilio-auth-token-0123456789';
const now = new Date('2023-08-24T05:01:50Z');
const receiptsUrl = 'https://api.example.com/callbacks/twilio/t-7Hk2/receipts?reference=run-01J%3Am-000123';
const repliesUrl = 'https://api.example.com/callbacks/twilio/t-7Hk2/replies';

function signedRequest({
  url,
  params,
  kind,
  signature,
}: {
  url: string;
  params: Record<string, string>;
  kind: 'receipts' | 'replies';
  signature?: string;
}) {
  const form = new URLSearchParams(params);
  return callbackRequest({
    provider: 'twilio',
    kind,
    url,
    query: Object.fromEntries(new URL(url).searchParams),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature ?? twilioSignature({ authToken, url, params: form }),
    },
    body: Buffer.from(form.toString()),
  });
}

const statusParams = callbackJson('twilio', 'status-callback') as Record<string, string>;
const inboundParams = callbackJson('twilio', 'incoming-message') as Record<string, string>;

describe('Twilio callbacks', () => {
  describe('X-Twilio-Signature', () => {
    // The worked example of twilio.com/docs/usage/security: auth token 12345.
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const params = {
      CallSid: 'CA1234567890ABCDE',
      Caller: '+14158675310',
      Digits: '1234',
      From: '+14158675310',
      To: '+18005551212',
    };

    it("matches Twilio's documented example", () => {
      expect(twilioSignature({ authToken: '12345', url, params })).toBe('GvWf1cFY/Q7PnoempGyD5oXAezc=');
    });

    it('does not depend on the order the parameters come in', () => {
      const reversed = new URLSearchParams(Object.entries(params).reverse());

      expect(
        verifyTwilioSignature({
          authToken: '12345',
          url,
          params: reversed,
          signature: 'GvWf1cFY/Q7PnoempGyD5oXAezc=',
        }),
      ).toBe(true);
    });

    it.each([
      ['a changed parameter', { ...params, Digits: '9999' }, url, '12345'],
      ['another URL', params, url.replace('https', 'http'), '12345'],
      ['another auth token', params, url, '54321'],
    ])('fails for %s', (_case, changed, changedUrl, token) => {
      expect(
        verifyTwilioSignature({
          authToken: token,
          url: changedUrl,
          params: changed,
          signature: 'GvWf1cFY/Q7PnoempGyD5oXAezc=',
        }),
      ).toBe(false);
    });
  });

  describe('status callback', () => {
    it('reads an undelivered status with our reference from the callback URL', () => {
      const reading = twilioCallbackReader.read({
        request: signedRequest({ url: receiptsUrl, params: statusParams, kind: 'receipts' }),
        secret: authToken,
        now,
      });

      expect(reading).toMatchObject({
        ok: true,
        answer: { status: 200 },
        events: [
          {
            kind: 'receipt',
            providerMessageId: 'SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
            reference: 'run-01J:m-000123',
            phone: '+15558675310',
            status: 'failed',
            reason: 'unreachable',
            code: '30003',
            receiptId: 'twilio:SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:undelivered',
          },
        ],
      });
    });

    it.each([
      ['21610', 'carrier_opt_out'],
      ['21211', 'invalid_number'],
      ['30005', 'invalid_number'],
      ['30007', 'blocked'],
      ['99999', 'unknown'],
    ])('maps error %s to %s', (code, reason) => {
      expect(twilioUndeliveredReason(code)).toBe(reason);
    });

    it.each(['queued', 'sending', 'accepted', 'scheduled'])('acknowledges %s without a receipt', (status) => {
      const parsed = twilioStatusCallback.parse({ ...statusParams, MessageStatus: status });

      expect(receiptOfTwilioStatus({ status: parsed, reference: undefined, at: now })).toBeUndefined();
    });

    it('refuses a status Twilio does not document', () => {
      const reading = twilioCallbackReader.read({
        request: signedRequest({
          url: receiptsUrl,
          params: { ...statusParams, MessageStatus: 'teleported' },
          kind: 'receipts',
        }),
        secret: authToken,
        now,
      });

      expect(reading).toMatchObject({
        ok: false,
        refusal: 'invalid',
        problems: [{ path: 'body.MessageStatus' }],
      });
    });
  });

  describe('incoming message', () => {
    it('reads the reply and answers an empty TwiML response', () => {
      const reading = twilioCallbackReader.read({
        request: signedRequest({ url: repliesUrl, params: inboundParams, kind: 'replies' }),
        secret: authToken,
        now,
      });

      expect(reading).toMatchObject({
        ok: true,
        events: [
          {
            kind: 'reply',
            phone: '+15558675310',
            text: 'STOP',
            replyId: 'twilio:SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
          },
        ],
        answer: { status: 200, contentType: 'text/xml; charset=utf-8' },
      });
      expect(reading.ok && reading.answer.body).toMatch(/<Response\/>$/);
    });

    it.each([
      ['forged', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA='],
      ['unsigned', ''],
    ])('refuses a %s request', (_case, signature) => {
      const reading = twilioCallbackReader.read({
        request: signedRequest({ url: repliesUrl, params: inboundParams, kind: 'replies', signature }),
        secret: authToken,
        now,
      });

      expect(reading).toMatchObject({ ok: false, refusal: 'unauthorized' });
    });

    it('refuses a body signed for another URL (a callback replayed to another account)', () => {
      const other = 'https://api.example.com/callbacks/twilio/t-other/replies';
      const form = new URLSearchParams(inboundParams);
      const reading = twilioCallbackReader.read({
        request: signedRequest({
          url: repliesUrl,
          params: inboundParams,
          kind: 'replies',
          signature: twilioSignature({ authToken, url: other, params: form }),
        }),
        secret: authToken,
        now,
      });

      expect(reading).toMatchObject({ ok: false, refusal: 'unauthorized' });
    });

    it('refuses JSON: Twilio posts forms', () => {
      const reading = twilioCallbackReader.read({
        request: callbackRequest({
          provider: 'twilio',
          kind: 'replies',
          headers: { 'content-type': 'application/json' },
        }),
        secret: authToken,
        now,
      });

      expect(reading).toMatchObject({ ok: false, refusal: 'unsupported_media_type' });
    });
  });
});
