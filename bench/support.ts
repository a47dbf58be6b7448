export type Target = { readonly min: number } | { readonly max: number };

export interface BenchResult {
  readonly name: string;
  readonly figures: Record<string, number>;
  readonly targets: Record<string, Target>;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export const round1 = (value: number): number => Math.round(value * 10) / 10;
