// The one definition of qunfa's tables, queues, schedule group and functions.
// The CDK stacks (infra/) and the local stack (packages/local) are both built from this
// module, and a parity test compares what each makes of it, so the two cannot drift.
// Pure data: no AWS SDK or CDK import may enter this package.

export type AttributeType = 'S' | 'N';

export interface KeySchema {
  readonly partitionKey: { readonly name: string; readonly type: AttributeType };
  readonly sortKey?: { readonly name: string; readonly type: AttributeType };
}

export interface GlobalIndex extends KeySchema {
  readonly name: string;
  /** 'all' copies every attribute; 'keys' only the keys (cheapest, for existence look-ups). */
  readonly projection: 'all' | 'keys';
}

export interface TableDefinition extends KeySchema {
  readonly id: TableId;
  readonly purpose: string;
  readonly globalIndexes: readonly GlobalIndex[];
  /** Attribute holding an epoch-seconds expiry, or undefined when items never expire. */
  readonly timeToLiveAttribute?: string;
}

export interface QueueConsumer {
  readonly functionId: FunctionId;
  /** Records per invocation (Lambda event source mapping BatchSize). */
  readonly batchSize: number;
  /** MaximumBatchingWindowInSeconds: how long the poller gathers a batch. */
  readonly maxBatchingWindowSeconds: number;
  /** ScalingConfig.MaximumConcurrency: concurrent invocations this queue may drive (2–1000). */
  readonly maxConcurrency: number;
}

export interface QueueDefinition {
  readonly id: QueueId;
  readonly purpose: string;
  readonly visibilityTimeoutSeconds: number;
  readonly retentionSeconds: number;
  readonly deadLetter: { readonly maxReceiveCount: number; readonly retentionSeconds: number };
  readonly consumer: QueueConsumer;
}

export type Access = 'read' | 'write' | 'readWrite';

export interface FunctionDefinition {
  readonly id: FunctionId;
  readonly purpose: string;
  /** Entry file, relative to the repository root. */
  readonly entry: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Least privilege: every table a function touches, with the access it needs. */
  readonly tables: Readonly<Partial<Record<TableId, Access>>>;
  /** Queues the function sends to (consuming is declared on the queue). */
  readonly sendsTo: readonly QueueId[];
  /** Whether the function creates and deletes schedules in the schedule group. */
  readonly schedules: boolean;
  /** Files (from the repository root) copied beside the bundle, read at run time by name. */
  readonly assets?: readonly string[];
}

export const tableIds = ['tenants', 'members', 'campaigns', 'messages', 'suppressions', 'metrics'] as const;
export type TableId = (typeof tableIds)[number];

export const queueIds = ['start', 'send', 'receipt', 'import'] as const;
export type QueueId = (typeof queueIds)[number];

export const functionIds = [
  'api',
  'planner',
  'tester',
  'callbacks',
  'segmenter',
  'sender',
  'receipts',
  'importer',
  'links',
] as const;
export type FunctionId = (typeof functionIds)[number];

const pk = { name: 'pk', type: 'S' } as const;
const sk = { name: 'sk', type: 'S' } as const;
const gsi1 = {
  name: 'gsi1',
  partitionKey: { name: 'gsi1pk', type: 'S' },
  sortKey: { name: 'gsi1sk', type: 'S' },
} as const;

const DAY = 86_400;

/**
 * Every partition key starts with the tenant id (docs/data-model.md gives each layout and
 * the write rates it is sized for). Generic key names (pk/sk/gsi1pk/gsi1sk) let one table
 * hold the few item kinds that share an access pattern without a migration per feature.
 */
export const tables: Readonly<Record<TableId, TableDefinition>> = {
  tenants: {
    id: 'tenants',
    purpose: 'Tenant profile and settings, API keys (stored as hashes only).',
    partitionKey: pk,
    sortKey: sk,
    globalIndexes: [],
  },
  members: {
    id: 'members',
    purpose: "A tenant's members, spread over key shards; phone look-up by hash for replies.",
    partitionKey: pk,
    sortKey: sk,
    globalIndexes: [{ ...gsi1, projection: 'keys' }],
  },
  campaigns: {
    id: 'campaigns',
    purpose: 'Campaigns, runs, templates, segments, imports: what a merchant configures.',
    partitionKey: pk,
    sortKey: sk,
    globalIndexes: [{ ...gsi1, projection: 'all' }],
    // Only transient items carry it: uploaded import parts, finished import jobs.
    timeToLiveAttribute: 'expiresAt',
  },
  messages: {
    id: 'messages',
    purpose:
      'One record per (campaign run, member), claimed before the provider call; short links, member activity, conversions.',
    partitionKey: pk,
    sortKey: sk,
    globalIndexes: [{ ...gsi1, projection: 'keys' }],
    timeToLiveAttribute: 'expiresAt',
  },
  suppressions: {
    id: 'suppressions',
    purpose: 'Opt-outs keyed by phone hash (they survive erasure) and frequency-cap counters.',
    partitionKey: pk,
    sortKey: sk,
    globalIndexes: [],
    timeToLiveAttribute: 'expiresAt',
  },
  metrics: {
    id: 'metrics',
    purpose: 'Sharded counters per run, variant and hour, incremented once per batch.',
    partitionKey: pk,
    sortKey: sk,
    globalIndexes: [],
    timeToLiveAttribute: 'expiresAt',
  },
};

/**
 * Visibility timeouts are six times the consumer's function timeout, as AWS advises for
 * Lambda event sources, so a slow invocation's batch is not handed to a second consumer.
 */
export const queues: Readonly<Record<QueueId, QueueDefinition>> = {
  start: {
    id: 'start',
    purpose: 'Campaign run starts from the scheduler; the segmenter resolves the audience.',
    visibilityTimeoutSeconds: 6 * 300,
    retentionSeconds: 4 * DAY,
    deadLetter: { maxReceiveCount: 5, retentionSeconds: 14 * DAY },
    consumer: { functionId: 'segmenter', batchSize: 1, maxBatchingWindowSeconds: 0, maxConcurrency: 10 },
  },
  send: {
    id: 'send',
    purpose: 'Recipient batches; the sender claims, checks, renders and calls the provider.',
    visibilityTimeoutSeconds: 6 * 60,
    retentionSeconds: 4 * DAY,
    deadLetter: { maxReceiveCount: 8, retentionSeconds: 14 * DAY },
    consumer: { functionId: 'sender', batchSize: 5, maxBatchingWindowSeconds: 0, maxConcurrency: 50 },
  },
  receipt: {
    id: 'receipt',
    purpose: 'Verified provider callbacks: delivery receipts, replies, clicks.',
    visibilityTimeoutSeconds: 6 * 30,
    retentionSeconds: 4 * DAY,
    deadLetter: { maxReceiveCount: 5, retentionSeconds: 14 * DAY },
    // A callback is a provider's batch (up to 100 receipts from Aliyun or the simulator): ten
    // of them are a thousand receipts, a few seconds of conditional writes per invocation.
    consumer: { functionId: 'receipts', batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 10 },
  },
  import: {
    id: 'import',
    purpose: 'Uploaded member files to import; the importer streams one file per invocation.',
    visibilityTimeoutSeconds: 6 * 900,
    retentionSeconds: 4 * DAY,
    // An import that fails twice has a cause a third run will not fix; it is marked failed.
    deadLetter: { maxReceiveCount: 2, retentionSeconds: 14 * DAY },
    consumer: { functionId: 'importer', batchSize: 1, maxBatchingWindowSeconds: 0, maxConcurrency: 2 },
  },
};

export const functions: Readonly<Record<FunctionId, FunctionDefinition>> = {
  api: {
    id: 'api',
    purpose: 'The HTTP API for member data: keys, tenant, members, imports, segments, opt-outs.',
    entry: 'functions/api/handler.ts',
    // GET /openapi.json answers the committed document (npm run openapi).
    assets: ['docs/openapi.json'],
    memoryMb: 1024,
    timeoutSeconds: 29,
    tables: {
      tenants: 'readWrite',
      members: 'readWrite',
      campaigns: 'readWrite',
      suppressions: 'readWrite',
      // POST /events: member activity read, conversions written with their run's counters.
      messages: 'readWrite',
      metrics: 'readWrite',
    },
    sendsTo: ['import'],
    schedules: false,
  },
  // The HTTP API is two functions, so that each bundle carries only its routes' code (cold
  // starts; issue 2 holds every bundle under 300 KB): member data here, sending in `planner`.
  planner: {
    id: 'planner',
    purpose: 'The HTTP API for sending: templates, campaigns, schedules, progress and reports.',
    entry: 'functions/planner/handler.ts',
    memoryMb: 1024,
    timeoutSeconds: 29,
    tables: {
      tenants: 'read',
      members: 'read',
      campaigns: 'readWrite',
      messages: 'read',
      suppressions: 'read',
      metrics: 'read',
    },
    sendsTo: [],
    schedules: true,
  },
  // Test sends call a provider, with its adapters, phone numbering and rate limiter: code the
  // planner's other routes never run, in a function of its own so the planner stays small.
  tester: {
    id: 'tester',
    purpose: 'The HTTP API for test sends: a campaign message, now, to a few staff numbers.',
    entry: 'functions/tester/handler.ts',
    memoryMb: 512,
    timeoutSeconds: 29,
    tables: {
      tenants: 'read',
      members: 'read',
      campaigns: 'read',
      // Their message records, and the provider account's rate-limit tokens.
      messages: 'readWrite',
      suppressions: 'read',
      metrics: 'readWrite',
    },
    sendsTo: [],
    schedules: false,
  },
  callbacks: {
    id: 'callbacks',
    purpose: 'Provider callbacks: verify, enqueue, answer 2xx fast.',
    entry: 'functions/callbacks/handler.ts',
    memoryMb: 512,
    timeoutSeconds: 10,
    // The tenant of the account; the callback ids seen, to refuse a replay (one conditional put).
    tables: { tenants: 'read', metrics: 'write' },
    sendsTo: ['receipt'],
    schedules: false,
  },
  segmenter: {
    id: 'segmenter',
    purpose: 'Resolves a run audience in shards, suppresses, writes message records, feeds the send queue.',
    entry: 'functions/segmenter/handler.ts',
    memoryMb: 1024,
    timeoutSeconds: 300,
    tables: {
      tenants: 'read',
      members: 'read',
      campaigns: 'readWrite',
      messages: 'readWrite',
      suppressions: 'read',
      metrics: 'readWrite',
    },
    sendsTo: ['start', 'send'],
    // It deletes a one-time campaign's schedule once the start has fired.
    schedules: true,
  },
  sender: {
    id: 'sender',
    purpose: 'Claims each message record, re-checks compliance, calls the provider at its rate.',
    entry: 'functions/sender/handler.ts',
    memoryMb: 512,
    timeoutSeconds: 60,
    tables: {
      tenants: 'read',
      members: 'read',
      campaigns: 'readWrite',
      messages: 'readWrite',
      suppressions: 'readWrite',
      metrics: 'readWrite',
    },
    sendsTo: ['send'],
    schedules: true,
  },
  receipts: {
    id: 'receipts',
    purpose: 'Applies receipts, replies and clicks: status, opt-outs, auto-replies, metrics.',
    entry: 'functions/receipts/handler.ts',
    memoryMb: 512,
    timeoutSeconds: 30,
    tables: {
      tenants: 'read',
      members: 'readWrite',
      campaigns: 'read',
      messages: 'readWrite',
      suppressions: 'readWrite',
      metrics: 'readWrite',
    },
    sendsTo: [],
    schedules: false,
  },
  importer: {
    id: 'importer',
    purpose: 'Streams an uploaded member file: decode, clean, deduplicate, upsert, report.',
    entry: 'functions/importer/handler.ts',
    memoryMb: 1024,
    timeoutSeconds: 900,
    tables: { tenants: 'read', members: 'readWrite', campaigns: 'readWrite', suppressions: 'read' },
    sendsTo: [],
    schedules: false,
  },
  // Public and hit by every click: a function of its own, its bundle only the look-up, the
  // click's two writes and the redirect, so it starts fast and scales apart from the API.
  links: {
    id: 'links',
    purpose: 'Short links: GET /l/{code} redirects to the merchant URL and counts the click.',
    entry: 'functions/links/handler.ts',
    memoryMb: 256,
    timeoutSeconds: 5,
    tables: { messages: 'readWrite', metrics: 'readWrite' },
    sendsTo: [],
    schedules: false,
  },
};

/** Where EventBridge Scheduler keeps qunfa's one-time and recurring campaign schedules. */
export const scheduleGroup = {
  name: 'qunfa',
  targetQueue: 'start' satisfies QueueId,
  /** A start later than this after its scheduled time is marked missed, not fired. */
  missedStartToleranceSeconds: 15 * 60,
} as const;

/** API Gateway HTTP API routing: which function serves which paths. */
export const httpRoutes = [
  { path: '/callbacks/{proxy+}', functionId: 'callbacks' },
  { path: '/l/{code}', functionId: 'links' },
  { path: '/templates', functionId: 'planner' },
  { path: '/templates/{proxy+}', functionId: 'planner' },
  { path: '/campaigns', functionId: 'planner' },
  { path: '/campaigns/{proxy+}', functionId: 'planner' },
  { path: '/campaigns/{campaignId}/test-send', functionId: 'tester' },
  // On `$default`'s function too, named so that it has a route (and throttle) of its own.
  { path: '/events', functionId: 'api' },
  { path: '$default', functionId: 'api' },
] as const satisfies readonly { path: string; functionId: FunctionId }[];

/** The environment variable through which a function learns a table's physical name. */
export function tableEnvName(id: TableId): string {
  return `TABLE_${id.toUpperCase()}`;
}

/** The environment variable through which a function learns a queue's URL. */
export function queueEnvName(id: QueueId): string {
  return `QUEUE_${id.toUpperCase()}_URL`;
}

/**
 * The stack's public base URL (the HTTP API's), for the sender: the short-link domain of a
 * tenant without its own `linkDomain`.
 */
export const publicUrlEnv = 'QUNFA_PUBLIC_URL';

export const scheduleEnv = {
  group: 'SCHEDULE_GROUP',
  roleArn: 'SCHEDULER_ROLE_ARN',
  targetArn: 'SCHEDULE_TARGET_ARN',
} as const;

/** Which queue, if any, a function consumes. */
export function queueConsumedBy(functionId: FunctionId): QueueDefinition | undefined {
  return Object.values(queues).find((queue) => queue.consumer.functionId === functionId);
}

/** Attribute definitions a table needs: its keys and every index key, each once. */
export function attributeDefinitions(table: TableDefinition): { name: string; type: AttributeType }[] {
  const keys = [
    table.partitionKey,
    table.sortKey,
    ...table.globalIndexes.flatMap((i) => [i.partitionKey, i.sortKey]),
  ];
  const byName = new Map<string, AttributeType>();
  for (const key of keys) if (key) byName.set(key.name, key.type);
  return [...byName].map(([name, type]) => ({ name, type }));
}

export * from './bundling';
export * from './outputs';
