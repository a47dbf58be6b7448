import { createLogger, createQueueHandler, loadFunctionConfig } from '@qunfa/aws';
import { startMessage } from '@qunfa/domain';

// Resolving the audience arrives with the campaigns issue; until then a start is validated and acknowledged.
const config = loadFunctionConfig('segmenter');
const logger = createLogger({ service: 'segmenter', level: config.logLevel });

export const handler = createQueueHandler({
  schema: startMessage,
  logger,
  process: async (message) => {
    logger.info('start message accepted', { tenantId: message.tenantId, type: message.type });
  },
});
