import { simulatorEnvNames } from '@qunfa/providers';
import {
  type QueueId,
  queueEnvName,
  queueIds,
  scheduleEnv,
  scheduleGroup,
  type TableId,
  tableEnvName,
  tableIds,
} from '@qunfa/resources';
import type { LogLevel } from './log';
import { localAccountId } from './names';
import type { LocalQueueAddress } from './sqs';

/**
 * The variables a function finds on Lambda (resources: tableEnvName, queueEnvName,
 * scheduleEnv), with SDK endpoints pointed at the local components, and the SMS simulator's:
 * PROVIDER_SIMULATOR_URL (its base URL, for the simulator adapter) and, when given,
 * PROVIDER_SIMULATOR_CALLBACK_SECRET (what its callbacks are signed with, per account:
 * see simulatorAccountSecret in @qunfa/providers).
 */
export function functionEnvironment({
  region,
  stage,
  logLevel,
  dynamodbEndpoint,
  sqsEndpoint,
  schedulerUrl,
  simulatorUrl,
  simulatorCallbackSecret,
  tables,
  queues,
}: {
  region: string;
  stage: string;
  logLevel: LogLevel;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  schedulerUrl: string;
  simulatorUrl: string;
  simulatorCallbackSecret?: string;
  tables: Readonly<Record<TableId, string>>;
  queues: Readonly<Record<QueueId, Pick<LocalQueueAddress, 'url' | 'arn'>>>;
}): Record<string, string> {
  return {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    // Any AWS service without a local endpoint gets a closed loopback port, never AWS itself.
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    AWS_ENDPOINT_URL_SCHEDULER: schedulerUrl,
    ...Object.fromEntries(tableIds.map((id) => [tableEnvName(id), tables[id]])),
    ...Object.fromEntries(queueIds.map((id) => [queueEnvName(id), queues[id].url])),
    [scheduleEnv.group]: scheduleGroup.name,
    [scheduleEnv.roleArn]: `arn:aws:iam::${localAccountId}:role/qunfa-${stage}-scheduler`,
    [scheduleEnv.targetArn]: queues[scheduleGroup.targetQueue].arn,
    [simulatorEnvNames.url]: simulatorUrl,
    ...(simulatorCallbackSecret === undefined
      ? {}
      : { [simulatorEnvNames.callbackSecret]: simulatorCallbackSecret }),
    QUNFA_STAGE: stage,
    LOG_LEVEL: logLevel,
  };
}

/** Sets the handlers' environment; a developer's real AWS session is kept out of play. */
export function applyEnvironment(env: Readonly<Record<string, string>>): void {
  for (const name of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_SECURITY_TOKEN']) delete process.env[name];
  Object.assign(process.env, env);
}
