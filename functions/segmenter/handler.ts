import {
  campaignDeps,
  createDocumentClient,
  createLogger,
  createQueueHandler,
  createSqsClient,
  DynamoMessageStore,
  DynamoTenantStore,
  loadFunctionConfig,
  memberDeps,
  queueBatchSender,
  queueSender,
} from '@qunfa/aws';
import { segmentCampaignRun, sendMessage, startMessage } from '@qunfa/domain';
import { functions, scheduleGroup } from '@qunfa/resources';

// Start queue → a campaign run's audience recorded and enqueued (packages/domain/src/messages).
// One start per invocation; a run that needs longer puts its start message back and goes on.
const config = loadFunctionConfig('segmenter');
const client = createDocumentClient();
const sqs = createSqsClient();
const logger = createLogger({ service: 'segmenter', level: config.logLevel });
const members = memberDeps({ client, config });
const campaign = campaignDeps({ client, config });
const requeueStart = queueSender({ client: sqs, queueUrl: config.queueUrl('start'), schema: startMessage });
// Stop starting new shards with this much of the function's time left.
const marginMs = 60_000;

export const handler = createQueueHandler({
  schema: startMessage,
  logger,
  process: async (message) => {
    const deadline = new Date(Date.now() + functions.segmenter.timeoutSeconds * 1_000 - marginMs);
    const result = await segmentCampaignRun(
      {
        members: members.members,
        optOuts: members.optOuts,
        messages: new DynamoMessageStore({ client, tableName: config.table('messages') }),
        counters: campaign.runCounters,
        enqueueSends: queueBatchSender({
          client: sqs,
          queueUrl: config.queueUrl('send'),
          schema: sendMessage,
        }),
        campaign,
        tenants: new DynamoTenantStore({ client, tableName: config.table('tenants') }),
        now: () => new Date(),
      },
      { message, toleranceSeconds: scheduleGroup.missedStartToleranceSeconds, deadline },
    );
    if (result.outcome === 'continue') await requeueStart(message);
    logger.info('start processed', { tenantId: message.tenantId, campaignId: message.campaignId, ...result });
  },
});
