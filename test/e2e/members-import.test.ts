import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack';

// A merchant's import on the local stack, end to end: the API stores the uploaded parts, the
// import queue's poller invokes the importer function, which streams the file into DynamoDB
// Local; then a segment preview reads the members back.

let env: TestStack;

beforeAll(async () => {
  env = await startTestStack({ name: 'import' });
});

afterAll(() => env?.stop());

const api: TestStack['api'] = (...args) => env.api(...args);

const rows = 3_000;

function file(): Uint8Array {
  const lines = ['会员卡号,手机号,姓名,等级,积分,营销同意'];
  for (let i = 0; i < rows; i++) {
    const tier = i % 3 === 0 ? '金卡' : '银卡';
    lines.push(
      `C${String(i).padStart(6, '0')},1390000${String(i).padStart(4, '0')},会员${i},${tier},${i % 500},${i % 2 ? '是' : '否'}`,
    );
  }
  return new TextEncoder().encode(`${lines.join('\n')}\n`);
}

describe('importing members on the local stack', () => {
  it('takes a file in parts through the API, the import queue and the importer', async () => {
    const bytes = file();
    const created = await api('POST', '/imports', { name: 'e2e.csv' });
    const importId = String(created.body.importId);
    const parts = 3;
    const size = Math.ceil(bytes.byteLength / parts);
    for (let i = 0; i < parts; i++) {
      const part = await api(
        'PUT',
        `/imports/${importId}/parts/${i + 1}`,
        bytes.subarray(i * size, (i + 1) * size),
        'text/csv',
      );
      expect(part.status).toBe(200);
    }

    expect((await api('POST', `/imports/${importId}/start`, { parts })).status).toBe(202);
    let job: Record<string, unknown> = {};
    for (let attempt = 0; attempt < 240; attempt++) {
      job = (await api('GET', `/imports/${importId}`)).body;
      if (job.state === 'completed' || job.state === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    expect(job).toMatchObject({
      state: 'completed',
      report: { counts: { created: rows, updated: 0, unchanged: 0, invalid: 0, duplicate: 0 } },
    });
  });

  it('previews a segment over the imported members', async () => {
    const preview = await api('POST', '/segments/preview', {
      definition: { tier: { in: ['金卡'] } },
      sampleSize: 3,
    });

    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({
      exact: true,
      matching: rows / 3,
      suppressed: { opted_out: 0, no_consent: rows / 3 / 2, invalid_phone: 0 },
      eligible: rows / 3 / 2,
    });
  });
});
