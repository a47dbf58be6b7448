import { randomBytes } from 'node:crypto';
import {
  type ImportDeps,
  type ImporterDeps,
  importJob,
  type MemberDeps,
  memberJobMessage,
  type SavedSegment,
  type SegmentDeps,
  segmentFields,
  type TagJobDeps,
  type TagJobRunnerDeps,
  type TenantStore,
  tagJob,
} from '@qunfa/domain';
import * as z from 'zod';
import type { FunctionConfig } from './config';
import { DynamoImportPartStore } from './dynamo/import-part-store';
import { DynamoMemberStore } from './dynamo/member-store';
import { DynamoOptOutStore } from './dynamo/opt-out-store';
import { DynamoRecordStore } from './dynamo/record-store';
import { createSqsClient, queueSender } from './sqs/send';
import type { DocumentClient } from './wire/dynamodb';

const savedSegment: z.ZodType<SavedSegment> = segmentFields.extend({
  segmentId: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** Member and segment use-case dependencies on DynamoDB, with the real clock. */
export function memberDeps({
  client,
  config,
}: {
  client: DocumentClient;
  config: Pick<FunctionConfig, 'table'>;
}): MemberDeps & SegmentDeps {
  return {
    members: new DynamoMemberStore({ client, tableName: config.table('members') }),
    optOuts: new DynamoOptOutStore({ client, tableName: config.table('suppressions') }),
    segments: new DynamoRecordStore({
      client,
      tableName: config.table('campaigns'),
      kind: 'SEGMENT',
      schema: savedSegment,
      label: 'Segment',
    }),
    random: (size) => randomBytes(size),
    now: () => new Date(),
  };
}

function importStores({ client, config }: { client: DocumentClient; config: Pick<FunctionConfig, 'table'> }) {
  return {
    tagJobs: new DynamoRecordStore({
      client,
      tableName: config.table('campaigns'),
      kind: 'TAGJOB',
      schema: tagJob,
      label: 'Tag job',
    }),
    imports: new DynamoRecordStore({
      client,
      tableName: config.table('campaigns'),
      kind: 'IMPORT',
      schema: importJob,
      label: 'Import',
    }),
    parts: new DynamoImportPartStore({ client, tableName: config.table('campaigns') }),
  };
}

/** The API's side of imports: records, uploaded parts and the import queue. */
export function importDeps({
  client,
  config,
}: {
  client: DocumentClient;
  config: Pick<FunctionConfig, 'table' | 'queueUrl'>;
}): ImportDeps & TagJobDeps {
  const send = queueSender({
    client: createSqsClient(),
    queueUrl: config.queueUrl('import'),
    schema: memberJobMessage,
  });
  return {
    ...importStores({ client, config }),
    enqueue: ({ tenantId, importId }) => send({ type: 'members.import', tenantId, importId }),
    enqueueTagJob: ({ tenantId, jobId }) => send({ type: 'members.tag', tenantId, jobId }),
    random: (size) => randomBytes(size),
    now: () => new Date(),
  };
}

/** The importer function's dependencies. */
export function importerDeps({
  client,
  config,
  tenants,
}: {
  client: DocumentClient;
  config: Pick<FunctionConfig, 'table'>;
  tenants: Pick<TenantStore, 'getTenant'>;
}): ImporterDeps & TagJobRunnerDeps {
  return {
    ...importStores({ client, config }),
    members: new DynamoMemberStore({ client, tableName: config.table('members') }),
    tenants,
    now: () => new Date(),
  };
}
