import * as z from 'zod';
import {
  type Campaign,
  type CampaignState,
  type CampaignVariant,
  sendValues,
  variantIds,
} from '../campaigns/campaign';
import { phoneHash } from '../members/identity';
import { memberId } from '../members/member';
import { normalizePhone } from '../members/phone';
import type { MemberStore, OptOutStore } from '../members/store';
import { rateLimitPlan } from '../sending/rate-limit';
import { mapWithConcurrency } from '../shared/concurrency';
import { ConflictError, NotFoundError, type Problem, ValidationError } from '../shared/errors';
import { type RandomBytes, randomBase62 } from '../shared/ids';
import type { RecordStore } from '../shared/records';
import { type CompiledTemplate, renderMessage } from '../templates/compile';
import { measureMessage } from '../templates/encoding';
import { estimateCost, type SmsProviderId } from '../templates/pricing';
import { validateSendValues } from '../templates/template';
import type { SavedTemplate } from '../templates/use-cases';
import { exampleMembers, type SendValues, type TemplateMember } from '../templates/variables';
import type { Tenant } from '../tenancy/tenant';
import type { MessageStore, NewMessageRecord } from './record';
import {
  compileSendTemplate,
  defaultProviderPartsPerSecond,
  maxPartsPerProviderTake,
  outgoingSms,
  providerAccount,
  providerRateTakes,
  type SendRateLimiter,
  sendOne,
  takeRateTokens,
} from './sender';
import {
  messageReferenceOf,
  type OutgoingSms,
  providerOutcomeOf,
  recordReason,
  type SenderProvider,
  sendWindowDecision,
} from './sender-decisions';

// POST /campaigns/{id}/test-send: the campaign's message, each variant or the chosen one, sent
// at once to a few numbers of the merchant's own staff, so they see on a phone what members
// will read. A test send:
//   - goes through the tenant's provider like any message, taking the provider account's
//     rate-limit tokens (invariant 5 knows no test), but not the campaign's throttle;
//   - is in no run: no counters, no progress, no budget, no frequency cap, and the campaign's
//     state does not change. It may be asked of a campaign that can still send (draft,
//     scheduled, running or paused); one that has ended (completed, cancelled, failed) sends
//     nothing, test sends included (409);
//   - never goes to an opted-out number (invariant 3 has no exceptions): that number is
//     answered `opted_out` and sent nothing, whatever the category;
//   - obeys the send window the campaign's messages obey (invariant 4, on the tenant's
//     clock: staff numbers carry no member time zone); outside it the request is refused
//     (409 naming when the window opens) and nothing is sent;
//   - is recorded in the messages table like a run's messages, under a run id of its own
//     (`test_<UTC time>_<6 letters>`, the answer's `testSendId`), one record per number and
//     variant (member id `phone<n>`, `phone<n>.<variant>` with variants), marked `test`,
//     with the provider's message id, parts and cost. Its reference `<testSendId>:<member id>`
//     is what the provider echoes in receipts, so receipts find the record as they find any
//     other, and a `test` record is theirs to leave out of every count. The record keeps no
//     phone number: the answer gives it back to the caller, whose staff's numbers they are.
//
// Nothing is retried: a staff member who sees `failed` (with the reason) asks again. An
// ambiguous timeout is answered `unknown`, like the sender's.

export const testSendLimits = {
  maxPhones: 20,
  /** Provider calls in flight at once. */
  concurrency: 5,
  /** How long rate-limit tokens are waited for before a number is answered `rate_limited`. */
  tokenWaitMs: 10_000,
} as const;

/** The states in which a campaign takes test sends: those in which it can still send. */
export const testSendStates: readonly CampaignState[] = ['draft', 'scheduled', 'running', 'paused'];

export const testSendInput = z.strictObject({
  /** Staff numbers in any usual written form; each is normalized to E.164 (a bad one: 400). */
  phones: z.array(z.string().max(50)).min(1).max(testSendLimits.maxPhones),
  /** One variant of an A/B campaign; left out, every variant is sent to each number. */
  variantId: z.enum(variantIds).exactOptional(),
  /** Sample values of the templates' declared variables, over the campaign's own. */
  values: sendValues.exactOptional(),
  /** A member whose fields fill the message; left out, the template locale's example member. */
  memberId: memberId.exactOptional(),
});
export type TestSendInput = z.output<typeof testSendInput>;

export const testSendStatuses = ['sent', 'failed', 'unknown', 'opted_out'] as const;
export type TestSendStatus = (typeof testSendStatuses)[number];

export interface TestSendResult {
  /** The number in E.164: the caller's own staff's, so it is given back in clear. */
  readonly phone: string;
  readonly variantId?: string;
  readonly status: TestSendStatus;
  /** Our reference of the message, echoed by the provider in receipts. */
  readonly reference?: string;
  readonly providerMessageId?: string;
  readonly parts?: number;
  readonly costMicros?: number;
  /** The message as sent (absent for an opted-out number: nothing was rendered for it). */
  readonly text?: string;
  /** Why it failed or is unknown (`rate_limited`, `invalid_phone:…`, `no_answer_after_send:…`). */
  readonly reason?: string;
}

export interface TestSendReport {
  /** The run id its records are kept under in the messages table. */
  readonly testSendId: string;
  readonly campaignId: string;
  readonly provider: SmsProviderId;
  readonly results: readonly TestSendResult[];
}

export interface TestSendDeps {
  readonly campaigns: Pick<RecordStore<Campaign>, 'get'>;
  readonly templates: Pick<RecordStore<SavedTemplate>, 'get'>;
  readonly members: Pick<MemberStore, 'get'>;
  readonly optOuts: Pick<OptOutStore, 'optedOut'>;
  readonly messages: Pick<MessageStore, 'create' | 'claim' | 'move'>;
  readonly rateLimiter: SendRateLimiter;
  /** The tenant's provider, built as the sender builds it; throws when it is not configured. */
  readonly providerFor: (tenant: Tenant) => SenderProvider;
  readonly random: RandomBytes;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

/** One message of the test: a number and a variant, rendered. */
interface Planned {
  readonly phone: string;
  readonly variantId: string | undefined;
  readonly recordId: string;
  readonly optedOut: boolean;
  readonly text: string;
  readonly sms: OutgoingSms;
  readonly parts: number;
}

/** A variant to send, compiled, with its values (the campaign's, then the sample ones). */
interface ChosenContent {
  readonly variantId: string | undefined;
  readonly compiled: CompiledTemplate;
  readonly values: SendValues;
}

/**
 * Sends the campaign's message to the given numbers now (see the head of this file):
 * 1. the campaign exists (404) and can still send (409 otherwise);
 * 2. every problem of the request at its path, in one 400, before anything is recorded:
 *    numbers that are no mobile numbers (or given twice), a variant the campaign does not
 *    have, a member that does not exist, sample values no template declares or of the wrong
 *    type, a message that cannot be filled;
 * 3. the send window (409 outside it) and the provider (409 when not configured or when the
 *    template has no approved template code for it);
 * 4. the records, opted-out numbers already `suppressed` (opted_out);
 * 5. each message claimed, rate-limited on the provider account, sent and recorded.
 */
export async function testSendCampaign(
  deps: TestSendDeps,
  { tenant, campaignId, input }: { tenant: Tenant; campaignId: string; input: TestSendInput },
): Promise<TestSendReport> {
  const tenantId = tenant.tenantId;
  const campaign = await deps.campaigns.get(tenantId, campaignId);
  if (!campaign) throw new NotFoundError(`No campaign ${campaignId}.`);
  if (!testSendStates.includes(campaign.state)) {
    throw new ConflictError(
      `Campaign ${campaignId} is ${campaign.state}: it sends nothing more, test sends included.`,
    );
  }

  const problems: Problem[] = [];
  const phones = phonesOf({ input, defaultRegion: tenant.defaultRegion, problems });
  const variants = variantsOf({ campaign, variantId: input.variantId, problems });
  let member: TemplateMember | undefined;
  if (input.memberId !== undefined) {
    member = await deps.members.get(tenantId, input.memberId);
    if (!member) problems.push({ path: 'body.memberId', message: `no member ${input.memberId}` });
  }
  const contents = await contentsOf(deps, { tenant, variants, input, problems });
  const rendered = contents.map((content) => ({
    content,
    outcome: renderMessage({
      compiled: content.compiled,
      member: member ?? exampleMembers[content.compiled.template.locale],
      values: content.values,
    }),
  }));
  for (const { content, outcome } of rendered) {
    if (outcome.kind !== 'suppressed') continue;
    const declared = content.compiled.template.variables.some((v) => v.name === outcome.variable);
    problems.push({
      path: declared ? `body.values.${outcome.variable}` : 'body.memberId',
      message: `{{${outcome.variable}}} has no value and no default: ${
        declared ? 'give it a value' : 'give the id of a member who has it'
      }`,
    });
  }
  if (problems.length > 0) {
    throw new ValidationError(dedupe(problems), 'Nothing was sent: the test send has problems.');
  }

  const now = deps.now();
  const window = sendWindowDecision({
    now,
    campaignWindow: { ...campaign.sendWindow, outside: 'hold' },
    tenantWindow: tenant.sendWindow,
    category: campaign.category,
    timeZone: tenant.timeZone,
  });
  if (window.kind !== 'open') {
    throw new ConflictError(
      window.kind === 'hold'
        ? `Nothing was sent: the campaign's messages may leave only from ${campaign.sendWindow.start} to ${campaign.sendWindow.end} (${tenant.timeZone}); the window opens at ${window.opensAt.toISOString()}.`
        : `Nothing was sent: the campaign's send window never meets the tenant's (${tenant.sendWindow.start}–${tenant.sendWindow.end}).`,
    );
  }
  let provider: SenderProvider;
  try {
    provider = deps.providerFor(tenant);
  } catch {
    throw new ConflictError(
      `Nothing was sent: the tenant's provider (${tenant.provider}) is not configured for sending yet.`,
    );
  }

  const optedOut = await deps.optOuts.optedOut(
    tenantId,
    phones.map((phone) => phoneHash({ tenantId, phone })),
  );
  const testSendId = `test_${now.toISOString().replace(/[-:.]/g, '')}_${randomBase62({ random: deps.random, length: 6 })}`;
  const planned: Planned[] = [];
  phones.forEach((phone, i) => {
    for (const { content, outcome } of rendered) {
      if (outcome.kind !== 'rendered') continue;
      const recordId =
        content.variantId === undefined ? `phone${i + 1}` : `phone${i + 1}.${content.variantId}`;
      const sms = outgoingSms({
        provider,
        compiled: content.compiled,
        rendered: outcome,
        reference: messageReferenceOf({ runId: testSendId, memberId: recordId }),
        phone,
      });
      if ('refused' in sms) {
        throw new ConflictError(
          `Nothing was sent: variant ${content.variantId ?? 'A'} cannot go through ${provider.id} (${sms.refused}).`,
        );
      }
      planned.push({
        phone,
        variantId: content.variantId,
        recordId,
        optedOut: optedOut.has(phoneHash({ tenantId, phone })),
        text: outcome.text,
        sms,
        parts: measureMessage({ text: outcome.text, rule: provider.capabilities.countingRule }).parts,
      });
    }
  });

  await deps.messages.create(
    tenantId,
    { campaignId, runId: testSendId },
    planned.map(({ recordId, variantId, optedOut: out }): NewMessageRecord => {
      const base = { memberId: recordId, test: true as const, ...(variantId ? { variantId } : {}) };
      return out ? { ...base, state: 'suppressed', reason: 'opted_out' } : { ...base, state: 'pending' };
    }),
    now,
  );
  const deadline = new Date(now.getTime() + testSendLimits.tokenWaitMs);
  const results = await mapWithConcurrency(planned, testSendLimits.concurrency, (message) =>
    message.optedOut
      ? Promise.resolve<TestSendResult>({
          phone: message.phone,
          ...(message.variantId ? { variantId: message.variantId } : {}),
          status: 'opted_out',
        })
      : sendTestMessage(deps, { tenant, provider, testSendId, message, deadline }),
  );
  return { testSendId, campaignId, provider: provider.id, results };
}

/** Claims the record, takes the provider account's tokens, sends, and records the answer. */
async function sendTestMessage(
  deps: TestSendDeps,
  {
    tenant,
    provider,
    testSendId,
    message,
    deadline,
  }: {
    tenant: Tenant;
    provider: SenderProvider;
    testSendId: string;
    message: Planned;
    deadline: Date;
  },
): Promise<TestSendResult> {
  const tenantId = tenant.tenantId;
  const token = randomBase62({ random: deps.random, length: 16 });
  const claim = await deps.messages.claim(tenantId, testSendId, message.recordId, { token, now: deps.now() });
  if (!claim.moved) throw new Error(`The test record ${testSendId}:${message.recordId} was taken.`);
  const base = {
    phone: message.phone,
    ...(message.variantId ? { variantId: message.variantId } : {}),
    reference: message.sms.reference,
    text: message.text,
  };
  const settle = async (
    event: 'accepted' | 'refused' | 'leaseLost',
    set: NonNullable<Parameters<MessageStore['move']>[3]['set']>,
  ): Promise<void> => {
    await deps.messages.move(tenantId, testSendId, message.recordId, { event, token, now: deps.now(), set });
  };

  const account = providerAccount({ tenantId, provider: provider.id });
  const plan = rateLimitPlan({
    partsPerSecond: defaultProviderPartsPerSecond[provider.id],
    maxPartsPerTake: maxPartsPerProviderTake,
  });
  const tokens = await takeRateTokens({
    limiter: deps.rateLimiter,
    takes: providerRateTakes({ account, plan, parts: message.parts }),
    now: deps.now,
    sleep: deps.sleep,
    deadline,
  });
  if (!tokens.granted) {
    await settle('refused', { reason: 'rate_limited' });
    return { ...base, status: 'failed', reason: 'rate_limited' };
  }

  const answer = await sendOne(provider, message.sms);
  if (answer.outcome === 'accepted') {
    const parts = answer.parts ?? message.parts;
    const costMicros = estimateCost({
      provider: provider.id,
      parts,
      ...(tenant.partPrices === undefined ? {} : { overrides: tenant.partPrices }),
    }).totalMicros;
    await settle('accepted', { providerMessageId: answer.providerMessageId, parts, costMicros });
    return {
      ...base,
      status: 'sent',
      providerMessageId: answer.providerMessageId,
      parts,
      costMicros,
    };
  }
  const outcome = providerOutcomeOf({ provider: provider.id, answer });
  const reason =
    outcome.kind === 'accepted'
      ? 'provider_error'
      : recordReason({ reason: outcome.reason, code: outcome.code });
  if (outcome.kind === 'ambiguous') {
    // The provider may have it: recorded unknown, for a receipt to settle; never resent.
    await settle('leaseLost', { reason });
    return { ...base, status: 'unknown', parts: message.parts, reason };
  }
  await settle('refused', { reason });
  return { ...base, status: 'failed', parts: message.parts, reason };
}

/** The numbers in E.164; each bad or repeated entry a problem at its index. */
function phonesOf({
  input,
  defaultRegion,
  problems,
}: {
  input: TestSendInput;
  defaultRegion: string;
  problems: Problem[];
}): string[] {
  const seen = new Map<string, number>();
  const phones: string[] = [];
  input.phones.forEach((raw, i) => {
    const path = `body.phones.${i}`;
    const phone = normalizePhone({ raw, defaultRegion });
    if (!phone.ok) {
      problems.push({ path, message: `"${raw}" is not a mobile number we can send to: ${phone.reason}` });
      return;
    }
    const first = seen.get(phone.e164);
    if (first !== undefined) {
      problems.push({ path, message: `the same number as body.phones.${first}` });
      return;
    }
    seen.set(phone.e164, i);
    phones.push(phone.e164);
  });
  return phones;
}

/** The variants to send: the one asked for, or each; a single-template campaign has one, unnamed. */
function variantsOf({
  campaign,
  variantId,
  problems,
}: {
  campaign: Campaign;
  variantId: string | undefined;
  problems: Problem[];
}): { variantId: string | undefined; templateId: string; values: SendValues | undefined }[] {
  const content = campaign.content;
  if (!('variants' in content)) {
    if (variantId !== undefined) {
      problems.push({
        path: 'body.variantId',
        message: 'this campaign sends one template, not variants: leave variantId out',
      });
    }
    return [{ variantId: undefined, templateId: content.templateId, values: content.values }];
  }
  const all = content.variants.map((variant: CampaignVariant) => ({
    variantId: variant.variantId,
    templateId: variant.templateId,
    values: variant.values,
  }));
  if (variantId === undefined) return all;
  const chosen = all.filter((variant) => variant.variantId === variantId);
  if (chosen.length === 0) {
    problems.push({
      path: 'body.variantId',
      message: `the campaign has variants ${all.map((variant) => variant.variantId).join(', ')}, not ${variantId}`,
    });
  }
  return chosen;
}

/**
 * Each chosen variant's template compiled (409 when one cannot be sent any more) with the
 * campaign's values and the sample values its template declares; sample values no chosen
 * template declares, or of the wrong type, are problems.
 */
async function contentsOf(
  deps: Pick<TestSendDeps, 'templates'>,
  {
    tenant,
    variants,
    input,
    problems,
  }: {
    tenant: Tenant;
    variants: readonly {
      variantId: string | undefined;
      templateId: string;
      values: SendValues | undefined;
    }[];
    input: TestSendInput;
    problems: Problem[];
  },
): Promise<ChosenContent[]> {
  const contents: ChosenContent[] = [];
  const declaredAnywhere = new Set<string>();
  for (const variant of variants) {
    const content = await compileSendTemplate({
      templates: deps.templates,
      tenant,
      templateId: variant.templateId,
    });
    if ('refused' in content) {
      throw new ConflictError(
        `Nothing was sent: the template of ${
          variant.variantId === undefined ? 'the campaign' : `variant ${variant.variantId}`
        } cannot be sent (${content.refused}).`,
      );
    }
    const declared = content.compiled.template.variables.map((variable) => variable.name);
    for (const name of declared) declaredAnywhere.add(name);
    const samples = Object.fromEntries(
      Object.entries(input.values ?? {}).filter(([name]) => declared.includes(name)),
    );
    const values = { ...variant.values, ...samples };
    try {
      validateSendValues({ template: content.compiled.template, values, root: 'body.values' });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      problems.push(...error.problems);
    }
    contents.push({ variantId: variant.variantId, compiled: content.compiled, values });
  }
  for (const name of Object.keys(input.values ?? {})) {
    if (!declaredAnywhere.has(name)) {
      problems.push({
        path: `body.values.${name}`,
        message: `${name} is not a variable of the campaign's ${variants.length > 1 ? 'templates' : 'template'}`,
      });
    }
  }
  return contents;
}

function dedupe(problems: readonly Problem[]): Problem[] {
  return [...new Map(problems.map((problem) => [`${problem.path}|${problem.message}`, problem])).values()];
}
