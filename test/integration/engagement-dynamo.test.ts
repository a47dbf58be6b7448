import { randomBytes } from 'node:crypto';
import {
  campaignStore,
  conversionDeps,
  createLinkHandler,
  createLogger as createQunfaLogger,
  DynamoMemberStore,
  DynamoMessageActivityStore,
  DynamoMessageStore,
  DynamoOptOutStore,
  DynamoRunCounters,
  DynamoRunStore,
  DynamoShortLinkStore,
  DynamoTenantStore,
  linkDeps,
  SqsClient,
  senderDeps,
  templateStore,
} from '@qunfa/aws';
import {
  type Campaign,
  type CampaignRun,
  conversionInput,
  type Member,
  recordConversion,
  recordDelivered,
  runIdFor,
  type SendMessage,
  segmentRun,
  startSendSession,
  type Tenant,
  tenantSettings,
} from '@qunfa/domain';
import { createLogger, type ProviderSimulator, startProviderSimulator } from '@qunfa/local';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { type LocalDynamo, localCredentials, localRegion, startLocalDynamo } from '../support/local';

// Short links and conversions on DynamoDB Local with the provider simulator: the sender
// renders {{link}} into a per-message short link (written before the send), GET /l/{code}
// goes through the links function's handler, and POST /events' use case attributes
// conversions to the clicked or delivered message's run and variant.

let dynamo: LocalDynamo;
let simulator: ProviderSimulator;

beforeAll(async () => {
  [dynamo, simulator] = await Promise.all([
    startLocalDynamo(),
    startProviderSimulator({
      config: { seed: 7, rateLimit: { partsPerSecond: null }, receipts: { enabled: false } },
      logger: createLogger({ component: 'simulator', level: 'SILENT' }),
    }),
  ]);
});

afterAll(async () => {
  await simulator?.stop();
  await dynamo?.stop();
});

const hour = 3_600_000;
/** Tomorrow 02:00 UTC: 10:00 in Shanghai, inside the send window (and TTLs in the future). */
const start = (Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000 + 2 * hour;
const iphone =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const linkDomain = 'https://s.acme.test';

const sentMessages = z.object({
  messages: z.array(z.looseObject({ to: z.string(), text: z.string().optional() })),
});

interface Sent {
  readonly tenant: Tenant;
  readonly campaign: Campaign;
  readonly run: CampaignRun;
  readonly members: readonly Member[];
  /** The code each member's message carries, from the text the simulator received. */
  readonly codes: ReadonlyMap<string, string>;
  readonly texts: ReadonlyMap<string, string>;
}

/** A two-variant campaign with {{link}} to `size` members, sent through the sender. */
async function sendCampaign({ size }: { size: number }): Promise<Sent> {
  const client = dynamo.documentClient;
  const tables = dynamo.tableNames;
  const now = () => new Date(start);
  const created = now().toISOString();
  const tenantId = `t-${randomBytes(4).toString('hex')}`;
  const tenant: Tenant = {
    tenantId,
    createdAt: created,
    ...tenantSettings.parse({ name: '好又多', signature: '好又多', linkDomain }),
  };
  await new DynamoTenantStore({ client, tableName: tables.tenants }).createTenant(tenant);
  const prefix = 1000 + Math.floor(Math.random() * 8_000);
  const members = Array.from(
    { length: size },
    (_, i): Member => ({
      memberId: `M${String(i).padStart(4, '0')}`,
      phone: `+86137${prefix}${String(i).padStart(4, '0')}`,
      phoneStatus: 'valid',
      tags: [],
      consent: { status: 'granted' },
      name: `会员${i}`,
      createdAt: created,
      updatedAt: created,
    }),
  );
  const memberStore = new DynamoMemberStore({ client, tableName: tables.members });
  await memberStore.put(
    tenantId,
    members.map((member) => ({ member, expectedUpdatedAt: null })),
  );
  const templates = templateStore({ client, tableName: tables.campaigns });
  const templateId = `tpl_${randomBytes(6).toString('hex')}`;
  await templates.create(tenantId, templateId, {
    templateId,
    name: '双11',
    category: 'marketing',
    body: '{{name}}您好，双11全场8折：{{link}}',
    variables: [],
    locale: 'zh-CN',
    createdAt: created,
    updatedAt: created,
  });
  const campaign: Campaign = {
    campaignId: `cmp_${randomBytes(6).toString('hex')}`,
    name: '双11会员日',
    category: 'marketing',
    audience: { memberIds: members.map((member) => member.memberId) },
    content: {
      variants: [
        { variantId: 'A', templateId, percent: 50, link: 'https://shop.acme.test/sale?v=a' },
        { variantId: 'B', templateId, percent: 50, link: 'https://shop.acme.test/sale?v=b' },
      ],
    },
    schedule: { kind: 'now' },
    sendWindow: { start: '09:00', end: '20:00', outside: 'hold' },
    holdoutPercent: 0,
    state: 'running',
    createdAt: created,
    updatedAt: created,
  };
  await campaignStore({ client, tableName: tables.campaigns }).create(
    tenantId,
    campaign.campaignId,
    campaign,
  );
  const run: CampaignRun = {
    campaignId: campaign.campaignId,
    runId: runIdFor(created),
    scheduledAt: created,
    receivedAt: created,
    startedAt: created,
    state: 'running',
    pauses: [],
    createdAt: created,
    updatedAt: created,
  };
  await new DynamoRunStore({ client, tableName: tables.campaigns }).create(tenantId, run);
  const sends: SendMessage[] = [];
  await segmentRun(
    {
      members: memberStore,
      optOuts: new DynamoOptOutStore({ client, tableName: tables.suppressions }),
      messages: new DynamoMessageStore({ client, tableName: tables.messages }),
      counters: new DynamoRunCounters({ client, tableName: tables.metrics }),
      enqueueSends: async (batch) => {
        sends.push(...batch);
      },
      now,
    },
    {
      tenant,
      campaignId: campaign.campaignId,
      runId: run.runId,
      category: 'marketing',
      audience: { memberIds: members.map((member) => member.memberId) },
      holdoutPercent: 0,
      variants: [
        { variantId: 'A', percent: 50 },
        { variantId: 'B', percent: 50 },
      ],
      deadline: new Date(start + 60_000),
    },
  );
  const deps = {
    ...senderDeps({
      client,
      sqs: new SqsClient({
        region: localRegion,
        endpoint: 'http://127.0.0.1:9',
        credentials: localCredentials,
      }),
      config: { table: (id) => tables[id], queueUrl: () => 'http://127.0.0.1:9/000000000000/unused' },
      env: { PROVIDER_SIMULATOR_URL: simulator.url },
    }),
    now,
    requeue: async () => undefined,
  };
  const session = startSendSession(deps, { deadline: new Date(start + 45_000) });
  for (const send of sends) if (send.type === 'send.batch') await session.process(send);
  await session.close();

  const codes = new Map<string, string>();
  const texts = new Map<string, string>();
  for (const member of members) {
    const response = await fetch(`${simulator.url}/admin/messages?phone=${encodeURIComponent(member.phone)}`);
    const [message] = sentMessages.parse(await response.json()).messages;
    const text = message?.text ?? '';
    texts.set(member.memberId, text);
    const code = new RegExp(`${linkDomain}/l/([0-9A-Za-z]+)`).exec(text)?.[1];
    if (code) codes.set(member.memberId, code);
  }
  return { tenant, campaign, run, members, codes, texts };
}

function linkEvent(code: string, { method = 'GET', userAgent = iphone } = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'ANY /l/{code}',
    rawPath: `/l/${code}`,
    rawQueryString: '',
    headers: userAgent === '' ? {} : { 'user-agent': userAgent },
    pathParameters: { code },
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: `/l/${code}`, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent },
      requestId: randomBytes(6).toString('hex'),
      routeKey: 'ANY /l/{code}',
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
  };
}

function linkHandler(now = () => new Date(start + hour)) {
  const deps = linkDeps({ client: dynamo.documentClient, config: { table: (id) => dynamo.tableNames[id] } });
  return createLinkHandler({
    deps: { ...deps, now },
    logger: createQunfaLogger({ service: 'test', level: 'SILENT' }),
  });
}

async function clickCounts(sent: Sent) {
  const counters = new DynamoRunCounters({
    client: dynamo.documentClient,
    tableName: dynamo.tableNames.metrics,
  });
  return counters.read(sent.tenant.tenantId, sent.campaign.campaignId, sent.run.runId, { consistent: true });
}

describe('short links', () => {
  let sent: Sent;
  beforeAll(async () => {
    sent = await sendCampaign({ size: 4 });
  });

  it('gives each message its own code on the tenant domain, stored with the message and the variant URL', async () => {
    const store = new DynamoShortLinkStore({
      client: dynamo.documentClient,
      tableName: dynamo.tableNames.messages,
    });
    const records = new DynamoMessageStore({
      client: dynamo.documentClient,
      tableName: dynamo.tableNames.messages,
    });

    expect(sent.codes.size).toBe(4);
    expect(new Set(sent.codes.values()).size).toBe(4);
    for (const member of sent.members) {
      const code = sent.codes.get(member.memberId) ?? '';
      const record = await records.get(sent.tenant.tenantId, sent.run.runId, member.memberId);
      const link = await store.get(code);
      expect(code).toMatch(/^[0-9A-Za-z]{8}$/);
      expect(record?.state).toBe('sent');
      expect(link).toEqual({
        code,
        tenantId: sent.tenant.tenantId,
        campaignId: sent.campaign.campaignId,
        runId: sent.run.runId,
        memberId: member.memberId,
        variantId: record?.variantId,
        url: `https://shop.acme.test/sale?v=${record?.variantId?.toLowerCase()}`,
        expiresAt: new Date(start + 90 * 86_400_000).toISOString(),
      });
    }
  });

  it('counts the message in parts with the real link in its text', async () => {
    const records = new DynamoMessageStore({
      client: dynamo.documentClient,
      tableName: dynamo.tableNames.messages,
    });
    const member = sent.members[0];
    const record = await records.get(sent.tenant.tenantId, sent.run.runId, member?.memberId ?? '');

    expect(sent.texts.get(member?.memberId ?? '')).toContain(
      `${linkDomain}/l/${sent.codes.get(member?.memberId ?? '')}`,
    );
    expect(record?.parts).toBe(1);
  });

  it('answers 302 to the stored URL and counts clicks once per message and in total, per variant', async () => {
    const handler = linkHandler();
    const [m0, m1] = sent.members;
    const code0 = sent.codes.get(m0?.memberId ?? '') ?? '';
    const code1 = sent.codes.get(m1?.memberId ?? '') ?? '';
    const records = new DynamoMessageStore({
      client: dynamo.documentClient,
      tableName: dynamo.tableNames.messages,
    });
    const v0 = (await records.get(sent.tenant.tenantId, sent.run.runId, m0?.memberId ?? ''))?.variantId ?? '';

    const first = (await handler(linkEvent(code0))) as APIGatewayProxyStructuredResultV2;
    await handler(linkEvent(code0));
    await handler(linkEvent(code1));
    const counts = await clickCounts(sent);

    expect(first.statusCode).toBe(302);
    expect(first.headers?.location).toBe(`https://shop.acme.test/sale?v=${v0.toLowerCase()}`);
    expect(counts.total.clicks).toBe(3);
    expect(counts.total.uniqueClicks).toBe(2);
    expect(counts.byVariant[v0]?.clicks).toBeGreaterThanOrEqual(2);
    const variantClicks = Object.values(counts.byVariant).reduce((sum, c) => sum + c.clicks, 0);
    expect(variantClicks).toBe(3);
  });

  it('redirects a HEAD and a preview bot without counting them', async () => {
    const handler = linkHandler();
    const code = sent.codes.get(sent.members[2]?.memberId ?? '') ?? '';
    const before = (await clickCounts(sent)).total;

    const head = (await handler(linkEvent(code, { method: 'HEAD' }))) as APIGatewayProxyStructuredResultV2;
    const bot = (await handler(
      linkEvent(code, {
        userAgent: 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
      }),
    )) as APIGatewayProxyStructuredResultV2;
    const after = (await clickCounts(sent)).total;

    expect([head.statusCode, bot.statusCode]).toEqual([302, 302]);
    expect(after.clicks).toBe(before.clicks);
    expect(after.uniqueClicks).toBe(before.uniqueClicks);
  });

  it('answers 410 with a page once the link has expired, 404 for an unknown code, 405 for a POST', async () => {
    const code = sent.codes.get(sent.members[3]?.memberId ?? '') ?? '';
    const later = linkHandler(() => new Date(start + 91 * 86_400_000));
    const handler = linkHandler();

    const expired = (await later(linkEvent(code))) as APIGatewayProxyStructuredResultV2;
    const unknown = (await handler(linkEvent('Zz9Zz9Zz'))) as APIGatewayProxyStructuredResultV2;
    const post = (await handler(linkEvent(code, { method: 'POST' }))) as APIGatewayProxyStructuredResultV2;

    expect(expired.statusCode).toBe(410);
    expect(expired.headers?.['content-type']).toMatch(/text\/html/);
    expect(expired.body).toContain('expired');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).not.toMatch(/at .*\.ts/);
    expect(post.statusCode).toBe(405);
  });
});

describe('conversions', () => {
  let sent: Sent;
  beforeAll(async () => {
    sent = await sendCampaign({ size: 2 });
  });

  it('attributes a purchase to the clicked message’s run and variant, counts it once per eventId', async () => {
    const [m0] = sent.members;
    const code = sent.codes.get(m0?.memberId ?? '') ?? '';
    await linkHandler(() => new Date(start + hour))(linkEvent(code));
    const deps = {
      ...conversionDeps({ client: dynamo.documentClient, config: { table: (id) => dynamo.tableNames[id] } }),
      now: () => new Date(start + 2 * hour),
    };
    const input = conversionInput.parse({
      type: 'purchase',
      eventId: `order-${randomBytes(3).toString('hex')}`,
      memberId: m0?.memberId,
      amount: '199.90',
    });

    const first = await recordConversion(deps, { tenant: sent.tenant, input });
    const again = await recordConversion(deps, { tenant: sent.tenant, input });
    const counts = await clickCounts(sent);
    const variant = first.conversion.attribution?.variantId ?? '';

    expect(first.created).toBe(true);
    expect(first.conversion.attribution).toMatchObject({
      campaignId: sent.campaign.campaignId,
      runId: sent.run.runId,
      by: 'click',
    });
    expect(again).toEqual({ created: false, conversion: first.conversion });
    expect(counts.total.conversions).toBe(1);
    expect(counts.total.revenueMicros).toBe(199_900_000);
    expect(counts.byVariant[variant]).toMatchObject({ conversions: 1, revenueMicros: 199_900_000 });
  });

  it('attributes to a delivery within 24 hours when nothing was clicked, and not after', async () => {
    const [, m1] = sent.members;
    const activity = new DynamoMessageActivityStore({
      client: dynamo.documentClient,
      tableName: dynamo.tableNames.messages,
    });
    await recordDelivered(
      { activity },
      {
        tenantId: sent.tenant.tenantId,
        memberId: m1?.memberId ?? '',
        campaignId: sent.campaign.campaignId,
        runId: sent.run.runId,
        variantId: 'B',
        at: new Date(start + 60_000),
      },
    );
    const deps = conversionDeps({
      client: dynamo.documentClient,
      config: { table: (id) => dynamo.tableNames[id] },
    });
    const signup = (eventId: string) =>
      conversionInput.parse({ type: 'signup', eventId, memberId: m1?.memberId });

    const within = await recordConversion(
      { ...deps, now: () => new Date(start + 23 * hour) },
      { tenant: sent.tenant, input: signup(`s-${randomBytes(3).toString('hex')}`) },
    );
    const outside = await recordConversion(
      { ...deps, now: () => new Date(start + 25 * hour) },
      { tenant: sent.tenant, input: signup(`s-${randomBytes(3).toString('hex')}`) },
    );

    expect(within.conversion.attribution).toMatchObject({
      by: 'delivery',
      runId: sent.run.runId,
      variantId: 'B',
    });
    expect(outside.conversion.attribution).toBeUndefined();
    expect((await clickCounts(sent)).byVariant.B?.conversions).toBeGreaterThanOrEqual(1);
  });
});
