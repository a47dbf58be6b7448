import { createLogger, createQueueHandler, loadFunctionConfig } from '@qunfa/aws';
import { sendMessage } from '@qunfa/domain';

// Claiming and sending arrive with the campaigns issue; until then a batch is validated and acknowledged.
const config = loadFunctionConfig('sender');
const logger = createLogger({ service: 'sender', level: config.logLevel });

export const handler = createQueueHandler({
  schema: sendMessage,
  logger,
  process: async (message) => {
    logger.info('send message accepted', { tenantId: message.tenantId, type: message.type });
  },
});
