import * as z from 'zod';
import { isoDateOfDay, ZoneCalendar } from '../segments/calendar';
import type { MessageCategory } from './suppression';

// Frequency caps (ARCHITECTURE.md invariant 4): how many marketing messages one person may
// receive from a tenant in rolling windows (2 per 7 days, 4 per 30 days by default) and per
// calendar day in their own time zone. The count is shared by every campaign of the tenant
// and taken when a send is claimed, so two campaigns running at once cannot both use the
// member's last slot. This module decides; a FrequencyCapStore makes the decision atomic.

const dayMs = 86_400_000;

/** At most `messages` marketing messages in any `days` consecutive days (a rolling window). */
export const frequencyCapWindow = z.strictObject({
  messages: z.number().int().min(1).max(1000),
  days: z.number().int().min(1).max(366),
});
export type FrequencyCapWindow = z.infer<typeof frequencyCapWindow>;

/** A tenant's rolling windows; each length at most once. */
export const frequencyCaps = z
  .array(frequencyCapWindow)
  .max(5)
  .refine((windows) => new Set(windows.map((w) => w.days)).size === windows.length, {
    message: 'each window length (days) at most once',
  });

/** At most this many marketing messages per calendar day in the member's time zone. */
export const dailyMax = z.number().int().min(1).max(100);

export const defaultFrequencyCaps: readonly FrequencyCapWindow[] = [
  { messages: 2, days: 7 },
  { messages: 4, days: 30 },
];
export const defaultDailyMax = 1;

/** What a claim is checked against: the tenant's windows and its calendar-day cap. */
export interface FrequencyCapRules {
  readonly windows: readonly FrequencyCapWindow[];
  readonly dailyMax: number;
}

/** A calendar day in the recipient's zone: its date, and the instant the next day begins. */
export interface CapDay {
  /** `YYYY-MM-DD` on the recipient's wall clock. */
  readonly key: string;
  /** Epoch milliseconds at which the next day begins there (daylight saving included). */
  readonly endsAt: number;
}

/** The calendar day of `now` in `timeZone`, for the daily cap. */
export function capDay({ now, timeZone }: { now: Date; timeZone: string }): CapDay {
  const calendar = new ZoneCalendar({ timeZone, now: now.getTime() });
  return { key: isoDateOfDay(calendar.today), endsAt: calendar.startOf(calendar.today + 1) };
}

/**
 * One counted send as the store keeps it. The day is recorded with the send, in the zone
 * the member had then, so a later change of zone does not rewrite history.
 */
export const capSend = z.object({
  /** Who claimed it: the message record (run and member), so a redelivered claim is the same claim. */
  claimId: z.string().min(1),
  /** Epoch milliseconds. */
  at: z.number().int(),
  /** `YYYY-MM-DD` in the member's zone at the time. */
  day: z.string(),
});
export type CapSend = z.infer<typeof capSend>;

/** Which cap refused a claim. */
export type CapLimit =
  | { readonly kind: 'rolling'; readonly messages: number; readonly days: number }
  | { readonly kind: 'daily'; readonly messages: number };

export type CapDecision =
  | {
      readonly granted: true;
      /** True when this claim id already holds a slot (a redelivery): nothing to write. */
      readonly held: boolean;
      /** The sends to store: the new one added, those no cap can see any more dropped. */
      readonly sends: readonly CapSend[];
      /** Epoch seconds after which no cap can see any stored send (the item's TTL). */
      readonly expiresAt: number;
    }
  | { readonly granted: false; readonly cap: CapLimit; readonly retryAt: number };

function longestWindowMs(rules: FrequencyCapRules): number {
  return Math.max(1, ...rules.windows.map((w) => w.days)) * dayMs;
}

/**
 * Whether one more marketing message fits the caps at `now`, given the sends already
 * counted. A send counts in a window of `days` while `now - at < days × 24 h`. When it does
 * not fit, `retryAt` is the earliest instant it would (every refusing cap cleared: the
 * oldest counted sends aged out, the next calendar day begun).
 */
export function decideCapClaim({
  sends,
  claimId,
  now,
  rules,
  day,
}: {
  sends: readonly CapSend[];
  claimId: string;
  now: Date;
  rules: FrequencyCapRules;
  day: CapDay;
}): CapDecision {
  const at = now.getTime();
  const longest = longestWindowMs(rules);
  const kept = sends.filter((send) => send.at > at - longest || send.day === day.key);
  const held = kept.some((send) => send.claimId === claimId);
  if (!held) {
    const refusals: { cap: CapLimit; retryAt: number }[] = [];
    for (const window of rules.windows) {
      const windowMs = window.days * dayMs;
      const counted = kept
        .filter((send) => send.at > at - windowMs)
        .map((send) => send.at)
        .sort((a, b) => a - b);
      const excess = counted.length - window.messages;
      const oldestToAge = counted[excess];
      if (excess >= 0 && oldestToAge !== undefined) {
        refusals.push({ cap: { kind: 'rolling', ...window }, retryAt: oldestToAge + windowMs });
      }
    }
    if (kept.filter((send) => send.day === day.key).length >= rules.dailyMax) {
      refusals.push({ cap: { kind: 'daily', messages: rules.dailyMax }, retryAt: day.endsAt });
    }
    const [first, ...others] = refusals;
    if (first) {
      return {
        granted: false,
        cap: first.cap,
        retryAt: Math.max(first.retryAt, ...others.map((r) => r.retryAt)),
      };
    }
  }
  const next = held ? kept : [...kept, { claimId, at, day: day.key }];
  const latest = Math.max(...next.map((send) => send.at));
  // A day's sends must outlive the day even with a one-day window: a day can last 25 hours.
  return { granted: true, held, sends: next, expiresAt: Math.ceil((latest + longest + dayMs) / 1000) };
}

/** Identifies a granted slot, so a send that did not happen can give it back. */
export interface FrequencyCapToken {
  readonly tenantId: string;
  readonly memberKey: string;
  readonly claimId: string;
}

export type FrequencyCapClaim =
  | { readonly granted: true; readonly token: FrequencyCapToken }
  | { readonly granted: false; readonly reason: 'capped'; readonly cap: CapLimit; readonly retryAt: string }
  /** Other claims for the same member kept winning the race: try again at `retryAt`. */
  | { readonly granted: false; readonly reason: 'contended'; readonly retryAt: string };

/**
 * The shared, atomic count of marketing sends per member. DynamoDB implements it on AWS and
 * on the local stack (packages/aws, frequency-cap-store.ts).
 */
export interface FrequencyCapStore {
  /**
   * Takes one slot for `memberKey` if `caps` allow it at `now`; atomic against every other
   * claim and release for the same member. Idempotent per `claimId`: a redelivered claim
   * gets its slot again instead of a second one.
   */
  claim(input: {
    tenantId: string;
    /** The tenant-scoped phone hash (preferred: caps protect the person at the number) or member id. */
    memberKey: string;
    claimId: string;
    now: Date;
    caps: FrequencyCapRules;
    day: CapDay;
  }): Promise<FrequencyCapClaim>;
  /**
   * Gives a slot back: for a send that did not happen (the provider refused it before
   * accepting, or it was dropped). Releasing a slot twice, or one never held, changes nothing.
   */
  release(token: FrequencyCapToken): Promise<void>;
}

export type FrequencyCapCheck = FrequencyCapClaim | { readonly granted: true; readonly token?: undefined };

/**
 * The sender's frequency-cap step at claim time: only marketing is counted and capped, in
 * the member's calendar day (their zone, else the tenant's). Notifications pass untouched
 * and take no slot.
 */
export async function claimFrequencyCap({
  store,
  tenantId,
  memberKey,
  claimId,
  category,
  now,
  caps,
  timeZone,
}: {
  store: FrequencyCapStore;
  tenantId: string;
  memberKey: string;
  claimId: string;
  category: MessageCategory;
  now: Date;
  caps: FrequencyCapRules;
  /** The recipient's zone (see recipientTimeZone). */
  timeZone: string;
}): Promise<FrequencyCapCheck> {
  if (category !== 'marketing') return { granted: true };
  return store.claim({ tenantId, memberKey, claimId, now, caps, day: capDay({ now, timeZone }) });
}
