import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  bundleBudget,
  type FunctionId,
  functionIds,
  functions,
  publicUrlEnv,
  queueEnvName,
  scheduleEnv,
  tableEnvName,
  tableIds,
} from '@qunfa/resources';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { functionEnvironment, functionResource, type Synthesized, synth } from './support';

// The dev stage is synthesized with real esbuild bundles, so these tests also prove that every
// handler bundles; prod only differs in settings and skips bundling.
const bundled = (): Synthesized => synth('dev', { bundle: true });

const functionProperties = z.looseObject({
  Runtime: z.string(),
  Architectures: z.array(z.string()),
  Handler: z.string(),
  MemorySize: z.number(),
  Timeout: z.number(),
  Code: z.object({ S3Key: z.string() }),
  LoggingConfig: z.object({ LogGroup: z.object({ Ref: z.string() }) }),
});

function propertiesOf(synthesized: Synthesized, functionId: FunctionId): z.infer<typeof functionProperties> {
  return functionProperties.parse(functionResource(synthesized, functionId).resource.Properties);
}

/** What the model says a function's environment holds, values as `designate` renders them. */
function expectedEnvironment(synthesized: Synthesized, functionId: FunctionId): Record<string, string> {
  const definition = functions[functionId];
  const schedulerRole = Object.entries(synthesized.statelessJson.Resources).find(
    ([, resource]) =>
      resource.Type === 'AWS::IAM::Role' &&
      JSON.stringify(resource.Properties).includes('scheduler.amazonaws.com'),
  );
  return {
    NODE_OPTIONS: '--enable-source-maps',
    QUNFA_STAGE: synthesized.stage,
    LOG_LEVEL: 'INFO',
    ...Object.fromEntries(
      tableIds
        .filter((id) => definition.tables[id] !== undefined)
        .map((id) => [tableEnvName(id), `table:${id}`]),
    ),
    ...Object.fromEntries(definition.sendsTo.map((id) => [queueEnvName(id), `queue:${id}`])),
    ...(definition.schedules
      ? {
          [scheduleEnv.group]: `qunfa-${synthesized.stage}`,
          [scheduleEnv.roleArn]: `resource:${schedulerRole?.[0]}`,
          [scheduleEnv.targetArn]: 'queue:start',
        }
      : {}),
    // The sender's default short-link domain: the HTTP API's own URL.
    ...(functionId === 'sender'
      ? { [publicUrlEnv]: expect.stringMatching(/^https:\/\/resource:HttpApi\w+\.execute-api\./) }
      : {}),
  };
}

describe('QunfaFunction', () => {
  describe.each(functionIds)('the %s function', (functionId) => {
    it('runs on nodejs24.x on arm64 with the ESM bundle handler', () => {
      const properties = propertiesOf(bundled(), functionId);

      expect(properties.Runtime).toBe('nodejs24.x');
      expect(properties.Architectures).toEqual(['arm64']);
      expect(properties.Handler).toBe('index.handler');
    });

    it('has the memory and timeout of its model entry', () => {
      const properties = propertiesOf(bundled(), functionId);

      expect(properties.MemorySize).toBe(functions[functionId].memoryMb);
      expect(properties.Timeout).toBe(functions[functionId].timeoutSeconds);
    });

    it('receives exactly the variables of its model tables, queues and schedules', () => {
      const dev = bundled();

      expect(functionEnvironment(dev, functionId)).toEqual(expectedEnvironment(dev, functionId));
    });

    it('is bundled as one minified ESM file with the require shim, the SDK left to the runtime', () => {
      const dev = bundled();
      const assetHash = propertiesOf(dev, functionId).Code.S3Key.replace(/\.zip$/, '');
      const bundle = join(dev.assemblyDir, `asset.${assetHash}`, 'index.mjs');

      const code = readFileSync(bundle, 'utf8');

      expect(code.startsWith("import { createRequire as __createRequire } from 'node:module';")).toBe(true);
      expect(code).not.toMatch(/\/\/ node_modules\/@aws-sdk\//);
      // Minified: lines run to thousands of characters (readable code averages well under 80).
      expect(code.length / code.split('\n').length).toBeGreaterThan(500);
      expect(statSync(bundle).size / 1024).toBeLessThan(bundleBudget.maxBundleKb);
      expect(statSync(`${bundle}.map`).isFile()).toBe(true);
    });
  });

  describe('concrete settings', () => {
    it('gives the segmenter 1 GB and five minutes to resolve an audience shard', () => {
      const properties = propertiesOf(bundled(), 'segmenter');

      expect([properties.MemorySize, properties.Timeout]).toEqual([1024, 300]);
    });

    it('hands the callbacks function the tenants and metrics tables and the receipt queue only', () => {
      const environment = functionEnvironment(bundled(), 'callbacks');

      expect(Object.keys(environment).sort()).toEqual(
        [
          'LOG_LEVEL',
          'NODE_OPTIONS',
          'QUEUE_RECEIPT_URL',
          'QUNFA_STAGE',
          'TABLE_METRICS',
          'TABLE_TENANTS',
        ].sort(),
      );
      expect(environment.TABLE_TENANTS).toBe('table:tenants');
      expect(environment.TABLE_METRICS).toBe('table:metrics');
    });

    it('points the planner function at the stage schedule group and the start queue', () => {
      const environment = functionEnvironment(bundled(), 'planner');

      expect(environment.SCHEDULE_GROUP).toBe('qunfa-dev');
      expect(environment.SCHEDULE_TARGET_ARN).toBe('queue:start');
    });
  });

  describe('logs', () => {
    const retentionOf = (synthesized: Synthesized, functionId: FunctionId): unknown => {
      const logGroupId = propertiesOf(synthesized, functionId).LoggingConfig.LogGroup.Ref;
      return synthesized.statelessJson.Resources[logGroupId];
    };

    it.each(functionIds)(
      'keeps the %s logs two weeks in dev, and deletes them with the stack',
      (functionId) => {
        expect(retentionOf(bundled(), functionId)).toMatchObject({
          Type: 'AWS::Logs::LogGroup',
          Properties: { RetentionInDays: 14 },
          DeletionPolicy: 'Delete',
        });
      },
    );

    it.each(functionIds)('keeps the %s logs 90 days in prod, and retains them', (functionId) => {
      expect(retentionOf(synth('prod'), functionId)).toMatchObject({
        Type: 'AWS::Logs::LogGroup',
        Properties: { RetentionInDays: 90 },
        DeletionPolicy: 'Retain',
      });
    });

    it('gives every log group a retention, one group per function', () => {
      const { stateless } = bundled();

      stateless.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: Match.anyValue() });
      stateless.resourceCountIs('AWS::Logs::LogGroup', functionIds.length);
    });
  });
});
