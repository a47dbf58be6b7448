import { e164, type Member } from '../members/member';

// Why a member must not receive a message of a category. The segmenter records it as the
// member's terminal state, the sender asks again when it claims the send, and the audience
// preview counts it. One reason per member, so the counts add up to the audience.

export const messageCategories = ['marketing', 'notification'] as const;
/**
 * `marketing`: promotions, offers, birthday coupons, new products: needs consent and honours
 * opt-outs. `notification`: transactional and service notices the member expects (an order
 * shipped, an appointment, a points expiry the member is owed notice of).
 */
export type MessageCategory = (typeof messageCategories)[number];

/** In precedence order: the first that applies is the one reported. */
export const suppressionReasons = ['opted_out', 'no_consent', 'invalid_phone'] as const;
export type SuppressionReason = (typeof suppressionReasons)[number];

/**
 * The reason a member is suppressed for `category`, or `undefined` when they may be sent to.
 *
 * - Marketing: opted out, then no consent (anything but `granted`), then invalid phone. The
 *   reasons the merchant cannot fix come first: an opt-out is the member's own word and stays
 *   even after erasure; consent must be asked for; a number can be corrected. So the count of
 *   opted-out members is the full count, whatever else is wrong with their records.
 * - Notification: only an invalid phone suppresses. An opt-out (退订 / TD / STOP) withdraws
 *   from marketing, not from the service messages of a relationship the member keeps, and
 *   consent to marketing is not asked for them.
 *
 * An invalid phone is one the receipts marked invalid, or one not in E.164 form (a record
 * that skipped normalization cannot be sent to safely).
 */
export function suppressionReason({
  member,
  category,
  optedOut,
}: {
  member: Pick<Member, 'phone' | 'phoneStatus' | 'consent'>;
  category: MessageCategory;
  optedOut: boolean;
}): SuppressionReason | undefined {
  const invalidPhone = member.phoneStatus === 'invalid' || !e164.safeParse(member.phone).success;
  if (category === 'notification') return invalidPhone ? 'invalid_phone' : undefined;
  if (optedOut) return 'opted_out';
  if (member.consent.status !== 'granted') return 'no_consent';
  return invalidPhone ? 'invalid_phone' : undefined;
}
