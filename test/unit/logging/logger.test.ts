import { AwsServiceError, ConditionalCheckFailedException, createLogger } from '@qunfa/aws';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../support/events';
import { captureLogOutput, type LogOutput } from './output';

const cnMobile = '+8613812345678';
const cnHidden = '1381234';
const usPhone = '+12025550123';
const usHidden = '202555';

let output: LogOutput;

beforeEach(() => {
  output = captureLogOutput();
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('createLogger', () => {
  it('writes one JSON line with level, message and the qunfa service name', () => {
    const logger = createLogger({ service: 'sender' });

    logger.info('batch claimed');

    expect(output.lines()).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'batch claimed', service: 'qunfa-sender' }),
    ]);
  });

  it('adds the Lambda context to every line', () => {
    const logger = createLogger({ service: 'sender' });
    const context = lambdaContext('qunfa-sender');

    logger.addContext(context);
    logger.info('batch claimed');

    expect(output.lines()[0]).toMatchObject({
      function_name: 'qunfa-sender',
      function_request_id: context.awsRequestId,
    });
  });

  describe('never writes a phone number whole', () => {
    it('in the message', () => {
      const logger = createLogger({ service: 'sender' });

      logger.info(`SMS sent to ${cnMobile}`);

      expect(output.text()).not.toContain(cnHidden);
      expect(output.lines()[0]).toMatchObject({ message: 'SMS sent to +86*******5678' });
    });

    it('in the extra attributes', () => {
      const logger = createLogger({ service: 'sender' });

      logger.info('SMS sent', { phone: cnMobile, memberId: 'm-42' });

      expect(output.text()).not.toContain(cnHidden);
      expect(output.lines()[0]).toMatchObject({ phone: '+86*******5678', memberId: 'm-42' });
    });

    it('in nested payloads and arrays', () => {
      const logger = createLogger({ service: 'segmenter' });

      logger.info('batch enqueued', {
        batch: { runId: 'r-1', recipients: [{ phone: cnMobile }, { phone: usPhone }] },
        rejected: [`${usPhone} has no consent`],
      });

      const out = output.text();
      expect(out).not.toContain(cnHidden);
      expect(out).not.toContain(usHidden);
      expect(output.lines()[0]).toMatchObject({
        batch: { runId: 'r-1', recipients: [{ phone: '+86*******5678' }, { phone: '+1******0123' }] },
        rejected: ['+1******0123 has no consent'],
      });
    });

    it('in an error passed as the extra argument', () => {
      const logger = createLogger({ service: 'sender' });

      logger.error('provider call failed', new Error(`invalid recipient ${cnMobile}`));

      expect(output.text()).not.toContain(cnHidden);
      expect(output.lines()[0]).toMatchObject({
        level: 'ERROR',
        error: {
          name: 'Error',
          message: 'invalid recipient +86*******5678',
          stack: expect.stringContaining('invalid recipient +86*******5678'),
        },
      });
    });

    it('in an error inside the attributes', () => {
      const logger = createLogger({ service: 'receipts' });

      logger.error('receipt failed', { error: new RangeError(`unknown number ${usPhone}`), attempt: 2 });

      expect(output.text()).not.toContain(usHidden);
      expect(output.lines()[0]).toMatchObject({
        attempt: 2,
        error: { name: 'RangeError', message: 'unknown number +1******0123' },
      });
    });

    it('in a string passed as the extra argument', () => {
      const logger = createLogger({ service: 'receipts' });

      logger.warn('reply from unknown number', `from ${cnMobile}`);

      expect(output.text()).not.toContain(cnHidden);
      expect(output.lines()[0]).toMatchObject({ extra: 'from +86*******5678' });
    });

    it('in an object given as the message', () => {
      const logger = createLogger({ service: 'receipts' });

      logger.info({ message: `opt-out from ${cnMobile}`, keyword: 'TD', phone: cnMobile });

      expect(output.text()).not.toContain(cnHidden);
      expect(output.lines()[0]).toMatchObject({
        message: 'opt-out from +86*******5678',
        keyword: 'TD',
        phone: '+86*******5678',
      });
    });

    it('in a payload nested deeper than the mask walks, which it writes as [Truncated]', () => {
      const logger = createLogger({ service: 'segmenter' });
      let payload: unknown = { phone: cnMobile };
      for (let level = 0; level < 12; level++) payload = { child: payload };

      logger.info('deep', { payload });

      expect(output.text()).not.toContain(cnHidden);
      expect(output.text()).toContain('"[Truncated]"');
    });

    it('in a payload that contains itself, which it writes as [Circular]', () => {
      const logger = createLogger({ service: 'segmenter' });
      const member: Record<string, unknown> = { phone: cnMobile };
      member.self = member;

      logger.info('cycle', { member });

      expect(output.text()).not.toContain(cnHidden);
      expect(output.lines()[0]).toMatchObject({ member: { phone: '+86*******5678', self: '[Circular]' } });
    });

    it('in the keys of a payload', () => {
      const logger = createLogger({ service: 'receipts' });

      logger.info('receipts', { byPhone: { [cnMobile]: 'delivered', [usPhone]: 'failed' } });

      expect(output.text()).not.toContain(cnHidden);
      expect(output.text()).not.toContain(usHidden);
      expect(output.lines()[0]).toMatchObject({
        byPhone: { '+86*******5678': 'delivered', '+1******0123': 'failed' },
      });
    });

    it('in a Map, a Set and a number, and writes a Date as its ISO string', () => {
      const logger = createLogger({ service: 'sender' });

      logger.info('state', {
        claimed: new Map([[cnMobile, new Date('2026-11-23T08:00:00Z')]]),
        suppressed: new Set([usPhone]),
        imported: 13812345678,
      });

      expect(output.text()).not.toContain(cnHidden);
      expect(output.text()).not.toContain(usHidden);
      expect(output.lines()[0]).toMatchObject({
        claimed: [['+86*******5678', '2026-11-23T08:00:00.000Z']],
        suppressed: ['+1******0123'],
        imported: '*******5678',
      });
    });

    it('in an AWS service error and its cause, keeping their metadata', () => {
      const logger = createLogger({ service: 'sender' });
      const refused = new ConditionalCheckFailedException(
        new AwsServiceError({
          name: 'ConditionalCheckFailedException',
          message: 'The conditional request failed',
          status: 400,
          operation: 'UpdateItem',
          details: { Item: { phone: { S: cnMobile } } },
        }),
      );

      logger.error('claim failed', new Error(`claim of ${cnMobile} failed`, { cause: refused }));

      expect(output.text()).not.toContain(cnHidden);
      expect(output.lines()[0]).toMatchObject({
        error: {
          name: 'Error',
          message: 'claim of +86*******5678 failed',
          cause: {
            name: 'ConditionalCheckFailedException',
            message: 'The conditional request failed',
            status: 400,
            operation: 'UpdateItem',
            details: { Item: { phone: { S: '+86*******5678' } } },
            Item: { phone: '+86*******5678' },
          },
        },
      });
    });

    it('in keys appended to every line', () => {
      const logger = createLogger({ service: 'receipts' });

      logger.appendKeys({ member: cnMobile });
      logger.info('first');
      logger.warn('second');

      expect(output.text()).not.toContain(cnHidden);
      expect(output.lines().map((line) => line.member)).toEqual(['+86*******5678', '+86*******5678']);
    });
  });

  describe('levels', () => {
    it('writes nothing below the configured level', () => {
      const logger = createLogger({ service: 'sender', level: 'WARN' });

      logger.debug('debug');
      logger.info('info');
      logger.warn('warn');
      logger.error('error');

      expect(output.lines().map((line) => line.level)).toEqual(['WARN', 'ERROR']);
    });

    it('writes nothing at all at SILENT, not even errors', () => {
      const logger = createLogger({ service: 'sender', level: 'SILENT' });

      logger.debug('debug');
      logger.info(`info ${cnMobile}`);
      logger.warn('warn');
      logger.error('error', new Error('boom'));
      logger.critical('critical');

      expect(output.text()).toBe('');
    });
  });
});
