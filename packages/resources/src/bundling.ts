// How every function is bundled: read by the CDK house construct and by `npm run bench --
// bundles`, so the sizes the benchmark reports are the sizes that are deployed.

export const lambdaRuntime = { name: 'nodejs24.x', architecture: 'arm64', esbuildTarget: 'node24' } as const;

export const bundling = {
  format: 'esm',
  minify: true,
  sourceMap: true,
  /**
   * Source maps without the sources embedded: stack traces map from names and positions alone,
   * and with `--enable-source-maps` (set on every function) Node reads and JSON-parses the whole
   * map when it loads the bundle. The api map shrinks from ~1.4 MB to ~0.4 MB, and that read
   * and parse from ~15 ms to ~4 ms of every cold start.
   */
  sourcesContent: false,
  target: lambdaRuntime.esbuildTarget,
  /** Prefer packages' ESM builds: they tree-shake far better than their CommonJS ones. */
  mainFields: ['module', 'main'],
  /**
   * Chinese text (templates, opt-out words, import headers) as UTF-8, not `\uXXXX` escapes:
   * a third of the bytes, so a smaller bundle to load and parse at a cold start.
   */
  charset: 'utf8',
  /**
   * Nothing external: the functions call DynamoDB, SQS and EventBridge Scheduler through
   * @qunfa/aws's own signed-fetch client (packages/aws/src/wire), not the AWS SDK v3 clients,
   * which cost ~100 ms of every cold start to import. The SDK's small util-dynamodb
   * (marshalling) is bundled like any dependency, so what runs is what was tested.
   */
  externalModules: [],
  /** CommonJS dependencies inside an ESM bundle still call require(). */
  banner:
    "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
} as const;

/** Every bundle stays below these (issue 2); `npm run bench -- bundles` measures them. */
export const bundleBudget = { maxBundleKb: 300, maxImportMs: 100 } as const;
