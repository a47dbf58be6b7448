import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benches } from './benches';
import type { BenchResult } from './support';

// `npm run bench` runs every benchmark; `npm run bench -- NAME [NAME…]` runs some. Each prints
// its table and writes bench/results/NAME.json: { name, figures, targets }.

const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const unknown = requested.filter((name) => !(name in benches));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(', ')}. Known: ${Object.keys(benches).join(', ')}.`);
  process.exit(2);
}
const names = requested.length > 0 ? requested : Object.keys(benches);
const resultsDir = join(import.meta.dirname, 'results');
mkdirSync(resultsDir, { recursive: true });

let missed = 0;
for (const name of names) {
  const run = benches[name];
  if (!run) continue;
  console.log(`\n== ${name}`);
  const result: BenchResult = await run();
  writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  for (const [figure, target] of Object.entries(result.targets)) {
    const value = result.figures[figure];
    if (value === undefined) continue;
    const ok = 'max' in target ? value <= target.max : value >= target.min;
    if (!ok) missed++;
    const bound = 'max' in target ? `≤ ${target.max}` : `≥ ${target.min}`;
    console.log(`${ok ? 'meets' : 'MISSES'} ${figure} = ${value} (target ${bound})`);
  }
}
if (missed > 0) process.exitCode = 1;
