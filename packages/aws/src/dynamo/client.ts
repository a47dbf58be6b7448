import type { CredentialsSource } from '../wire/aws-http';
import { DocumentClient } from '../wire/dynamodb';

/**
 * One document client per cold start. The endpoint comes from AWS_ENDPOINT_URL_DYNAMODB when
 * the local stack sets it, so production code is unchanged.
 */
export function createDocumentClient(
  options: {
    endpoint?: string;
    region?: string;
    /** Only for tools: functions use the execution role's credentials from the environment. */
    credentials?: CredentialsSource;
  } = {},
): DocumentClient {
  return new DocumentClient({ ...options, maxAttempts: 3 });
}
