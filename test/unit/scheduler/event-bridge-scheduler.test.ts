import {
  AwsServiceError,
  ConflictException,
  EventBridgeScheduler,
  fromEventBridgeCron,
  fromEventBridgeWhen,
  SchedulerClient,
  toEventBridgeCron,
  toEventBridgeWhen,
  UnsupportedScheduleError,
} from '@qunfa/aws';
import { ValidationError } from '@qunfa/domain';
import { beforeEach, describe, expect, it } from 'vitest';
import { failure, fakeAws } from '../../support/fake-aws';

const scheduler = fakeAws();
const client = new SchedulerClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  fetch: scheduler.fetch,
  maxAttempts: 1,
});
const targetArn = 'arn:aws:sqs:us-east-1:123456789012:qunfa-start';
const roleArn = 'arn:aws:iam::123456789012:role/qunfa-scheduler';
const adapter = new EventBridgeScheduler({ client, groupName: 'qunfa', roleArn, targetArn });

const conflict = failure(409, 'ConflictException', 'Schedule already exists.');
const notFound = failure(404, 'ResourceNotFoundException', 'Schedule does not exist.');

beforeEach(() => {
  scheduler.reset();
});

describe('EventBridgeScheduler', () => {
  describe('put', () => {
    it('creates a one-time schedule at the UTC second, deleted after it fires', async () => {
      scheduler.on('CreateSchedule', { ScheduleArn: 'arn' });

      await adapter.put({
        name: 'run-c1-1',
        spec: { kind: 'at', at: '2025-03-10T09:30:00+08:00' },
        payload: { tenantId: 't1', campaignId: 'c1' },
      });

      expect(scheduler.calls('CreateSchedule').map((call) => call.input)).toEqual([
        {
          Name: 'run-c1-1',
          GroupName: 'qunfa',
          ScheduleExpression: 'at(2025-03-10T01:30:00)',
          ScheduleExpressionTimezone: 'UTC',
          ActionAfterCompletion: 'DELETE',
          State: 'ENABLED',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: targetArn,
            RoleArn: roleArn,
            Input: '{"tenantId":"t1","campaignId":"c1"}',
            RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
          },
        },
      ]);
    });

    it('rounds a sub-second instant up, so the schedule never fires early', async () => {
      scheduler.on('CreateSchedule', {});

      await adapter.put({ name: 'n', spec: { kind: 'at', at: '2025-03-10T01:30:00.250Z' }, payload: {} });

      expect(scheduler.calls('CreateSchedule')[0]?.input.ScheduleExpression).toBe('at(2025-03-10T01:30:01)');
    });

    it('creates a recurring schedule in EventBridge cron, read in the IANA time zone, kept after firing', async () => {
      scheduler.on('CreateSchedule', {});

      await adapter.put({
        name: 'birthday-t1',
        spec: { kind: 'cron', expression: '30 9 * * *', timeZone: 'Asia/Shanghai' },
        payload: { kind: 'birthday' },
      });

      expect(scheduler.calls('CreateSchedule')[0]?.input).toMatchObject({
        Name: 'birthday-t1',
        GroupName: 'qunfa',
        ScheduleExpression: 'cron(30 9 * * ? *)',
        ScheduleExpressionTimezone: 'Asia/Shanghai',
        ActionAfterCompletion: 'NONE',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: targetArn, RoleArn: roleArn, Input: '{"kind":"birthday"}' },
      });
    });

    it('replaces an existing schedule of that name with UpdateSchedule on ConflictException', async () => {
      scheduler.on('CreateSchedule', conflict);
      scheduler.on('UpdateSchedule', { ScheduleArn: 'arn' });
      const request = {
        name: 'weekly',
        spec: { kind: 'cron', expression: '0 10 * * 1', timeZone: 'Europe/Paris' },
        payload: { n: 2 },
      } as const;

      await adapter.put(request);

      const created = scheduler.calls('CreateSchedule')[0]?.input;
      const updated = scheduler.calls('UpdateSchedule').map((call) => call.input);
      expect(updated).toEqual([created]);
      expect(updated[0]?.ScheduleExpression).toBe('cron(0 10 ? * 2 *)');
    });

    it('creates again when the schedule disappears between the conflict and the update', async () => {
      scheduler.on('CreateSchedule', conflict, {});
      scheduler.on('UpdateSchedule', notFound);

      await adapter.put({ name: 'soon', spec: { kind: 'at', at: '2025-03-10T01:30:00Z' }, payload: {} });

      expect(scheduler.calls('CreateSchedule')).toHaveLength(2);
      expect(scheduler.calls('UpdateSchedule')).toHaveLength(1);
    });

    it('passes any other failure on', async () => {
      scheduler.on('CreateSchedule', failure(400, 'ValidationException', 'bad'));

      await expect(
        adapter.put({ name: 'x', spec: { kind: 'at', at: '2025-03-10T01:30:00Z' }, payload: {} }),
      ).rejects.toSatisfy(
        (error) => error instanceof AwsServiceError && error.name === 'ValidationException',
      );
      expect(scheduler.calls('UpdateSchedule')).toHaveLength(0);
    });

    it('refuses, before any call, a cron that restricts both day fields', async () => {
      const put = adapter.put({
        name: 'x',
        spec: { kind: 'cron', expression: '0 9 1 * 1', timeZone: 'UTC' },
        payload: {},
      });

      await expect(put).rejects.toBeInstanceOf(UnsupportedScheduleError);
      await expect(put).rejects.toBeInstanceOf(ValidationError);
      expect(scheduler.calls()).toHaveLength(0);
    });

    it('refuses a name EventBridge would reject and a time zone that does not exist', async () => {
      await expect(
        adapter.put({ name: 'has space', spec: { kind: 'at', at: '2025-03-10T01:30:00Z' }, payload: {} }),
      ).rejects.toMatchObject({ problems: [{ path: 'name' }] });
      await expect(
        adapter.put({
          name: 'x',
          spec: { kind: 'cron', expression: '0 9 * * *', timeZone: 'Mars/Base' },
          payload: {},
        }),
      ).rejects.toMatchObject({ problems: [{ path: 'spec.timeZone' }] });
      expect(scheduler.calls()).toHaveLength(0);
    });
  });

  describe('delete', () => {
    it('deletes the schedule from the group', async () => {
      scheduler.on('DeleteSchedule', {});

      await adapter.delete('run-c1-1');

      expect(scheduler.calls('DeleteSchedule').map((call) => call.input)).toEqual([
        { Name: 'run-c1-1', GroupName: 'qunfa' },
      ]);
    });

    it('tolerates a schedule that does not exist', async () => {
      scheduler.on('DeleteSchedule', notFound);

      await expect(adapter.delete('gone')).resolves.toBeUndefined();
    });

    it('passes any other failure on', async () => {
      scheduler.on('DeleteSchedule', conflict);

      await expect(adapter.delete('busy')).rejects.toBeInstanceOf(ConflictException);
    });
  });

  describe('get', () => {
    it('maps a one-time schedule back to an instant and its payload', async () => {
      scheduler.on('GetSchedule', {
        Name: 'run-c1-1',
        ScheduleExpression: 'at(2025-03-10T01:30:00)',
        ScheduleExpressionTimezone: 'UTC',
        Target: { Arn: targetArn, RoleArn: roleArn, Input: '{"campaignId":"c1"}' },
      });

      await expect(adapter.get('run-c1-1')).resolves.toEqual({
        name: 'run-c1-1',
        spec: { kind: 'at', at: '2025-03-10T01:30:00.000Z' },
        payload: { campaignId: 'c1' },
      });
      expect(scheduler.calls('GetSchedule').map((call) => call.input)).toEqual([
        { Name: 'run-c1-1', GroupName: 'qunfa' },
      ]);
    });

    it('maps a recurring schedule back to five-field cron and its time zone', async () => {
      scheduler.on('GetSchedule', {
        Name: 'weekly',
        ScheduleExpression: 'cron(0 10 ? * 2-6 *)',
        ScheduleExpressionTimezone: 'America/New_York',
        Target: { Arn: targetArn, RoleArn: roleArn, Input: '{}' },
      });

      await expect(adapter.get('weekly')).resolves.toEqual({
        name: 'weekly',
        spec: { kind: 'cron', expression: '0 10 * * 1-5', timeZone: 'America/New_York' },
        payload: {},
      });
    });

    it('answers undefined for a schedule that does not exist', async () => {
      scheduler.on('GetSchedule', notFound);

      await expect(adapter.get('gone')).resolves.toBeUndefined();
    });
  });
});

describe('toEventBridgeCron', () => {
  it.each([
    ['30 9 * * *', 'cron(30 9 * * ? *)'],
    ['0 10 * * 1', 'cron(0 10 ? * 2 *)'],
    ['0 10 * * 0', 'cron(0 10 ? * 1 *)'],
    ['0 10 * * 7', 'cron(0 10 ? * 1 *)'],
    ['0 10 * * 6', 'cron(0 10 ? * 7 *)'],
    ['0 9 * * 1-5', 'cron(0 9 ? * 2-6 *)'],
    ['0 9 * * 1,3,5', 'cron(0 9 ? * 2,4,6 *)'],
    ['0 9 * * 0,6', 'cron(0 9 ? * 1,7 *)'],
    ['0 9 * * 5-7', 'cron(0 9 ? * 6-7,1 *)'],
    ['0 9 * * 6-7', 'cron(0 9 ? * 7,1 *)'],
    ['0 9 * * MON-FRI', 'cron(0 9 ? * MON-FRI *)'],
    ['0 9 * * mon,wed', 'cron(0 9 ? * MON,WED *)'],
    ['0 9 * * */2', 'cron(0 9 ? * 1,3,5,7 *)'],
    ['0 9 * * 1-5/2', 'cron(0 9 ? * 2,4,6 *)'],
    ['*/15 * * * *', 'cron(0/15 * * * ? *)'],
    ['0 */2 * * *', 'cron(0 0/2 * * ? *)'],
    ['0-30/10 9-17 * * *', 'cron(0-30/10 9-17 * * ? *)'],
    ['0 8 1 * *', 'cron(0 8 1 * ? *)'],
    ['0 8 1,15 * *', 'cron(0 8 1,15 * ? *)'],
    ['0 8 */10 * *', 'cron(0 8 1/10 * ? *)'],
    ['0 0 1 JAN *', 'cron(0 0 1 JAN ? *)'],
    ['0 0 1 */3 *', 'cron(0 0 1 1/3 ? *)'],
    ['5 4 * 12 *', 'cron(5 4 * 12 ? *)'],
    ['0 9 ? * 1', 'cron(0 9 ? * 2 *)'],
    ['05 09 * * *', 'cron(5 9 * * ? *)'],
  ])('%s → %s', (five, six) => {
    expect(toEventBridgeCron(five)).toBe(six);
  });

  it.each([
    ['0 9 1 * 1', 'restricts both day-of-month and day-of-week'],
    ['60 9 * * *', '60 is outside 0–59 in the minute field'],
    ['0 24 * * *', '24 is outside 0–23 in the hour field'],
    ['0 9 0 * *', '0 is outside 1–31 in the day-of-month field'],
    ['0 9 * 13 *', '13 is outside 1–12 in the month field'],
    ['0 9 * * 8', '8 is outside 0–7 in the day-of-week field'],
    ['0 9 * * FRI-MON', 'runs backwards'],
    ['0 17-9 * * *', 'runs backwards'],
    ['0 9 L * *', '"L" is not valid in the day-of-month field'],
    ['0 9 * * 1#2', 'is not a value, a range, a list or a step'],
    ['0/5 9 * * *', 'write "0-59/5"'],
    ['*/0 9 * * *', 'step 0'],
    ['? 9 * * *', '"?" is not allowed in the minute field'],
    ['0 9 * *', 'must have 5 space-separated fields'],
    ['@daily', 'must have 5 space-separated fields'],
  ])('refuses %s (%s)', (five, reason) => {
    expect(() => toEventBridgeCron(five)).toThrow(UnsupportedScheduleError);
    expect(() => toEventBridgeCron(five)).toThrow(reason);
  });
});

describe('fromEventBridgeCron', () => {
  it.each([
    ['cron(30 9 * * ? *)', '30 9 * * *'],
    ['cron(0 10 ? * 2 *)', '0 10 * * 1'],
    ['cron(0 10 ? * 1 *)', '0 10 * * 0'],
    ['cron(0 10 ? * 7 *)', '0 10 * * 6'],
    ['cron(0 9 ? * 2-6 *)', '0 9 * * 1-5'],
    ['cron(0 9 ? * 1,7 *)', '0 9 * * 0,6'],
    ['cron(0 9 ? * MON-FRI *)', '0 9 * * MON-FRI'],
    ['cron(0/15 * * * ? *)', '*/15 * * * *'],
    ['cron(*/15 * * * ? *)', '*/15 * * * *'],
    ['cron(5/15 * * * ? *)', '5-59/15 * * * *'],
    ['cron(0 8 1/10 * ? *)', '0 8 */10 * *'],
    ['cron(0 0 1 JAN ? *)', '0 0 1 JAN *'],
  ])('%s → %s', (six, five) => {
    expect(fromEventBridgeCron(six)).toBe(five);
  });

  it.each([
    'cron(0 9 L * ? *)',
    'cron(0 9 15W * ? *)',
    'cron(0 9 ? * 6#3 *)',
    'cron(0 9 ? * 6L *)',
    'cron(0 9 * * ? 2030)',
    'rate(5 minutes)',
  ])('refuses %s, which five-field cron cannot say', (six) => {
    expect(() => fromEventBridgeCron(six)).toThrow(UnsupportedScheduleError);
  });

  it.each([
    '30 9 * * *',
    '0 10 * * 1',
    '0 9 * * 1-5',
    '0 9 * * 0,6',
    '*/15 * * * *',
    '0 */2 * * *',
    '0 8 */10 * *',
    '0 9 * * MON-FRI',
    '0-30/10 9-17 1-7 * *',
  ])('reads back what it wrote: %s', (five) => {
    expect(fromEventBridgeCron(toEventBridgeCron(five))).toBe(five);
  });
});

describe('toEventBridgeWhen / fromEventBridgeWhen', () => {
  it('reads an at() written in another time zone as the instant that wall clock shows', () => {
    expect(
      fromEventBridgeWhen({ scheduleExpression: 'at(2025-07-01T09:30:00)', timeZone: 'America/New_York' }),
    ).toEqual({ kind: 'at', at: '2025-07-01T13:30:00.000Z' });
  });

  it('round-trips a one-time spec to the same instant', () => {
    const when = toEventBridgeWhen({ kind: 'at', at: '2025-11-02T01:30:00-05:00' });

    expect(when).toEqual({
      scheduleExpression: 'at(2025-11-02T06:30:00)',
      timeZone: 'UTC',
      actionAfterCompletion: 'DELETE',
    });
    expect(fromEventBridgeWhen(when)).toEqual({ kind: 'at', at: '2025-11-02T06:30:00.000Z' });
  });

  it('refuses rate(), which the port has no way to express', () => {
    expect(() => fromEventBridgeWhen({ scheduleExpression: 'rate(5 minutes)', timeZone: 'UTC' })).toThrow(
      UnsupportedScheduleError,
    );
  });
});
