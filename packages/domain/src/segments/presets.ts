import * as z from 'zod';
import type { SegmentNode } from './definition';
import { segmentLimits } from './limits';

// The customer types the merchants in the seeds ask for (new, active, at risk, lapsed, high
// value: RFM-style recency and monetary value), as nodes with tunable thresholds. A preset
// expands to a plain definition before compiling, so it means exactly what its expansion
// says; the parsed node carries every threshold, so a saved segment keeps its meaning even
// if a default changes later.

const days = z.number().int().min(0).max(segmentLimits.maxDays);

export const presetNode = z.discriminatedUnion('preset', [
  /** Joined within the last `withinDays` days (default 30). */
  z.strictObject({
    preset: z.literal('newMembers'),
    params: z.strictObject({ withinDays: days.default(30) }).prefault({}),
  }),
  /** Bought within the last `withinDays` days (default 30). */
  z.strictObject({
    preset: z.literal('active'),
    params: z.strictObject({ withinDays: days.default(30) }).prefault({}),
  }),
  /** Last purchase more than `moreThanDays` (default 60) and at most `upToDays` (default 180) days ago. */
  z.strictObject({
    preset: z.literal('atRisk'),
    params: z
      .strictObject({ moreThanDays: days.default(60), upToDays: days.default(180) })
      .refine((params) => params.moreThanDays < params.upToDays, {
        message: 'upToDays must be greater than moreThanDays',
        path: ['upToDays'],
      })
      .prefault({}),
  }),
  /**
   * Last purchase more than `moreThanDays` days ago (default 180), or no purchase on record
   * and joined more than `moreThanDays` days ago. A member with neither date is not counted:
   * nothing says they lapsed.
   */
  z.strictObject({
    preset: z.literal('lapsed'),
    params: z.strictObject({ moreThanDays: days.default(180) }).prefault({}),
  }),
  /**
   * Total spend at least `minTotalSpend` (default 5000, in the tenant's currency) or at least
   * `minPurchaseCount` purchases (default 10). `null` leaves a criterion out.
   */
  z.strictObject({
    preset: z.literal('highValue'),
    params: z
      .strictObject({
        minTotalSpend: z.number().finite().min(0).nullable().default(5000),
        minPurchaseCount: z.number().int().min(0).nullable().default(10),
      })
      .refine((params) => params.minTotalSpend !== null || params.minPurchaseCount !== null, {
        message: 'Give minTotalSpend, minPurchaseCount or both.',
      })
      .prefault({}),
  }),
]);
export type PresetNode = z.infer<typeof presetNode>;
export type PresetName = PresetNode['preset'];
export const presetNames: readonly PresetName[] = presetNode.options.map(
  (option) => option.shape.preset.value,
);

/** The plain definition a preset stands for. */
export function expandPreset({ node }: { node: PresetNode }): SegmentNode {
  switch (node.preset) {
    case 'newMembers':
      return { joinedAt: { withinLastDays: node.params.withinDays } };
    case 'active':
      return { lastPurchaseAt: { withinLastDays: node.params.withinDays } };
    case 'atRisk':
      return { lastPurchaseAt: { daysAgoBetween: [node.params.moreThanDays + 1, node.params.upToDays] } };
    case 'lapsed':
      return {
        or: [
          { lastPurchaseAt: { moreThanDaysAgo: node.params.moreThanDays } },
          {
            and: [{ missing: 'lastPurchaseAt' }, { joinedAt: { moreThanDaysAgo: node.params.moreThanDays } }],
          },
        ],
      };
    case 'highValue': {
      const { minTotalSpend, minPurchaseCount } = node.params;
      const criteria: SegmentNode[] = [];
      if (minTotalSpend !== null) criteria.push({ totalSpend: { gte: minTotalSpend } });
      if (minPurchaseCount !== null) criteria.push({ purchaseCount: { gte: minPurchaseCount } });
      return criteria.length === 1 && criteria[0] ? criteria[0] : { or: criteria };
    }
  }
}

/** The definition with every preset replaced by its expansion (to show what a preset means). */
export function expandPresets({ definition }: { definition: SegmentNode }): SegmentNode {
  if ('preset' in definition) return expandPreset({ node: definition });
  if ('and' in definition)
    return { and: definition.and.map((child) => expandPresets({ definition: child })) };
  if ('or' in definition) return { or: definition.or.map((child) => expandPresets({ definition: child })) };
  if ('not' in definition) return { not: expandPresets({ definition: definition.not }) };
  return definition;
}
