import { readFileSync } from 'node:fs';
import type { HttpExchange, TemplateMessage, TextMessage } from '@qunfa/providers';

// Provider answers copied from each provider's documentation, under test/events/<provider>/,
// and small builders for the messages the sender hands an adapter.

/** The raw body of a documented answer, as it comes off the wire. */
export function providerFixture(provider: string, name: string): string {
  return readFileSync(new URL(`../../events/${provider}/${name}.json`, import.meta.url), 'utf8');
}

export function answered(status: number, body: string, headers: Record<string, string> = {}): HttpExchange {
  return { kind: 'answered', status, headers: new Headers(headers), body };
}

export function templateMessage(overrides: Partial<TemplateMessage> = {}): TemplateMessage {
  return {
    reference: 'run-1:m-1',
    phone: '+8613812345678',
    signature: '阿里云短信测试',
    template: { code: 'SMS_154950909', params: [{ name: 'name', value: '王小明' }] },
    ...overrides,
  };
}

export function textMessage(overrides: Partial<TextMessage> = {}): TextMessage {
  return { reference: 'run-1:m-1', phone: '+14155550123', text: 'Your points expire soon', ...overrides };
}

/** n template messages to different numbers, each with its own reference. */
export function templateBatch(
  n: number,
  vary: (i: number) => Partial<TemplateMessage> = () => ({}),
): TemplateMessage[] {
  return Array.from({ length: n }, (_, i) =>
    templateMessage({
      reference: `run-1:m-${i}`,
      phone: `+861381234${String(i).padStart(4, '0')}`,
      ...vary(i),
    }),
  );
}
