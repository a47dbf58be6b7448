import { bundles } from './bundles.bench';
import type { BenchResult } from './support';

export const benches: Record<string, () => Promise<BenchResult>> = {
  bundles,
};
