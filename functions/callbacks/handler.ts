import middy from '@middy/core';
import { createLogger, loadFunctionConfig } from '@qunfa/aws';
import { createRouter, httpErrors } from '@qunfa/http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

// Provider callbacks (/callbacks/{provider}/{account}/...) arrive with the receipts issue:
// each provider's route verifies its signature, enqueues and answers in the provider's format.
// Until then every path answers 404 in the standard error body.
const config = loadFunctionConfig('callbacks');
const logger = createLogger({ service: 'callbacks', level: config.logLevel });

const router = createRouter({
  routes: [],
  authenticate: async () => {
    throw new Error('callback routes authenticate by provider signature, not by API key');
  },
});

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpErrors({ logger }))
  .handler(router);
