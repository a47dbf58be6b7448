import { basename, join, resolve } from 'node:path';
import {
  type Access,
  bundling,
  type FunctionDefinition,
  lambdaRuntime,
  type QueueId,
  queueEnvName,
  type TableId,
  tableEnvName,
} from '@qunfa/resources';
import { Duration, type RemovalPolicy, Tags } from 'aws-cdk-lib';
import { Architecture, Runtime, type Tracing } from 'aws-cdk-lib/aws-lambda';
import {
  Charset,
  type ICommandHooks,
  LogLevel,
  NodejsFunction,
  OutputFormat,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { modelTag } from '../model-tags';
import type { SharedTable } from '../stateful-stack';

// The one way qunfa builds a Lambda function: every default that matters (runtime, arm64,
// ESM bundle, source maps, log retention) is fixed here, and the per-function facts (entry,
// memory, timeout) come from the resource model.

/** The repository root: model entries (`functions/<id>/handler.ts`) are relative to it. */
export const repoRoot = resolve(import.meta.dirname, '../../..');

const runtime = Runtime.NODEJS_24_X;
const architecture = Architecture.ARM_64;

export interface QunfaFunctionProps {
  readonly definition: FunctionDefinition;
  readonly stage: string;
  readonly logRetention: RetentionDays;
  /** Of the log group: logs outlive a deleted stack only where data does (prod). */
  readonly logRemovalPolicy: RemovalPolicy;
  readonly tracing?: Tracing;
}

export class QunfaFunction extends NodejsFunction {
  readonly definition: FunctionDefinition;

  constructor(scope: Construct, id: string, props: QunfaFunctionProps) {
    assertRuntimeMatchesModel();
    const { definition } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    super(scope, id, {
      description: definition.purpose,
      entry: resolve(repoRoot, definition.entry),
      handler: 'handler',
      runtime,
      architecture,
      memorySize: definition.memoryMb,
      timeout: Duration.seconds(definition.timeoutSeconds),
      logGroup,
      ...(props.tracing === undefined ? {} : { tracing: props.tracing }),
      projectRoot: repoRoot,
      depsLockFilePath: resolve(repoRoot, 'package-lock.json'),
      bundling: {
        format: bundling.format === 'esm' ? OutputFormat.ESM : OutputFormat.CJS,
        minify: bundling.minify,
        charset: Charset.UTF8,
        sourceMap: bundling.sourceMap,
        sourcesContent: bundling.sourcesContent,
        target: bundling.target,
        mainFields: [...bundling.mainFields],
        banner: bundling.banner,
        externalModules: [...bundling.externalModules],
        // Bundle with the esbuild in node_modules: synth stays offline and needs no Docker.
        forceDockerBundling: false,
        logLevel: LogLevel.WARNING,
        ...(definition.assets?.length ? { commandHooks: copyAssets(definition.assets) } : {}),
      },
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        QUNFA_STAGE: props.stage,
        LOG_LEVEL: 'INFO',
      },
    });
    this.definition = definition;
    Tags.of(this).add(modelTag.function, definition.id);
  }
}

/** Copies the function's assets (repository paths) beside its bundle, each under its base name. */
function copyAssets(assets: readonly string[]): ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir, outputDir) =>
      assets.map((asset) => `cp "${join(inputDir, asset)}" "${join(outputDir, basename(asset))}"`),
  };
}

/** The runtime and architecture are facts of the model (`lambdaRuntime`); CDK's constants must agree. */
function assertRuntimeMatchesModel(): void {
  if (runtime.name !== lambdaRuntime.name || architecture.name !== lambdaRuntime.architecture) {
    throw new Error(
      `QunfaFunction uses ${runtime.name}/${architecture.name} but the resource model says ` +
        `${lambdaRuntime.name}/${lambdaRuntime.architecture}.`,
    );
  }
}

/** Grants exactly `access` to a table (and its indexes) and hands the function its name. */
export function bindTable({
  fn,
  tableId,
  table,
  access,
}: {
  fn: QunfaFunction;
  tableId: TableId;
  table: SharedTable;
  access: Access;
}): void {
  switch (access) {
    case 'read':
      table.grantReadData(fn);
      break;
    case 'write':
      table.grantWriteData(fn);
      break;
    case 'readWrite':
      table.grantReadWriteData(fn);
      break;
  }
  fn.addEnvironment(tableEnvName(tableId), table.tableName);
}

/** Lets the function send to a queue and hands it the queue's URL. */
export function bindQueueSender({
  fn,
  queueId,
  queue,
}: {
  fn: QunfaFunction;
  queueId: QueueId;
  queue: IQueue;
}): void {
  queue.grantSendMessages(fn);
  fn.addEnvironment(queueEnvName(queueId), queue.queueUrl);
}
