// `npm start`: qunfa on this machine, no AWS account needed. Prints where each component
// answers, the API URL and the admin key line; Ctrl-C stops everything, the JVM included.
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { queueIds, queues } from '@qunfa/resources';
import * as z from 'zod';
import { LocalStackError, portVariables } from './errors';
import { levelFromEnv, logLevel } from './log';
import { repoRoot } from './paths';
import { type LocalStack, startLocalStack } from './stack';

const usage = `Usage: npm start [-- --fresh]

Starts qunfa on this machine: DynamoDB Local (needs Java 17+), SQS, the scheduler, the SMS
provider simulator, the queue pollers and the HTTP API, all running the Lambda handlers.

Options:
  --fresh   start from empty tables, queues and schedules (deletes the local state in .data/)
  --help    show this help

Environment:
  PORT                   HTTP API port (default 3000)
  QUNFA_DYNAMODB_PORT    DynamoDB Local port (default: any free port)
  QUNFA_SQS_PORT         SQS emulator port (default: any free port)
  QUNFA_SCHEDULER_PORT   scheduler port (default: any free port)
  QUNFA_SIMULATOR_PORT   SMS provider simulator port (default: any free port)
  QUNFA_ADMIN_KEY        use this admin API key instead of generating one
  LOG_LEVEL              DEBUG, INFO (default), WARN, ERROR or SILENT
`;

const port = z.preprocess(
  (value) => (value === '' ? undefined : value),
  z.coerce.number().int().min(0).max(65_535).optional(),
);
const environment = z.object({
  [portVariables.api]: port,
  [portVariables.dynamodb]: port,
  [portVariables.sqs]: port,
  [portVariables.scheduler]: port,
  [portVariables.simulator]: port,
  QUNFA_ADMIN_KEY: z.string().min(1).optional(),
  LOG_LEVEL: z.preprocess(
    (value) => (typeof value === 'string' ? value.toUpperCase() : value),
    logLevel.optional(),
  ),
});

function fail(message: string, exitCode = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(exitCode);
}

function parseCommandLine(): { fresh: boolean } {
  try {
    const { values } = parseArgs({
      options: {
        fresh: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(usage);
      process.exit(0);
    }
    return { fresh: values.fresh };
  } catch (error) {
    return fail(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`, 2);
  }
}

function describeKey(stack: LocalStack, presetKey: string | undefined): string {
  const result = stack.firstTenant;
  if (result.created && !result.preset) {
    return [
      `Admin API key (tenant ${result.tenantId}): ${result.apiKey}`,
      '  Copy it now: it will not be shown again. Send it as `Authorization: Bearer <key>`.',
    ].join('\n');
  }
  if (result.created) return `Admin API key: the one in QUNFA_ADMIN_KEY (tenant ${result.tenantId} created).`;
  if (presetKey) return 'Admin API key: the one in QUNFA_ADMIN_KEY.';
  return 'Admin API key: created on an earlier run and not shown again (set QUNFA_ADMIN_KEY, or `npm start -- --fresh`).';
}

function describeStack(stack: LocalStack): string {
  const { dynamodb, sqs, scheduler, simulator, gateway } = stack.components;
  const data = dynamodb.dataDir ? relative(repoRoot, dynamodb.dataDir) || dynamodb.dataDir : undefined;
  const consumers = queueIds.map((id) => `${id} → ${queues[id].consumer.functionId}`).join(', ');
  const rows: [string, string, string][] = [
    [
      'dynamodb',
      dynamodb.endpoint,
      `DynamoDB Local (pid ${dynamodb.pid}), ${data ? `data in ${data}` : 'in memory'}`,
    ],
    ['sqs', sqs.endpoint, `fauxqs: ${queueIds.map((id) => stack.queues[id].name).join(', ')} (+ DLQs)`],
    ['scheduler', scheduler.url, 'EventBridge Scheduler API'],
    ['simulator', simulator.url, 'SMS provider simulator'],
    ['pollers', '', consumers],
    ['api', gateway.url, 'HTTP API (API Gateway v2 events)'],
  ];
  const lines = rows.map(([name, url, what]) => `  ${name.padEnd(10)} ${url.padEnd(24)} ${what}`.trimEnd());
  return [
    'qunfa local stack',
    ...lines,
    '',
    `Ready in ${(stack.startedInMs / 1000).toFixed(1)} s. API: ${stack.apiUrl}  (health: ${stack.apiUrl}/health)`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { fresh } = parseCommandLine();
  const parsed = environment.safeParse(process.env);
  if (!parsed.success) fail(`Invalid environment:\n${z.prettifyError(parsed.error)}`);
  const env = parsed.data;

  let stack: LocalStack | undefined;
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second Ctrl-C: leave now; the exit hook still kills the JVM.
      process.stderr.write('Forced exit.\n');
      process.exit(130);
    }
    stopping = true;
    if (!stack) {
      process.stdout.write(`\n${signal}: stopping as soon as the start-up has finished…\n`);
      return;
    }
    process.stdout.write(`\n${signal}: stopping…\n`);
    stack.stop().then(
      () => {
        process.stdout.write('Stopped.\n');
        process.exit(0);
      },
      (error: unknown) => fail(`Stopping failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, shutdown);

  try {
    stack = await startLocalStack({
      fresh,
      ports: {
        ...(env.PORT === undefined ? {} : { api: env.PORT }),
        ...(env.QUNFA_DYNAMODB_PORT === undefined ? {} : { dynamodb: env.QUNFA_DYNAMODB_PORT }),
        ...(env.QUNFA_SQS_PORT === undefined ? {} : { sqs: env.QUNFA_SQS_PORT }),
        ...(env.QUNFA_SCHEDULER_PORT === undefined ? {} : { scheduler: env.QUNFA_SCHEDULER_PORT }),
        ...(env.QUNFA_SIMULATOR_PORT === undefined ? {} : { simulator: env.QUNFA_SIMULATOR_PORT }),
      },
      adminKey: env.QUNFA_ADMIN_KEY,
      logLevel: env.LOG_LEVEL ?? 'INFO',
    });
  } catch (error) {
    if (error instanceof LocalStackError) fail(error.message);
    const message = error instanceof Error ? error.message : String(error);
    const cause =
      error instanceof Error && error.cause instanceof Error && !message.includes(error.cause.message)
        ? `\n  caused by: ${error.cause.message}`
        : '';
    if (levelFromEnv() === 'DEBUG' && error instanceof Error) fail(`${error.stack ?? message}${cause}`);
    fail(
      `The local stack did not start: ${message}${cause}\n(LOG_LEVEL=DEBUG npm start shows the stack trace.)`,
    );
  }
  if (stopping) {
    await stack.stop();
    process.exit(0);
  }
  process.stdout.write(
    `${describeStack(stack)}\n${describeKey(stack, env.QUNFA_ADMIN_KEY)}\nCtrl-C stops everything.\n`,
  );
}

await main();
