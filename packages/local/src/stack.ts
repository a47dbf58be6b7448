import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bootstrapFirstTenant, createDocumentClient } from '@qunfa/aws';
import type { BootstrapResult } from '@qunfa/domain';
import {
  functions,
  httpRoutes,
  publicUrlEnv,
  type QueueId,
  queueIds,
  scheduleGroup,
  type TableId,
} from '@qunfa/resources';
import * as z from 'zod';
import { installMovableClock, type MovableClock } from './clock';
import { checkJava, type DynamoDbLocal, ensureTables, startDynamoDbLocal } from './dynamo';
import { applyEnvironment, functionEnvironment } from './environment';
import { type PortedComponent, StackAlreadyRunningError } from './errors';
import { type Gateway, type GatewayFunction, type HttpHandler, startGateway } from './gateway';
import { type ComponentHealth, checkHealth, type HealthReport, summarize } from './health';
import { loadHandler } from './lambda';
import { createLogger, type LocalLogger, type LogLevel, levelFromEnv } from './log';
import { localFunctionName, localTableNames } from './names';
import { defaultDataDir, repoRoot } from './paths';
import { type QueuePollers, startQueuePollers } from './pollers';
import { assertPortsFree } from './ports';
import { recordOf, recordOfAsync } from './records';
import { type LocalScheduler, startLocalScheduler } from './scheduler';
import { type ProviderSimulator, type SimulatorConfigPatch, startProviderSimulator } from './simulator';
import { ensureQueues, type LocalQueue, type LocalSqs, startLocalSqs } from './sqs';

// The whole system on one machine: DynamoDB Local, SQS (fauxqs), the scheduler, the SMS
// provider simulator, the queue pollers and the HTTP API, all built from the resource model
// and feeding the very handlers that run on Lambda.

export interface LocalStackOptions {
  /** Ports per component; 0 picks a free one. Defaults: the API on 3000, the rest free. */
  ports?: Partial<Record<PortedComponent, number>>;
  /** Where state and stack.json live. Default: `.data/` at the repository root. */
  dataDir?: string;
  /** Keep DynamoDB, SQS and scheduler state in dataDir between runs. Default true. */
  persist?: boolean;
  /** Wipe the stack's state in dataDir before starting. */
  fresh?: boolean;
  /** QUNFA_ADMIN_KEY: make sure this admin key exists instead of minting a random one. */
  adminKey?: string | undefined;
  /** LOG_LEVEL given to the handlers and used by the stack's own log. */
  logLevel?: LogLevel;
  stage?: string;
  region?: string;
  /** The repository root, where the handler entries of the resource model live. */
  rootDir?: string;
  /** The scheduler's clock (tests move time forward). */
  now?: () => Date;
  /** Idle long-poll of the queue pollers, in seconds (Lambda uses 20; small stops faster). */
  pollerIdleWaitSeconds?: number;
  /**
   * The most invocations of one consumer at once (each queue's own maximum applies below it).
   * Lambda gives each invocation its own CPU; here every invocation shares this process and
   * its cores, and fifty senders at once only wait on each other, long enough for a provider
   * answer to miss the client's timeout. Default: four per core (docs/local-fidelity.md).
   */
  pollerConcurrency?: number;
  /**
   * The SMS simulator's start configuration (see simulator/config.ts); PUT /admin/config
   * changes it at runtime. Unless set here, its callbacks go to this stack's API
   * (/callbacks/simulator/{account}) signed with a secret made at start and given to the
   * handlers as PROVIDER_SIMULATOR_CALLBACK_SECRET.
   */
  simulator?: SimulatorConfigPatch;
  /**
   * Test-only: replace this process's `Date` with a clock that `LocalStack.clock` moves
   * forward (clock.ts), put back by stop(). Not for `npm start`.
   */
  movableClock?: boolean;
  logger?: LocalLogger;
}

export interface LocalStackComponents {
  readonly dynamodb: DynamoDbLocal;
  readonly sqs: LocalSqs;
  readonly pollers: QueuePollers;
  readonly scheduler: LocalScheduler;
  readonly simulator: ProviderSimulator;
  readonly gateway: Gateway;
}

export interface LocalStack {
  readonly apiUrl: string;
  readonly dataDir: string;
  /** `<dataDir>/stack.json`: endpoints, table and queue names for the admin CLI. */
  readonly stateFile: string;
  readonly tables: Readonly<Record<TableId, string>>;
  readonly queues: Readonly<Record<QueueId, LocalQueue>>;
  /** The environment the handlers run with (also set on process.env). */
  readonly env: Readonly<Record<string, string>>;
  /** Whether a first tenant and admin key were created by this start. */
  readonly firstTenant: BootstrapResult;
  readonly startedInMs: number;
  readonly components: LocalStackComponents;
  /** The process clock, when started with `movableClock`. */
  readonly clock?: MovableClock;
  health(): Promise<HealthReport>;
  /** Stops every component, the JVM included; safe to call twice. */
  stop(): Promise<void>;
}

const stateFileName = 'stack.json';
/** What --fresh removes: the stack's own state, nothing else that may live in dataDir. */
const stateFolders = ['dynamodb', 'sqs', 'scheduler'] as const;

let running: Promise<LocalStack> | undefined;

/**
 * Starts the local stack. One per process: the handlers run in this process and read their
 * configuration from process.env at import, as they would at a Lambda cold start.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  if (running) throw new Error('A local stack is already running in this process; stop it first.');
  const starting = start(options);
  running = starting;
  starting.catch(() => {
    running = undefined;
  });
  return starting;
}

async function start({
  ports = {},
  dataDir: requestedDataDir = defaultDataDir,
  persist = true,
  fresh = false,
  adminKey,
  logLevel = levelFromEnv(),
  stage = 'local',
  region = 'us-east-1',
  rootDir = repoRoot,
  now,
  pollerIdleWaitSeconds,
  pollerConcurrency = 4 * availableParallelism(),
  simulator: simulatorConfig = {},
  movableClock = false,
  logger = createLogger({ component: 'local', level: logLevel }),
}: LocalStackOptions): Promise<LocalStack> {
  const startedAt = Date.now();
  const dataDir = resolve(requestedDataDir);
  const stateFile = join(dataDir, stateFileName);
  const port = { api: 3000, dynamodb: 0, sqs: 0, scheduler: 0, simulator: 0, ...ports };

  await assertNotRunning({ stateFile });
  if (fresh) await wipeState(dataDir);
  await mkdir(dataDir, { recursive: true });
  // Fail in a second, not after the JVM start: Java missing, or a fixed port taken.
  await Promise.all([checkJava(), assertPortsFree(port)]);
  const scratchDir = persist ? undefined : await mkdtemp(join(tmpdir(), 'qunfa-local-'));
  const stateDir = (name: (typeof stateFolders)[number]) => join(scratchDir ?? dataDir, name);

  const stack = new Stoppable(logger);
  const clock = movableClock ? installMovableClock() : undefined;
  // Last to stop: every component reads the clock until it is stopped.
  if (clock) await stack.start('clock', async () => ({ stop: async () => clock.uninstall() }));
  const simulatorSecret = simulatorConfig.callbacks?.secret ?? randomBytes(24).toString('hex');
  try {
    // The JVM takes seconds; everything that does not need it starts meanwhile.
    const settled = await Promise.allSettled([
      stack.start('dynamodb', () =>
        startDynamoDbLocal({
          port: port.dynamodb,
          dataDir: persist ? stateDir('dynamodb') : undefined,
          region,
          logger: logger.child('dynamodb'),
        }),
      ),
      stack.start('sqs', () =>
        startLocalSqs({ port: port.sqs, dataDir: persist ? stateDir('sqs') : undefined, region }),
      ),
      stack.start('simulator', () =>
        startProviderSimulator({
          port: port.simulator,
          config: {
            ...simulatorConfig,
            callbacks: { ...simulatorConfig.callbacks, secret: simulatorSecret },
          },
          logger: logger.child('simulator'),
        }),
      ),
    ]);
    const dynamodb = valueOrThrow(settled[0]);
    const sqs = valueOrThrow(settled[1]);
    const simulator = valueOrThrow(settled[2]);

    const tables = localTableNames(stage);
    const prepared = await Promise.allSettled([
      ensureTables({ client: dynamodb.client, tableNames: tables }),
      ensureQueues({ client: sqs.client, endpoint: sqs.endpoint, stage }),
      stack.start('scheduler', async () => {
        await mkdir(stateDir('scheduler'), { recursive: true });
        return startLocalScheduler({
          port: port.scheduler,
          stateFile: join(stateDir('scheduler'), 'schedules.json'),
          sqs: { endpoint: sqs.endpoint, region },
          ...(now ? { now } : {}),
          logger: logger.child('scheduler'),
        });
      }),
    ]);
    valueOrThrow(prepared[0]);
    const queues = valueOrThrow(prepared[1]);
    const scheduler = valueOrThrow(prepared[2]);

    const env = functionEnvironment({
      region,
      stage,
      logLevel,
      dynamodbEndpoint: dynamodb.endpoint,
      sqsEndpoint: sqs.endpoint,
      schedulerUrl: scheduler.url,
      simulatorUrl: simulator.url,
      simulatorCallbackSecret: simulatorSecret,
      tables,
      queues,
    });
    applyEnvironment(env);

    const tenantsClient = createDocumentClient({ endpoint: dynamodb.endpoint, region });
    const firstTenant = await bootstrapFirstTenant({
      client: tenantsClient,
      tableName: tables.tenants,
      ...(adminKey ? { presetKey: adminKey } : {}),
      now: new Date(),
    });

    // Handlers are imported only now, with the environment in place (their cold start).
    const pollers = await stack.start('pollers', () =>
      startQueuePollers({
        client: sqs.client,
        region,
        stage,
        queues,
        rootDir,
        ...(pollerIdleWaitSeconds === undefined ? {} : { idleWaitSeconds: pollerIdleWaitSeconds }),
        maxConcurrency: pollerConcurrency,
        logger: logger.child('pollers'),
      }),
    );
    const httpFunctions = await loadHttpFunctions({ rootDir, stage });
    let components: LocalStackComponents | undefined;
    const health = async (): Promise<HealthReport> => {
      if (!components) throw new Error('The stack is not started.');
      return stackHealth(components);
    };
    const gateway = await stack.start('api', () =>
      startGateway({
        port: port.api,
        routes: httpRoutes,
        functions: httpFunctions,
        region,
        health,
        logger: logger.child('api'),
      }),
    );
    components = { dynamodb, sqs, pollers, scheduler, simulator, gateway };
    // Known only now too: the stack's public URL, the sender's default short-link domain.
    env[publicUrlEnv] = gateway.url;
    applyEnvironment({ [publicUrlEnv]: gateway.url });
    // The API's address is known only now: the simulator's receipts and replies go to it.
    if (simulatorConfig.callbacks?.url === undefined) {
      simulator.configure({ callbacks: { url: `${gateway.url}/callbacks/simulator/{account}` } });
    }

    await writeStateFile({
      stateFile,
      apiUrl: gateway.url,
      components,
      tables,
      queues,
      env,
      stage,
      region,
      persist,
    });
    stack.onStop(async () => {
      await rm(stateFile, { force: true });
      if (scratchDir) await rm(scratchDir, { recursive: true, force: true });
    });

    const stop = async (): Promise<void> => {
      await stack.stop();
      running = undefined;
    };
    return {
      apiUrl: gateway.url,
      dataDir,
      stateFile,
      tables,
      queues,
      env,
      firstTenant,
      startedInMs: Date.now() - startedAt,
      components,
      ...(clock ? { clock } : {}),
      health,
      stop,
    };
  } catch (error) {
    await stack.stop().catch(() => undefined);
    if (scratchDir) await rm(scratchDir, { recursive: true, force: true });
    throw error;
  }
}

async function loadHttpFunctions({
  rootDir,
  stage,
}: {
  rootDir: string;
  stage: string;
}): Promise<Record<string, GatewayFunction>> {
  const ids = [...new Set(httpRoutes.map((route) => route.functionId))];
  return recordOfAsync(ids, async (id) => {
    const definition = functions[id];
    const handler: HttpHandler = await loadHandler({ entry: definition.entry, rootDir });
    return {
      name: localFunctionName({ stage, id }),
      timeoutSeconds: definition.timeoutSeconds,
      memoryMb: definition.memoryMb,
      handler,
    };
  });
}

async function stackHealth(components: LocalStackComponents): Promise<HealthReport> {
  const [dynamodb, sqs, scheduler, simulator] = await Promise.all([
    checkHealth(() => components.dynamodb.health(), { url: components.dynamodb.endpoint }),
    checkHealth(() => components.sqs.health(), { url: components.sqs.endpoint }),
    checkHealth(() => components.scheduler.health(), { url: components.scheduler.url }),
    checkHealth(() => components.simulator.health(), { url: components.simulator.url }),
  ]);
  const pollers: ComponentHealth = components.pollers.health();
  const api: ComponentHealth = components.gateway.health();
  return summarize({ dynamodb, sqs, pollers, scheduler, simulator, api });
}

const stateFileSchema = z.object({ apiUrl: z.string() });

/** Refuses to start on a data folder whose stack.json names an API that still answers. */
async function assertNotRunning({ stateFile }: { stateFile: string }): Promise<void> {
  const text = await readFile(stateFile, 'utf8').catch(() => undefined);
  if (text === undefined) return;
  let parsed: z.infer<typeof stateFileSchema> | undefined;
  try {
    parsed = stateFileSchema.parse(JSON.parse(text));
  } catch {
    return;
  }
  const answers = await fetch(new URL('/health', parsed.apiUrl), { signal: AbortSignal.timeout(1_000) })
    .then(
      async (response) => z.looseObject({ components: z.unknown() }).safeParse(await response.json()).success,
    )
    .catch(() => false);
  if (answers) throw new StackAlreadyRunningError({ apiUrl: parsed.apiUrl, stateFile });
}

async function wipeState(dataDir: string): Promise<void> {
  await Promise.all([
    ...stateFolders.map((folder) => rm(join(dataDir, folder), { recursive: true, force: true })),
    rm(join(dataDir, stateFileName), { force: true }),
  ]);
}

async function writeStateFile({
  stateFile,
  apiUrl,
  components,
  tables,
  queues,
  env,
  stage,
  region,
  persist,
}: {
  stateFile: string;
  apiUrl: string;
  components: LocalStackComponents;
  tables: Readonly<Record<TableId, string>>;
  queues: Readonly<Record<QueueId, LocalQueue>>;
  env: Readonly<Record<string, string>>;
  stage: string;
  region: string;
  persist: boolean;
}): Promise<void> {
  const state = {
    startedAt: new Date().toISOString(),
    pid: process.pid,
    stage,
    region,
    persist,
    apiUrl,
    endpoints: {
      api: apiUrl,
      dynamodb: components.dynamodb.endpoint,
      sqs: components.sqs.endpoint,
      scheduler: components.scheduler.url,
      simulator: components.simulator.url,
    },
    dynamodbPid: components.dynamodb.pid,
    tables,
    queues: recordOf(queueIds, (id) => ({
      name: queues[id].name,
      url: queues[id].url,
      arn: queues[id].arn,
      deadLetter: queues[id].deadLetter,
    })),
    scheduleGroup: scheduleGroup.name,
    env,
  };
  await writeFile(stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

/**
 * Remembers what has started so that a failure half-way, or stop(), stops exactly that, in
 * reverse order: the API first, then the pollers (they drain into SQS and DynamoDB), and
 * DynamoDB last.
 */
class Stoppable {
  readonly #stops: { name: string; stop: () => Promise<void> }[] = [];
  #stopping: Promise<void> | undefined;

  constructor(private readonly logger: LocalLogger) {}

  async start<T extends { stop(): Promise<void> }>(name: string, run: () => Promise<T>): Promise<T> {
    const component = await run();
    this.#stops.push({ name, stop: () => component.stop() });
    return component;
  }

  onStop(stop: () => Promise<void>): void {
    this.#stops.unshift({ name: 'state files', stop });
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      let first: unknown;
      for (const { name, stop } of this.#stops.reverse()) {
        try {
          await stop();
        } catch (error) {
          first ??= error;
          this.logger.error(`stopping ${name} failed`, { error });
        }
      }
      if (first !== undefined) throw first;
    })();
    return this.#stopping;
  }
}

function valueOrThrow<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}
