import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDocumentClient, TransactWriteCommand } from '@qunfa/aws';
import { memberShard, phoneHash } from '@qunfa/domain';
import { startLocalStack } from '@qunfa/local';
import { type BenchResult, round1 } from './support';

// A 100,000-row member file imported on the local stack, the way a merchant's client does it:
// generated part by part (never whole), uploaded through the HTTP API in 4 MB parts, started,
// and followed until the importer (invoked by the import queue's poller) completes it. The
// ceiling is the same number of member items written straight to DynamoDB Local with the same
// transactions and concurrency the importer uses, measured in the same run.

const rows = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000);
const partBytes = 4 * 1024 * 1024;

function* fileParts(): Generator<Uint8Array> {
  const encoder = new TextEncoder();
  let chunk = '会员卡号,手机号,姓名,性别,生日,等级,标签,积分,累计消费,最近消费,营销同意\n';
  for (let i = 0; i < rows; i++) {
    const phone = `13${String(100_000_000 + i * 7).slice(-9)}`;
    chunk += `B${String(i).padStart(7, '0')},${phone},会员${i},${i % 2 ? '女' : '男'},${1970 + (i % 40)}-${1 + (i % 12)}-${1 + (i % 28)},${i % 5 ? '银卡' : '金卡'},${i % 3 ? 'vip、茶' : '新客'},${i % 1000},${(i % 5000) * 1.5},2026/${1 + (i % 10)}/${1 + (i % 28)},${i % 2 ? '是' : '否'}\n`;
    if (chunk.length * 3 >= partBytes - 4096) {
      yield encoder.encode(chunk);
      chunk = '';
    }
  }
  if (chunk.length > 0) yield encoder.encode(chunk);
}

async function ceilingRowsPerSec(endpoint: string, tableName: string): Promise<number> {
  const client = createDocumentClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const count = Math.min(rows, 20_000);
  const at = new Date().toISOString();
  const item = (i: number) => {
    const memberId = `R${String(i).padStart(7, '0')}`;
    const phone = `+8613${String(200_000_000 + i).slice(-9)}`;
    return {
      pk: `ceiling#M#${String(memberShard(memberId)).padStart(2, '0')}`,
      sk: `M#${memberId}`,
      gsi1pk: `ceiling#PH#${phoneHash({ tenantId: 'ceiling', phone })}`,
      gsi1sk: memberId,
      memberId,
      phone,
      phoneStatus: 'valid',
      name: `会员${i}`,
      tier: '银卡',
      tags: new Set(['vip', '茶']),
      points: i % 1000,
      consent: { status: 'granted', at, source: 'import' },
      createdAt: at,
      updatedAt: at,
    };
  };
  const batches = Array.from({ length: Math.ceil(count / 100) }, (_, b) => b).values();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (const b of batches) {
        const items = Array.from({ length: Math.min(100, count - b * 100) }, (_, k) => item(b * 100 + k));
        await client.send(
          new TransactWriteCommand({
            TransactItems: items.map((Item) => ({
              Put: { TableName: tableName, Item, ConditionExpression: 'attribute_not_exists(pk)' },
            })),
          }),
        );
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return count / seconds;
}

export async function importBench(): Promise<BenchResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'qunfa-bench-import-'));
  const stack = await startLocalStack({
    dataDir,
    ports: { api: 0, dynamodb: 0, sqs: 0, scheduler: 0, simulator: 0 },
    logLevel: 'WARN',
  });
  try {
    if (!stack.firstTenant.created) throw new Error('expected a fresh local stack');
    const key = stack.firstTenant.apiKey;
    const call = async (
      method: string,
      path: string,
      body?: Uint8Array | object,
      type = 'application/json',
    ) => {
      const response = await fetch(new URL(path, stack.apiUrl), {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': type } : {}) },
        ...(body ? { body: body instanceof Uint8Array ? body : JSON.stringify(body) } : {}),
      });
      const json: unknown = await response.json();
      if (response.status >= 300)
        throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
      return json as Record<string, unknown>;
    };

    const ceiling = await ceilingRowsPerSec(stack.components.dynamodb.endpoint, stack.tables.members);

    let peakRss = process.memoryUsage().rss;
    let peakHeap = process.memoryUsage().heapUsed;
    const sampler = setInterval(() => {
      const usage = process.memoryUsage();
      peakRss = Math.max(peakRss, usage.rss);
      peakHeap = Math.max(peakHeap, usage.heapUsed);
    }, 50);

    const started = performance.now();
    const created = await call('POST', '/imports', { name: 'bench.csv' });
    const importId = String(created.importId);
    let parts = 0;
    let bytes = 0;
    for (const part of fileParts()) {
      parts++;
      bytes += part.byteLength;
      await call('PUT', `/imports/${importId}/parts/${parts}`, part, 'text/csv');
    }
    const uploaded = performance.now();
    await call('POST', `/imports/${importId}/start`, { parts });
    let job: Record<string, unknown> = {};
    while (job.state !== 'completed' && job.state !== 'failed') {
      await new Promise((resolve) => setTimeout(resolve, 200));
      job = await call('GET', `/imports/${importId}`);
    }
    const finished = performance.now();
    clearInterval(sampler);
    const counts = (job.report as { counts: Record<string, number> } | undefined)?.counts ?? {};
    if (job.state !== 'completed' || counts.created !== rows) {
      throw new Error(`import ended ${String(job.state)} with ${JSON.stringify(counts)}`);
    }
    const importSeconds = (finished - uploaded) / 1000;
    const rowsPerSec = Math.round(rows / importSeconds);
    const figures = {
      rows,
      parts,
      fileMb: round1(bytes / 1024 / 1024),
      uploadSeconds: round1((uploaded - started) / 1000),
      importSeconds: round1(importSeconds),
      rowsPerSec,
      ceilingRowsPerSec: Math.round(ceiling),
      ratioToCeiling: Math.round((rowsPerSec / ceiling) * 100) / 100,
      peakRssMb: Math.round(peakRss / 1024 / 1024),
      peakHeapMb: Math.round(peakHeap / 1024 / 1024),
    };
    console.table([figures]);
    return {
      name: 'import',
      figures,
      // Rates are DynamoDB Local's, not DynamoDB's: the ratio to the ceiling is the figure that travels.
      targets: { rowsPerSec: { min: 300 }, ratioToCeiling: { min: 0.5 }, peakRssMb: { max: 512 } },
    };
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
