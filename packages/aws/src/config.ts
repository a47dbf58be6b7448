import {
  type FunctionId,
  functions,
  type QueueId,
  queueEnvName,
  scheduleEnv,
  type TableId,
  tableEnvName,
  tableIds,
} from '@qunfa/resources';
import * as z from 'zod';

// One config module: the environment is parsed once, at cold start, and a missing variable
// stops the function there with its name, never later with an undefined table name.

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const common = z.object({
  QUNFA_STAGE: z.string().min(1).default('dev'),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO'),
});

export interface FunctionConfig {
  readonly functionId: FunctionId;
  readonly stage: string;
  readonly region: string;
  readonly logLevel: z.infer<typeof common>['LOG_LEVEL'];
  /** Physical table name; throws for a table the function did not declare in the model. */
  table(id: TableId): string;
  /** Queue URL; throws for a queue the function did not declare in the model. */
  queueUrl(id: QueueId): string;
  readonly schedule?: { readonly groupName: string; readonly roleArn: string; readonly targetArn: string };
}

/** Reads exactly the variables the resource model says `functionId` receives. */
export function loadFunctionConfig(
  functionId: FunctionId,
  env: Record<string, string | undefined> = process.env,
): FunctionConfig {
  const definition = functions[functionId];
  const declaredTables = tableIds.filter((id) => definition.tables[id] !== undefined);
  const required = [
    ...declaredTables.map(tableEnvName),
    ...definition.sendsTo.map(queueEnvName),
    ...(definition.schedules ? Object.values(scheduleEnv) : []),
  ];
  const missing = required.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new ConfigError(`Function ${functionId} is missing environment variables: ${missing.join(', ')}.`);
  }
  const parsed = common.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`Function ${functionId} has invalid environment: ${z.prettifyError(parsed.error)}`);
  }
  const value = (name: string): string => env[name] ?? '';
  return {
    functionId,
    stage: parsed.data.QUNFA_STAGE,
    region: parsed.data.AWS_REGION,
    logLevel: parsed.data.LOG_LEVEL,
    table(id) {
      if (!(id in definition.tables))
        throw new ConfigError(`Function ${functionId} has no access to table ${id}.`);
      return value(tableEnvName(id));
    },
    queueUrl(id) {
      if (!definition.sendsTo.includes(id))
        throw new ConfigError(`Function ${functionId} does not send to queue ${id}.`);
      return value(queueEnvName(id));
    },
    ...(definition.schedules
      ? {
          schedule: {
            groupName: value(scheduleEnv.group),
            roleArn: value(scheduleEnv.roleArn),
            targetArn: value(scheduleEnv.targetArn),
          },
        }
      : {}),
  };
}
