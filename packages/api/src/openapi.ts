import {
  attributeCondition,
  birthdayCondition,
  consentChoice,
  dateCondition,
  genderChoice,
  numberCondition,
  presenceTarget,
  presetNode,
  segmentDefinition,
  smsProviderIds,
  tagCondition,
  textChoice,
} from '@qunfa/domain';
import type { Route } from '@qunfa/http';
import * as z from 'zod';
import { memberApiRoutes, plannerRoutes, testerRoutes } from './app';

// The OpenAPI 3.1 document of the HTTP API, built from the routes' own zod schemas: every
// route of every function's router, plus the two functions that route by hand (provider
// callbacks, short links). Only the script (`npm run openapi`, docs/openapi.json) and the
// tests import this module: the functions serve the committed document (routes/openapi.ts),
// so nothing here is on a cold start.

/** The functions whose router this document covers, and the routes each serves. */
export type DocumentedFunction = 'api' | 'planner' | 'tester';

/** Routes need their dependencies only when they handle a request: listing them needs none. */
const unused = {} as never;

/** Every router-served route of the HTTP API, by the function that serves it. */
export function routesByFunction(): Record<DocumentedFunction, readonly Route[]> {
  return {
    api: memberApiRoutes({
      tenancy: unused,
      members: unused,
      segments: unused,
      imports: unused,
      tagJobs: unused,
      replyRules: unused,
      conversions: unused,
      openApi: unused,
    }),
    planner: plannerRoutes({ tenancy: unused, templates: unused, campaigns: unused, runMessages: unused }),
    tester: testerRoutes({ tenancy: unused, testSends: unused }),
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface SuccessDoc {
  readonly status: number;
  readonly description: string;
  /** A CSV body (text/csv) instead of JSON. */
  readonly csv?: boolean;
  readonly example?: Json;
}

interface OperationDoc {
  readonly ok: readonly SuccessDoc[];
  /** The route answers 409 (an illegal move, a newer version, a duplicate). */
  readonly conflict?: boolean;
  readonly example?: Json;
}

const page = (what: string): SuccessDoc => ({
  status: 200,
  description: `A page of ${what}: \`items\`, and \`cursor\` for the next page while there is one.`,
});
const deleted = (what: string): SuccessDoc => ({ status: 204, description: `${what}; no body.` });

/**
 * What each route answers when it succeeds, keyed `METHOD path`. A route without an entry
 * fails the build (and so the test): a new route is documented when it is added.
 */
const operations: Record<string, OperationDoc> = {
  'GET /me': {
    ok: [
      {
        status: 200,
        description: "The calling key's tenant and role.",
        example: { tenantId: 'acme', tenantName: 'Acme Tea', role: 'admin', keyId: 'k7Hq2Lm9Xz4B' },
      },
    ],
  },
  'GET /tenant': { ok: [{ status: 200, description: "The tenant's settings." }] },
  'PATCH /tenant': { ok: [{ status: 200, description: "The tenant's settings as changed." }] },
  'GET /keys': { ok: [{ status: 200, description: "`items`: the tenant's API keys, without secrets." }] },
  'POST /keys': {
    ok: [
      {
        status: 201,
        description: 'The key issued; `apiKey` is shown this once.',
        example: {
          keyId: 'k7Hq2Lm9Xz4B',
          name: 'POS sync',
          role: 'marketer',
          createdAt: '2025-01-15T08:00:00.000Z',
          apiKey: 'qk_k7Hq2Lm9Xz4B_…',
        },
      },
    ],
    example: { name: 'POS sync', role: 'marketer' },
  },
  'DELETE /keys/{keyId}': { ok: [deleted('The key is revoked')] },
  'PUT /members/{memberId}': {
    ok: [
      { status: 201, description: '`result: created` and the member.' },
      { status: 200, description: '`result: updated` or `unchanged`, and the member.' },
    ],
    conflict: true,
    example: {
      phone: '13800138000',
      name: '王小明',
      tier: 'gold',
      tags: ['vip'],
      consent: { status: 'granted', at: '2025-01-15T08:00:00.000Z', source: 'store' },
    },
  },
  'GET /members/{memberId}': { ok: [{ status: 200, description: 'The member, with `optedOut`.' }] },
  'PATCH /members/{memberId}': {
    ok: [{ status: 200, description: '`result` and the member as changed.' }],
    conflict: true,
  },
  'DELETE /members/{memberId}': { ok: [deleted('The member is erased')] },
  'GET /members': { ok: [page('members, each with `optedOut`')] },
  'POST /members/tags': {
    ok: [
      { status: 200, description: 'The listed members tagged: how many changed.' },
      { status: 202, description: 'A tag job over the segment: follow it at GET /members/tags/{jobId}.' },
    ],
    example: { add: ['spring-sale'], remove: [], segmentId: 'seg_3kTqZ8bW1xYv' },
  },
  'GET /members/tags/{jobId}': { ok: [{ status: 200, description: 'The tag job.' }] },
  'GET /opt-outs': { ok: [page('opt-outs (phones masked)')] },
  'GET /opt-outs/export': {
    ok: [
      {
        status: 200,
        csv: true,
        description:
          'One part of the export as CSV (UTF-8 with BOM); the `x-next-cursor` header names the next part.',
      },
    ],
  },
  'GET /opt-outs/{phone}': {
    ok: [{ status: 200, description: 'Whether the number is opted out, and since when.' }],
  },
  'POST /opt-outs': {
    ok: [
      { status: 201, description: '`result: created` and the opt-out.' },
      { status: 200, description: '`result: existing`: the number was already opted out.' },
    ],
  },
  'DELETE /opt-outs/{phone}': { ok: [deleted('The number is re-subscribed')], conflict: true },
  'POST /segments': { ok: [{ status: 201, description: 'The saved segment.' }] },
  'GET /segments': { ok: [page('saved segments')] },
  'GET /segments/{segmentId}': { ok: [{ status: 200, description: 'The saved segment.' }] },
  'PATCH /segments/{segmentId}': { ok: [{ status: 200, description: 'The segment as changed.' }] },
  'DELETE /segments/{segmentId}': { ok: [deleted('The segment is deleted')] },
  'POST /segments/preview': {
    ok: [{ status: 200, description: 'Matched, suppressed by reason, eligible, and a masked sample.' }],
    example: {
      definition: { and: [{ tier: { in: ['gold'] } }, { lastPurchaseAt: { moreThanDaysAgo: 60 } }] },
      sampleSize: 5,
    },
  },
  'POST /imports': {
    ok: [{ status: 201, description: 'The import, waiting for its parts.' }],
    example: { name: 'members-2025-01.csv', format: 'csv', encoding: 'auto' },
  },
  'PUT /imports/{importId}/parts/{part}': { ok: [{ status: 200, description: 'The part as received.' }] },
  'POST /imports/{importId}/start': {
    ok: [{ status: 202, description: 'The import, queued.' }],
    conflict: true,
  },
  'GET /imports/{importId}': {
    ok: [{ status: 200, description: 'The import: state, progress and report.' }],
  },
  'GET /imports': { ok: [page('imports')] },
  'GET /reply-rules': { ok: [{ status: 200, description: 'The reply rules.' }] },
  'PUT /reply-rules': { ok: [{ status: 200, description: 'The reply rules as stored.' }] },
  'POST /events': {
    ok: [
      { status: 201, description: '`result: recorded`, the conversion and its attribution (or null).' },
      { status: 200, description: '`result: duplicate`: this eventId was reported before and counts once.' },
    ],
    conflict: true,
  },
  'GET /openapi.json': { ok: [{ status: 200, description: 'This document.' }] },
  'POST /templates': {
    ok: [{ status: 201, description: 'The template, an example message and hints.' }],
    example: {
      name: '会员日',
      category: 'marketing',
      locale: 'zh-CN',
      body: '{{name}}您好，本周六会员日全场8折，回TD退订',
    },
  },
  'GET /templates': { ok: [page('templates')] },
  'GET /templates/starter': { ok: [{ status: 200, description: '`items`: the starter templates.' }] },
  'GET /templates/{templateId}': { ok: [{ status: 200, description: 'The template.' }] },
  'PUT /templates/{templateId}': {
    ok: [{ status: 200, description: 'The template as replaced.' }],
    conflict: true,
  },
  'DELETE /templates/{templateId}': { ok: [deleted('The template is deleted')], conflict: true },
  'POST /templates/{templateId}/preview': {
    ok: [{ status: 200, description: 'Samples, parts, suppressed members by reason and cost.' }],
  },
  'POST /campaigns': { ok: [{ status: 201, description: 'The draft campaign.' }] },
  'GET /campaigns': { ok: [page('campaigns')] },
  'GET /campaigns/{campaignId}': {
    ok: [{ status: 200, description: "The campaign and its latest run's progress." }],
  },
  'GET /campaigns/{campaignId}/runs': { ok: [page('runs, newest first')] },
  'PATCH /campaigns/{campaignId}': {
    ok: [{ status: 200, description: 'The draft as changed.' }],
    conflict: true,
  },
  'DELETE /campaigns/{campaignId}': { ok: [deleted('The draft is deleted')], conflict: true },
  'POST /campaigns/{campaignId}/schedule': {
    ok: [{ status: 200, description: 'The campaign, scheduled.' }],
    conflict: true,
  },
  'POST /campaigns/{campaignId}/pause': {
    ok: [{ status: 200, description: 'The campaign, paused.' }],
    conflict: true,
  },
  'POST /campaigns/{campaignId}/resume': {
    ok: [{ status: 200, description: 'The campaign, resumed.' }],
    conflict: true,
  },
  'POST /campaigns/{campaignId}/cancel': {
    ok: [{ status: 200, description: 'The campaign, cancelled.' }],
    conflict: true,
  },
  'GET /campaigns/{campaignId}/report': {
    ok: [{ status: 200, description: 'The report as JSON, or as CSV (UTF-8 with BOM) with `format=csv`.' }],
  },
  'GET /campaigns/{campaignId}/messages': { ok: [page("the run's messages (phones masked)")] },
  'POST /campaigns/{campaignId}/retry-failed': {
    ok: [{ status: 202, description: 'The run started for the failed members.' }],
    conflict: true,
  },
  'POST /campaigns/{campaignId}/test-send': {
    ok: [{ status: 200, description: "Each number's status, provider message id, parts and text." }],
    conflict: true,
    example: { phones: ['13800138000'], values: { name: '测试' } },
  },
};

// ── schemas ────────────────────────────────────────────────────────────────────────────

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });

/**
 * The segment language, parsed by hand in the domain (segments/definition.ts), as JSON
 * Schema: a node is an object with exactly one key that names what it tests.
 */
const segmentLeaves: Record<string, z.ZodType> = {
  tags: tagCondition,
  tier: textChoice,
  store: textChoice,
  gender: genderChoice,
  consent: consentChoice,
  points: numberCondition,
  totalSpend: numberCondition,
  purchaseCount: numberCondition,
  firstPurchaseAt: dateCondition,
  lastPurchaseAt: dateCondition,
  joinedAt: dateCondition,
  birthday: birthdayCondition,
  attribute: attributeCondition,
  has: presenceTarget,
  missing: presenceTarget,
};

/** The node kinds this document describes (the test compares them with the domain's). */
export const documentedSegmentNodeKinds = ['and', 'or', 'not', ...Object.keys(segmentLeaves), 'preset'];

function segmentDefinitionSchema(): JsonObject {
  const node = ref('SegmentDefinition');
  const single = (key: string, value: Json): JsonObject => ({
    type: 'object',
    properties: { [key]: value },
    required: [key],
    additionalProperties: false,
  });
  return {
    description:
      'A segment: a tree of `and` / `or` / `not` over conditions on a member; each node is an object with exactly one key naming what it tests (or a `preset` with its `params`).',
    oneOf: [
      single('and', { type: 'array', items: node, minItems: 1 }),
      single('or', { type: 'array', items: node, minItems: 1 }),
      single('not', node),
      ...Object.entries(segmentLeaves).map(([key, schema]) => single(key, toSchema(schema, 'input'))),
      toSchema(presetNode, 'input'),
    ],
    examples: [{ and: [{ tier: { in: ['gold'] } }, { lastPurchaseAt: { moreThanDaysAgo: 60 } }] }],
  };
}

/** Zod schemas the document names once and refers to, instead of repeating them inline. */
const substitutes = new Map<unknown, JsonObject>([[segmentDefinition, ref('SegmentDefinition')]]);

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const converted = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const substitute = substitutes.get(zodSchema);
      if (!substitute) return;
      for (const key of Object.keys(jsonSchema)) delete (jsonSchema as Record<string, unknown>)[key];
      Object.assign(jsonSchema, substitute);
    },
  }) as JsonObject;
  const { $schema: _dialect, ...rest } = converted;
  if ('$defs' in rest || JSON.stringify(rest).includes('"$ref":"#')) {
    // A recursive schema refers into itself; give it a name (as SegmentDefinition has) first.
    const refs = JSON.stringify(rest).match(/"\$ref":"#[^"]*"/g) ?? [];
    if (refs.some((r) => !r.startsWith('"$ref":"#/components/schemas/')))
      throw new Error(`A schema refers to itself (${refs.join(', ')}): name it in substitutes.`);
  }
  return rest;
}

// ── errors ─────────────────────────────────────────────────────────────────────────────

const errorSchema: JsonObject = {
  type: 'object',
  description: 'Every error qunfa answers (packages/http/src/errors.ts).',
  properties: {
    code: {
      type: 'string',
      description: 'What went wrong, for programs: `validation_failed`, `unauthorized`, `not_found` …',
    },
    message: { type: 'string', description: 'What went wrong and what to do, for people.' },
    requestId: { type: 'string', description: 'Quote it if you contact support.' },
    problems: {
      type: 'array',
      description: 'With 400: every problem of the request, each at its path.',
      items: ref('Problem'),
    },
  },
  required: ['code', 'message', 'requestId'],
};

const problemSchema: JsonObject = {
  type: 'object',
  properties: {
    path: { type: 'string', description: 'Where: `body.phone`, `query.limit`, `path.memberId` …' },
    message: { type: 'string' },
  },
  required: ['path', 'message'],
};

const gatewayErrorSchema: JsonObject = {
  type: 'object',
  description: 'An answer of API Gateway itself, before any function runs.',
  properties: { message: { type: 'string' } },
  required: ['message'],
};

const errorExample = (code: string, message: string, extra: JsonObject = {}): JsonObject => ({
  code,
  message,
  requestId: 'Zx8aQjL2oAMEbXw=',
  ...extra,
});

/** The standard error responses, referred to by every operation they apply to. */
const errorResponses: Record<string, JsonObject> = {
  BadRequest: {
    description: 'The request is not valid: `problems` lists every problem with its path.',
    content: {
      'application/json': {
        schema: ref('Error'),
        example: errorExample('validation_failed', 'The request is not valid.', {
          problems: [
            { path: 'body.phone', message: 'not a valid phone number' },
            { path: 'query.limit', message: 'Too big: expected number to be <=500' },
          ],
        }),
      },
    },
  },
  Unauthorized: {
    description: 'No API key, or one that is unknown or revoked (`www-authenticate: Bearer`).',
    content: {
      'application/json': {
        schema: ref('Error'),
        example: errorExample('unauthorized', 'Send an API key: Authorization: Bearer qk_….'),
      },
    },
  },
  Forbidden: {
    description: "The key's role is below the one the route needs.",
    content: {
      'application/json': {
        schema: ref('Error'),
        example: errorExample('forbidden', 'This needs the admin role; the key used has the viewer role.'),
      },
    },
  },
  NotFound: {
    description: 'Nothing of the tenant at this id.',
    content: { 'application/json': { schema: ref('Error') } },
  },
  Conflict: {
    description: 'The state forbids it now (an illegal move, a newer version, something in use).',
    content: { 'application/json': { schema: ref('Error') } },
  },
  PayloadTooLarge: {
    description: 'The body is larger than the limit.',
    content: { 'application/json': { schema: { oneOf: [ref('Error'), ref('GatewayError')] } } },
  },
  UnsupportedMediaType: {
    description: 'The Content-Type is not one this route accepts.',
    content: { 'application/json': { schema: ref('Error') } },
  },
  TooManyRequests: {
    description: "Over the route's throttle: wait and retry.",
    content: {
      'application/json': { schema: ref('GatewayError'), example: { message: 'Too Many Requests' } },
    },
  },
  InternalError: {
    description: 'Something went wrong on our side; retry, or quote the request id.',
    content: {
      'application/json': {
        schema: ref('Error'),
        example: errorExample(
          'internal_error',
          'Something went wrong on our side. Quote the request id if you contact support.',
        ),
      },
    },
  },
};

const responseRef = (name: string): JsonObject => ({ $ref: `#/components/responses/${name}` });

// ── operations ─────────────────────────────────────────────────────────────────────────

const tags: { name: string; description: string }[] = [
  { name: 'Tenant and keys', description: 'Who am I, the tenant’s settings, API keys.' },
  { name: 'Members', description: 'Members and their tags.' },
  { name: 'Opt-outs', description: 'The opt-out list.' },
  { name: 'Imports', description: 'Member imports from CSV or JSON Lines files.' },
  { name: 'Segments', description: 'Saved segments and audience previews.' },
  { name: 'Templates', description: 'Message templates and their previews.' },
  { name: 'Campaigns', description: 'Campaigns and their lifecycle.' },
  { name: 'Reports', description: "A campaign's results: reports, messages, retries." },
  { name: 'Replies and events', description: 'Reply rules and conversions reported by the merchant.' },
  { name: 'Provider callbacks', description: 'Delivery receipts and replies from SMS providers.' },
  { name: 'Short links', description: 'The short links in messages.' },
  { name: 'Meta', description: 'This document.' },
];

function tagOf(path: string): string {
  if (/^\/campaigns\/\{campaignId\}\/(report|messages|retry-failed)$/.test(path)) return 'Reports';
  const area = path.split('/')[1] ?? '';
  const byArea: Record<string, string> = {
    me: 'Tenant and keys',
    tenant: 'Tenant and keys',
    keys: 'Tenant and keys',
    members: 'Members',
    'opt-outs': 'Opt-outs',
    imports: 'Imports',
    segments: 'Segments',
    templates: 'Templates',
    campaigns: 'Campaigns',
    'reply-rules': 'Replies and events',
    events: 'Replies and events',
    'openapi.json': 'Meta',
  };
  const tag = byArea[area];
  if (!tag) throw new Error(`No tag for ${path}: add its area to tagOf.`);
  return tag;
}

/** `GET /campaigns/{campaignId}/runs` → `getCampaignsCampaignIdRuns`. */
function operationId(method: string, path: string): string {
  const words = path
    .split('/')
    .flatMap((segment) => segment.replace(/[{}]/g, '').split(/[^0-9A-Za-z]+/))
    .filter(Boolean);
  return method.toLowerCase() + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonObject[] {
  if (!schema) return [];
  const object = toSchema(schema, 'input');
  const properties = (object.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((object.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

function successResponses(doc: OperationDoc): Record<string, JsonObject> {
  return Object.fromEntries(
    [...doc.ok]
      .sort((a, b) => a.status - b.status)
      .map((ok) => {
        if (ok.status === 204) return [String(ok.status), { description: ok.description }];
        const content: JsonObject = ok.csv
          ? { 'text/csv': { schema: { type: 'string' } } }
          : {
              'application/json': {
                schema: { type: 'object' },
                ...(ok.example ? { example: ok.example } : {}),
              },
            };
        return [String(ok.status), { description: ok.description, content }];
      }),
  );
}

function routeOperation(
  route: Route,
  fn: DocumentedFunction,
  bodies: Record<string, JsonObject>,
): JsonObject {
  const key = `${route.method} ${route.path}`;
  const doc = operations[key];
  if (!doc)
    throw new Error(`${key} has no entry in the OpenAPI operations table (packages/api/src/openapi.ts).`);
  const id = operationId(route.method, route.path);
  const isPublic = route.public === true;
  const hasInput = Boolean(route.params || route.query || route.body || route.rawBody);
  const hasBody = Boolean(route.body || route.rawBody);

  let requestBody: JsonObject | undefined;
  if (route.body) {
    const name = `${id.charAt(0).toUpperCase()}${id.slice(1)}Body`;
    bodies[name] = toSchema(route.body, 'input');
    const optional = route.body.safeParse(undefined).success;
    requestBody = {
      required: !optional,
      content: {
        'application/json': { schema: ref(name), ...(doc.example ? { example: doc.example } : {}) },
      },
    };
  } else if (route.rawBody) {
    requestBody = {
      required: true,
      content: Object.fromEntries(
        route.rawBody.map((type) => [type, { schema: { type: 'string', contentMediaType: type } }]),
      ),
    };
  }

  const responses: Record<string, JsonObject> = {
    ...successResponses(doc),
    ...(hasInput ? { '400': responseRef('BadRequest') } : {}),
    ...(isPublic ? {} : { '401': responseRef('Unauthorized'), '403': responseRef('Forbidden') }),
    ...(route.params || !isPublic ? { '404': responseRef('NotFound') } : {}),
    ...(doc.conflict ? { '409': responseRef('Conflict') } : {}),
    ...(hasBody ? { '413': responseRef('PayloadTooLarge'), '415': responseRef('UnsupportedMediaType') } : {}),
    '429': responseRef('TooManyRequests'),
    '500': responseRef('InternalError'),
  };
  const parameters = [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query')];
  return {
    operationId: id,
    summary: route.summary,
    description: isPublic
      ? 'Public: no API key.'
      : `Needs an API key with the ${route.role} role or above. Served by the \`${fn}\` function.`,
    tags: [tagOf(route.path)],
    ...(isPublic ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
    'x-qunfa-function': fn,
    'x-qunfa-role': isPublic ? 'public' : route.role,
  };
}

/** The operations of the functions that route by hand: provider callbacks and short links. */
function handRoutedOperations(): Record<string, Record<string, JsonObject>> {
  const provider: JsonObject = {
    name: 'provider',
    in: 'path',
    required: true,
    description: 'The SMS provider (AWS End User Messaging publishes to SNS instead).',
    schema: { type: 'string', enum: smsProviderIds.filter((id) => id !== 'aws') },
  };
  const account: JsonObject = {
    name: 'account',
    in: 'path',
    required: true,
    description: "The tenant's provider account, as its callback URL names it.",
    schema: { type: 'string', maxLength: 100 },
  };
  const callback = (kind: string, suffix: string): JsonObject => ({
    operationId: `postCallbacks${suffix}`,
    summary: `A provider's ${kind}, verified by the provider's own signature or URL token, then queued.`,
    description:
      "Public: no API key; each provider's signature (HMAC, URL token, Twilio signature) is checked instead. Served by the `callbacks` function; see docs/callbacks.md.",
    tags: ['Provider callbacks'],
    security: [],
    parameters: [provider, account],
    requestBody: {
      required: true,
      description: "The provider's own format (JSON, or form-encoded for Twilio), up to 256 KB.",
      content: {
        'application/json': { schema: { type: 'object' } },
        'application/x-www-form-urlencoded': { schema: { type: 'object' } },
      },
    },
    responses: {
      '200': { description: "Accepted: the provider's own success answer." },
      '400': responseRef('BadRequest'),
      '401': {
        description: 'The signature or token does not verify.',
        content: { 'application/json': { schema: ref('Error') } },
      },
      '404': responseRef('NotFound'),
      '413': responseRef('PayloadTooLarge'),
      '415': responseRef('UnsupportedMediaType'),
      '500': {
        description: 'The events could not be queued: the provider retries.',
        content: { 'application/json': { schema: ref('Error') } },
      },
    },
    'x-qunfa-function': 'callbacks',
    'x-qunfa-role': 'public',
  });
  const html = { 'text/html': { schema: { type: 'string' } } };
  return {
    '/callbacks/{provider}/{account}': { post: callback('delivery receipts and replies', 'ProviderAccount') },
    '/callbacks/{provider}/{account}/receipts': {
      post: callback('delivery receipts', 'ProviderAccountReceipts'),
    },
    '/callbacks/{provider}/{account}/replies': { post: callback('replies', 'ProviderAccountReplies') },
    '/l/{code}': {
      get: {
        operationId: 'getShortLink',
        summary: "A short link in a message: 302 to the merchant's URL, the click counted.",
        description: 'Public: no API key. Served by the `links` function (HEAD answers the same).',
        tags: ['Short links'],
        security: [],
        parameters: [{ name: 'code', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '302': {
            description: "To the merchant's URL (`cache-control: no-store`, `referrer-policy: no-referrer`).",
            headers: { location: { schema: { type: 'string', format: 'uri' } } },
          },
          '404': { description: 'No such link: a small page.', content: html },
          '405': { description: 'Not GET or HEAD.', content: html },
          '410': { description: 'The link has expired: a small page.', content: html },
          '503': { description: 'The look-up failed: a small page; try again.', content: html },
        },
        'x-qunfa-function': 'links',
        'x-qunfa-role': 'public',
      },
    },
  };
}

/** Sorts object keys at every depth, so that the written document diffs line by line. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

/** The OpenAPI 3.1 document of the whole HTTP API. */
export function buildOpenApiDocument(): JsonObject {
  const bodies: Record<string, JsonObject> = {};
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const [fn, routes] of Object.entries(routesByFunction()) as [DocumentedFunction, readonly Route[]][]) {
    for (const route of routes) {
      const item = paths[route.path] ?? {};
      paths[route.path] = item;
      const method = route.method.toLowerCase();
      if (item[method]) throw new Error(`${route.method} ${route.path} is served twice.`);
      item[method] = routeOperation(route, fn, bodies);
    }
  }
  Object.assign(paths, handRoutedOperations());
  const document = {
    openapi: '3.1.0',
    info: {
      title: 'qunfa HTTP API',
      version: '0.1.0',
      description:
        'Member SMS campaigns for retail chains and membership businesses. Authenticate with an API key: `Authorization: Bearer qk_…` (create one with `npm run admin`). Every error has the same shape: `code`, `message`, `requestId` and, for 400, `problems` at their paths. A method a path does not take answers 405 with `allow`. Generated from the routes’ zod schemas by `npm run openapi`.',
    },
    servers: [
      {
        url: '{endpoint}',
        description: 'Your stack’s HTTP API endpoint (a stack output), or the local stack’s.',
        variables: { endpoint: { default: 'http://localhost:3000' } },
      },
    ],
    security: [{ apiKey: [] }],
    tags,
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'qunfa API key',
          description:
            'An API key of the tenant (`qk_…`); its role (viewer, marketer, admin) limits the routes.',
        },
      },
      schemas: {
        ...bodies,
        SegmentDefinition: segmentDefinitionSchema(),
        Error: errorSchema,
        Problem: problemSchema,
        GatewayError: gatewayErrorSchema,
      },
      responses: errorResponses,
    },
  };
  return sortKeys(document) as JsonObject;
}

/** The document as docs/openapi.json holds it. */
export function openApiText(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}
