import { stackOutputs, tableIds } from '@qunfa/resources';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/lib/app';
import { synth, tableResource } from './support';

describe('StatefulStack', () => {
  describe('tables', () => {
    it('creates one on-demand table per model table and nothing else', () => {
      const { stateful } = synth('dev');

      const tables = stateful.findResources('AWS::DynamoDB::GlobalTable');

      expect(Object.keys(tables)).toHaveLength(tableIds.length);
      expect(Object.keys(stateful.toJSON().Resources)).toHaveLength(tableIds.length);
      stateful.allResourcesProperties('AWS::DynamoDB::GlobalTable', { BillingMode: 'PAY_PER_REQUEST' });
    });

    it('tags every table with its model id', () => {
      const dev = synth('dev');

      for (const tableId of tableIds) expect(tableResource(dev, tableId).logicalId).toMatch(/Table/);
    });

    it('gives no table a physical name', () => {
      const { stateful } = synth('dev');

      stateful.allResourcesProperties('AWS::DynamoDB::GlobalTable', { TableName: Match.absent() });
    });

    it('publishes every table name as an output for the admin CLI', () => {
      const dev = synth('dev');

      for (const tableId of tableIds) {
        dev.stateful.hasOutput(stackOutputs.tableName(tableId), {
          Value: { Ref: tableResource(dev, tableId).logicalId },
        });
      }
      expect(stackOutputs.tableName('members')).toBe('TableNameMembers');
    });
  });

  describe('in prod', () => {
    it('turns on point-in-time recovery and deletion protection on every table', () => {
      const { stateful } = synth('prod');

      stateful.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
        Replicas: [
          Match.objectLike({
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      });
    });

    it('retains every table when the stack is deleted or the table replaced', () => {
      const { stateful } = synth('prod');

      stateful.allResources('AWS::DynamoDB::GlobalTable', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });
  });

  describe('in dev', () => {
    it('turns off point-in-time recovery and deletion protection', () => {
      const { stateful } = synth('dev');

      stateful.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
        Replicas: [
          Match.objectLike({
            DeletionProtectionEnabled: false,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
          }),
        ],
      });
    });

    it('deletes the tables with the stack', () => {
      const { stateful } = synth('dev');

      stateful.allResources('AWS::DynamoDB::GlobalTable', {
        DeletionPolicy: 'Delete',
        UpdateReplacePolicy: 'Delete',
      });
    });
  });

  describe('stage names', () => {
    it('names the stacks after the stage', () => {
      const { qunfa } = synth('prod');

      expect(qunfa.stateful.stackName).toBe('qunfa-prod-stateful');
      expect(qunfa.stateless.stackName).toBe('qunfa-prod-stateless');
    });

    it('refuses a stage that cannot be part of a resource name', () => {
      expect(() => buildApp({ stage: 'Prod!' })).toThrow(/stage/);
    });
  });
});
