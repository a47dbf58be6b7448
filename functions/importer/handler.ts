import { createLogger, createQueueHandler, loadFunctionConfig } from '@qunfa/aws';
import { importMessage } from '@qunfa/domain';

const config = loadFunctionConfig('importer');
const logger = createLogger({ service: 'importer', level: config.logLevel });

export const handler = createQueueHandler({
  schema: importMessage,
  logger,
  process: async (message) => {
    logger.info('import accepted', { tenantId: message.tenantId, importId: message.importId });
  },
});
