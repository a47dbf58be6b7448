import { randomBytes } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type MemberDeps, type SavedSegment, type SegmentDeps, segmentFields } from '@qunfa/domain';
import * as z from 'zod';
import type { FunctionConfig } from './config';
import { DynamoMemberStore } from './dynamo/member-store';
import { DynamoOptOutStore } from './dynamo/opt-out-store';
import { DynamoRecordStore } from './dynamo/record-store';

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
  client: DynamoDBDocumentClient;
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
