import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createDocumentClient, DynamoMemberStore, DynamoMessageStore, DynamoOptOutStore } from '@qunfa/aws';
import { type Member, type MessageRecord, phoneHash } from '@qunfa/domain';
import type { SimulatorConfigPatch } from '@qunfa/local';
import { expect } from 'vitest';
import * as z from 'zod';
import type { TestStack } from './stack';

// Sending campaigns on the local stack, for the end-to-end tests of the invariants: members,
// templates and campaigns through the API, the run's progress, its message records, the
// send queue and its poller, and what the SMS simulator says each phone received (its own
// record, the truth the invariants are checked against).

/** A mainland mobile number per index: +86137… with `block` as the 4th–5th digits, so tests keep apart. */
export function phoneOf(i: number, block = 10): string {
  return `+86137${String(block).padStart(2, '0')}${String(i).padStart(6, '0')}`;
}

export interface TestMember {
  readonly memberId: string;
  readonly phone: string;
  readonly consent?: 'granted' | 'denied' | 'unknown';
  readonly tags?: readonly string[];
  readonly timeZone?: string;
}

/** PUT /members/{id} for each, 25 at a time; each must be created. */
export async function putMembers(env: TestStack, members: readonly TestMember[]): Promise<void> {
  for (let start = 0; start < members.length; start += 25) {
    const puts = await Promise.all(
      members.slice(start, start + 25).map((member) =>
        env.api('PUT', `/members/${member.memberId}`, {
          phone: member.phone,
          name: `会员${member.memberId}`,
          consent: { status: member.consent ?? 'granted' },
          ...(member.tags ? { tags: member.tags } : {}),
          ...(member.timeZone ? { timeZone: member.timeZone } : {}),
        }),
      ),
    );
    expect(puts.map(({ status }) => status)).toEqual(puts.map(() => 201));
  }
}

/**
 * Writes members straight to the members table, 2,000 per call: for audiences too large to
 * put through the API one by one in a test (the API's own path is tested elsewhere).
 */
export async function seedMembers(env: TestStack, members: readonly Member[]): Promise<void> {
  const store = new DynamoMemberStore({ client: documentClient(env), tableName: env.stack.tables.members });
  for (let start = 0; start < members.length; start += 2_000) {
    await store.put(
      env.tenantId,
      members.slice(start, start + 2_000).map((member) => ({ member, expectedUpdatedAt: null })),
    );
  }
}

/** A marketing template; its id. */
export async function saveTemplate(
  env: TestStack,
  { name, body }: { name: string; body: string },
): Promise<string> {
  const saved = await env.api('POST', '/templates', { name, category: 'marketing', body });
  expect(saved.status).toBe(201);
  return String(saved.body.templateId);
}

/** POST /campaigns (marketing, to start now unless the body says otherwise); its id. */
export async function createCampaign(env: TestStack, body: Record<string, unknown>): Promise<string> {
  const created = await env.api('POST', '/campaigns', {
    category: 'marketing',
    schedule: { kind: 'now' },
    ...body,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return String(created.body.campaignId);
}

/** POST /campaigns/{id}/<action> (schedule, pause, resume, cancel), which must succeed. */
export async function campaignAction(
  env: TestStack,
  campaignId: string,
  action: 'schedule' | 'pause' | 'resume' | 'cancel',
): Promise<void> {
  const answer = await env.api('POST', `/campaigns/${campaignId}/${action}`);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
}

/**
 * Records opt-outs in the suppressions table, as the opt-out API (issue 6, source `api`) and
 * the receipt processor's opt-out keywords (source `sms`) will.
 */
export async function recordOptOuts(
  env: TestStack,
  phones: readonly string[],
  source: 'api' | 'sms' = 'api',
): Promise<void> {
  const optOuts = new DynamoOptOutStore({
    client: documentClient(env),
    tableName: env.stack.tables.suppressions,
  });
  await Promise.all(
    phones.map((phone) =>
      optOuts.add(env.tenantId, {
        phoneHash: phoneHash({ tenantId: env.tenantId, phone }),
        source,
        at: new Date().toISOString(),
      }),
    ),
  );
}

// ── progress ────────────────────────────────────────────────────────────────────────────

const progressCounts = z.looseObject({
  targeted: z.number(),
  queued: z.number(),
  sent: z.number(),
  delivered: z.number(),
  failed: z.number(),
  unknown: z.number(),
  remaining: z.number(),
  suppressed: z.object({ total: z.number(), byReason: z.record(z.string(), z.number()) }),
});
const runProgress = progressCounts.extend({
  runId: z.string(),
  state: z.string(),
  byVariant: z.record(z.string(), progressCounts),
});
export type RunProgress = z.infer<typeof runProgress>;
export type ProgressCounts = z.infer<typeof progressCounts>;

/** The campaign's state and its latest run's progress (GET /campaigns/{id}). */
export async function campaignProgress(
  env: TestStack,
  campaignId: string,
): Promise<{ state: string; run: RunProgress | undefined }> {
  const { status, body } = await env.api('GET', `/campaigns/${campaignId}`);
  expect(status).toBe(200);
  return {
    state: String(body.state),
    run: body.latestRun === undefined ? undefined : runProgress.parse(body.latestRun),
  };
}

/**
 * Polls until `done` holds or `timeoutMs` passes, and returns the last value seen: the
 * caller asserts on it, so a run that never gets there fails on what it did instead.
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 150_000, everyMs = 250 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    value = await read();
  }
  return value;
}

/**
 * Waits for the campaign's latest run to reach one of `states` (default: completed). A run
 * completes with its final counts, counted from its records, so the counts of the progress
 * that first shows it completed are the ones to check.
 */
export async function waitForRun(
  env: TestStack,
  campaignId: string,
  { states = ['completed'], timeoutMs }: { states?: readonly string[]; timeoutMs?: number } = {},
): Promise<RunProgress | undefined> {
  const { run } = await pollUntil(
    () => campaignProgress(env, campaignId),
    ({ run: current }) => current !== undefined && states.includes(current.state),
    timeoutMs === undefined ? {} : { timeoutMs },
  );
  return run;
}

/** Every variant's own counts add up: each targeted member in exactly one outcome. */
export function expectVariantsAddUp(run: RunProgress | undefined): void {
  for (const variant of Object.values(run?.byVariant ?? {})) {
    expect(variant.targeted).toBeGreaterThan(0);
    expect(variant.suppressed.total + variant.sent + variant.failed + variant.unknown).toBe(variant.targeted);
  }
}

// ── message records ─────────────────────────────────────────────────────────────────────

/** The run's message records by member id, read from the messages table. */
export async function runRecords(env: TestStack, runId: string): Promise<Map<string, MessageRecord>> {
  const store = new DynamoMessageStore({ client: documentClient(env), tableName: env.stack.tables.messages });
  const records = new Map<string, MessageRecord>();
  for await (const page of store.scan(env.tenantId, runId)) {
    for (const record of page) records.set(record.memberId, record);
  }
  return records;
}

function documentClient(env: TestStack) {
  return createDocumentClient({
    endpoint: env.stack.components.dynamodb.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

// ── the send queue ──────────────────────────────────────────────────────────────────────

export interface SendQueueState {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  /** Sender invocations running now. */
  readonly invocations: number;
}

/** How many send-queue messages wait, are being worked on or are delayed, and the sender's invocations. */
export async function sendQueueState(env: TestStack): Promise<SendQueueState> {
  const { Attributes = {} } = await env.stack.components.sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: env.stack.queues.send.url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
    invocations: env.stack.components.pollers.pollers.send.stats().inFlight,
  };
}

/**
 * Waits until the sender has nothing to do now: no invocation running and no message
 * waiting (messages delayed, or invisible after a killed invocation, may remain). Checked
 * twice in a row, a poll apart, so a batch between receive and invoke is not missed.
 */
export async function waitForSenderIdle(
  env: TestStack,
  { timeoutMs }: { timeoutMs?: number } = {},
): Promise<SendQueueState> {
  let quietBefore = false;
  return pollUntil(
    () => sendQueueState(env),
    (state) => {
      const quiet = state.visible === 0 && state.invocations === 0;
      const twice = quiet && quietBefore;
      quietBefore = quiet;
      return twice;
    },
    { everyMs: 300, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
  );
}

/**
 * Moves the process clock `ms` forward (the stack must have a movable clock), so that every
 * send-queue message delayed by up to that long, and every claim and invisible message whose
 * lease or visibility runs out in that time, comes due; then waits until the sender has
 * worked what came due and is idle again.
 */
export async function fastForward(env: TestStack, ms: number): Promise<SendQueueState> {
  const clock = env.stack.clock;
  if (!clock) throw new Error('fastForward needs a stack started with movableClock.');
  await waitForSenderIdle(env);
  clock.advance(ms);
  // fauxqs moves what came due to the visible messages within 20 ms while a poller waits.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return waitForSenderIdle(env);
}

// ── the SMS simulator's record ──────────────────────────────────────────────────────────

const simulatorCounts = z.object({
  total: z.number(),
  phones: z.number(),
  byPhone: z.record(z.string(), z.number()),
  duplicateReferences: z.array(z.string()),
});
export type SimulatorCounts = z.infer<typeof simulatorCounts>;

const simulatorCalls = z.object({
  calls: z.number(),
  unavailable: z.number(),
  throttled: z.number(),
  held: z.number(),
  rejected: z.number(),
});

const simulatorMessages = z.object({
  count: z.number(),
  messages: z.array(
    z.looseObject({ to: z.string(), reference: z.string().optional(), acceptedAt: z.string() }),
  ),
});

/** What each phone received (GET /admin/messages/counts). */
export async function simulatorReceived(env: TestStack): Promise<SimulatorCounts> {
  const response = await fetch(`${env.stack.components.simulator.url}/admin/messages/counts`);
  return simulatorCounts.parse(await response.json());
}

/** The messages a phone received, oldest first (GET /admin/messages?phone=). */
export async function simulatorMessagesTo(
  env: TestStack,
  phone: string,
): Promise<z.infer<typeof simulatorMessages>['messages']> {
  const response = await fetch(
    `${env.stack.components.simulator.url}/admin/messages?phone=${encodeURIComponent(phone)}`,
  );
  return simulatorMessages.parse(await response.json()).messages;
}

/** How the simulator answered its send calls (GET /admin/calls). */
export async function simulatorCallCounts(env: TestStack): Promise<z.infer<typeof simulatorCalls>> {
  const response = await fetch(`${env.stack.components.simulator.url}/admin/calls`);
  return simulatorCalls.parse(await response.json());
}

/** PUT /admin/config: changes the simulator's behaviour at runtime. */
export async function configureSimulator(env: TestStack, patch: SimulatorConfigPatch): Promise<void> {
  const response = await fetch(`${env.stack.components.simulator.url}/admin/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(patch),
  });
  expect(response.status).toBe(200);
}
