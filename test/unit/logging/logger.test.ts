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

  it('marks the lines of the first invocation only as the cold start', () => {
    const logger = createLogger({ service: 'sender' });
    const first = lambdaContext('qunfa-sender');
    const second = lambdaContext('qunfa-sender');

    logger.info('init');
    logger.addContext(first);
    logger.info('first');
    logger.addContext(first);
    logger.info('first again');
    logger.addContext(second);
    logger.info('second');

    expect(output.lines().map((line) => line.cold_start)).toEqual([undefined, true, true, false]);
  });

  it('writes the X-Ray trace id of the invocation', () => {
    const logger = createLogger({ service: 'sender' });

    vi.stubEnv(
      '_X_AMZN_TRACE_ID',
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=557abcec3ee5a047;Sampled=1',
    );
    logger.info('traced');
    vi.stubEnv('_X_AMZN_TRACE_ID', undefined);
    logger.info('untraced');

    expect(output.lines().map((line) => line.xray_trace_id)).toEqual([
      '1-5759e988-bd862e3fe1be46a994272793',
      undefined,
    ]);
  });

  it('writes an ISO timestamp', () => {
    const logger = createLogger({ service: 'sender' });

    logger.info('now');

    expect(output.lines()[0]?.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('writes warnings and errors to stderr, the rest to stdout', () => {
    const logger = createLogger({ service: 'sender', level: 'DEBUG' });

    logger.debug('debug');
    logger.info('info');
    logger.warn('warn');
    logger.error('error');

    const messages = (stream: NodeJS.WriteStream): unknown[] =>
      vi.mocked(stream.write).mock.calls.map(([chunk]) => JSON.parse(String(chunk)).message);
    expect(messages(process.stdout)).toEqual(['debug', 'info']);
    expect(messages(process.stderr)).toEqual(['warn', 'error']);
  });

  it('keeps its own level, message, timestamp and service over attributes of the same name', () => {
    const logger = createLogger({ service: 'sender' });

    logger.info('kept', { level: 'DEBUG', message: 'replaced', service: 'other', runId: 'r-1' });

    expect(output.lines()[0]).toMatchObject({
      level: 'INFO',
      message: 'kept',
      service: 'qunfa-sender',
      runId: 'r-1',
    });
  });

  it('removes appended keys', () => {
    const logger = createLogger({ service: 'sender' });

    logger.appendKeys({ runId: 'r-1', batch: 3 });
    logger.removeKeys(['batch']);
    logger.info('claimed');

    expect(output.lines()[0]).toMatchObject({ runId: 'r-1' });
    expect(output.lines()[0]).not.toHaveProperty('batch');
  });

  describe('never throws', () => {
    it('on a BigInt, which it writes as a string', () => {
      const logger = createLogger({ service: 'sender' });

      logger.info('counted', { sent: 12n, nested: { total: 2n ** 20n } });

      expect(output.lines()[0]).toMatchObject({ sent: '12', nested: { total: '1048576' } });
    });

    it('on attributes that contain themselves', () => {
      const logger = createLogger({ service: 'sender' });
      const attributes: Record<string, unknown> = { runId: 'r-1' };
      attributes.self = attributes;
      const error = new Error('loop');
      Object.assign(error, { cause: error });

      logger.error('cycle', attributes, error);

      expect(output.lines()[0]).toMatchObject({
        runId: 'r-1',
        self: { runId: 'r-1', self: '[Circular]' },
        error: { message: 'loop', cause: '[Circular]' },
      });
    });

    it('on a value whose getter throws, writing a line that says so', () => {
      const logger = createLogger({ service: 'sender' });
      const hostile = {
        get phone(): string {
          throw new TypeError(`no access to ${cnMobile}`);
        },
      };

      expect(() => logger.error('hostile', { hostile })).not.toThrow();

      expect(output.text()).not.toContain(cnHidden);
      expect(output.lines()).toEqual([
        expect.objectContaining({
          level: 'ERROR',
          message: 'log line could not be written',
          failure: 'TypeError',
        }),
      ]);
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

      expect(output.text()).toBe('');
    });
  });
});
