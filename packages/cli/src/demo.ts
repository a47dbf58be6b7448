import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDocumentClient, DynamoOptOutStore } from '@qunfa/aws';
import { phoneHash } from '@qunfa/domain';
import { startLocalStack } from '@qunfa/local';
import * as z from 'zod';

// `npm run demo`: a synthetic tea-shop chain on a throwaway local stack. It imports a few
// thousand members (Chinese names, stores, tiers, birthdays, purchases, some bad numbers) the
// way a merchant would, records some opt-outs, saves two templates and a segment, sends an
// A/B campaign with live progress, and prints the outcome with what the SMS simulator received.

const members = Number(process.env.DEMO_MEMBERS ?? 3_000);
const surnames = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高';
const given = '芳伟娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华';
const stores = ['静安店', '徐汇店', '浦东店', '杭州西湖店', '南京新街口店'];

function csv(): Uint8Array {
  const now = Date.now();
  const lines = ['会员卡号,手机号,姓名,性别,生日,门店,会员等级,标签,积分,累计消费,最近消费,营销同意'];
  for (let i = 0; i < members; i++) {
    const name = `${surnames[i % surnames.length]}${given[(i * 7) % given.length]}`;
    // Every 40th number is a landline or too short: the import refuses it with the reason.
    const phone =
      i % 40 === 7 ? `021-6${String(1000000 + i).slice(-7)}` : `13${String(900_000_000 + i * 37).slice(-9)}`;
    const last = new Date(now - ((i * 13) % 400) * 86_400_000).toISOString().slice(0, 10);
    lines.push(
      [
        `T${String(i).padStart(6, '0')}`,
        phone,
        name,
        i % 3 ? '女' : '男',
        `${1970 + (i % 35)}年${1 + (i % 12)}月${1 + (i % 28)}日`,
        stores[i % stores.length],
        i % 7 === 0 ? '金卡' : '银卡',
        i % 4 === 0 ? '奶茶、新品' : '奶茶',
        String((i * 17) % 3000),
        String((i * 29) % 9000),
        last,
        i % 9 === 0 ? '否' : '是',
      ].join(','),
    );
  }
  return new TextEncoder().encode(`${lines.join('\n')}\n`);
}

const run = z.looseObject({
  state: z.string(),
  targeted: z.number(),
  sent: z.number(),
  failed: z.number(),
  unknown: z.number(),
  remaining: z.number(),
  ratePerSecond: z.number().optional(),
  suppressed: z.object({ total: z.number(), byReason: z.record(z.string(), z.number()) }),
  byVariant: z.record(z.string(), z.looseObject({ targeted: z.number(), sent: z.number() })).optional(),
});

const dataDir = await mkdtemp(join(tmpdir(), 'qunfa-demo-'));
console.log('Starting a local stack for the demo (its own ports and data folder)…');
const stack = await startLocalStack({
  dataDir,
  ports: { api: 0, dynamodb: 0, sqs: 0, scheduler: 0, simulator: 0 },
  logLevel: 'ERROR',
  simulator: { seed: 7, receipts: { enabled: false } },
});
try {
  if (!stack.firstTenant.created) throw new Error('The demo needs a fresh data folder.');
  const { apiKey, tenantId } = stack.firstTenant;
  const call = async (method: string, path: string, body?: unknown, type = 'application/json') => {
    const response = await fetch(new URL(path, stack.apiUrl), {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': type }) },
      ...(body === undefined ? {} : { body: body instanceof Uint8Array ? body : JSON.stringify(body) }),
    });
    const json = z.looseObject({}).parse(await response.json().catch(() => ({})));
    if (response.status >= 300)
      throw new Error(`${method} ${path} → ${response.status} ${JSON.stringify(json)}`);
    return json;
  };

  await call('PATCH', '/tenant', {
    name: '茶小满',
    signature: '茶小满',
    sendWindow: { start: '00:00', end: '24:00' },
  });

  console.log(`Importing ${members} members…`);
  const created = await call('POST', '/imports', { name: 'members.csv' });
  await call('PUT', `/imports/${String(created.importId)}/parts/1`, csv(), 'text/csv');
  await call('POST', `/imports/${String(created.importId)}/start`, { parts: 1 });
  let job: Record<string, unknown> = {};
  while (job.state !== 'completed' && job.state !== 'failed') {
    await new Promise((resolve) => setTimeout(resolve, 500));
    job = await call('GET', `/imports/${String(created.importId)}`);
  }
  const report = z
    .object({ counts: z.record(z.string(), z.number()), invalidRows: z.array(z.looseObject({})) })
    .parse(job.report);
  console.log(
    `  import ${String(job.state)}:`,
    report.counts,
    `(e.g. ${JSON.stringify(report.invalidRows[0])})`,
  );

  // Some members replied 退订 earlier (the receipts issue records these from real replies).
  const client = createDocumentClient({
    endpoint: stack.components.dynamodb.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const optOuts = new DynamoOptOutStore({ client, tableName: stack.tables.suppressions });
  for (let i = 5; i < members; i += 50) {
    const phone = `+8613${String(900_000_000 + i * 37).slice(-9)}`;
    await optOuts.add(tenantId, {
      phoneHash: phoneHash({ tenantId, phone }),
      source: 'sms',
      at: new Date().toISOString(),
    });
  }

  const templateIds: string[] = [];
  for (const [name, body] of [
    ['新品 A', '新品上市，{{name|default:"会员"}}凭此短信第二杯半价，{{points|number}}积分可抵现'],
    ['新品 B', '{{name|default:"会员"}}，新品买一送一，仅限本周，{{store|default:"全国门店"}}可用'],
  ] as const) {
    templateIds.push(
      String((await call('POST', '/templates', { name, category: 'marketing', body })).templateId),
    );
  }
  const segment = await call('POST', '/segments', {
    name: '近半年活跃',
    definition: { and: [{ lastPurchaseAt: { withinLastDays: 180 } }, { tags: { any: ['奶茶'] } }] },
  });
  const preview = await call('POST', '/segments/preview', { segmentId: segment.segmentId, sampleSize: 3 });
  console.log(
    `Segment 近半年活跃: ${String(preview.matching)} members, ${String(preview.eligible)} eligible`,
  );

  const campaign = await call('POST', '/campaigns', {
    name: '新品上市 A/B',
    category: 'marketing',
    audience: { segmentId: segment.segmentId },
    content: {
      variants: [
        { variantId: 'A', templateId: templateIds[0], percent: 50 },
        { variantId: 'B', templateId: templateIds[1], percent: 50 },
      ],
    },
    schedule: { kind: 'now' },
    holdoutPercent: 5,
  });
  const campaignId = String(campaign.campaignId);
  await call('POST', `/campaigns/${campaignId}/schedule`);
  console.log(`Campaign ${campaignId} scheduled; sending through the SMS simulator…`);

  let latest: z.infer<typeof run> | undefined;
  const until = Date.now() + 10 * 60_000;
  while (Date.now() < until && latest?.state !== 'completed') {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const body = await call('GET', `/campaigns/${campaignId}`);
    latest = body.latestRun === undefined ? undefined : run.parse(body.latestRun);
    if (latest) {
      process.stdout.write(
        `\r  ${latest.state.padEnd(9)} targeted ${latest.targeted}  sent ${latest.sent}  suppressed ${latest.suppressed.total}  remaining ${latest.remaining}  ${Math.round(latest.ratePerSecond ?? 0)}/s   `,
      );
    }
  }
  console.log('');
  const counts = z
    .object({ total: z.number(), phones: z.number(), duplicateReferences: z.array(z.string()) })
    .parse(await (await fetch(`${stack.components.simulator.url}/admin/messages/counts`)).json());
  console.log('Outcome:');
  console.log(
    `  run ${latest?.state ?? 'unknown'}: ${JSON.stringify(latest?.suppressed.byReason ?? {})} suppressed by reason`,
  );
  for (const [variant, value] of Object.entries(latest?.byVariant ?? {})) {
    console.log(`  variant ${variant}: ${value.sent} sent of ${value.targeted} targeted`);
  }
  console.log(
    `  the simulator received ${counts.total} SMS for ${counts.phones} phones; duplicates: ${counts.duplicateReferences.length}`,
  );
  if (
    latest?.state !== 'completed' ||
    counts.total !== counts.phones ||
    counts.duplicateReferences.length > 0
  ) {
    process.exitCode = 1;
  }
} finally {
  await stack.stop();
  await rm(dataDir, { recursive: true, force: true });
}
