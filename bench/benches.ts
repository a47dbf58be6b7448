import { bundles } from './bundles.bench';
import { campaign } from './campaign.bench';
import { importBench } from './import.bench';
import { receipts } from './receipts.bench';
import { render } from './render.bench';
import { segments } from './segments.bench';
import type { BenchResult } from './support';

export const benches: Record<string, () => Promise<BenchResult>> = {
  bundles,
  campaign,
  import: importBench,
  receipts,
  render,
  segments,
};
