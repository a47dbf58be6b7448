import {
  createDocumentClient,
  createLogger,
  createQueueHandler,
  DynamoTenantStore,
  importerDeps,
  loadFunctionConfig,
} from '@qunfa/aws';
import { memberJobMessage, runImport, runTagJob } from '@qunfa/domain';

// Member jobs, one per invocation (batch size 1): an uploaded file streamed from its stored
// parts, or a segment's members tagged.
const config = loadFunctionConfig('importer');
const client = createDocumentClient();
const logger = createLogger({ service: 'importer', level: config.logLevel });
const deps = importerDeps({
  client,
  config,
  tenants: new DynamoTenantStore({ client, tableName: config.table('tenants') }),
});

export const handler = createQueueHandler({
  schema: memberJobMessage,
  logger,
  process: async (message) => {
    const outcome =
      message.type === 'members.import' ? await runImport(deps, message) : await runTagJob(deps, message);
    logger.info('member job processed', { ...message, outcome });
  },
});
