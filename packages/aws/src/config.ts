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

// Every function also needs its stage, always set by the CDK stack and the local stack: a
// default would let a function of one stage run silently as another.
const stageEnvName = 'QUNFA_STAGE';

const common = z.object({
  /** Lambda always sets it. */
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
    stageEnvName,
    ...declaredTables.map(tableEnvName),
    ...definition.sendsTo.map(queueEnvName),
    ...(definition.schedules ? Object.values(scheduleEnv) : []),
  ];
  const missing = required.filter((name) => !env[name]);
  const parsed = common.safeParse(env);
  // One error naming every problem, so a deployment is fixed in one round, not one per variable.
  const problems = [
    ...(missing.length > 0 ? [`is missing environment variables: ${missing.join(', ')}.`] : []),
    ...(parsed.success
      ? []
      : [
          `has invalid environment: ${parsed.error.issues
            .map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`)
            .join('; ')}.`,
        ]),
  ];
  if (!parsed.success || problems.length > 0) {
    throw new ConfigError(problems.map((problem) => `Function ${functionId} ${problem}`).join(' '));
  }
  const value = (name: string): string => env[name] ?? '';
  return {
    functionId,
    stage: value(stageEnvName),
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
