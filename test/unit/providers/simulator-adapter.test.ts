import { loadSimulatorSettings, parseSimulatorAnswer, toSimulatorMessage } from '@qunfa/providers';
import { describe, expect, it } from 'vitest';
import { answered, templateMessage, textMessage } from './support';

describe('simulator adapter', () => {
  it('writes template variables by name, in the provider order', () => {
    expect(
      toSimulatorMessage(
        templateMessage({
          template: {
            code: 'SMS_1',
            params: [
              { name: 'name', value: '王' },
              { name: 'points', value: '10' },
            ],
          },
        }),
      ),
    ).toEqual({
      to: '+8613812345678',
      reference: 'run-1:m-1',
      signature: '阿里云短信测试',
      template: { code: 'SMS_1', params: { name: '王', points: '10' } },
    });
  });

  it('maps throttled to throttled with the wait the simulator gave', () => {
    const [result] = parseSimulatorAnswer({
      batch: [textMessage()],
      result: answered(
        429,
        JSON.stringify({ code: 'throttled', message: 'Over the rate limit.', retryAfterMs: 250 }),
      ),
    });

    expect(result).toMatchObject({ outcome: 'throttled', retryAfterMs: 250, scope: 'account' });
  });

  it('maps unavailable to retryable and an invalid number to permanent', () => {
    const batch = [textMessage()];

    expect(
      parseSimulatorAnswer({
        batch,
        result: answered(503, JSON.stringify({ code: 'unavailable', message: 'down' })),
      }),
    ).toEqual([expect.objectContaining({ outcome: 'retryable', code: 'unavailable' })]);
    expect(
      parseSimulatorAnswer({
        batch,
        result: answered(400, JSON.stringify({ code: 'invalid_number', message: 'bad' })),
      }),
    ).toEqual([expect.objectContaining({ outcome: 'permanent', code: 'invalid_number', scope: 'message' })]);
  });

  it('is ambiguous about a batch answer that does not name every message', () => {
    const batch = [textMessage(), textMessage({ reference: 'run-1:m-2', phone: '+14155550124' })];

    const outcomes = parseSimulatorAnswer({ batch, result: answered(200, JSON.stringify({ results: [] })) });

    expect(outcomes.map((o) => o.outcome)).toEqual(['ambiguous', 'ambiguous']);
  });

  it('reads its settings from the environment, naming what is missing', () => {
    expect(loadSimulatorSettings({ PROVIDER_SIMULATOR_URL: 'http://127.0.0.1:4010' })).toEqual({
      baseUrl: 'http://127.0.0.1:4010',
    });
    expect(() => loadSimulatorSettings({})).toThrow(/PROVIDER_SIMULATOR_URL/);
  });
});
