import * as z from 'zod';
import { segmentDefinition } from './definition';

// A segment a merchant saves to reuse in campaigns and previews. The definition is stored as
// parsed, presets with every threshold written out, so it keeps its meaning.

/** What a merchant writes (POST / PUT body). */
export const segmentFields = z.strictObject({
  name: z.string().trim().min(1).max(100),
  description: z.string().trim().max(500).exactOptional(),
  definition: segmentDefinition,
});
export type SegmentFields = z.infer<typeof segmentFields>;

/** PATCH: every field optional; `null` removes the description. */
export const segmentPatch = z.strictObject({
  name: z.string().trim().min(1).max(100).exactOptional(),
  description: z.string().trim().max(500).nullable().exactOptional(),
  definition: segmentDefinition.exactOptional(),
});
export type SegmentPatch = z.infer<typeof segmentPatch>;

export const segmentId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, '1–64 letters, digits, _ or -, starting with a letter or digit');

export interface SavedSegment extends SegmentFields {
  readonly segmentId: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}
