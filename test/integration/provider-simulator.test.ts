import { createLogger, type ProviderSimulator, startProviderSimulator } from '@qunfa/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';

// The SMS provider simulator, spoken to over HTTP as a provider adapter will speak to it.

let simulator: ProviderSimulator;
const logLines: string[] = [];

beforeAll(async () => {
  simulator = await startProviderSimulator({
    port: 0,
    maxMessages: 3,
    logger: createLogger({ component: 'simulator', level: 'DEBUG', write: (line) => logLines.push(line) }),
  });
});
afterAll(() => simulator.stop());

async function post(body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${simulator.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

describe('ProviderSimulator', () => {
  describe('POST /v1/messages', () => {
    it('accepts a valid message with 202, a message id and its part count', async () => {
      const { status, json } = await post({
        to: '+8613812345678',
        body: 'Hello from qunfa',
        reference: 'run-1:m-1',
      });

      expect(status).toBe(202);
      expect(json).toEqual({ messageId: expect.stringMatching(/^sim-/), parts: 1 });
    });

    it('keeps what it received, readable by id', async () => {
      const { json } = await post({ to: '+14155550123', body: 'Your points expire soon', reference: 'r-2' });
      const { messageId } = z.object({ messageId: z.string() }).parse(json);

      const response = await fetch(`${simulator.url}/v1/messages/${messageId}`);

      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        messageId,
        to: '+14155550123',
        body: 'Your points expire soon',
        reference: 'r-2',
        parts: 1,
        encoding: 'GSM-7',
        receivedAt: expect.any(String),
      });
    });

    it('counts parts as providers bill them: GSM-7 160/153, UCS-2 70/67', async () => {
      const parts = async (body: string): Promise<unknown> =>
        (await post({ to: '+8613812345678', body })).json;

      await expect(parts('a'.repeat(160))).resolves.toMatchObject({ parts: 1 });
      await expect(parts('a'.repeat(161))).resolves.toMatchObject({ parts: 2 });
      await expect(parts('会'.repeat(70))).resolves.toMatchObject({ parts: 1 });
      await expect(parts('会'.repeat(140))).resolves.toMatchObject({ parts: 3 });
    });

    it('rejects an invalid message with 400 and the path and reason of every problem', async () => {
      const { status, json } = await post({ to: '13812345678', body: '', reference: 7 });

      expect(status).toBe(400);
      expect(json).toEqual({
        code: 'validation_failed',
        message: 'The message is not valid.',
        problems: [
          { path: 'body.to', message: 'an E.164 number: + and 8 to 15 digits' },
          { path: 'body.body', message: 'must not be empty' },
          { path: 'body.reference', message: expect.any(String) },
        ],
      });
    });

    it('rejects a body that is not JSON', async () => {
      const { status, json } = await post('{"to":');

      expect(status).toBe(400);
      expect(json).toMatchObject({ code: 'invalid_json' });
    });
  });

  describe('GET /v1/messages/{id}', () => {
    it('answers 404 for a message it never received', async () => {
      const response = await fetch(`${simulator.url}/v1/messages/sim-unknown`);

      expect(response.status).toBe(404);
    });

    it('forgets the oldest messages beyond its bound', async () => {
      for (let i = 0; i < 5; i += 1) await post({ to: '+8613812345678', body: `m${i}` });

      expect(simulator.messages().map((m) => m.body)).toEqual(['m2', 'm3', 'm4']);
      expect(simulator.health()).toEqual({ ok: true, messages: 3 });
    });
  });

  it('answers GET /health', async () => {
    const response = await fetch(`${simulator.url}/health`);

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true });
  });

  it('never logs a whole phone number', () => {
    const log = logLines.join('\n');

    expect(log).toContain('5678');
    expect(log).not.toContain('13812345678');
    expect(log).not.toContain('4155550123');
  });
});
