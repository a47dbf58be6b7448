import {
  type AttributeType,
  type FunctionId,
  functionIds,
  type QueueId,
  queueIds,
  type TableId,
  tableIds,
} from '@qunfa/resources';
import * as z from 'zod';
import { modelTag } from '../../infra/lib/model-tags';

// What the synthesized CDK templates create, in the resource model's own terms, read from the
// templates alone (resources are found by their `qunfa:*` tags, never by the model). The
// parity test compares it with what the local stack creates from the same model.

export interface KeyDescription {
  readonly name: string;
  readonly type: AttributeType;
}

export interface IndexDescription {
  readonly name: string;
  readonly partitionKey: KeyDescription;
  readonly sortKey?: KeyDescription;
  readonly projection: 'all' | 'keys';
}

export interface TableDescription {
  readonly partitionKey: KeyDescription;
  readonly sortKey?: KeyDescription;
  /** Sorted by name. */
  readonly indexes: readonly IndexDescription[];
  /** The TTL attribute, when TTL is enabled. */
  readonly ttl?: string;
}

export interface QueueDescription {
  readonly visibilityTimeoutSeconds: number;
  readonly retentionSeconds: number;
  readonly maxReceiveCount: number;
  readonly dlqRetentionSeconds: number;
  readonly consumer: {
    readonly functionId: FunctionId;
    readonly batchSize: number;
    readonly maxBatchingWindowSeconds: number;
    readonly maxConcurrency: number;
  };
}

export interface TemplateDescription {
  readonly tables: Readonly<Record<TableId, TableDescription>>;
  readonly queues: Readonly<Record<QueueId, QueueDescription>>;
}

export class TemplateShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateShapeError';
  }
}

// ---- The slices of CloudFormation this module reads ----

const tagList = z.array(z.object({ Key: z.string(), Value: z.string() }));

const resource = z.looseObject({
  Type: z.string(),
  Properties: z.record(z.string(), z.unknown()).optional(),
});
export type TemplateResource = z.infer<typeof resource>;

const templateJson = z.looseObject({
  Resources: z.record(z.string(), resource),
  Outputs: z.record(z.string(), z.looseObject({ Value: z.unknown() })).optional(),
});
export type TemplateJson = z.infer<typeof templateJson>;

const keyElement = z.object({ AttributeName: z.string(), KeyType: z.enum(['HASH', 'RANGE']) });

const tableProperties = z.looseObject({
  AttributeDefinitions: z.array(
    z.object({ AttributeName: z.string(), AttributeType: z.enum(['S', 'N', 'B']) }),
  ),
  KeySchema: z.array(keyElement),
  GlobalSecondaryIndexes: z
    .array(
      z.looseObject({
        IndexName: z.string(),
        KeySchema: z.array(keyElement),
        Projection: z.looseObject({ ProjectionType: z.enum(['ALL', 'KEYS_ONLY', 'INCLUDE']) }),
      }),
    )
    .optional(),
  TimeToLiveSpecification: z
    .looseObject({ AttributeName: z.string().optional(), Enabled: z.boolean() })
    .optional(),
  Tags: tagList.optional(),
  Replicas: z.array(z.looseObject({ Tags: tagList.optional() })).optional(),
});

const getAtt = z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.string()]) });
const ref = z.object({ Ref: z.string() });

const queueProperties = z.looseObject({
  VisibilityTimeout: z.number().default(30),
  MessageRetentionPeriod: z.number().default(345_600),
  RedrivePolicy: z.object({ deadLetterTargetArn: getAtt, maxReceiveCount: z.number() }).optional(),
  Tags: tagList.optional(),
});

const eventSourceMappingProperties = z.looseObject({
  EventSourceArn: getAtt,
  FunctionName: ref,
  BatchSize: z.number().default(10),
  MaximumBatchingWindowInSeconds: z.number().default(0),
  ScalingConfig: z.object({ MaximumConcurrency: z.number() }).optional(),
});

/** Parses a synthesized template (the `toJSON()` of an assertions Template, or the file). */
export function parseTemplate(json: unknown): TemplateJson {
  return templateJson.parse(json);
}

/**
 * The model id a resource is tagged with (`qunfa:table` …), or undefined. Global tables carry
 * their tags on each replica, every other resource on its Tags property.
 */
export function modelIdOf(resource: TemplateResource, tagKey: string): string | undefined {
  const properties = resource.Properties ?? {};
  const tags = tagList.safeParse(properties.Tags);
  const replicas = z.array(z.looseObject({ Tags: tagList.optional() })).safeParse(properties.Replicas);
  const all = [
    ...(tags.success ? tags.data : []),
    ...(replicas.success ? replicas.data.flatMap((replica) => replica.Tags ?? []) : []),
  ];
  return all.find((tag) => tag.Key === tagKey)?.Value;
}

/** `[logicalId, resource]` of every resource of `type` tagged `tagKey`, keyed by the tag's model id. */
export function taggedResources<Id extends string>({
  template,
  types,
  tagKey,
  ids,
}: {
  template: TemplateJson;
  types: readonly string[];
  tagKey: string;
  ids: readonly Id[];
}): Map<Id, { logicalId: string; resource: TemplateResource }> {
  const found = new Map<Id, { logicalId: string; resource: TemplateResource }>();
  for (const [logicalId, candidate] of Object.entries(template.Resources)) {
    if (!types.includes(candidate.Type)) continue;
    const value = modelIdOf(candidate, tagKey);
    if (value === undefined) continue;
    const id = ids.find((known) => known === value);
    if (id === undefined)
      throw new TemplateShapeError(`${logicalId} is tagged ${tagKey}=${value}, not a model id.`);
    if (found.has(id)) throw new TemplateShapeError(`Two resources are tagged ${tagKey}=${id}.`);
    found.set(id, { logicalId, resource: candidate });
  }
  return found;
}

const tableTypes = ['AWS::DynamoDB::GlobalTable', 'AWS::DynamoDB::Table'];

function describeTable(logicalId: string, table: TemplateResource): TableDescription {
  const properties = tableProperties.parse(table.Properties);
  const typeOf = (name: string): AttributeType => {
    const type = properties.AttributeDefinitions.find(
      (definition) => definition.AttributeName === name,
    )?.AttributeType;
    if (type !== 'S' && type !== 'N')
      throw new TemplateShapeError(`${logicalId}: key ${name} has type ${type}.`);
    return type;
  };
  const keys = (
    schema: z.infer<typeof keyElement>[],
  ): { partitionKey: KeyDescription; sortKey?: KeyDescription } => {
    const hash = schema.find((key) => key.KeyType === 'HASH');
    const range = schema.find((key) => key.KeyType === 'RANGE');
    if (!hash) throw new TemplateShapeError(`${logicalId}: a key schema has no HASH key.`);
    return {
      partitionKey: { name: hash.AttributeName, type: typeOf(hash.AttributeName) },
      ...(range ? { sortKey: { name: range.AttributeName, type: typeOf(range.AttributeName) } } : {}),
    };
  };
  const indexes = (properties.GlobalSecondaryIndexes ?? [])
    .map((index): IndexDescription => {
      const { ProjectionType } = index.Projection;
      if (ProjectionType === 'INCLUDE')
        throw new TemplateShapeError(`${logicalId}: INCLUDE projections are not modelled.`);
      return {
        name: index.IndexName,
        ...keys(index.KeySchema),
        projection: ProjectionType === 'ALL' ? 'all' : 'keys',
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  const ttl = properties.TimeToLiveSpecification;
  return {
    ...keys(properties.KeySchema),
    indexes,
    ...(ttl?.Enabled && ttl.AttributeName ? { ttl: ttl.AttributeName } : {}),
  };
}

function describeQueue({
  stateless,
  logicalId,
  queue,
  consumers,
}: {
  stateless: TemplateJson;
  logicalId: string;
  queue: TemplateResource;
  consumers: ReadonlyMap<string, QueueDescription['consumer']>;
}): QueueDescription {
  const properties = queueProperties.parse(queue.Properties ?? {});
  if (!properties.RedrivePolicy) throw new TemplateShapeError(`${logicalId} has no dead-letter queue.`);
  const [dlqId] = properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'];
  const dlq = stateless.Resources[dlqId];
  if (!dlq) throw new TemplateShapeError(`${logicalId}'s dead-letter queue ${dlqId} is not in the template.`);
  const consumer = consumers.get(logicalId);
  if (!consumer) throw new TemplateShapeError(`No event source mapping reads ${logicalId}.`);
  return {
    visibilityTimeoutSeconds: properties.VisibilityTimeout,
    retentionSeconds: properties.MessageRetentionPeriod,
    maxReceiveCount: properties.RedrivePolicy.maxReceiveCount,
    dlqRetentionSeconds: queueProperties.parse(dlq.Properties ?? {}).MessageRetentionPeriod,
    consumer,
  };
}

/** Event source mappings by the logical id of the queue they read. */
function consumersByQueue(stateless: TemplateJson): Map<string, QueueDescription['consumer']> {
  const functionsByLogicalId = new Map(
    [
      ...taggedResources({
        template: stateless,
        types: ['AWS::Lambda::Function'],
        tagKey: modelTag.function,
        ids: functionIds,
      }),
    ].map(([functionId, { logicalId }]) => [logicalId, functionId]),
  );
  const consumers = new Map<string, QueueDescription['consumer']>();
  for (const [logicalId, mapping] of Object.entries(stateless.Resources)) {
    if (mapping.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    const properties = eventSourceMappingProperties.parse(mapping.Properties);
    const functionId = functionsByLogicalId.get(properties.FunctionName.Ref);
    if (!functionId) throw new TemplateShapeError(`${logicalId} invokes an untagged function.`);
    const [queueId] = properties.EventSourceArn['Fn::GetAtt'];
    if (consumers.has(queueId)) throw new TemplateShapeError(`Two event source mappings read ${queueId}.`);
    if (!properties.ScalingConfig) throw new TemplateShapeError(`${logicalId} has no maximum concurrency.`);
    consumers.set(queueId, {
      functionId,
      batchSize: properties.BatchSize,
      maxBatchingWindowSeconds: properties.MaximumBatchingWindowInSeconds,
      maxConcurrency: properties.ScalingConfig.MaximumConcurrency,
    });
  }
  return consumers;
}

function complete<Id extends string, V>(kind: string, ids: readonly Id[], found: Map<Id, V>): Record<Id, V> {
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) throw new TemplateShapeError(`No ${kind} is tagged for: ${missing.join(', ')}.`);
  // Every id of the closed list is present (checked just above).
  return Object.fromEntries(found) as Record<Id, V>;
}

/**
 * The tables and queues the two stacks create, normalized to the resource model's shapes.
 * Throws a TemplateShapeError when a model id has no tagged resource or a resource is malformed.
 */
export function describeTemplate(statefulJson: unknown, statelessJson: unknown): TemplateDescription {
  const stateful = parseTemplate(statefulJson);
  const stateless = parseTemplate(statelessJson);

  const tableResources = taggedResources({
    template: stateful,
    types: tableTypes,
    tagKey: modelTag.table,
    ids: tableIds,
  });
  const tables = new Map(
    [...tableResources].map(([id, { logicalId, resource: table }]) => [id, describeTable(logicalId, table)]),
  );

  const consumers = consumersByQueue(stateless);
  const queueResources = taggedResources({
    template: stateless,
    types: ['AWS::SQS::Queue'],
    tagKey: modelTag.queue,
    ids: queueIds,
  });
  const queues = new Map(
    [...queueResources].map(([id, { logicalId, resource: queue }]) => [
      id,
      describeQueue({ stateless, logicalId, queue, consumers }),
    ]),
  );

  return { tables: complete('table', tableIds, tables), queues: complete('queue', queueIds, queues) };
}
