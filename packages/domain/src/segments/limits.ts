/** Bounds that keep a definition cheap to validate, compile and evaluate a million times. */
export const segmentLimits = {
  /** Levels of `and` / `or` / `not` above a condition. */
  maxDepth: 8,
  /** Nodes in the whole tree, combinators and conditions alike. */
  maxNodes: 200,
  /** Children of one `and` / `or`. */
  maxChildren: 50,
  /** Values in one `in` / `notIn` list. */
  maxValues: 500,
  /** Days in any relative date condition (about a hundred years). */
  maxDays: 36_500,
} as const;
