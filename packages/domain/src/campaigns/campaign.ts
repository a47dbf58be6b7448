import * as z from 'zod';
import { type SendWindow, sendWindow } from '../compliance/quiet-hours';
import { messageCategories } from '../compliance/suppression';
import { destinationUrl } from '../engagement/settings';
import { memberId } from '../members/member';
import { segmentDefinition } from '../segments/definition';
import { segmentId } from '../segments/saved-segment';
import { ianaTimeZone } from '../shared/time-zones';
import { currencyCode, decimalAmount } from '../templates/pricing';
import { templateId } from '../templates/use-cases';
import { cronExpression } from './cron';

// A campaign as a merchant writes it: whom (audience), what (one template or A/B variants),
// when (now, at an instant, or a cron in a time zone) and how (send window, throttle,
// holdout, budget). These schemas are the one source of the API's validation and of the
// stored record's type; a stored campaign is read back through `campaign`.

export const campaignId = z.string().regex(/^cmp_[0-9A-Za-z]{12}$/, 'cmp_ and 12 letters or digits');

export const campaignLimits = {
  maxMemberIds: 10_000,
  minVariants: 2,
  maxVariants: 5,
  maxHoldoutPercent: 50,
  maxMessagesPerSecond: 5_000,
} as const;

/** Exactly one of `keys` is given; the issue goes on the first key, where a client looks first. */
function exactlyOne(keys: readonly string[]) {
  return (value: object, ctx: z.core.$RefinementCtx): void => {
    const given = keys.filter((key) => key in value);
    if (given.length === 1) return;
    ctx.addIssue({
      code: 'custom',
      path: [given[1] ?? keys[0] ?? ''],
      message:
        given.length === 0
          ? `give one of ${keys.join(', ')}`
          : `give only one of ${keys.join(', ')}, not ${given.join(' and ')}`,
    });
  };
}

// ── audience ──────────────────────────────────────────────────────────────────────────

export type CampaignAudience =
  | { readonly segmentId: string }
  | { readonly definition: z.output<typeof segmentDefinition> }
  | { readonly memberIds: readonly string[] };

/** A saved segment, a segment definition inline, or up to 10,000 member ids (repeats dropped). */
export const campaignAudience = z
  .strictObject({
    segmentId: segmentId.exactOptional(),
    definition: segmentDefinition.exactOptional(),
    memberIds: z.array(memberId).min(1).max(campaignLimits.maxMemberIds).exactOptional(),
  })
  .superRefine(exactlyOne(['segmentId', 'definition', 'memberIds']))
  .transform((audience): CampaignAudience => {
    if (audience.memberIds !== undefined) return { memberIds: [...new Set(audience.memberIds)] };
    if (audience.definition !== undefined) return { definition: audience.definition };
    return { segmentId: audience.segmentId ?? '' };
  });

// ── content ───────────────────────────────────────────────────────────────────────────

export const variantIds = ['A', 'B', 'C', 'D', 'E'] as const;
export type VariantId = (typeof variantIds)[number];

/** The campaign's values for the template's declared variables (`{{couponCode}}`). */
export const sendValues = z.record(z.string(), z.union([z.string().max(200), z.number().finite()]));

export const campaignVariant = z.strictObject({
  variantId: z.enum(variantIds),
  templateId,
  values: sendValues.exactOptional(),
  /** Where the variant's {{link}} sends (each message gets its own short link to it). */
  link: destinationUrl.exactOptional(),
  /** Share of the members sent to (after the holdout), whole percent. */
  percent: z.number().int().min(1).max(99),
});
export type CampaignVariant = z.output<typeof campaignVariant>;

export type CampaignContent =
  | {
      readonly templateId: string;
      readonly values?: Readonly<Record<string, string | number>>;
      /** Where {{link}} sends. */
      readonly link?: string;
    }
  | { readonly variants: readonly CampaignVariant[] };

/** One template (with the campaign's values), or 2–5 A/B variants whose percents add up to 100. */
export const campaignContent = z
  .strictObject({
    templateId: templateId.exactOptional(),
    values: sendValues.exactOptional(),
    link: destinationUrl.exactOptional(),
    variants: z
      .array(campaignVariant)
      .min(campaignLimits.minVariants)
      .max(campaignLimits.maxVariants)
      .exactOptional(),
  })
  .superRefine(exactlyOne(['templateId', 'variants']))
  .superRefine((content, ctx) => {
    if (content.variants === undefined) return;
    if (content.values !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: 'with variants, give the values on each variant',
      });
    }
    if (content.link !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['link'],
        message: 'with variants, give the link on each variant',
      });
    }
    const seen = new Set<string>();
    content.variants.forEach((variant, i) => {
      if (seen.has(variant.variantId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['variants', i, 'variantId'],
          message: `variant ${variant.variantId} is given twice`,
        });
      }
      seen.add(variant.variantId);
    });
    const total = content.variants.reduce((sum, variant) => sum + variant.percent, 0);
    if (total !== 100) {
      ctx.addIssue({
        code: 'custom',
        path: ['variants'],
        message: `the variants' percents add up to ${total}; they must add up to 100`,
      });
    }
  })
  .transform((content): CampaignContent => {
    if (content.variants !== undefined) return { variants: content.variants };
    return {
      templateId: content.templateId ?? '',
      ...(content.values === undefined ? {} : { values: content.values }),
      ...(content.link === undefined ? {} : { link: content.link }),
    };
  });

/** Every template a campaign sends, with the path its problems are reported at (under the content). */
export function contentTemplates(content: CampaignContent): {
  templateId: string;
  values: Readonly<Record<string, string | number>> | undefined;
  link: string | undefined;
  path: string;
}[] {
  if ('variants' in content) {
    return content.variants.map((variant, i) => ({
      templateId: variant.templateId,
      values: variant.values,
      link: variant.link,
      path: `variants.${i}`,
    }));
  }
  return [{ templateId: content.templateId, values: content.values, link: content.link, path: '' }];
}

// ── schedule ──────────────────────────────────────────────────────────────────────────

/**
 * `now`: as soon as it is scheduled; `at`: once, at an instant (with its offset);
 * `cron`: recurring, five-field cron read in an IANA time zone, daylight saving included.
 */
export const campaignSchedule = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('now') }),
  z.strictObject({ kind: z.literal('at'), at: z.iso.datetime({ offset: true }) }),
  z.strictObject({ kind: z.literal('cron'), expression: cronExpression, timeZone: ianaTimeZone }),
]);
export type CampaignSchedule = z.output<typeof campaignSchedule>;

export function isRecurring(campaign: { readonly schedule: CampaignSchedule }): boolean {
  return campaign.schedule.kind === 'cron';
}

// ── send window, throttle, budget ─────────────────────────────────────────────────────

export const sendWindowPolicies = ['hold', 'drop'] as const;
export type SendWindowPolicy = (typeof sendWindowPolicies)[number];

/**
 * When the campaign's messages may leave, on the member's wall clock (their zone, else the
 * tenant's): the hours of the compliance module's send window, and what happens to a message
 * that falls outside them: `hold` until the window opens, or `drop` (suppressed as
 * quiet_hours). The sender enforces it; the campaign states it.
 */
export const campaignSendWindow = z
  .strictObject({
    start: sendWindow.shape.start,
    end: sendWindow.shape.end,
    outside: z.enum(sendWindowPolicies),
  })
  .superRefine(({ start, end }, ctx) => {
    const hours = sendWindow.safeParse({ start, end });
    if (hours.success) return;
    for (const issue of hours.error.issues)
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });
export type CampaignSendWindow = z.output<typeof campaignSendWindow>;

/** What a merchant writes: what is left out is the tenant's hours (on a change: as it was), held. */
const sendWindowInput = z.strictObject({
  start: sendWindow.shape.start.exactOptional(),
  end: sendWindow.shape.end.exactOptional(),
  outside: z.enum(sendWindowPolicies).exactOptional(),
});
export type SendWindowInput = z.output<typeof sendWindowInput>;

/**
 * The campaign's window: what is given, the rest from `fallback` (the tenant's hours for a
 * new campaign, the current window for a change), and `hold` when neither says.
 */
export function resolveSendWindow({
  given,
  fallback,
}: {
  given: SendWindowInput | undefined;
  fallback: SendWindow & { readonly outside?: SendWindowPolicy };
}): CampaignSendWindow {
  return {
    start: given?.start ?? fallback.start,
    end: given?.end ?? fallback.end,
    outside: given?.outside ?? fallback.outside ?? 'hold',
  };
}

/** A cap below the provider's rate: the sender sends at the lower of the two. */
export const campaignThrottle = z.strictObject({
  messagesPerSecond: z.number().int().min(1).max(campaignLimits.maxMessagesPerSecond),
});

/** The most the campaign may cost per run; the sender stops claiming when it is spent. */
export const campaignBudget = z.strictObject({
  amount: decimalAmount.refine((amount) => Number(amount) > 0, {
    message: 'more than 0',
    // Only for a well-formed amount: after the format's message it would only repeat it.
    when: (payload) => payload.issues.length === 0,
  }),
  currency: currencyCode,
});

// ── the campaign ──────────────────────────────────────────────────────────────────────

const fieldShape = {
  name: z.string().trim().min(1).max(100),
  category: z.enum(messageCategories),
  audience: campaignAudience,
  content: campaignContent,
  schedule: campaignSchedule,
  sendWindow: campaignSendWindow,
  throttle: campaignThrottle,
  /** Members held back as a control group (a deterministic hash), whole percent. */
  holdoutPercent: z.number().int().min(0).max(campaignLimits.maxHoldoutPercent),
  budget: campaignBudget,
};

/** POST /campaigns. The send window's hours default to the tenant's (09:00–20:00 unless set), held. */
export const campaignInput = z.strictObject({
  ...fieldShape,
  sendWindow: sendWindowInput.exactOptional(),
  throttle: fieldShape.throttle.exactOptional(),
  holdoutPercent: fieldShape.holdoutPercent.default(0),
  budget: fieldShape.budget.exactOptional(),
});
export type CampaignInput = z.output<typeof campaignInput>;

/**
 * PATCH /campaigns/{id} (drafts only): what is given replaces the field (the send window's
 * hours left out stay as they were); `null` removes throttle or budget.
 */
export const campaignPatch = z.strictObject({
  name: fieldShape.name.exactOptional(),
  category: fieldShape.category.exactOptional(),
  audience: fieldShape.audience.exactOptional(),
  content: fieldShape.content.exactOptional(),
  schedule: fieldShape.schedule.exactOptional(),
  sendWindow: sendWindowInput.exactOptional(),
  throttle: fieldShape.throttle.nullable().exactOptional(),
  holdoutPercent: fieldShape.holdoutPercent.exactOptional(),
  budget: fieldShape.budget.nullable().exactOptional(),
});
export type CampaignPatch = z.output<typeof campaignPatch>;

export const campaignStates = [
  'draft',
  'scheduled',
  'running',
  'paused',
  'completed',
  'cancelled',
  'failed',
] as const;
export type CampaignState = (typeof campaignStates)[number];

/** A campaign as stored (campaigns table, kind CAMPAIGN): read stored items back through this. */
export const campaign = z.strictObject({
  ...fieldShape,
  throttle: fieldShape.throttle.exactOptional(),
  budget: fieldShape.budget.exactOptional(),
  campaignId,
  state: z.enum(campaignStates),
  /** While paused: the state a resume returns to. */
  pausedFrom: z.enum(['scheduled', 'running']).exactOptional(),
  /**
   * The instant a one-time campaign (`now` or `at`) is due, fixed when it is scheduled: the
   * start message carries it as `scheduledAt`, and a resume after a pause re-creates the
   * schedule with it, so a start resumed too late is judged missed, not fired late.
   */
  startAt: z.iso.datetime({ offset: true }).exactOptional(),
  /** Why a failed campaign failed (`start_missed`, or the sender's reason). */
  failure: z.strictObject({ reason: z.string().min(1), at: z.iso.datetime() }).exactOptional(),
  /**
   * Set by POST /campaigns/{id}/retry-failed: the campaign's next run targets the members
   * whose message failed in run `ofRunId`, not its audience (messages/segment-campaign.ts).
   */
  retry: z.strictObject({ ofRunId: z.string().min(1), requestedAt: z.iso.datetime() }).exactOptional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Campaign = z.output<typeof campaign>;
