import { createHash } from 'node:crypto';
import { type MessageCategory, suppressionReason } from '../compliance/suppression';
import type { Member } from '../members/member';
import type { MessageSuppressionReason, NewMessageRecord } from './record';

// Who of a run's audience gets which message, decided by a hash and nothing else: the same
// member lands in the same variant and the same holdout whenever the segmenter runs, so a
// re-run or a resumed run assigns nothing differently.

const buckets = 10_000;

/** A stable bucket in 0…9,999 for a member under a seed (the campaign id). */
export function assignmentBucket({ seed, memberId }: { seed: string; memberId: string }): number {
  const digest = createHash('sha256').update(`${seed}\u0000${memberId}`).digest();
  return digest.readUInt32BE(0) % buckets;
}

export interface VariantSplit {
  readonly variantId: string;
  /** Whole percent, the splits summing to 100. */
  readonly percent: number;
}

/**
 * The holdout takes the lowest buckets, the variants share the rest in order: with a 10%
 * holdout and A/B at 50/50, buckets 0–999 are held out, 1,000–5,499 get A, 5,500–9,999 B.
 * The holdout is drawn from the campaign id, the variants from a second seed, so changing
 * the holdout size does not move members between variants.
 */
export function assignMember({
  seed,
  memberId,
  holdoutPercent,
  variants,
}: {
  seed: string;
  memberId: string;
  holdoutPercent: number;
  variants: readonly VariantSplit[];
}): { readonly heldOut: true } | { readonly heldOut: false; readonly variantId: string } {
  if (assignmentBucket({ seed: `${seed}#holdout`, memberId }) < (holdoutPercent / 100) * buckets) {
    return { heldOut: true };
  }
  const bucket = assignmentBucket({ seed: `${seed}#variant`, memberId });
  let upper = 0;
  for (const variant of variants) {
    upper += (variant.percent / 100) * buckets;
    if (bucket < upper) return { heldOut: false, variantId: variant.variantId };
  }
  const last = variants.at(-1);
  if (!last) throw new Error('A campaign has at least one variant.');
  return { heldOut: false, variantId: last.variantId };
}

export interface ShardPlan {
  readonly records: NewMessageRecord[];
  /** Members to send to, for the send queue. */
  readonly pending: string[];
  readonly suppressed: Readonly<Partial<Record<MessageSuppressionReason, number>>>;
}

/**
 * The records of one page of a run's audience: each member either pending (with a variant)
 * or suppressed with the reason recorded (opted out, no consent, invalid phone, holdout).
 * The sender asks again at claim time; this is what the run knows when it starts.
 */
export function planMessages({
  members,
  seed,
  category,
  holdoutPercent,
  variants,
  isOptedOut,
}: {
  members: readonly Member[];
  seed: string;
  category: MessageCategory;
  holdoutPercent: number;
  variants: readonly VariantSplit[];
  isOptedOut: (member: Member) => boolean;
}): ShardPlan {
  const records: NewMessageRecord[] = [];
  const pending: string[] = [];
  const suppressed: Partial<Record<MessageSuppressionReason, number>> = {};
  for (const member of members) {
    const reason = suppressionReason({ member, category, optedOut: isOptedOut(member) });
    const assignment = assignMember({ seed, memberId: member.memberId, holdoutPercent, variants });
    if (reason !== undefined || assignment.heldOut) {
      const why: MessageSuppressionReason = reason ?? 'holdout';
      suppressed[why] = (suppressed[why] ?? 0) + 1;
      records.push({
        memberId: member.memberId,
        state: 'suppressed',
        reason: why,
        // A held-out member keeps the variant they would have had, for lift per variant.
        ...(assignment.heldOut ? {} : { variantId: assignment.variantId }),
      });
      continue;
    }
    records.push({ memberId: member.memberId, state: 'pending', variantId: assignment.variantId });
    pending.push(member.memberId);
  }
  return { records, pending, suppressed };
}
