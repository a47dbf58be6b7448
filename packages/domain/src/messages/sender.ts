import { budgetCapMicros, type RunBudgetStore } from '../campaigns/budget';
import type { Campaign } from '../campaigns/campaign';
import { type FinalRunCounts, type RunCounters, tallyOf } from '../campaigns/counters';
import { type CampaignRun, isActiveRun, type RunStore } from '../campaigns/runs';
import { finishRun } from '../campaigns/use-cases';
import {
  claimFrequencyCap,
  type FrequencyCapStore,
  type FrequencyCapToken,
} from '../compliance/frequency-caps';
import { recipientTimeZone } from '../compliance/quiet-hours';
import { suppressionReason } from '../compliance/suppression';
import { newShortLink, type ShortLink, type ShortLinkStore, shortLinkUrl } from '../engagement/links';
import { phoneHash } from '../members/identity';
import type { Member } from '../members/member';
import type { MemberStore, OptOutStore } from '../members/store';
import {
  defaultSendRetryPolicy,
  nextSendStep,
  type SendRetryPolicy,
  type SendTries,
} from '../sending/backoff';
import { type RateLimitPlan, type RateTake, rateLimitPlan } from '../sending/rate-limit';
import { coalesced, forEachConcurrently } from '../shared/concurrency';
import { ConflictError } from '../shared/errors';
import type { RandomBytes } from '../shared/ids';
import type { RecordStore } from '../shared/records';
import { type CompiledTemplate, compileTemplate, renderMessage } from '../templates/compile';
import { measureMessage } from '../templates/encoding';
import { estimateCost, type SmsProviderId } from '../templates/pricing';
import type { SavedTemplate } from '../templates/use-cases';
import type { SendValues } from '../templates/variables';
import type { TenantStore } from '../tenancy/store';
import { type Tenant, tenantSignature } from '../tenancy/tenant';
import type { MessageEvent, MessageRecord, MessageStore } from './record';
import {
  messageReferenceOf,
  type OutgoingSms,
  providerOutcomeOf,
  type Requeue,
  RunRecount,
  type RunRef,
  recordReason,
  recordStanding,
  recountCorrection,
  remainingToSettle,
  requeueMessages,
  type SendBatchMessage,
  type SendCounter,
  type SenderProvider,
  SendTally,
  type SmsSendOutcome,
  sendWindowDecision,
} from './sender-decisions';

/** Every member of a batch is worked on before the first failure is thrown. */
const settleAll = { settleAll: true } as const;

// The send queue's work (ARCHITECTURE.md, "The flow of one campaign"): each `send.batch`
// names up to 100 members of one run, each of whom already has a message record. For each:
//
//   1. the record: pending goes on; a claim younger than the lease is someone else's (looked
//      at again when the lease is over); an older one lost its claimant, who may have reached
//      the provider: it becomes `unknown`, never resent; anything else is settled already, so
//      a redelivered batch does nothing twice;
//   2. a campaign paused: put back, untouched, to look again in a minute; cancelled (or its
//      run ended): suppressed `cancelled`;
//   3. quiet hours (the campaign's hours and, for marketing, the tenant's too, on the member's
//      wall clock, else the tenant's zone) with `hold`: put back, unclaimed, until the window
//      opens (below);
//   4. the claim: pending → claimed with a fresh token, a conditional write, so of two senders
//      given the same member one claims and the other finds it taken;
//   5. at claim time, in this order (the first that applies is the record's reason):
//      member erased → `erased`; opted out (the opt-out store, read after the claim),
//      no marketing consent, invalid phone → that reason; outside the window with `drop` →
//      `quiet_hours`; the variant's template cannot fill a variable → `missing_variable`
//      (a template gone, no signature, or no approved template for a template-only provider
//      → `failed` with that reason);
//   6. the budget cap, when the campaign has one (campaigns/budget.ts): the batch's messages
//      left reserve their cost (parts × the tenant's price) in one conditional add on the
//      run's budget counter, or as many as fit; one that does not fit → `over_budget`, never
//      sent. What is not spent is given back in one add at the end of the batch. It comes
//      before the frequency cap so that a run whose budget is spent takes no cap slots (two
//      writes per member); the price is that near the cap, members capped in the same batch
//      hold room until the batch ends;
//   7. the frequency cap (marketing only, shared by every campaign, keyed by phone hash) →
//      `capped` (caps drop, they do not hold: a member over the cap today is not owed this
//      campaign later);
//   8. rate-limit tokens counted in parts, from the tenant's provider account and, when the
//      campaign has a throttle, from the campaign's own account; refused: waited for while
//      the invocation has time, else the claim is released and the member put back after the
//      wait (never a failure); then the last look, just before the call: the member's
//      opt-out is read again, and the campaign's state (re-read at most every
//      `stateRecheckMs`): opted out or cancelled → suppressed with that reason, paused →
//      released and put back. A member may wait seconds after its claim (for the batch's
//      other members, for tokens under a throttle, through a retry's backoff): an opt-out,
//      pause or cancel recorded meanwhile stops the message not yet sent (invariant 3);
//   9. the provider call, one message per call, and its answer: accepted → `sent` with the
//      provider's id, parts and cost; throttled → released and put back with jitter (its cap
//      slot given back); a transient fault → retried with backoff in the invocation, or put
//      back with its tries when time is short, then `failed` with the reason when the tries
//      run out; refused → `failed` with the reason; no answer (a timeout after the request
//      left) → `unknown` at once: never resent, receipts settle it.
//
// A member whose processing throws before the provider call has its claim released, so the
// redelivered batch sends it; one that throws after the call stays claimed and, its lease
// over, becomes `unknown`. Every state change is counted once, by whoever made it, and an
// invocation adds its counts with one RunCounters.add per run (`close`).
//
// Holding for quiet hours uses the send queue's delay (at most 15 minutes): a member held
// until 09:00 comes back every 15 minutes, finds the window still closed and is put back
// again, about 44 hops through a night, each one SQS message per 100 members and no write.
// A paused campaign's members come back every minute the same way. (Resuming through the
// scheduler, one schedule per run and window, would save the hops; the chain needs no
// other state and cannot lose a member: the queue always holds the message that will
// bring them back.)
//
// Completion (the run ends when no record is pending or claimed): after adding its counts, an
// invocation reads the run's counters; when nothing remains to settle (targeted − suppressed
// − sent − failed − unknown ≤ 0) it confirms from the records (a scan that stops at the first
// pending or claimed one), writes the run's final counts, counted from the records that scan
// read (RunCounters.finalize, campaigns/counters.ts), and then ends the run with finishRun.
// Counters are the cheap trigger and the records the proof, so a doubled increment never
// ends a run early. Two things can make the counters miss the end: the segmenter still
// recording the audience (run `starting`), and counts lost with a sender killed between its
// writes and its counter add. For those a probe (a `send.batch` with `probe: true`, delayed)
// looks again: planted when the counters say done but the run is starting or a record is
// still open, and by every redelivered batch (a previous delivery may have died), re-planted
// by each probe while the run is active. So a run always ends once its records are settled,
// and its counts are then the records' count: what a killed invocation never added is
// mended, what a late one adds is ignored (the settlement logs what the recount corrected).

/** How the sender takes rate-limit tokens: the plan travels with the take (DynamoRateLimiter). */
export interface RateTakeInput {
  readonly account: string;
  readonly plan: RateLimitPlan;
  readonly parts: number;
  readonly now: Date;
}

export interface SendRateLimiter {
  take(input: RateTakeInput): Promise<RateTake>;
}

/**
 * Parts per second each provider account is held to: a tenth below 1,000 for the simulator
 * (its default) and the Chinese providers (the limiter's fixed windows can meet at a
 * boundary); cautious figures for AWS End User Messaging and Twilio, whose rates depend on
 * the origination numbers. Contracts differ: a per-tenant rate is a setting still to add.
 */
export const defaultProviderPartsPerSecond: Readonly<Record<SmsProviderId, number>> = {
  simulator: 900,
  aliyun: 900,
  tencent: 900,
  aws: 18,
  twilio: 10,
};

export interface SenderSettings {
  /** How long a claim may be held: the send queue's visibility timeout. */
  readonly leaseMs: number;
  /** Members of one batch worked on at once. */
  readonly concurrency: number;
  readonly retryPolicy: SendRetryPolicy;
  readonly providerPartsPerSecond: Readonly<Record<SmsProviderId, number>>;
  /** When a paused campaign's members are looked at again. */
  readonly pausedRecheckMs: number;
  /** How old the campaign's state may be at the last look before a provider call. */
  readonly stateRecheckMs: number;
  /** Held members come back up to this much after their window opens, so they do not all meet. */
  readonly holdJitterMs: number;
  /**
   * Probe delays: while the segmenter is still recording the run, when the counters say done
   * but a record is open, and while the run is far from done.
   */
  readonly probeStartingMs: number;
  readonly probeSoonMs: number;
  readonly probeLaterMs: number;
}

export const defaultSenderSettings: SenderSettings = {
  leaseMs: 360_000,
  concurrency: 25,
  retryPolicy: defaultSendRetryPolicy,
  providerPartsPerSecond: defaultProviderPartsPerSecond,
  pausedRecheckMs: 60_000,
  stateRecheckMs: 1_000,
  holdJitterMs: 30_000,
  probeStartingMs: 10_000,
  probeSoonMs: 30_000,
  probeLaterMs: 300_000,
};

export interface SenderDeps {
  readonly messages: MessageStore;
  /** The runs' budget counters; only runs of a campaign with a budget write to them. */
  readonly budget: RunBudgetStore;
  readonly members: Pick<MemberStore, 'getMany'>;
  readonly optOuts: Pick<OptOutStore, 'optedOut'>;
  readonly tenants: Pick<TenantStore, 'getTenant'>;
  readonly campaigns: RecordStore<Campaign>;
  readonly runs: RunStore;
  readonly counters: RunCounters;
  readonly templates: Pick<RecordStore<SavedTemplate>, 'get'>;
  readonly caps: FrequencyCapStore;
  readonly rateLimiter: SendRateLimiter;
  /** The tenant's provider (its `provider` setting); throws when it is not configured. */
  readonly providerFor: (tenant: Tenant) => SenderProvider;
  /** Puts messages on the send queue, each after its delay (≤ 900 s). */
  readonly requeue: (
    messages: readonly { message: SendBatchMessage; delaySeconds: number }[],
  ) => Promise<void>;
  readonly now: () => Date;
  /** A number in [0, 1): jitter. */
  readonly random: () => number;
  /** A fresh claim token. */
  readonly newToken: () => string;
  readonly sleep: (ms: number) => Promise<void>;
  readonly settings?: Partial<SenderSettings>;
  /** Short links for {{link}}; without them a template with {{link}} cannot be filled. */
  readonly links?: SenderLinks;
}

/** What the sender needs to give each message with {{link}} its own short link. */
export interface SenderLinks {
  readonly store: Pick<ShortLinkStore, 'put'>;
  /** The link domain of a tenant without its own `linkDomain`: the stack's public URL. */
  readonly defaultDomain: () => string | undefined;
  /** Crypto-grade random bytes: codes must be unguessable. */
  readonly random: RandomBytes;
}

/** What one batch did, for the log. */
export interface SendBatchReport {
  readonly outcome: 'worked' | 'paused' | 'ignored';
  readonly reason?: string;
  readonly counts: Readonly<Record<string, number>>;
}

export interface RunSettlement {
  readonly run: RunRef;
  readonly remaining?: number;
  readonly outcome: 'unsettled' | 'completed' | 'ended' | 'open' | 'starting';
  readonly probe?: 'starting' | 'soon' | 'later';
  /**
   * For a completed run: recounted − counted, per counter the recount changed (counts of a
   * killed invocation, or of one still adding them).
   */
  readonly corrected?: Readonly<Record<string, number>>;
}

/** One invocation's work: batches in, then `close` adds the counts and ends finished runs. */
export interface SendSession {
  process(message: SendBatchMessage, delivery?: { readonly receiveCount?: number }): Promise<SendBatchReport>;
  close(): Promise<RunSettlement[]>;
}

/** Starts an invocation's session; `deadline` is when it must stop starting new work. */
export function startSendSession(deps: SenderDeps, { deadline }: { deadline: Date }): SendSession {
  return new Session(deps, deadline);
}

/** A member claimed by this invocation, with what is needed to settle it. */
interface Claimed {
  readonly record: MessageRecord;
  readonly token: string;
  readonly member: Member | undefined;
}

interface BatchContext {
  readonly run: RunRef;
  readonly tenant: Tenant;
  readonly campaign: Campaign;
  readonly runRecord: CampaignRun;
  /** Cancelled or ended: every member left is suppressed `cancelled`. */
  readonly stopped: boolean;
  readonly provider: SenderProvider | undefined;
  /** The campaign's budget cap in micros; absent without a budget (no reservations then). */
  readonly capMicros: number | undefined;
  readonly tries: SendTries | undefined;
}

/** A template ready to render, or why it cannot be sent (a `failed` reason). */
export type SendContent =
  | {
      readonly compiled: CompiledTemplate;
      readonly values: SendValues | undefined;
      /** Where the variant's {{link}} sends. */
      readonly link?: string | undefined;
    }
  | { readonly refused: string };

/**
 * Mutable per member: whether the provider may have the message, the cap slot held, and the
 * budget it holds reserved (given back if it is not sent).
 */
interface MemberState {
  inDoubt: boolean;
  cap: FrequencyCapToken | undefined;
  reservedMicros: number;
}

/** A claimed member whose message is rendered and measured: what the budget and the provider see. */
interface Prepared {
  readonly claim: Claimed;
  readonly state: MemberState;
  readonly member: Member;
  readonly memberKey: string;
  readonly sms: OutgoingSms;
  readonly parts: number;
  /** The message's short link, written (with the batch's others) before any is sent. */
  readonly link?: ShortLink;
}

const runKey = ({ tenantId, campaignId, runId }: RunRef): string =>
  `${tenantId}\u0000${campaignId}\u0000${runId}`;

class Session implements SendSession {
  readonly #deps: SenderDeps;
  readonly #settings: SenderSettings;
  readonly #deadline: Date;
  readonly #tally = new SendTally();
  readonly #tenants = new Map<string, Promise<Tenant | undefined>>();
  readonly #campaigns = new Map<string, Promise<Campaign | undefined>>();
  readonly #runs = new Map<string, Promise<CampaignRun | undefined>>();
  /** The campaign's state as last read for the last look (currentState), per run. */
  readonly #states = new Map<
    string,
    { at: number; state: Promise<{ readonly paused: boolean; readonly stopped: boolean }> }
  >();
  readonly #contents = new Map<string, Promise<SendContent>>();
  readonly #plans = new Map<string, RateLimitPlan>();
  /** Concurrent last looks of one tenant in one read; concurrent takes of one account in one write. */
  readonly #optOutLooks = new Map<string, (memberKey: string) => Promise<ReadonlySet<string>>>();
  readonly #rateTakes = new Map<string, (take: RateTakeInput) => Promise<RateTake>>();
  /** Runs this invocation touched: whether one of their batches was redelivered or a probe. */
  readonly #touched = new Map<string, { run: RunRef; suspect: boolean; probeMemberId: string }>();

  constructor(deps: SenderDeps, deadline: Date) {
    this.#deps = deps;
    this.#settings = { ...defaultSenderSettings, ...deps.settings };
    this.#deadline = deadline;
  }

  async process(
    message: SendBatchMessage,
    { receiveCount = 1 }: { readonly receiveCount?: number } = {},
  ): Promise<SendBatchReport> {
    const run: RunRef = { tenantId: message.tenantId, campaignId: message.campaignId, runId: message.runId };
    const touched = this.#touched.get(runKey(run));
    const suspect = receiveCount > 1 || message.probe === true;
    this.#touched.set(runKey(run), {
      run,
      suspect: suspect || touched?.suspect === true,
      probeMemberId: touched?.probeMemberId ?? message.memberIds[0] ?? '',
    });
    const context = await this.#context(run, message);
    if ('ignored' in context) return { outcome: 'ignored', reason: context.ignored, counts: {} };
    const counts: Record<string, number> = {};
    const requeues: Requeue[] = [];
    if (!context.stopped && context.campaign.state === 'paused') {
      for (const memberId of message.memberIds)
        requeues.push({ memberId, delayMs: this.#settings.pausedRecheckMs, tries: message.tries });
      await this.#requeue(run, requeues);
      return { outcome: 'paused', counts: { requeued: requeues.length } };
    }
    await new Batch(this, context, counts, requeues).work(message.memberIds);
    await this.#requeue(run, requeues);
    return { outcome: 'worked', counts };
  }

  async close(): Promise<RunSettlement[]> {
    const counted = new Set<string>();
    for (const { run, deltas } of this.#tally.drain()) {
      await this.#deps.counters.add(run.tenantId, run.campaignId, run.runId, deltas);
      counted.add(runKey(run));
    }
    const settlements: RunSettlement[] = [];
    for (const [key, { run, suspect, probeMemberId }] of this.#touched) {
      if (!counted.has(key) && !suspect) continue;
      const settlement = await this.#settle(run, suspect);
      settlements.push(settlement);
      if (settlement.probe !== undefined && probeMemberId !== '') {
        const delayMs = {
          starting: this.#settings.probeStartingMs,
          soon: this.#settings.probeSoonMs,
          later: this.#settings.probeLaterMs,
        }[settlement.probe];
        const [probe] = requeueMessages({ base: run, requeues: [{ memberId: probeMemberId, delayMs }] });
        if (probe) await this.#deps.requeue([{ ...probe, message: { ...probe.message, probe: true } }]);
      }
    }
    this.#touched.clear();
    return settlements;
  }

  // ── shared with the batches ───────────────────────────────────────────────────────────

  get deps(): SenderDeps {
    return this.#deps;
  }

  get settings(): SenderSettings {
    return this.#settings;
  }

  /**
   * Whether the run's campaign is paused, or cancelled (or the run ended), read again when
   * the last read is older than `stateRecheckMs`: the last look before each provider call.
   */
  currentState(run: RunRef): Promise<{ readonly paused: boolean; readonly stopped: boolean }> {
    const key = runKey(run);
    const now = this.#deps.now().getTime();
    const known = this.#states.get(key);
    if (known && now - known.at < this.#settings.stateRecheckMs) return known.state;
    const state = Promise.all([
      this.#deps.campaigns.get(run.tenantId, run.campaignId),
      this.#deps.runs.get(run.tenantId, run.campaignId, run.runId),
    ]).then(([campaign, runRecord]) => ({
      paused: campaign?.state === 'paused',
      stopped:
        !campaign ||
        !runRecord ||
        campaign.state === 'cancelled' ||
        campaign.state === 'failed' ||
        runRecord.state === 'cancelled' ||
        runRecord.state === 'failed',
    }));
    // A failed read is not kept: the next look reads again.
    state.catch(() => this.#states.delete(key));
    this.#states.set(key, { at: now, state });
    return state;
  }

  get deadline(): Date {
    return this.#deadline;
  }

  count(run: RunRef, variantId: string | undefined, counted: SendCounter): void {
    this.#tally.count({ run, variantId, ...counted });
  }

  spend(run: RunRef, variantId: string | undefined, micros: number): void {
    this.#tally.spend({ run, variantId, micros });
  }

  /** The template of a record's variant, compiled once per invocation, with its values. */
  content(context: BatchContext, variantId: string | undefined): Promise<SendContent> {
    const chosen = contentOf(context.campaign, variantId);
    if (!chosen) return Promise.resolve({ refused: 'template_rejected:no_such_variant' });
    const key = `${context.run.tenantId}\u0000${chosen.templateId}`;
    let compiled = this.#contents.get(key);
    if (!compiled) {
      compiled = this.#compile(context.tenant, chosen.templateId);
      this.#contents.set(key, compiled);
    }
    return compiled.then((content) =>
      'refused' in content
        ? content
        : { compiled: content.compiled, values: chosen.values, link: chosen.link },
    );
  }

  /** Whether `memberKey` is opted out now: read after the ask, concurrent asks in one read. */
  async optedOut(tenantId: string, memberKey: string): Promise<boolean> {
    let look = this.#optOutLooks.get(tenantId);
    if (!look) {
      look = coalesced((keys: readonly string[]) =>
        this.#deps.optOuts.optedOut(tenantId, keys, { consistent: true }),
      );
      this.#optOutLooks.set(tenantId, look);
    }
    return (await look(memberKey)).has(memberKey);
  }

  /**
   * The rate limiter, with the takes of concurrent members from one account gathered into one
   * take (at most the plan's smallest shard budget, so it always fits a shard): one write for
   * a handful of messages. A refused group is refused to each member, who waits and asks again.
   */
  readonly rateLimiter: SendRateLimiter = {
    take: (input) => {
      let take = this.#rateTakes.get(input.account);
      if (!take) {
        const most = Math.max(1, Math.min(maxPartsPerProviderTake, ...input.plan.shardBudgets));
        take = coalesced(
          (group: readonly RateTakeInput[]) =>
            this.#deps.rateLimiter.take({
              account: input.account,
              plan: input.plan,
              parts: group.reduce((sum, { parts }) => sum + parts, 0),
              now: this.#deps.now(),
            }),
          { fits: (group, next) => group.reduce((sum, { parts }) => sum + parts, next.parts) <= most },
        );
        this.#rateTakes.set(input.account, take);
      }
      return take(input);
    },
  };

  plan(account: string, partsPerSecond: number, maxPartsPerTake: number): RateLimitPlan {
    const key = `${account}\u0000${partsPerSecond}`;
    let plan = this.#plans.get(key);
    if (!plan) {
      plan = rateLimitPlan({ partsPerSecond, maxPartsPerTake });
      this.#plans.set(key, plan);
    }
    return plan;
  }

  // ── inside ────────────────────────────────────────────────────────────────────────────

  #compile(tenant: Tenant, templateId: string): Promise<SendContent> {
    return compileSendTemplate({ templates: this.#deps.templates, tenant, templateId });
  }

  async #context(run: RunRef, message: SendBatchMessage): Promise<BatchContext | { ignored: string }> {
    const { tenantId, campaignId, runId } = run;
    const tenant = await cached(this.#tenants, tenantId, () => this.#deps.tenants.getTenant(tenantId));
    if (!tenant) return { ignored: 'the tenant no longer exists' };
    const campaign = await cached(this.#campaigns, `${tenantId}\u0000${campaignId}`, () =>
      this.#deps.campaigns.get(tenantId, campaignId),
    );
    if (!campaign) return { ignored: 'the campaign no longer exists' };
    const runRecord = await cached(this.#runs, runKey(run), () =>
      this.#deps.runs.get(tenantId, campaignId, runId),
    );
    if (!runRecord) return { ignored: 'the run does not exist' };
    const stopped =
      runRecord.state === 'cancelled' ||
      runRecord.state === 'failed' ||
      campaign.state === 'cancelled' ||
      campaign.state === 'failed';
    // Resolved before any claim: a provider that is not configured, or a budget in another
    // currency than the provider bills in, fails the batch untouched.
    const provider = stopped || campaign.state === 'paused' ? undefined : this.#deps.providerFor(tenant);
    const capMicros =
      provider && campaign.budget
        ? budgetCapMicros({ budget: campaign.budget, provider: provider.id, overrides: tenant.partPrices })
        : undefined;
    return { run, tenant, campaign, runRecord, stopped, provider, capMicros, tries: message.tries };
  }

  async #requeue(run: RunRef, requeues: readonly Requeue[]): Promise<void> {
    if (requeues.length === 0) return;
    await this.#deps.requeue(requeueMessages({ base: run, requeues }));
  }

  /** Whether the run is done (see the head of this file), and whether to look again later. */
  async #settle(run: RunRef, suspect: boolean): Promise<RunSettlement> {
    const { tenantId, campaignId, runId } = run;
    const tally = await this.#deps.counters.read(tenantId, campaignId, runId);
    const remaining = remainingToSettle(tally.total);
    if (remaining > 0 && !suspect) return { run, remaining, outcome: 'unsettled' };
    const current = await this.#deps.runs.get(tenantId, campaignId, runId);
    if (!current || !isActiveRun(current)) return { run, remaining, outcome: 'ended' };
    if (current.state === 'starting') return { run, remaining, outcome: 'starting', probe: 'starting' };
    const recount = await this.#recount(run);
    if (!recount) return { run, remaining, outcome: 'open', probe: remaining <= 0 ? 'soon' : 'later' };
    // The final counts first, then the completion: a reader who finds the run completed finds
    // counts equal to its records. Written once (the first stands), so another invocation
    // completing the run at the same moment, or one adding its counts late, changes nothing.
    await this.#deps.counters.finalize(tenantId, campaignId, runId, recount);
    const corrected = recountCorrection({
      read: tally.total,
      recount: tallyOf({ shards: [new Map(Object.entries(recount))] }).total,
    });
    try {
      await finishRun(
        { campaigns: this.#deps.campaigns, runs: this.#deps.runs, now: this.#deps.now },
        { tenantId, campaignId, runId, state: 'completed' },
      );
    } catch (error) {
      // Two invocations finishing the same run: the second finds it ended.
      if (!(error instanceof ConflictError)) throw error;
      const after = await this.#deps.runs.get(tenantId, campaignId, runId);
      if (after && isActiveRun(after)) throw error;
    }
    return {
      run,
      remaining,
      outcome: 'completed',
      ...(Object.keys(corrected).length > 0 ? { corrected } : {}),
    };
  }

  /**
   * The run's final counts from its records, or undefined at the first record still pending
   * or claimed: the one scan that proves completion counts what it reads.
   */
  async #recount({ tenantId, runId }: RunRef): Promise<FinalRunCounts | undefined> {
    const recount = new RunRecount();
    for await (const page of this.#deps.messages.scan(tenantId, runId)) {
      for (const record of page) if (!recount.add(record)) return undefined;
    }
    return recount.counts();
  }
}

/** The template and values of a variant (a single-template campaign's members are variant A). */
function contentOf(
  campaign: Campaign,
  variantId: string | undefined,
): { templateId: string; values: SendValues | undefined; link: string | undefined } | undefined {
  const content = campaign.content;
  if (!('variants' in content))
    return { templateId: content.templateId, values: content.values, link: content.link };
  const variant = content.variants.find((candidate) => candidate.variantId === variantId);
  return variant && { templateId: variant.templateId, values: variant.values, link: variant.link };
}

function cached<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (!value) {
    value = load();
    cache.set(key, value);
  }
  return value;
}

/** One `send.batch` worked through (the numbered steps at the head of this file). */
class Batch {
  readonly #session: Session;
  readonly #context: BatchContext;
  readonly #counts: Record<string, number>;
  readonly #requeues: Requeue[];
  /** What this batch gives back to (negative) or corrects on (positive) the run's budget. */
  #budgetAdjustment = 0;

  constructor(session: Session, context: BatchContext, counts: Record<string, number>, requeues: Requeue[]) {
    this.#session = session;
    this.#context = context;
    this.#counts = counts;
    this.#requeues = requeues;
  }

  get #deps(): SenderDeps {
    return this.#session.deps;
  }

  #note(what: string): void {
    this.#counts[what] = (this.#counts[what] ?? 0) + 1;
  }

  #putBack(memberId: string, delayMs: number, tries?: SendTries): void {
    this.#requeues.push({ memberId, delayMs, tries });
    this.#note('requeued');
  }

  async work(memberIds: readonly string[]): Promise<void> {
    const { tenantId, runId } = this.#context.run;
    const { leaseMs, concurrency } = this.#session.settings;
    const ids = [...new Set(memberIds)];
    if (this.#outOfTime()) {
      // Out of time before starting: the batch comes back as it is.
      for (const memberId of ids) this.#putBack(memberId, 0, this.#context.tries);
      return;
    }
    // 1. Quiet hours with `hold`: back on the queue without a claim (no write at all).
    // Eventually consistent: a profile or consent change a second old may be missed, as if it
    // had come a second later; the opt-out list, which must never be missed, is read strongly
    // consistent at the last look.
    const members = await this.#deps.members.getMany(tenantId, ids, { consistent: false });
    const toClaim = ids.filter((memberId) => {
      const member = members.get(memberId);
      if (this.#context.stopped || !member) return true;
      const window = this.#window(member);
      if (window.kind !== 'hold') return true;
      const jitter = Math.floor(this.#deps.random() * this.#session.settings.holdJitterMs);
      this.#putBack(memberId, window.opensAt.getTime() - this.#deps.now().getTime() + jitter);
      this.#note('held');
      return false;
    });

    // 2. The claims, straight away: a record that is not pending refuses its claim and says
    // where it stands (no read first, so the common case costs one write and no read).
    const claimed: Claimed[] = [];
    await forEachConcurrently(
      toClaim,
      concurrency,
      async (memberId) => {
        // Past the deadline (a slow store, a busy machine), no new claim: back on the queue.
        if (this.#outOfTime()) {
          this.#putBack(memberId, 0, this.#context.tries);
          return;
        }
        const token = this.#deps.newToken();
        const result = await this.#deps.messages.claim(tenantId, runId, memberId, {
          token,
          now: this.#deps.now(),
        });
        if (result.moved) {
          claimed.push({ record: result.record, token, member: members.get(memberId) });
          return;
        }
        // Another sender has it: leave it to them, and look again if they die.
        const standing = recordStanding({ record: result.current, now: this.#deps.now(), leaseMs });
        if (standing.kind === 'leased') this.#putBack(memberId, standing.waitMs + 1_000);
        else if (standing.kind === 'pending') this.#putBack(memberId, 0);
        else if (standing.kind === 'lease_expired' && result.current)
          await this.#giveUpLostClaim(result.current);
        else this.#note(standing.kind);
      },
      settleAll,
    );

    // 3. What each claim comes to before anything is spent on it. A member whose preparation
    // throws is released (by #guarded); the others go on, the error thrown at the end. Opt-outs
    // are not read here: the last look reads them, strongly consistent, just before each send.
    const prepared: Prepared[] = [];
    let failure: { error: unknown } | undefined;
    try {
      await forEachConcurrently(
        claimed,
        concurrency,
        async (claim) => {
          const state = newMemberState();
          if (this.#outOfTime()) {
            await this.#guarded(claim, state, () => this.#giveBack(claim, state));
            return;
          }
          const ready = await this.#guarded(claim, state, () => this.#prepare(claim, state));
          if (ready) prepared.push(ready);
        },
        settleAll,
      );
    } catch (error) {
      failure = { error };
    }

    try {
      // 6. The budget, for the batch at once; 7–9 per member.
      let fits: readonly boolean[];
      try {
        // The links first: a message is never sent with a link that leads nowhere.
        await this.#storeLinks(prepared);
        fits = await this.#reserve(prepared);
      } catch (error) {
        // Nothing was reserved or sent: give the claims back, so the redelivered batch sends them.
        await forEachConcurrently(
          prepared,
          concurrency,
          ({ claim, state }) => this.#release(claim, state),
          settleAll,
        ).catch(() => undefined);
        throw error;
      }
      // 7. Rate tokens, a take for a handful of messages (up to twenty parts) rather than one per
      // message, each handful sent once its tokens are granted: sends keep to the limiter's
      // pace, and never more than `concurrency` are in flight.
      await forEachConcurrently(
        prepared.filter((_, i) => !fits[i]),
        concurrency,
        async (ready) => {
          await this.#guarded(ready.claim, ready.state, () => this.#suppress(ready.claim, 'over_budget'));
        },
        settleAll,
      );
      await this.#dispatchPaced(prepared.filter((_, i) => fits[i]));
    } finally {
      await this.#settleBudget();
    }
    if (failure) throw failure.error;
  }

  /** A claim whose claimant died: it may have been sent, so it is never resent (invariant 1). */
  async #giveUpLostClaim(record: MessageRecord): Promise<void> {
    const now = this.#deps.now();
    const result = await this.#deps.messages.move(this.#context.run.tenantId, record.runId, record.memberId, {
      event: 'leaseLost',
      claimedBefore: new Date(now.getTime() - this.#session.settings.leaseMs),
      now,
      set: { reason: 'lease_lost' },
    });
    if (result.moved) this.#countMove(record, { counter: 'unknown' });
    else this.#note('settled');
  }

  #window(member: Member) {
    const { tenant, campaign } = this.#context;
    return sendWindowDecision({
      now: this.#deps.now(),
      campaignWindow: campaign.sendWindow,
      tenantWindow: tenant.sendWindow,
      category: campaign.category,
      timeZone: recipientTimeZone({ memberTimeZone: member.timeZone, tenantTimeZone: tenant.timeZone }),
    });
  }

  #countMove(record: MessageRecord, counted: SendCounter): void {
    this.#session.count(this.#context.run, record.variantId, counted);
    this.#note(counted.counter === 'suppressed' ? `suppressed.${counted.reason}` : counted.counter);
  }

  /** Makes a move under this invocation's claim, and counts it if it was made. */
  async #move(
    claim: Claimed,
    event: MessageEvent,
    counted: SendCounter | undefined,
    set: Parameters<MessageStore['move']>[3]['set'] = {},
  ): Promise<boolean> {
    const result = await this.#deps.messages.move(
      this.#context.run.tenantId,
      claim.record.runId,
      claim.record.memberId,
      {
        event,
        token: claim.token,
        now: this.#deps.now(),
        set,
        // A provider that echoes our reference in its receipts needs no index by its own id.
        findByProviderMessageId: !this.#context.provider?.capabilities.echoesReference,
      },
    );
    if (!result.moved) {
      // The claim was taken from us (its lease judged over): whoever took it counted it.
      this.#note('claim_lost');
      return false;
    }
    // A refusal is counted under its reason too (failed.<reason>, campaigns/counters.ts).
    if (counted?.counter === 'failed')
      this.#countMove(claim.record, { counter: 'failed', reason: set.reason });
    else if (counted) this.#countMove(claim.record, counted);
    return true;
  }

  #suppress(claim: Claimed, reason: string): Promise<boolean> {
    return this.#move(claim, 'suppress', { counter: 'suppressed', reason }, { reason });
  }

  /**
   * Whether the invocation's deadline has passed: it then starts nothing new, so that what it
   * started ends before the function's timeout (a timed-out invocation's claims would wait out
   * their lease, six minutes, before anyone could send them).
   */
  #outOfTime(): boolean {
    return this.#deps.now() >= this.#session.deadline;
  }

  /** A claim released and its member put back at once, for the next invocation. */
  async #giveBack(claim: Claimed, state: MemberState): Promise<void> {
    await this.#release(claim, state);
    this.#putBack(claim.record.memberId, 0, this.#context.tries);
  }

  async #release(claim: Claimed, state: MemberState): Promise<void> {
    await this.#move(claim, 'release', undefined);
    await this.#releaseHolds(state);
  }

  /** Gives back what the member held for a send that will not happen: its cap slot and budget. */
  async #releaseHolds(state: MemberState): Promise<void> {
    this.#budgetAdjustment -= state.reservedMicros;
    state.reservedMicros = 0;
    const token = state.cap;
    state.cap = undefined;
    if (token) await this.#deps.caps.release(token);
  }

  /** `work` for one claimed member; a throw before the provider call releases the claim. */
  async #guarded<T>(claim: Claimed, state: MemberState, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!state.inDoubt) {
        // Nothing reached the provider: give the member back so the redelivery sends it.
        await this.#release(claim, state).catch(() => undefined);
      }
      throw error;
    }
  }

  /** The cost of a message of `parts` at the tenant's price, in micros. */
  #costOf(provider: SenderProvider, parts: number): number {
    const { partPrices } = this.#context.tenant;
    return estimateCost({
      provider: provider.id,
      parts,
      ...(partPrices === undefined ? {} : { overrides: partPrices }),
    }).totalMicros;
  }

  /** Step 6: which prepared messages fit the budget (all, with no budget and no write). */
  async #reserve(prepared: readonly Prepared[]): Promise<readonly boolean[]> {
    const { capMicros, provider, run } = this.#context;
    if (capMicros === undefined || !provider || prepared.length === 0) return prepared.map(() => true);
    const costs = prepared.map(({ parts }) => this.#costOf(provider, parts));
    const fits = await this.#deps.budget.reserve(run.tenantId, run.campaignId, run.runId, {
      capMicros,
      costs,
    });
    prepared.forEach(({ state }, i) => {
      if (fits[i]) state.reservedMicros = costs[i] ?? 0;
    });
    return fits;
  }

  /** The batch's give-backs and corrections, in one add (none when there is nothing to add). */
  async #settleBudget(): Promise<void> {
    const by = this.#budgetAdjustment;
    this.#budgetAdjustment = 0;
    if (by === 0 || this.#context.capMicros === undefined) return;
    const { tenantId, campaignId, runId } = this.#context.run;
    await this.#deps.budget.adjust(tenantId, campaignId, runId, by);
  }

  /** Step 3 for one claimed member: its message rendered and measured, or the member settled. */
  async #prepare(claim: Claimed, state: MemberState): Promise<Prepared | undefined> {
    const { campaign, run } = this.#context;
    const { member, record } = claim;
    if (this.#context.stopped) {
      await this.#suppress(claim, 'cancelled');
      return undefined;
    }
    if (!member) {
      await this.#suppress(claim, 'erased');
      return undefined;
    }
    const memberKey = phoneHash({ tenantId: run.tenantId, phone: member.phone });
    // Consent and the number's state; the opt-out list is the last look's (step 8).
    const reason = suppressionReason({ member, category: campaign.category, optedOut: false });
    if (reason) {
      await this.#suppress(claim, reason);
      return;
    }
    const window = this.#window(member);
    if (window.kind === 'drop') {
      await this.#suppress(claim, 'quiet_hours');
      return;
    }
    if (window.kind === 'hold') {
      // The window closed between the look before the claim and now.
      await this.#release(claim, state);
      this.#putBack(record.memberId, window.opensAt.getTime() - this.#deps.now().getTime());
      this.#note('held');
      return;
    }
    const provider = this.#context.provider;
    if (!provider) throw new Error('A sendable batch has no provider.');
    const content = await this.#session.content(this.#context, record.variantId);
    if ('refused' in content) {
      await this.#move(claim, 'refused', { counter: 'failed' }, { reason: content.refused });
      return;
    }
    const link = this.#shortLink(content, record);
    const rendered = renderMessage({
      compiled: content.compiled,
      member,
      ...(content.values === undefined ? {} : { values: content.values }),
      ...(link === undefined ? {} : { link: link.text }),
    });
    if (rendered.kind === 'suppressed') {
      await this.#suppress(claim, rendered.reason);
      return;
    }
    const reference = messageReferenceOf({ runId: run.runId, memberId: record.memberId });
    const sms = outgoingSms({
      provider,
      compiled: content.compiled,
      rendered,
      reference,
      phone: member.phone,
    });
    if ('refused' in sms) {
      await this.#move(claim, 'refused', { counter: 'failed' }, { reason: sms.refused });
      return;
    }
    // Measured with the real link in the text: its length counts in the parts and the price.
    const parts = measureMessage({ text: rendered.text, rule: provider.capabilities.countingRule }).parts;
    return {
      claim,
      state,
      member,
      memberKey,
      sms,
      parts,
      ...(link === undefined ? {} : { link: link.item }),
    };
  }

  /**
   * A fresh short link for the message when its template has {{link}}. Fresh on every render,
   * never looked up: a message rendered twice (its claim released and the batch redelivered,
   * a throttled member put back) gets a second code, and the first, never sent or sent in an
   * ambiguous attempt, keeps working. Both name the same message (run and member), and clicks
   * are unique per message, not per code, so attribution and unique clicks stay right. A
   * deterministic code would need a secret to stay unguessable, or a read per message on the
   * hot path to find the first one; an unused link costs one write and expires with its TTL.
   */
  #shortLink(
    content: Extract<SendContent, { compiled: CompiledTemplate }>,
    record: MessageRecord,
  ): { text: string; item: ShortLink } | undefined {
    const links = this.#deps.links;
    if (!links || content.link === undefined || !content.compiled.variables.includes('link'))
      return undefined;
    const { tenant, run } = this.#context;
    const domain = tenant.linkDomain ?? links.defaultDomain();
    if (domain === undefined) return undefined;
    const item = newShortLink({
      random: links.random,
      message: {
        tenantId: run.tenantId,
        campaignId: run.campaignId,
        runId: run.runId,
        memberId: record.memberId,
        ...(record.variantId === undefined ? {} : { variantId: record.variantId }),
      },
      url: content.link,
      now: this.#deps.now(),
      expiryDays: tenant.linkExpiryDays,
    });
    return { text: shortLinkUrl({ domain, code: item.code }), item };
  }

  /** The batch's short links in one batched write (25 items a request), before any is sent. */
  async #storeLinks(prepared: readonly Prepared[]): Promise<void> {
    const links = prepared.flatMap(({ link }) => (link === undefined ? [] : [link]));
    if (links.length > 0 && this.#deps.links) await this.#deps.links.store.put(links);
  }

  /** Step 7 for the members that fit the budget, then 8 and 9 for each as its tokens come. */
  async #dispatchPaced(fitting: readonly Prepared[]): Promise<void> {
    const provider = this.#context.provider;
    const { concurrency } = this.#session.settings;
    const inFlight = new Set<Promise<void>>();
    const errors: unknown[] = [];
    const start = (ready: Prepared, work: () => Promise<void>): void => {
      const running: Promise<void> = this.#guarded(ready.claim, ready.state, work)
        .catch((error: unknown) => {
          errors.push(error);
        })
        .finally(() => inFlight.delete(running));
      inFlight.add(running);
    };
    for (const group of handfuls(fitting)) {
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (this.#outOfTime()) {
        // What is not on its way by the deadline is given back, to be sent by the next invocation.
        for (const ready of group) start(ready, () => this.#giveBack(ready.claim, ready.state));
        continue;
      }
      const tokens: RateTokens = provider
        ? await this.#takeTokens(
            provider,
            group.map(({ parts }) => parts),
          ).catch((error: unknown) => {
            errors.push(error);
            return { granted: false, retryAfterMs: 1_000 } as const;
          })
        : { granted: true };
      for (const ready of group) {
        start(ready, async () => {
          if (tokens.granted) return this.#dispatch(ready);
          await this.#release(ready.claim, ready.state);
          this.#putBack(ready.claim.record.memberId, tokens.retryAfterMs, this.#context.tries);
        });
      }
    }
    await Promise.all(inFlight);
    if (errors.length > 0) throw errors[0];
  }

  /** Steps 8 and 9 for one member whose message fits the budget, its first tokens taken. */
  async #dispatch({ claim, state, member, memberKey, sms, parts: measured }: Prepared): Promise<void> {
    const { tenant, campaign, run } = this.#context;
    const { record } = claim;
    const provider = this.#context.provider;
    if (!provider) throw new Error('A sendable batch has no provider.');
    const cap = await claimFrequencyCap({
      store: this.#deps.caps,
      tenantId: run.tenantId,
      memberKey,
      claimId: `${run.runId}#${record.memberId}`,
      category: campaign.category,
      now: this.#deps.now(),
      caps: { windows: tenant.frequencyCaps, dailyMax: tenant.dailyMax },
      timeZone: recipientTimeZone({ memberTimeZone: member.timeZone, tenantTimeZone: tenant.timeZone }),
    });
    if (!cap.granted) {
      if (cap.reason === 'capped') {
        await this.#suppress(claim, 'capped');
        await this.#releaseHolds(state);
      } else {
        await this.#release(claim, state);
        this.#putBack(record.memberId, Date.parse(cap.retryAt) - this.#deps.now().getTime());
      }
      return;
    }
    state.cap = cap.token;

    let tries: SendTries = this.#context.tries ?? { attempts: 0, throttles: 0 };
    for (let attempt = 0; ; attempt++) {
      // The first attempt's tokens were taken for the whole batch; a retry takes its own.
      const tokens: RateTokens =
        attempt === 0 ? { granted: true } : await this.#takeTokens(provider, [measured]);
      if (!tokens.granted) {
        await this.#release(claim, state);
        this.#putBack(record.memberId, tokens.retryAfterMs, tries);
        return;
      }
      const look = await this.#lastLook(memberKey);
      if (look === 'paused') {
        await this.#release(claim, state);
        this.#putBack(record.memberId, this.#session.settings.pausedRecheckMs, tries);
        return;
      }
      if (look !== 'send') {
        await this.#suppress(claim, look);
        await this.#releaseHolds(state);
        return;
      }
      // From here until the answer is recorded, the provider may have the message.
      state.inDoubt = true;
      const answer = await sendOne(provider, sms);
      const outcome = providerOutcomeOf({ provider: provider.id, answer });
      const step = nextSendStep({
        outcome,
        tries,
        policy: this.#session.settings.retryPolicy,
        random: this.#deps.random,
      });
      switch (step.action) {
        case 'record_accepted': {
          const parts = answer.outcome === 'accepted' ? (answer.parts ?? measured) : measured;
          const costMicros = this.#costOf(provider, parts);
          // Spent: the reservation is used, corrected when the provider counted other parts.
          if (this.#context.capMicros !== undefined)
            this.#budgetAdjustment += costMicros - state.reservedMicros;
          state.reservedMicros = 0;
          const moved = await this.#move(
            claim,
            'accepted',
            { counter: 'sent' },
            {
              ...(answer.outcome === 'accepted' ? { providerMessageId: answer.providerMessageId } : {}),
              parts,
              costMicros,
            },
          );
          if (moved) this.#session.spend(run, record.variantId, costMicros);
          return;
        }
        case 'await_receipt':
          // Never resent; a receipt may still settle it (unknown → delivered | failed). The
          // provider may bill it: its reservation stays.
          state.reservedMicros = 0;
          await this.#move(
            claim,
            'leaseLost',
            { counter: 'unknown' },
            { reason: recordReason({ reason: step.reason, code: step.code }) },
          );
          return;
        case 'fail':
          state.inDoubt = false;
          await this.#move(
            claim,
            'refused',
            { counter: 'failed' },
            { reason: recordReason({ reason: step.reason, code: step.code }) },
          );
          await this.#releaseHolds(state);
          return;
        case 'requeue':
          state.inDoubt = false;
          await this.#release(claim, state);
          this.#putBack(record.memberId, step.delayMs, step.tries);
          this.#note('throttled');
          return;
        case 'retry':
          state.inDoubt = false;
          tries = step.tries;
          this.#note('retried');
          if (this.#deps.now().getTime() + step.delayMs < this.#session.deadline.getTime()) {
            await this.#deps.sleep(step.delayMs);
            continue;
          }
          await this.#release(claim, state);
          this.#putBack(record.memberId, step.delayMs, tries);
          return;
      }
    }
  }

  /** The last look before a provider call (step 8): whether the message may still go. */
  async #lastLook(memberKey: string): Promise<'send' | 'paused' | 'cancelled' | 'opted_out'> {
    const { run, campaign } = this.#context;
    const current = await this.#session.currentState(run);
    if (current.stopped) return 'cancelled';
    if (current.paused) return 'paused';
    if (campaign.category !== 'marketing') return 'send';
    return (await this.#session.optedOut(run.tenantId, memberKey)) ? 'opted_out' : 'send';
  }

  /**
   * Rate-limit tokens for messages of `parts` each: one per message from the campaign's
   * throttle (messages per second), then their parts from the provider account, gathered into
   * takes as large as the plans allow (one write for about ten parts, not one per message). A
   * refusal is waited out while the invocation has time.
   */
  #takeTokens(provider: SenderProvider, parts: readonly number[]): Promise<RateTokens> {
    const { tenant, campaign, run } = this.#context;
    const takes: RateTakeRequest[] = [];
    if (campaign.throttle) {
      const account = `${run.tenantId}#campaign#${run.campaignId}`;
      const plan = this.#session.plan(account, campaign.throttle.messagesPerSecond, 1);
      takes.push(...gatheredTakes({ account, plan, parts: parts.map(() => 1), most: 1 }));
    }
    const account = providerAccount({ tenantId: tenant.tenantId, provider: provider.id });
    const plan = this.#session.plan(
      account,
      this.#session.settings.providerPartsPerSecond[provider.id],
      maxPartsPerProviderTake,
    );
    takes.push(...gatheredTakes({ account, plan, parts, most: maxPartsPerProviderTake }));
    return takeRateTokens({
      limiter: this.#session.rateLimiter,
      takes,
      now: this.#deps.now,
      sleep: this.#deps.sleep,
      deadline: this.#session.deadline,
    });
  }
}

function newMemberState(): MemberState {
  return { inDoubt: false, cap: undefined, reservedMicros: 0 };
}

// ── shared with test sends (messages/test-send.ts) ──────────────────────────────────────────

/** The most parts one take from a provider account asks for (the longest SMS is 10 parts). */
export const maxPartsPerProviderTake = 10;

/** Parts in one handful of messages: one or two takes, as the provider account's plan allows. */
const handfulParts = 20;

/** Consecutive handfuls of messages of at most `handfulParts` parts (a longer message alone). */
function handfuls<T extends { readonly parts: number }>(messages: readonly T[]): T[][] {
  const groups: T[][] = [];
  let open: T[] = [];
  let parts = 0;
  for (const message of messages) {
    if (open.length > 0 && parts + message.parts > handfulParts) {
      groups.push(open);
      open = [];
      parts = 0;
    }
    open.push(message);
    parts += message.parts;
  }
  if (open.length > 0) groups.push(open);
  return groups;
}

/**
 * Takes for messages of `parts` each from one account, each as large as the plan lets one
 * take be (its smallest shard budget, at least `most`), none splitting a message.
 */
function gatheredTakes({
  account,
  plan,
  parts,
  most,
}: {
  account: string;
  plan: RateLimitPlan;
  parts: readonly number[];
  most: number;
}): RateTakeRequest[] {
  const limit = Math.max(most, Math.min(...plan.shardBudgets));
  const takes: RateTakeRequest[] = [];
  let open = 0;
  for (const n of parts) {
    if (open > 0 && open + n > limit) {
      takes.push({ account, plan, parts: open });
      open = 0;
    }
    open += n;
  }
  if (open > 0) takes.push({ account, plan, parts: open });
  return takes;
}

/** The rate-limit account of a tenant's provider: shared by every sender of that account. */
export function providerAccount({
  tenantId,
  provider,
}: {
  tenantId: string;
  provider: SmsProviderId;
}): string {
  return `${tenantId}#${provider}`;
}

/** One take of rate-limit tokens: `parts` from `account`, under its plan. */
export interface RateTakeRequest {
  readonly account: string;
  readonly plan: RateLimitPlan;
  readonly parts: number;
}

export type RateTokens =
  | { readonly granted: true }
  | { readonly granted: false; readonly retryAfterMs: number };

/** A message's parts as takes of at most maxPartsPerProviderTake from the provider account. */
export function providerRateTakes({
  account,
  plan,
  parts,
}: {
  account: string;
  plan: RateLimitPlan;
  parts: number;
}): RateTakeRequest[] {
  const takes: RateTakeRequest[] = [];
  for (let left = parts; left > 0; left -= maxPartsPerProviderTake) {
    takes.push({ account, plan, parts: Math.min(maxPartsPerProviderTake, left) });
  }
  return takes;
}

/**
 * Takes each request in turn. A refusal is waited out while the wait ends before `deadline`;
 * else the answer says how long to wait (tokens already taken are spent: a window's tokens
 * cannot be given back, and the limiter errs on the side of sending less).
 */
export async function takeRateTokens({
  limiter,
  takes,
  now,
  sleep,
  deadline,
}: {
  limiter: SendRateLimiter;
  takes: readonly RateTakeRequest[];
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  deadline: Date;
}): Promise<RateTokens> {
  for (const take of takes) {
    for (;;) {
      const answer = await limiter.take({ ...take, now: now() });
      if (answer.granted) break;
      if (now().getTime() + answer.retryAfterMs >= deadline.getTime()) {
        return { granted: false, retryAfterMs: answer.retryAfterMs };
      }
      await sleep(answer.retryAfterMs);
    }
  }
  return { granted: true };
}

/**
 * A campaign template ready to render for `tenant`, or why it cannot be sent: the template
 * gone, no signature, or a template that no longer compiles.
 */
export async function compileSendTemplate({
  templates,
  tenant,
  templateId,
}: {
  templates: Pick<RecordStore<SavedTemplate>, 'get'>;
  tenant: Tenant;
  templateId: string;
}): Promise<SendContent> {
  const template = await templates.get(tenant.tenantId, templateId);
  if (!template) return { refused: 'template_rejected:template_missing' };
  const signature = tenantSignature(tenant);
  if (signature === undefined) return { refused: 'signature_rejected:no_signature' };
  try {
    return {
      compiled: compileTemplate({ template, signature, timeZone: tenant.timeZone }),
      values: undefined,
    };
  } catch {
    return { refused: 'template_rejected:template_invalid' };
  }
}

/** The message in the form the provider takes: free text where it may, else its approved template. */
export function outgoingSms({
  provider,
  compiled,
  rendered,
  reference,
  phone,
}: {
  provider: SenderProvider;
  compiled: CompiledTemplate;
  rendered: { readonly text: string; readonly params: readonly { name: string; value: string }[] };
  reference: string;
  phone: string;
}): OutgoingSms | { refused: string } {
  if (provider.capabilities.content.includes('text')) return { reference, phone, text: rendered.text };
  const binding = compiled.template.binding;
  if (binding?.provider !== provider.id) return { refused: 'template_rejected:no_provider_binding' };
  return {
    reference,
    phone,
    signature: compiled.signature,
    template: {
      code: binding.templateCode,
      params: rendered.params.map(({ name, value }) => ({ name, value })),
    },
  };
}

/** One message, one call; an answer that does not name it is treated as no answer. */
export async function sendOne(provider: SenderProvider, sms: OutgoingSms): Promise<SmsSendOutcome> {
  const answers = await provider.send([sms]);
  return (
    answers.find((answer) => answer.reference === sms.reference) ?? {
      reference: sms.reference,
      outcome: 'ambiguous',
      code: 'no_outcome',
      reason: 'The provider answered without an outcome for the message.',
      scope: 'message',
    }
  );
}
