import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * One document client per cold start. The endpoint comes from the SDK's own
 * AWS_ENDPOINT_URL_DYNAMODB when the local stack sets it, so production code is unchanged.
 */
export function createDocumentClient(
  options: {
    endpoint?: string;
    region?: string;
    /** Only for tools that talk to DynamoDB Local; functions use the execution role. */
    credentials?: { accessKeyId: string; secretAccessKey: string };
  } = {},
): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: 3,
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
