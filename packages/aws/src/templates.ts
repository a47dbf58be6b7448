import { type SavedTemplate, savedTemplate, type TemplateDeps } from '@qunfa/domain';
import type { FunctionConfig } from './config';
import { DynamoRecordStore } from './dynamo/record-store';
import { memberDeps } from './members';
import type { DocumentClient } from './wire/dynamodb';

/** Saved templates: campaigns table, kind TEMPLATE, read back through `savedTemplate`. */
export function templateStore({
  client,
  tableName,
}: {
  client: DocumentClient;
  tableName: string;
}): DynamoRecordStore<SavedTemplate> {
  return new DynamoRecordStore({
    client,
    tableName,
    kind: 'TEMPLATE',
    schema: savedTemplate,
    label: 'Template',
  });
}

/** Template use-case dependencies on DynamoDB: templates, and for previews segments, members and opt-outs. */
export function templateDeps({
  client,
  config,
}: {
  client: DocumentClient;
  config: Pick<FunctionConfig, 'table'>;
}): TemplateDeps {
  return {
    ...memberDeps({ client, config }),
    templates: templateStore({ client, tableName: config.table('campaigns') }),
  };
}
