import { bundles } from './bundles.bench';
import { render } from './render.bench';
import type { BenchResult } from './support';

export const benches: Record<string, () => Promise<BenchResult>> = {
  bundles,
  render,
};
