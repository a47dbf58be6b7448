import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConflictException,
  CreateScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgeScheduler, SchedulerClient as FunctionSchedulerClient } from '@qunfa/aws';
import { createLogger, type LocalScheduler, startLocalScheduler } from '@qunfa/local';
import { scheduleGroup } from '@qunfa/resources';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

// The local scheduler driven THROUGH the production adapter: EventBridgeScheduler with a real
// SchedulerClient pointed at the local Scheduler API, firing into SQS (fauxqs, in-process).
// The clock is injected and moved by tick(), so no test waits for minutes.

const region = 'us-east-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const roleArn = 'arn:aws:iam::000000000000:role/qunfa-test-scheduler';

let sqsServer: FauxqsServer;
let sqs: SQSClient;
let stateDir: string;
const started: LocalScheduler[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  sqsServer = await startFauxqs({ port: 0, logger: false });
  sqs = new SQSClient({ endpoint: sqsServer.address, region, credentials });
});
afterAll(async () => {
  sqs.destroy();
  await sqsServer.stop();
});
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'qunfa-scheduler-'));
  logLines.length = 0;
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((scheduler) => scheduler.stop()));
  await rm(stateDir, { recursive: true, force: true });
});

/** A clock the test moves by hand. */
function manualClock(start: string): { now: () => Date; set(at: string): Date } {
  let current = new Date(start);
  return {
    now: () => current,
    set(at) {
      current = new Date(at);
      return current;
    },
  };
}

async function startScheduler({
  now,
  stateFile = join(stateDir, 'schedules.json'),
  timer = false,
}: {
  now?: () => Date;
  stateFile?: string;
  timer?: boolean;
}): Promise<LocalScheduler> {
  const scheduler = await startLocalScheduler({
    port: 0,
    stateFile,
    sqs: { endpoint: sqsServer.address, region },
    ...(now ? { now } : {}),
    timer,
    logger: createLogger({ component: 'scheduler', level: 'WARN', write: (line) => logLines.push(line) }),
  });
  started.push(scheduler);
  return scheduler;
}

async function stopScheduler(scheduler: LocalScheduler): Promise<void> {
  started.splice(started.indexOf(scheduler), 1);
  await scheduler.stop();
}

function schedulerClient(url: string): SchedulerClient {
  return new SchedulerClient({ endpoint: url, region, credentials, maxAttempts: 1 });
}

/** The production adapter, as the functions build it, on a fresh start queue. */
function adapterOn(scheduler: LocalScheduler, queue: StartQueue): EventBridgeScheduler {
  return new EventBridgeScheduler({
    client: new FunctionSchedulerClient({ endpoint: scheduler.url, region, credentials, maxAttempts: 1 }),
    groupName: scheduleGroup.name,
    roleArn,
    targetArn: queue.arn,
  });
}

interface StartQueue {
  readonly url: string;
  readonly arn: string;
}

function startQueue(): StartQueue {
  const { queueUrl, queueArn } = sqsServer.createQueue(`start-${randomUUID().slice(0, 8)}`);
  return { url: queueUrl, arn: queueArn };
}

/** Every message now in the queue (received and deleted), bodies parsed. */
async function drain(queue: StartQueue): Promise<unknown[]> {
  const bodies: unknown[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return bodies;
    for (const message of Messages) {
      bodies.push(JSON.parse(message.Body ?? 'null'));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}

const firedAt = (fired: readonly { scheduledFor: string }[]): string[] => fired.map((f) => f.scheduledFor);

describe('local scheduler through EventBridgeScheduler', () => {
  describe('one-time schedules', () => {
    it('fires exactly once at its instant, with the context attributes filled in, then deletes itself', async () => {
      const clock = manualClock('2025-03-10T01:00:00Z');
      const scheduler = await startScheduler({ now: clock.now });
      const queue = startQueue();
      const adapter = adapterOn(scheduler, queue);

      await adapter.put({
        name: 'run-c1-1',
        spec: { kind: 'at', at: '2025-03-10T09:30:00+08:00' },
        payload: { campaignId: 'c1', scheduledTime: '<aws.scheduler.scheduled-time>' },
      });

      await expect(adapter.get('run-c1-1')).resolves.toEqual({
        name: 'run-c1-1',
        spec: { kind: 'at', at: '2025-03-10T01:30:00.000Z' },
        payload: { campaignId: 'c1', scheduledTime: '<aws.scheduler.scheduled-time>' },
      });
      expect(await scheduler.tick(clock.set('2025-03-10T01:29:59Z'))).toEqual([]);
      expect(await drain(queue)).toEqual([]);

      expect(firedAt(await scheduler.tick(clock.set('2025-03-10T01:30:00Z')))).toEqual([
        '2025-03-10T01:30:00.000Z',
      ]);
      expect(await drain(queue)).toEqual([{ campaignId: 'c1', scheduledTime: '2025-03-10T01:30:00Z' }]);

      expect(await scheduler.tick(clock.set('2025-03-10T01:31:00Z'))).toEqual([]);
      expect(await scheduler.tick(clock.set('2025-03-11T01:30:00Z'))).toEqual([]);
      expect(await drain(queue)).toEqual([]);
      await expect(adapter.get('run-c1-1')).resolves.toBeUndefined();
      expect(scheduler.health()).toMatchObject({ ok: true, schedules: 0 });
    });

    it('is replaced, not duplicated, when put twice under one name', async () => {
      const clock = manualClock('2025-03-10T01:00:00Z');
      const scheduler = await startScheduler({ now: clock.now });
      const queue = startQueue();
      const adapter = adapterOn(scheduler, queue);

      await adapter.put({ name: 'run', spec: { kind: 'at', at: '2025-03-10T02:00:00Z' }, payload: { v: 1 } });
      await adapter.put({ name: 'run', spec: { kind: 'at', at: '2025-03-10T03:00:00Z' }, payload: { v: 2 } });

      expect(await scheduler.tick(clock.set('2025-03-10T02:00:00Z'))).toEqual([]);
      expect(firedAt(await scheduler.tick(clock.set('2025-03-10T03:00:00Z')))).toEqual([
        '2025-03-10T03:00:00.000Z',
      ]);
      expect(await drain(queue)).toEqual([{ v: 2 }]);
    });

    it('does not fire once deleted, and deleting it again is not an error', async () => {
      const clock = manualClock('2025-03-10T01:00:00Z');
      const scheduler = await startScheduler({ now: clock.now });
      const queue = startQueue();
      const adapter = adapterOn(scheduler, queue);
      await adapter.put({ name: 'run', spec: { kind: 'at', at: '2025-03-10T02:00:00Z' }, payload: {} });

      await adapter.delete('run');
      await adapter.delete('run');

      expect(await scheduler.tick(clock.set('2025-03-10T02:00:00Z'))).toEqual([]);
      expect(await drain(queue)).toEqual([]);
    });
  });

  describe('recurring schedules', () => {
    it('fires 30 9 * * * in Asia/Shanghai at 01:30Z every day', async () => {
      const clock = manualClock('2025-03-10T00:00:00Z');
      const scheduler = await startScheduler({ now: clock.now });
      const queue = startQueue();
      const adapter = adapterOn(scheduler, queue);

      await adapter.put({
        name: 'birthday',
        spec: { kind: 'cron', expression: '30 9 * * *', timeZone: 'Asia/Shanghai' },
        payload: { kind: 'birthday', at: '<aws.scheduler.scheduled-time>' },
      });

      await expect(adapter.get('birthday')).resolves.toMatchObject({
        spec: { kind: 'cron', expression: '30 9 * * *', timeZone: 'Asia/Shanghai' },
      });
      expect(await scheduler.tick(clock.set('2025-03-10T01:29:59Z'))).toEqual([]);
      expect(firedAt(await scheduler.tick(clock.set('2025-03-10T01:30:00Z')))).toEqual([
        '2025-03-10T01:30:00.000Z',
      ]);
      expect(await scheduler.tick(clock.set('2025-03-10T09:30:00Z'))).toEqual([]);
      expect(firedAt(await scheduler.tick(clock.set('2025-03-11T01:30:05Z')))).toEqual([
        '2025-03-11T01:30:00.000Z',
      ]);
      expect(await drain(queue)).toEqual([
        { kind: 'birthday', at: '2025-03-10T01:30:00Z' },
        { kind: 'birthday', at: '2025-03-11T01:30:00Z' },
      ]);
      await expect(adapter.get('birthday')).resolves.toBeDefined();
    });

    it('follows America/New_York across both daylight-saving changes', async () => {
      const clock = manualClock('2025-03-07T00:00:00Z');
      const scheduler = await startScheduler({ now: clock.now });
      const queue = startQueue();
      const adapter = adapterOn(scheduler, queue);
      await adapter.put({
        name: 'morning',
        spec: { kind: 'cron', expression: '30 9 * * *', timeZone: 'America/New_York' },
        payload: { at: '<aws.scheduler.scheduled-time>' },
      });

      // 09:30 EST is 14:30Z; from Sunday 9 March 09:30 EDT is 13:30Z.
      const instants = [
        '2025-03-07T14:30:00Z',
        '2025-03-08T14:30:00Z',
        '2025-03-09T13:30:00Z',
        '2025-03-10T13:30:00Z',
      ];
      for (const instant of instants) {
        expect(await scheduler.tick(new Date(Date.parse(instant) - 1000))).toEqual([]);
        expect(await scheduler.tick(clock.set(instant))).toHaveLength(1);
      }
      expect(await drain(queue)).toEqual(instants.map((at) => ({ at })));

      // And back in November: 09:30 EDT on Saturday 1st (13:30Z), 09:30 EST on Sunday 2nd (14:30Z).
      clock.set('2025-11-01T00:00:00Z');
      await adapter.put({
        name: 'morning',
        spec: { kind: 'cron', expression: '30 9 * * *', timeZone: 'America/New_York' },
        payload: { at: '<aws.scheduler.scheduled-time>' },
      });
      expect(await scheduler.tick(clock.set('2025-11-01T13:30:00Z'))).toHaveLength(1);
      expect(await scheduler.tick(clock.set('2025-11-02T13:30:00Z'))).toEqual([]);
      expect(await scheduler.tick(clock.set('2025-11-02T14:30:00Z'))).toHaveLength(1);
      expect(await drain(queue)).toEqual([{ at: '2025-11-01T13:30:00Z' }, { at: '2025-11-02T14:30:00Z' }]);
    });

    it('skips a time the spring change removes and fires a repeated time once, as EventBridge does', async () => {
      const clock = manualClock('2025-03-08T00:00:00Z');
      const scheduler = await startScheduler({ now: clock.now });
      const queue = startQueue();
      const adapter = adapterOn(scheduler, queue);
      await adapter.put({
        name: 'gap',
        spec: { kind: 'cron', expression: '30 2 * * *', timeZone: 'America/New_York' },
        payload: { at: '<aws.scheduler.scheduled-time>' },
      });

      // 02:30 does not exist on 9 March 2025 in New York (02:00 EST → 03:00 EDT).
      for (const at of [
        '2025-03-08T07:30:00Z',
        '2025-03-09T07:00:00Z',
        '2025-03-09T07:30:00Z',
        '2025-03-10T06:30:00Z',
      ]) {
        await scheduler.tick(clock.set(at));
      }
      expect(await drain(queue)).toEqual([{ at: '2025-03-08T07:30:00Z' }, { at: '2025-03-10T06:30:00Z' }]);

      // 01:30 happens twice on 2 November 2025 (05:30Z in EDT, 06:30Z in EST): one fire.
      clock.set('2025-11-01T12:00:00Z');
      await adapter.put({
        name: 'overlap',
        spec: { kind: 'cron', expression: '*/30 1 * * *', timeZone: 'America/New_York' },
        payload: { at: '<aws.scheduler.scheduled-time>' },
      });
      await adapter.delete('gap');
      for (const at of [
        '2025-11-02T05:00:00Z',
        '2025-11-02T05:30:00Z',
        '2025-11-02T06:00:00Z',
        '2025-11-02T06:30:00Z',
      ]) {
        await scheduler.tick(clock.set(at));
      }
      expect(await drain(queue)).toEqual([{ at: '2025-11-02T05:00:00Z' }, { at: '2025-11-02T05:30:00Z' }]);
    });
  });

  describe('persistence', () => {
    it('keeps schedules across a stop and a start, in the state file', async () => {
      const clock = manualClock('2025-03-10T00:00:00Z');
      const stateFile = join(stateDir, 'nested', 'schedules.json');
      const queue = startQueue();
      const first = await startScheduler({ now: clock.now, stateFile });
      await adapterOn(first, queue).put({
        name: 'once',
        spec: { kind: 'at', at: '2025-03-10T02:00:00Z' },
        payload: { n: 1 },
      });
      await adapterOn(first, queue).put({
        name: 'daily',
        spec: { kind: 'cron', expression: '0 10 * * 1-5', timeZone: 'Asia/Shanghai' },
        payload: { n: 2 },
      });
      await stopScheduler(first);
      const saved: unknown = JSON.parse(await readFile(stateFile, 'utf8'));
      expect(saved).toMatchObject({ version: 1, schedules: [{ name: 'once' }, { name: 'daily' }] });

      const second = await startScheduler({ now: clock.now, stateFile });
      const adapter = adapterOn(second, queue);

      await expect(adapter.get('once')).resolves.toEqual({
        name: 'once',
        spec: { kind: 'at', at: '2025-03-10T02:00:00.000Z' },
        payload: { n: 1 },
      });
      await expect(adapter.get('daily')).resolves.toEqual({
        name: 'daily',
        spec: { kind: 'cron', expression: '0 10 * * 1-5', timeZone: 'Asia/Shanghai' },
        payload: { n: 2 },
      });
      expect(firedAt(await second.tick(clock.set('2025-03-10T02:00:00Z')))).toEqual([
        '2025-03-10T02:00:00.000Z',
        '2025-03-10T02:00:00.000Z',
      ]);
      expect(await drain(queue)).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }]));
    });

    it('records a one-time start missed beyond the tolerance while down, and does not fire it', async () => {
      const clock = manualClock('2025-03-10T01:00:00Z');
      const stateFile = join(stateDir, 'schedules.json');
      const queue = startQueue();
      const first = await startScheduler({ now: clock.now, stateFile });
      await adapterOn(first, queue).put({
        name: 'late',
        spec: { kind: 'at', at: '2025-03-10T01:30:00Z' },
        payload: {},
      });
      await stopScheduler(first);

      const tolerance = scheduleGroup.missedStartToleranceSeconds;
      clock.set(new Date(Date.parse('2025-03-10T01:30:00Z') + (tolerance + 60) * 1000).toISOString());
      const second = await startScheduler({ now: clock.now, stateFile });

      expect(await drain(queue)).toEqual([]);
      expect(second.missed).toEqual([
        expect.objectContaining({
          groupName: scheduleGroup.name,
          name: 'late',
          scheduledFor: '2025-03-10T01:30:00.000Z',
          occurrences: 1,
        }),
      ]);
      await expect(adapterOn(second, queue).get('late')).resolves.toBeUndefined();
      expect(logLines.join('\n')).toContain('missed its start');
      expect(second.health()).toMatchObject({ ok: true, missed: 1 });
      // Recorded in the state file, so a later start still shows it.
      await stopScheduler(second);
      const third = await startScheduler({ now: clock.now, stateFile });
      expect(third.missed).toHaveLength(1);
    });

    it('fires at start a one-time schedule that came due within the tolerance while down', async () => {
      const clock = manualClock('2025-03-10T01:00:00Z');
      const stateFile = join(stateDir, 'schedules.json');
      const queue = startQueue();
      const first = await startScheduler({ now: clock.now, stateFile });
      await adapterOn(first, queue).put({
        name: 'soon',
        spec: { kind: 'at', at: '2025-03-10T01:30:00Z' },
        payload: { n: 1 },
      });
      await stopScheduler(first);

      clock.set('2025-03-10T01:40:00Z');
      const second = await startScheduler({ now: clock.now, stateFile });

      expect(await drain(queue)).toEqual([{ n: 1 }]);
      expect(second.missed).toEqual([]);
    });
  });

  describe('the Scheduler API', () => {
    it('answers with the errors the SDK knows: conflict, not found, validation', async () => {
      const scheduler = await startScheduler({ now: () => new Date('2025-03-10T00:00:00Z') });
      const client = schedulerClient(scheduler.url);
      const queue = startQueue();
      const create = (overrides: Partial<ConstructorParameters<typeof CreateScheduleCommand>[0]> = {}) =>
        client.send(
          new CreateScheduleCommand({
            Name: 'direct',
            GroupName: scheduleGroup.name,
            ScheduleExpression: 'cron(0 9 * * ? *)',
            FlexibleTimeWindow: { Mode: 'OFF' },
            Target: { Arn: queue.arn, RoleArn: roleArn, Input: '{}' },
            ...overrides,
          }),
        );

      await expect(create()).resolves.toMatchObject({
        ScheduleArn: `arn:aws:scheduler:${region}:000000000000:schedule/${scheduleGroup.name}/direct`,
      });
      await expect(create()).rejects.toBeInstanceOf(ConflictException);
      await expect(
        client.send(new GetScheduleCommand({ Name: 'absent', GroupName: scheduleGroup.name })),
      ).rejects.toBeInstanceOf(ResourceNotFoundException);
      await expect(create({ Name: 'other', GroupName: 'no-such-group' })).rejects.toBeInstanceOf(
        ResourceNotFoundException,
      );
      await expect(create({ Name: 'bad', ScheduleExpression: 'cron(0 9 * * 1 *)' })).rejects.toThrow(
        /exactly one of day-of-month and day-of-week/,
      );
      await expect(create({ Name: 'bad', ScheduleExpression: 'cron(0 9 * * 1 *)' })).rejects.toBeInstanceOf(
        ValidationException,
      );
      await expect(create({ Name: 'bad', ScheduleExpressionTimezone: 'Mars/Base' })).rejects.toBeInstanceOf(
        ValidationException,
      );
      const got = await client.send(
        new GetScheduleCommand({ Name: 'direct', GroupName: scheduleGroup.name }),
      );
      expect(got).toMatchObject({
        Name: 'direct',
        GroupName: scheduleGroup.name,
        ScheduleExpression: 'cron(0 9 * * ? *)',
        ScheduleExpressionTimezone: 'UTC',
        State: 'ENABLED',
        Target: { Arn: queue.arn, RoleArn: roleArn, Input: '{}' },
      });
      expect(got.CreationDate).toEqual(new Date('2025-03-10T00:00:00Z'));
    });

    it('lists schedules by group, page by page', async () => {
      const scheduler = await startScheduler({ now: () => new Date('2025-03-10T00:00:00Z') });
      const queue = startQueue();
      const adapter = adapterOn(scheduler, queue);
      for (const name of ['a', 'b', 'c']) {
        await adapter.put({ name, spec: { kind: 'at', at: '2025-03-11T00:00:00Z' }, payload: {} });
      }
      const client = schedulerClient(scheduler.url);

      const first = await client.send(
        new ListSchedulesCommand({ GroupName: scheduleGroup.name, MaxResults: 2 }),
      );
      const second = await client.send(
        new ListSchedulesCommand({
          GroupName: scheduleGroup.name,
          MaxResults: 2,
          NextToken: first.NextToken,
        }),
      );
      const none = await client.send(new ListSchedulesCommand({ GroupName: 'default' }));

      expect(first.Schedules?.map((s) => s.Name)).toEqual(['a', 'b']);
      expect(second.Schedules?.map((s) => s.Name)).toEqual(['c']);
      expect(second.NextToken).toBeUndefined();
      expect(first.Schedules?.[0]?.Target?.Arn).toBe(queue.arn);
      expect(none.Schedules).toEqual([]);
    });

    it('is found by the function client through AWS_ENDPOINT_URL_SCHEDULER, as they find it', async () => {
      const scheduler = await startScheduler({ now: () => new Date('2025-03-10T00:00:00Z') });
      const previous = process.env.AWS_ENDPOINT_URL_SCHEDULER;
      process.env.AWS_ENDPOINT_URL_SCHEDULER = scheduler.url;
      try {
        const client = new FunctionSchedulerClient({ region, credentials });
        const adapter = new EventBridgeScheduler({
          client,
          groupName: scheduleGroup.name,
          roleArn,
          targetArn: startQueue().arn,
        });

        await adapter.put({ name: 'via-env', spec: { kind: 'at', at: '2025-03-11T00:00:00Z' }, payload: {} });

        expect(scheduler.health().schedules).toBe(1);
      } finally {
        if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_SCHEDULER;
        else process.env.AWS_ENDPOINT_URL_SCHEDULER = previous;
      }
    });
  });

  describe('the timer', () => {
    it('fires a one-time schedule on the real clock without a tick', async () => {
      const scheduler = await startScheduler({ timer: true });
      const queue = startQueue();
      const at = new Date(Math.ceil((Date.now() + 1_000) / 1000) * 1000).toISOString();

      await adapterOn(scheduler, queue).put({ name: 'now', spec: { kind: 'at', at }, payload: { at } });

      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 5 }),
      );
      expect(Messages.map((message) => JSON.parse(message.Body ?? 'null'))).toEqual([{ at }]);
      expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(at));
    });
  });
});
