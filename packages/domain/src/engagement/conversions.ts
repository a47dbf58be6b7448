import * as z from 'zod';
import type { RunDeltas } from '../campaigns/counters';
import { memberId } from '../members/member';
import { normalizePhone } from '../members/phone';
import type { MemberStore } from '../members/store';
import { ValidationError } from '../shared/errors';
import { currencyCode, decimalAmount, toMicros } from '../templates/pricing';
import type { Tenant } from '../tenancy/tenant';
import type { ClickRecorder, MessageActivityInput } from './links';
import { maxAttributionWindowHours } from './settings';

// Conversions (issue 6, item 6): `POST /events` reports a purchase, a sign-up or a custom
// event of a member; it is attributed to the most recent message that member clicked within
// the click window (5 days by default) or, failing that, the most recent message delivered to
// them within the delivery window (24 hours), and counted with its revenue on that message's
// run and variant. The same eventId twice counts once.
//
// Attribution reads the member's activity: one item per (member, run) that a delivery receipt
// (`recordDelivered`) or a click marks. Messages only sent, never delivered nor clicked, are
// not attributed, so the sender writes nothing for it on its hot path.

export const activityRetentionMs = (maxAttributionWindowHours + 24) * 3_600_000;

export interface AttributionWindows {
  readonly clickWindowHours: number;
  readonly deliveryWindowHours: number;
}

/** What the activity index holds of one message to a member. */
export interface MessageActivity {
  readonly campaignId: string;
  readonly runId: string;
  readonly variantId?: string;
  readonly deliveredAt?: string;
  /** The latest click. */
  readonly clickedAt?: string;
}

/** The activity index: per (tenant, member), their recent messages delivered or clicked. */
export interface MessageActivityStore extends ClickRecorder {
  /** Marks a message delivered (the first delivery time stays). */
  recordDelivered(input: MessageActivityInput): Promise<void>;
  /** The member's most recent messages, newest run first, at most `limit`. */
  recent(tenantId: string, memberId: string, options: { readonly limit: number }): Promise<MessageActivity[]>;
}

export interface Attribution {
  readonly campaignId: string;
  readonly runId: string;
  readonly variantId?: string;
  /** What earned it: the member's click, or only the delivery. */
  readonly by: 'click' | 'delivery';
  /** When the click or delivery was. */
  readonly touchedAt: string;
}

/**
 * The message a conversion at `at` belongs to: the most recent click within the click
 * window, else the most recent delivery within the delivery window, else none. A touch after
 * the conversion does not count.
 */
export function attributeConversion({
  activities,
  at,
  windows,
}: {
  activities: readonly MessageActivity[];
  at: Date;
  windows: AttributionWindows;
}): Attribution | undefined {
  const latest = (by: 'click' | 'delivery', windowHours: number): Attribution | undefined => {
    let best: { activity: MessageActivity; time: number; touchedAt: string } | undefined;
    for (const activity of activities) {
      const touchedAt = by === 'click' ? activity.clickedAt : activity.deliveredAt;
      if (touchedAt === undefined) continue;
      const time = Date.parse(touchedAt);
      const age = at.getTime() - time;
      if (Number.isNaN(time) || age < 0 || age > windowHours * 3_600_000) continue;
      if (!best || time > best.time) best = { activity, time, touchedAt };
    }
    if (!best) return undefined;
    const { campaignId, runId, variantId } = best.activity;
    return {
      campaignId,
      runId,
      ...(variantId === undefined ? {} : { variantId }),
      by,
      touchedAt: best.touchedAt,
    };
  };
  return latest('click', windows.clickWindowHours) ?? latest('delivery', windows.deliveryWindowHours);
}

// ── POST /events ───────────────────────────────────────────────────────────────────────

export const conversionTypes = ['purchase', 'signup', 'custom'] as const;

const common = {
  /** The caller's id of the event: the same id twice counts once. */
  eventId: z
    .string()
    .trim()
    .regex(/^[\x21-\x7e]{1,100}$/, '1–100 printable ASCII characters without spaces'),
  memberId: memberId.exactOptional(),
  phone: z.string().trim().min(1).max(40).exactOptional(),
  /** When it happened (default: when reported). */
  at: z.iso.datetime({ offset: true }).exactOptional(),
};

export const conversionInput = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('purchase'),
      ...common,
      amount: decimalAmount,
      currency: currencyCode.default('CNY'),
    }),
    z.strictObject({ type: z.literal('signup'), ...common }),
    z.strictObject({ type: z.literal('custom'), ...common, name: z.string().trim().min(1).max(60) }),
  ])
  .superRefine((input, ctx) => {
    const given = ['memberId', 'phone'].filter((key) => key in input);
    if (given.length !== 1)
      ctx.addIssue({
        code: 'custom',
        path: [given[1] ?? 'memberId'],
        message: given.length === 0 ? 'give one of memberId, phone' : 'give only one of memberId, phone',
      });
  });
export type ConversionInput = z.output<typeof conversionInput>;

/** A conversion as stored: once per (tenant, eventId). */
export interface Conversion {
  readonly eventId: string;
  readonly type: (typeof conversionTypes)[number];
  readonly name?: string;
  readonly amount?: string;
  readonly currency?: string;
  readonly memberId: string;
  readonly at: string;
  readonly attribution?: Attribution;
  /** Whether its amount was added to the run's revenue (only in the tenant's currency). */
  readonly revenueCounted: boolean;
  readonly recordedAt: string;
}

/** Conversions, written once per eventId together with their counter deltas (one transaction). */
export interface ConversionStore {
  record(input: {
    readonly tenantId: string;
    readonly conversion: Conversion;
    /** Added to the attributed run's counters in the same write; none without attribution. */
    readonly deltas: RunDeltas | undefined;
  }): Promise<{ readonly recorded: true } | { readonly recorded: false; readonly existing?: Conversion }>;
}

export interface ConversionDeps {
  readonly members: Pick<MemberStore, 'idsByPhone'>;
  readonly activity: Pick<MessageActivityStore, 'recent'>;
  readonly conversions: ConversionStore;
  readonly now: () => Date;
}

/** Members read for a phone shared by a household; messages read per member. */
const maxMembersPerPhone = 5;
const recentMessagesRead = 25;
/** A clock a little ahead of ours is tolerated; an event further in the future is refused. */
const futureSkewMs = 5 * 60_000;

/** The counters a conversion adds to its run: conversions and revenue, per variant too. */
export function conversionDeltas({
  variantId,
  revenueMicros,
}: {
  variantId?: string | undefined;
  revenueMicros: number;
}): RunDeltas {
  const deltas: Record<string, number> = { conversions: 1 };
  if (revenueMicros > 0) deltas.revenueMicros = revenueMicros;
  if (variantId !== undefined) {
    deltas[`variant.${variantId}.conversions`] = 1;
    if (revenueMicros > 0) deltas[`variant.${variantId}.revenueMicros`] = revenueMicros;
  }
  return deltas;
}

/** POST /events: the conversion attributed and counted, or the one recorded before under its eventId. */
export async function recordConversion(
  deps: ConversionDeps,
  { tenant, input }: { tenant: Tenant; input: ConversionInput },
): Promise<{ readonly created: boolean; readonly conversion: Conversion }> {
  const now = deps.now();
  const at = input.at === undefined ? now : new Date(input.at);
  if (at.getTime() > now.getTime() + futureSkewMs)
    throw new ValidationError([{ path: 'body.at', message: 'an instant in the future' }]);
  let memberIds: string[];
  if (input.memberId !== undefined) {
    memberIds = [input.memberId];
  } else {
    const phone = normalizePhone({ raw: input.phone ?? '', defaultRegion: tenant.defaultRegion });
    if (!phone.ok)
      throw new ValidationError([{ path: 'body.phone', message: `not a valid number (${phone.reason})` }]);
    memberIds = (await deps.members.idsByPhone(tenant.tenantId, phone.e164)).slice(0, maxMembersPerPhone);
    if (memberIds.length === 0)
      throw new ValidationError([{ path: 'body.phone', message: 'no member has this number' }]);
  }
  const reads = await Promise.all(
    memberIds.map(async (id) => ({
      memberId: id,
      activities: await deps.activity.recent(tenant.tenantId, id, { limit: recentMessagesRead }),
    })),
  );
  // Across a household's members, the best touch wins (a click before any delivery).
  let attributed: { memberId: string; attribution: Attribution } | undefined;
  for (const { memberId: id, activities } of reads) {
    const attribution = attributeConversion({ activities, at, windows: tenant.attribution });
    if (!attribution) continue;
    if (!attributed || better(attribution, attributed.attribution))
      attributed = { memberId: id, attribution };
  }
  const purchase = input.type === 'purchase' ? input : undefined;
  const revenueCounted =
    purchase !== undefined && attributed !== undefined && purchase.currency === tenant.currency;
  const conversion: Conversion = {
    eventId: input.eventId,
    type: input.type,
    ...(input.type === 'custom' ? { name: input.name } : {}),
    ...(purchase ? { amount: purchase.amount, currency: purchase.currency } : {}),
    memberId: attributed?.memberId ?? memberIds[0] ?? '',
    at: at.toISOString(),
    ...(attributed ? { attribution: attributed.attribution } : {}),
    revenueCounted,
    recordedAt: now.toISOString(),
  };
  const deltas = attributed
    ? conversionDeltas({
        variantId: attributed.attribution.variantId,
        revenueMicros: revenueCounted && purchase ? toMicros(purchase.amount) : 0,
      })
    : undefined;
  const result = await deps.conversions.record({ tenantId: tenant.tenantId, conversion, deltas });
  if (result.recorded) return { created: true, conversion };
  return { created: false, conversion: result.existing ?? conversion };
}

function better(a: Attribution, b: Attribution): boolean {
  if (a.by !== b.by) return a.by === 'click';
  return Date.parse(a.touchedAt) > Date.parse(b.touchedAt);
}

/**
 * For the receipt processor: a delivered message marks the member's activity so a later
 * conversion can be attributed to it. Test sends (no run) are not marked.
 */
export async function recordDelivered(
  deps: { readonly activity: Pick<MessageActivityStore, 'recordDelivered'> },
  input: MessageActivityInput,
): Promise<void> {
  if (input.runId.startsWith('test_')) return;
  await deps.activity.recordDelivered(input);
}
