import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

// Placeholder until the queue conventions land (same session).
export const handler = async (_event: SQSEvent): Promise<SQSBatchResponse> => ({ batchItemFailures: [] });
