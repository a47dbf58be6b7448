import { type MessageCategory, type SuppressionReason, suppressionReason } from '../compliance/suppression';
import type { Member } from '../members/member';
import { maskPhone } from '../privacy/mask';
import type { MemberPredicate } from './compile';

// What a merchant sees before sending: how many members a segment matches, how many of them
// would be suppressed and why, and a few of them with masked phones. Opt-outs are looked up
// in batches (the opt-out store answers a batch get), with a few lookups in flight while the
// scan goes on.

/** The phones among `phones` that have opted out. */
export type OptedOutLookup = (phones: readonly string[]) => Promise<ReadonlySet<string>>;

export interface AudienceSampleMember {
  readonly memberId: string;
  readonly name?: string;
  readonly maskedPhone: string;
  readonly tier?: string;
  readonly tags: readonly string[];
  readonly suppressionReason?: SuppressionReason;
}

export interface AudiencePreview {
  /** Members handed in (all of them, matching or not). */
  readonly scanned: number;
  /** Members the segment matches. */
  readonly matching: number;
  /** Matching members that would be suppressed, by reason (one reason each). */
  readonly suppressed: Readonly<Record<SuppressionReason, number>>;
  /** Matching members that would be sent to: matching minus every suppressed one. */
  readonly eligible: number;
  /** The first matching members in scan order, suppressed ones included with their reason. */
  readonly sample: readonly AudienceSampleMember[];
}

export const previewLimits = {
  maxSampleSize: 100,
  /** DynamoDB BatchGetItem reads at most 100 keys. */
  lookupBatchSize: 100,
  concurrentLookups: 4,
} as const;

interface Pending {
  readonly member: Member;
  /** Set for the members kept in the sample: their reason is filled in when known. */
  readonly sampleIndex: number | undefined;
}

export async function previewAudience({
  members,
  predicate,
  optedOutPhones,
  category,
  sampleSize,
  lookupBatchSize = previewLimits.lookupBatchSize,
  concurrentLookups = previewLimits.concurrentLookups,
}: {
  /** Members one by one, or in pages as a store scans them. */
  members: Iterable<Member | readonly Member[]> | AsyncIterable<Member | readonly Member[]>;
  predicate: MemberPredicate;
  optedOutPhones: OptedOutLookup;
  category: MessageCategory;
  sampleSize: number;
  lookupBatchSize?: number;
  concurrentLookups?: number;
}): Promise<AudiencePreview> {
  const suppressed: Record<SuppressionReason, number> = { opted_out: 0, no_consent: 0, invalid_phone: 0 };
  const sample: AudienceSampleMember[] = [];
  const wantedSample = Math.max(0, Math.min(Math.floor(sampleSize), previewLimits.maxSampleSize));
  let scanned = 0;
  let matching = 0;

  const settle = (batch: readonly Pending[], optedOut: ReadonlySet<string>): void => {
    for (const { member, sampleIndex } of batch) {
      const reason = suppressionReason({ member, category, optedOut: optedOut.has(member.phone) });
      if (reason === undefined) continue;
      suppressed[reason] += 1;
      const entry = sampleIndex === undefined ? undefined : sample[sampleIndex];
      if (entry !== undefined && sampleIndex !== undefined) {
        sample[sampleIndex] = { ...entry, suppressionReason: reason };
      }
    }
  };

  // An opt-out withdraws from marketing only (see suppressionReason), so notifications need
  // no lookup at all.
  const needsLookup = category === 'marketing';
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let pending: Pending[] = [];

  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    const phones = [...new Set(batch.map(({ member }) => member.phone))];
    // A lookup that throws instead of rejecting is caught the same way.
    const lookup: Promise<void> = new Promise<ReadonlySet<string>>((resolve) =>
      resolve(optedOutPhones(phones)),
    ).then(
      (optedOut) => settle(batch, optedOut),
      (error: unknown) => {
        // Kept, not thrown here, so no lookup is left rejecting unobserved.
        failure ??= { error };
      },
    );
    const tracked = lookup.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= concurrentLookups) await Promise.race(inFlight);
  };

  // Synchronous per member; only a full batch awaits (a lookup slot), so a scan of a million
  // members does not pay a microtask each.
  const take = (member: Member): boolean => {
    scanned += 1;
    if (!predicate(member)) return false;
    matching += 1;
    let sampleIndex: number | undefined;
    if (sample.length < wantedSample) sampleIndex = sample.push(sampleMember(member)) - 1;
    if (!needsLookup) {
      settle([{ member, sampleIndex }], noPhones);
      return false;
    }
    pending.push({ member, sampleIndex });
    return pending.length >= lookupBatchSize;
  };

  for await (const item of members) {
    for (const member of isPage(item) ? item : [item]) {
      if (take(member)) await flush();
      if (failure) throw failure.error;
    }
  }
  await flush();
  await Promise.all(inFlight);
  if (failure) throw failure.error;

  const suppressedCount = suppressed.opted_out + suppressed.no_consent + suppressed.invalid_phone;
  return { scanned, matching, suppressed, eligible: matching - suppressedCount, sample };
}

const noPhones: ReadonlySet<string> = new Set();

function isPage(item: Member | readonly Member[]): item is readonly Member[] {
  return Array.isArray(item);
}

function sampleMember(member: Member): AudienceSampleMember {
  return {
    memberId: member.memberId,
    ...(member.name === undefined ? {} : { name: member.name }),
    maskedPhone: maskPhone(member.phone),
    ...(member.tier === undefined ? {} : { tier: member.tier }),
    tags: [...member.tags],
  };
}
