import { ConfigError, loadFunctionConfig } from '@qunfa/aws';
import {
  type FunctionId,
  functionIds,
  functions,
  queueEnvName,
  queueIds,
  scheduleEnv,
  type TableId,
  tableEnvName,
  tableIds,
} from '@qunfa/resources';
import { afterEach, describe, expect, it, vi } from 'vitest';

// The environment every function receives is derived from the resource model, the same
// source the CDK stack and the local stack read.

afterEach(() => {
  vi.unstubAllEnvs();
});

function declaredTables(functionId: FunctionId): TableId[] {
  return tableIds.filter((id) => functions[functionId].tables[id] !== undefined);
}

/** The variables `functionId` needs, each with a recognisable value. */
function requiredEnv(functionId: FunctionId): Record<string, string> {
  const definition = functions[functionId];
  return {
    QUNFA_STAGE: 'dev',
    ...Object.fromEntries(declaredTables(functionId).map((id) => [tableEnvName(id), `qunfa-dev-${id}`])),
    ...Object.fromEntries(
      definition.sendsTo.map((id) => [
        queueEnvName(id),
        `https://sqs.us-east-1.amazonaws.com/123456789012/qunfa-dev-${id}`,
      ]),
    ),
    ...(definition.schedules
      ? {
          [scheduleEnv.group]: 'qunfa',
          [scheduleEnv.roleArn]: 'arn:aws:iam::123456789012:role/qunfa-scheduler',
          [scheduleEnv.targetArn]: 'arn:aws:sqs:us-east-1:123456789012:qunfa-dev-start',
        }
      : {}),
  };
}

function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadFunctionConfig', () => {
  describe.each(functionIds)('for the %s function', (functionId) => {
    it('names every missing variable in one error', () => {
      const expected = Object.keys(requiredEnv(functionId));

      const error = configError(() => loadFunctionConfig(functionId, {}));

      expect(error.message).toContain(functionId);
      for (const name of expected) expect(error.message).toContain(name);
    });

    it('returns the table name of every declared table', () => {
      const env = requiredEnv(functionId);

      const config = loadFunctionConfig(functionId, env);

      for (const id of declaredTables(functionId)) expect(config.table(id)).toBe(`qunfa-dev-${id}`);
    });

    it('returns the URL of every queue it sends to', () => {
      const env = requiredEnv(functionId);

      const config = loadFunctionConfig(functionId, env);

      for (const id of functions[functionId].sendsTo) {
        expect(config.queueUrl(id)).toBe(`https://sqs.us-east-1.amazonaws.com/123456789012/qunfa-dev-${id}`);
      }
    });

    it('refuses a table it did not declare, naming it', () => {
      const config = loadFunctionConfig(functionId, requiredEnv(functionId));
      const undeclared = tableIds.filter((id) => functions[functionId].tables[id] === undefined);

      for (const id of undeclared) {
        expect(() => config.table(id)).toThrow(ConfigError);
        expect(() => config.table(id)).toThrow(`no access to table ${id}`);
      }
    });
  });

  it('names only the variables that are missing', () => {
    const env = requiredEnv('callbacks');
    delete env[tableEnvName('tenants')];

    const error = configError(() => loadFunctionConfig('callbacks', env));

    expect(error.message).toBe('Function callbacks is missing environment variables: TABLE_TENANTS.');
  });

  it('treats an empty variable as missing', () => {
    const env = { ...requiredEnv('callbacks'), [queueEnvName('receipt')]: '' };

    const error = configError(() => loadFunctionConfig('callbacks', env));

    expect(error.message).toContain('QUEUE_RECEIPT_URL');
  });

  it('does not ask for variables of resources the function does not use', () => {
    const env = {
      QUNFA_STAGE: 'dev',
      TABLE_TENANTS: 'qunfa-dev-tenants',
      TABLE_METRICS: 'qunfa-dev-metrics',
      QUEUE_RECEIPT_URL: 'https://sqs.example/receipt',
    };

    const config = loadFunctionConfig('callbacks', env);

    expect(config.functionId).toBe('callbacks');
    expect(config.queueUrl('receipt')).toBe('https://sqs.example/receipt');
  });

  it('refuses a queue the function does not send to, naming it', () => {
    const config = loadFunctionConfig('callbacks', requiredEnv('callbacks'));

    expect(() => config.queueUrl('start')).toThrow(ConfigError);
    expect(() => config.queueUrl('send')).toThrow('does not send to queue send');
  });

  it('refuses every queue for a function that sends to none', () => {
    const config = loadFunctionConfig('receipts', requiredEnv('receipts'));

    for (const id of queueIds) expect(() => config.queueUrl(id)).toThrow(ConfigError);
  });

  it('reads the schedule group, role and target for a function that schedules', () => {
    const config = loadFunctionConfig('planner', requiredEnv('planner'));

    expect(config.schedule).toEqual({
      groupName: 'qunfa',
      roleArn: 'arn:aws:iam::123456789012:role/qunfa-scheduler',
      targetArn: 'arn:aws:sqs:us-east-1:123456789012:qunfa-dev-start',
    });
  });

  it('has no schedule settings for a function that does not schedule', () => {
    const config = loadFunctionConfig('callbacks', requiredEnv('callbacks'));

    expect(config.schedule).toBeUndefined();
  });

  it('reads the stage, region and log level', () => {
    const env = { ...requiredEnv('sender'), QUNFA_STAGE: 'prod', AWS_REGION: 'ap-east-1', LOG_LEVEL: 'WARN' };

    const config = loadFunctionConfig('sender', env);

    expect(config).toMatchObject({ stage: 'prod', region: 'ap-east-1', logLevel: 'WARN' });
  });

  it('defaults the region to us-east-1 and the log level to INFO', () => {
    const config = loadFunctionConfig('sender', requiredEnv('sender'));

    expect(config).toMatchObject({ stage: 'dev', region: 'us-east-1', logLevel: 'INFO' });
  });

  it('refuses to start without a stage, naming QUNFA_STAGE', () => {
    const { QUNFA_STAGE: _stage, ...env } = requiredEnv('sender');

    const error = configError(() => loadFunctionConfig('sender', env));

    expect(error.message).toBe('Function sender is missing environment variables: QUNFA_STAGE.');
  });

  it('names LOG_LEVEL when its value is not a level', () => {
    const env = { ...requiredEnv('sender'), LOG_LEVEL: 'VERBOSE' };

    const error = configError(() => loadFunctionConfig('sender', env));

    expect(error.message).toContain('Function sender has invalid environment');
    expect(error.message).toContain('LOG_LEVEL');
  });

  it('names a missing variable and an invalid LOG_LEVEL in one error', () => {
    const env = { ...requiredEnv('sender'), [tableEnvName('members')]: undefined, LOG_LEVEL: 'VERBOSE' };

    const error = configError(() => loadFunctionConfig('sender', env));

    expect(error.message).toMatch(
      /^Function sender is missing environment variables: TABLE_MEMBERS\. Function sender has invalid environment: LOG_LEVEL: .+\.$/,
    );
  });

  it('reads the process environment when none is given', () => {
    for (const [name, value] of Object.entries(requiredEnv('callbacks'))) vi.stubEnv(name, value);

    const config = loadFunctionConfig('callbacks');

    expect(config.table('tenants')).toBe('qunfa-dev-tenants');
  });
});
