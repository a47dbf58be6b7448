import { type QueueId, queueIds, queues, type TableId, tableIds, tables } from '@qunfa/resources';
import { describe, expect, it } from 'vitest';
import {
  describeTemplate,
  type QueueDescription,
  type TableDescription,
  TemplateShapeError,
} from '../support/cdk-model';
import { synth } from './support';

// describeTemplate reads the synthesized templates only; here it must give back the resource
// model itself. (The local-stack parity test compares the same description with DynamoDB
// Local and the SQS emulator.)

function modelTable(id: TableId): TableDescription {
  const table = tables[id];
  return {
    partitionKey: table.partitionKey,
    ...(table.sortKey ? { sortKey: table.sortKey } : {}),
    indexes: [...table.globalIndexes]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((index) => ({
        name: index.name,
        partitionKey: index.partitionKey,
        ...(index.sortKey ? { sortKey: index.sortKey } : {}),
        projection: index.projection,
      })),
    ...(table.timeToLiveAttribute ? { ttl: table.timeToLiveAttribute } : {}),
  };
}

function modelQueue(id: QueueId): QueueDescription {
  const queue = queues[id];
  return {
    visibilityTimeoutSeconds: queue.visibilityTimeoutSeconds,
    retentionSeconds: queue.retentionSeconds,
    maxReceiveCount: queue.deadLetter.maxReceiveCount,
    dlqRetentionSeconds: queue.deadLetter.retentionSeconds,
    consumer: { ...queue.consumer },
  };
}

describe('describeTemplate', () => {
  describe.each(['dev', 'prod'] as const)('on the %s templates', (stage) => {
    it.each(tableIds)('describes the %s table as the model defines it', (tableId) => {
      const { statefulJson, statelessJson } = synth(stage);

      expect(describeTemplate(statefulJson, statelessJson).tables[tableId]).toEqual(modelTable(tableId));
    });

    it.each(queueIds)('describes the %s queue as the model defines it', (queueId) => {
      const { statefulJson, statelessJson } = synth(stage);

      expect(describeTemplate(statefulJson, statelessJson).queues[queueId]).toEqual(modelQueue(queueId));
    });
  });

  it('reads the messages table concretely: keys-only gsi1 and expiresAt TTL', () => {
    const { statefulJson, statelessJson } = synth('dev');

    expect(describeTemplate(statefulJson, statelessJson).tables.messages).toEqual({
      partitionKey: { name: 'pk', type: 'S' },
      sortKey: { name: 'sk', type: 'S' },
      indexes: [
        {
          name: 'gsi1',
          partitionKey: { name: 'gsi1pk', type: 'S' },
          sortKey: { name: 'gsi1sk', type: 'S' },
          projection: 'keys',
        },
      ],
      ttl: 'expiresAt',
    });
  });

  it('reads the send queue concretely', () => {
    const { statefulJson, statelessJson } = synth('dev');

    expect(describeTemplate(statefulJson, statelessJson).queues.send).toEqual({
      visibilityTimeoutSeconds: 360,
      retentionSeconds: 345_600,
      maxReceiveCount: 8,
      dlqRetentionSeconds: 1_209_600,
      consumer: { functionId: 'sender', batchSize: 5, maxBatchingWindowSeconds: 0, maxConcurrency: 50 },
    });
  });

  it('fails when a model table has no tagged resource', () => {
    const { statefulJson, statelessJson } = synth('dev');
    const untagged = structuredClone(statefulJson);
    for (const resource of Object.values(untagged.Resources)) {
      const replicas = resource.Properties?.Replicas;
      if (Array.isArray(replicas) && JSON.stringify(replicas).includes('"members"'))
        delete resource.Properties?.Replicas;
    }

    expect(() => describeTemplate(untagged, statelessJson)).toThrow(TemplateShapeError);
  });

  it('fails when a queue has no dead-letter queue', () => {
    const { statefulJson, statelessJson } = synth('dev');
    const withoutRedrive = structuredClone(statelessJson);
    for (const resource of Object.values(withoutRedrive.Resources)) {
      if (resource.Type === 'AWS::SQS::Queue') delete resource.Properties?.RedrivePolicy;
    }

    expect(() => describeTemplate(statefulJson, withoutRedrive)).toThrow(/dead-letter/);
  });
});
