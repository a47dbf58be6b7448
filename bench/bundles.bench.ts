import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  bundleBudget,
  bundling,
  functions,
  queueEnvName,
  queueIds,
  scheduleEnv,
  tableEnvName,
  tableIds,
} from '@qunfa/resources';
import { build } from 'esbuild';
import { type BenchResult, median, round1 } from './support';

// For each function: the minified size from the esbuild metafile, bundled exactly as the
// CDK house construct bundles it, and the time to import it in a fresh Node process (its
// cold-start share that we control), median of several runs.

const root = join(import.meta.dirname, '..');
// Inside node_modules so that the external @aws-sdk/* resolve as the Lambda runtime's would.
const outDir = join(root, 'node_modules', '.cache', 'qunfa-bench');
const runs = 7;

const dummyEnv: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  LOG_LEVEL: 'WARN',
  QUNFA_STAGE: 'bench',
  ...Object.fromEntries(tableIds.map((id) => [tableEnvName(id), `bench-${id}`])),
  ...Object.fromEntries(queueIds.map((id) => [queueEnvName(id), `http://127.0.0.1:9/queue/${id}`])),
  [scheduleEnv.group]: 'bench',
  [scheduleEnv.roleArn]: 'arn:aws:iam::000000000000:role/bench',
  [scheduleEnv.targetArn]: 'arn:aws:sqs:us-east-1:000000000000:bench',
};

export async function bundles(): Promise<BenchResult> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const figures: Record<string, number> = {};
  const rows: { function: string; kb: number; importMs: number }[] = [];
  for (const fn of Object.values(functions)) {
    const outfile = join(outDir, fn.id, 'index.mjs');
    const result = await build({
      entryPoints: [join(root, fn.entry)],
      outfile,
      bundle: true,
      platform: 'node',
      format: bundling.format,
      minify: bundling.minify,
      charset: bundling.charset,
      sourcemap: bundling.sourceMap,
      sourcesContent: bundling.sourcesContent,
      target: bundling.target,
      mainFields: [...bundling.mainFields],
      external: [...bundling.externalModules],
      banner: { js: bundling.banner },
      metafile: true,
      logLevel: 'error',
    });
    const output = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('.mjs'));
    const kb = round1((output?.[1].bytes ?? 0) / 1024);
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const script = `const t=performance.now();await import(${JSON.stringify(outfile)});process.stdout.write(String(performance.now()-t));`;
      const ms = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { PATH: process.env.PATH ?? '', ...dummyEnv },
        encoding: 'utf8',
      });
      samples.push(Number(ms));
    }
    const importMs = round1(median(samples));
    rows.push({ function: fn.id, kb, importMs });
    figures[`${fn.id}Kb`] = kb;
    figures[`${fn.id}ImportMs`] = importMs;
  }
  console.table(rows);
  figures.maxBundleKb = Math.max(...rows.map((r) => r.kb));
  figures.maxImportMs = Math.max(...rows.map((r) => r.importMs));
  return {
    name: 'bundles',
    figures,
    targets: {
      maxBundleKb: { max: bundleBudget.maxBundleKb },
      maxImportMs: { max: bundleBudget.maxImportMs },
    },
  };
}
