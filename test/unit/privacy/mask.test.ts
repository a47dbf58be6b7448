import { maskPhone, maskPhonesDeep, maskPhonesInText } from '@qunfa/domain';
import fc from 'fast-check';
import metadata from 'libphonenumber-js/min/metadata';
import { describe, expect, it } from 'vitest';

// Phone numbers are personal data (ARCHITECTURE.md invariant 7): these functions stand
// between every log line and the log group.

const cnMobile = '+8613812345678';
const cnHidden = '1381234';

describe('maskPhone', () => {
  it('keeps the country code and the last four digits of a Chinese mobile in E.164', () => {
    const masked = maskPhone(cnMobile);

    expect(masked).toBe('+86*******5678');
  });

  it('keeps the one-digit country code and the last four digits of a US number', () => {
    const masked = maskPhone('+12025550123');

    expect(masked).toBe('+1******0123');
  });

  it('hides a national number written without a country code, except its last four digits', () => {
    const masked = maskPhone('13812345678');

    expect(masked).toBe('*******5678');
  });

  it('hides every digit of an input of four digits or fewer', () => {
    expect(maskPhone('1234')).toBe('****');
    expect(maskPhone('12')).toBe('**');
    expect(maskPhone('')).toBe('');
  });

  it('hides all but the last four digits of a five-digit input', () => {
    const masked = maskPhone('12345');

    expect(masked).toBe('*2345');
  });

  it('drops the separators of a formatted number', () => {
    const masked = maskPhone('+86 138-1234-5678');

    expect(masked).toBe('+86*******5678');
  });

  it('keeps a three-digit calling code whole', () => {
    const masked = maskPhone('+85212345678');

    expect(masked).toBe('+852****5678');
  });

  it('keeps the whole calling code of every country libphonenumber knows', () => {
    const callingCodes = Object.keys(metadata.country_calling_codes);

    const shown = callingCodes.map((code) => maskPhone(`+${code}5550123456`).split('*')[0]);

    expect(shown).toEqual(callingCodes.map((code) => `+${code}`));
    expect(callingCodes.length).toBeGreaterThan(200);
  });

  it('reads full-width digits and the digits of other scripts', () => {
    expect(maskPhone('＋８６１３８１２３４５６７８')).toBe('+86*******5678');
    expect(maskPhone('١٣٨١٢٣٤٥٦٧٨')).toBe('*******5678');
  });

  it('shows only the calling code and the last four digits of any E.164 number', () => {
    fc.assert(
      fc.property(e164(), ({ phone, callingCode }) => {
        const digits = phone.slice(1);

        const masked = maskPhone(phone);

        expect(masked).toMatch(/^\+\d{1,3}\*+\d{4}$/);
        expect(masked.startsWith(`+${callingCode}*`)).toBe(true);
        expect(masked.endsWith(digits.slice(-4))).toBe(true);
        expect(masked).toHaveLength(phone.length);
      }),
    );
  });
});

describe('maskPhonesInText', () => {
  describe('masks a phone number', () => {
    it.each([
      ['inside a Chinese sentence', '会员13812345678已退订', '会员*******5678已退订'],
      ['inside an English sentence', 'Sent to +8613812345678 at noon.', 'Sent to +86*******5678 at noon.'],
      ['written with spaces', '请致电 +86 138 1234 5678 联系', '请致电 +86*******5678 联系'],
      ['written with dashes', 'call +86-138-1234-5678 now', 'call +86*******5678 now'],
      ['with a bare 86 prefix', 'from 8613812345678.', 'from *********5678.'],
      ['with a 0086 prefix', 'via 0086 138 1234 5678', 'via ***********5678'],
      ['with a 0086 prefix and a dash', '0086-13812345678', '***********5678'],
      ['with a US country code', 'to +1 202-555-0123', 'to +1******0123'],
      ['in a key=value pair', 'phone=+8613812345678&x=1', 'phone=+86*******5678&x=1'],
      ['inside JSON', '{"phone":"+8613812345678"}', '{"phone":"+86*******5678"}'],
      ['between parentheses', '(+8613812345678)', '(+86*******5678)'],
      ['after a full-width colon', '手机号：13812345678。', '手机号：*******5678。'],
    ])('%s', (_case, text, expected) => {
      const masked = maskPhonesInText(text);

      expect(masked).toBe(expected);
    });
  });

  describe('masks a phone number glued to what stands around it', () => {
    it.each([
      ['after letters', 'tel13812345678', 'tel*******5678'],
      ['before letters', '13812345678TD', '*******5678TD'],
      ['after an underscore', 'user_+8613812345678', 'user_+86*******5678'],
      ['after another number', '+8613812345678+8613912345678', '+86*******5678+86*******5678'],
      ['after a digit', '0+8613812345678', '0+86*******5678'],
      ['between a key and a unit', 'to=13812345678x2', 'to=*******5678x2'],
    ])('%s', (_case, text, expected) => {
      const masked = maskPhonesInText(text);

      expect(masked).toBe(expected);
    });
  });

  describe('masks a phone number written', () => {
    it.each([
      ['with the area code in parentheses', 'call +1 (202) 555-0123', 'call +1******0123'],
      ['with a Chinese mobile prefix in parentheses', '+86 (138) 1234 5678', '+86*******5678'],
      ['nationally with the area code in parentheses', 'call (202) 555-0123', 'call ******0123'],
      ['with dots', 'call +1.202.555.0123', 'call +1******0123'],
      ['nationally with dots', 'call 202.555.0123', 'call ******0123'],
      ['in full-width digits', '手机１３８１２３４５６７８', '手机*******5678'],
      ['in full-width digits with a full-width plus', '＋８６ １３８ １２３４ ５６７８', '+86*******5678'],
      ['with full-width parentheses', '（０２１）６１２３ ４５６７', '*******4567'],
      ['with an ideographic space', '138\u30001234\u30005678', '*******5678'],
      ['in Arabic-Indic digits', 'رقم ١٣٨١٢٣٤٥٦٧٨', 'رقم *******5678'],
    ])('%s', (_case, text, expected) => {
      const masked = maskPhonesInText(text);

      expect(masked).toBe(expected);
    });
  });

  it('masks every phone number of a text', () => {
    const masked = maskPhonesInText('13812345678 和 +8613912345678 都已退订');

    expect(masked).toBe('*******5678 和 +86*******5678 都已退订');
  });

  it('returns a text without phone numbers unchanged', () => {
    const text = '双十一会员日：全场 8 折，回复 TD 退订。';

    expect(maskPhonesInText(text)).toBe(text);
  });

  describe('leaves alone', () => {
    it.each([
      ['an ISO timestamp in UTC', 'at 2026-11-23T08:00:00.000Z'],
      ['an ISO timestamp with an offset', 'at 2026-11-23T08:00:00+08:00'],
      ['an ISO timestamp in the basic format', 'X-Amz-Date: 20261123T080000Z'],
      ['a random UUID', 'run 9b2f7c1e-4d3a-4f6b-8c2d-1a2b3c4d5e6f'],
      ['a UUID with an all-digit group', 'id 123e4567-e89b-12d3-a456-426614174000'],
      ['a UUID that starts with eight digits', 'request 12345678-1234-4abc-8def-123456789012'],
      ['an X-Ray trace id', 'Root=1-5759e988-bd862e3fe1be46a994272793'],
      ['an amount with cents', 'total 12.50 CNY'],
      ['a large amount of seven integer digits', 'total ¥1234567.50'],
      ['an order number of seven digits', 'order 1234567'],
      ['a time of day', 'window 09:00–20:00'],
      ['an IPv4 address', 'from 192.168.100.200'],
      ['a version', 'libphonenumber-js 1.13.16'],
    ])('%s', (_case, text) => {
      const masked = maskPhonesInText(text);

      expect(masked).toBe(text);
    });
  });

  // Pinned current behaviour: any run of eight or more digits reads as a phone number, so
  // these non-phone values are masked too. Over-masking is the safe side of invariant 7.
  describe('masks, because they read as eight or more digits', () => {
    it.each([
      ['an order number of eight digits', 'order 12345678', 'order ****5678'],
      ['a date written with dashes', 'due on 2026-11-23.', 'due on ****1123.'],
      ['a date and time separated by a space', 'on 2026-11-23 08:00:00', 'on ******2308:00:00'],
      ['epoch milliseconds', 'sent 1583348638390', 'sent *********8390'],
      [
        'an AWS account id inside an ARN',
        'arn:aws:sqs:us-east-1:123456789012:q',
        'arn:aws:sqs:us-east-1:********9012:q',
      ],
      ['an amount of eight integer digits', 'total 12345678.50', 'total ****5678.50'],
      [
        'digits inside a hex digest',
        'sha 9f86d08188c7d0a44d1234567890fa',
        'sha 9f86d08188c7d0a44d******7890fa',
      ],
    ])('%s', (_case, text, expected) => {
      const masked = maskPhonesInText(text);

      expect(masked).toBe(expected);
    });
  });

  it('never lets the hidden digits of an E.164 number through, wherever it stands and whatever it touches', () => {
    fc.assert(
      fc.property(e164(), context(), context(), ({ phone, hidden }, before, after) => {
        fc.pre(!digitsOf(before).includes(hidden) && !digitsOf(after).includes(hidden));
        fc.pre(!maskPhone(phone).includes(hidden));
        // Digits right after a number continue it: the longer number shows its own last four
        // digits, which could then hold hidden digits of four or fewer.
        fc.pre(hidden.length > 4 || !/^[\p{Nd}\p{Zs}\p{Pd}.(（]/u.test(after));
        const text = `${before}${phone}${after}`;

        const masked = maskPhonesInText(text);

        expect(masked).not.toContain(hidden);
      }),
      { numRuns: 1000 },
    );
  });

  it('never lets the hidden digits of a formatted number through, whatever letters or signs it touches', () => {
    fc.assert(
      fc.property(
        formatted(),
        digitlessContext(),
        digitlessContext(),
        ({ text: phone, hidden }, before, after) => {
          const masked = maskPhonesInText(`${before}${phone}${after}`);

          expect(digitsOf(masked)).not.toContain(hidden);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('maskPhonesDeep', () => {
  it('masks strings in nested objects and arrays and keeps other values', () => {
    const payload = {
      member: { phone: cnMobile, tier: 'gold', points: 1200, consent: true, note: null },
      recipients: [cnMobile, { phone: '+12025550123' }],
    };

    const masked = maskPhonesDeep(payload);

    expect(masked).toEqual({
      member: { phone: '+86*******5678', tier: 'gold', points: 1200, consent: true, note: null },
      recipients: ['+86*******5678', { phone: '+1******0123' }],
    });
  });

  it('leaves the input untouched', () => {
    const payload = { member: { phone: cnMobile } };

    maskPhonesDeep(payload);

    expect(payload.member.phone).toBe(cnMobile);
  });

  it('masks a bare string', () => {
    expect(maskPhonesDeep(`to ${cnMobile}`)).toBe('to +86*******5678');
  });

  it('masks the keys of an object', () => {
    const masked = maskPhonesDeep({ byPhone: { [cnMobile]: 'ok', '13912345678': 'failed' } });

    expect(masked).toEqual({ byPhone: { '+86*******5678': 'ok', '*******5678': 'failed' } });
  });

  it('keeps every value when two keys mask to the same text', () => {
    const masked = maskPhonesDeep({ [cnMobile]: 'ok', '+8613912345678': 'failed' });

    expect(masked).toEqual({ '+86*******5678': 'ok', '+86*******5678 (2)': 'failed' });
  });

  it('masks a phone number stored as a number or a bigint', () => {
    const masked = maskPhonesDeep({ phone: 13812345678, legacy: 8613812345678n, points: 1200 });

    expect(masked).toEqual({ phone: '*******5678', legacy: '*********5678', points: 1200 });
  });

  it('turns an Error into its name, message and stack, with phone numbers masked in both', () => {
    const error = new TypeError(`provider refused ${cnMobile}`);

    const masked = maskPhonesDeep({ error });

    expect(masked).toEqual({
      error: {
        name: 'TypeError',
        message: 'provider refused +86*******5678',
        stack: expect.stringContaining('TypeError: provider refused +86*******5678'),
      },
    });
    expect(JSON.stringify(masked)).not.toContain(cnHidden);
  });

  it('keeps the cause and the own fields of an Error, masked', () => {
    const cause = new Error(`no route to ${cnMobile}`);
    const error = Object.assign(new Error('send failed', { cause }), {
      $metadata: { httpStatusCode: 400, requestId: 'r-1' },
      recipient: cnMobile,
    });

    const masked = maskPhonesDeep(error);

    expect(masked).toEqual({
      name: 'Error',
      message: 'send failed',
      stack: expect.any(String),
      cause: { name: 'Error', message: 'no route to +86*******5678', stack: expect.any(String) },
      $metadata: { httpStatusCode: 400, requestId: 'r-1' },
      recipient: '+86*******5678',
    });
    expect(JSON.stringify(masked)).not.toContain(cnHidden);
  });

  it('keeps the errors of an AggregateError, masked', () => {
    const error = new AggregateError([new Error(`no route to ${cnMobile}`)], 'batch failed');

    const masked = maskPhonesDeep(error);

    expect(masked).toMatchObject({
      name: 'AggregateError',
      message: 'batch failed',
      errors: [{ name: 'Error', message: 'no route to +86*******5678' }],
    });
  });

  it('masks an Error inside an array', () => {
    const masked = maskPhonesDeep([new Error(`no route to ${cnMobile}`)]);

    expect(JSON.stringify(masked)).not.toContain(cnHidden);
    expect(masked).toEqual([expect.objectContaining({ message: 'no route to +86*******5678' })]);
  });

  it('writes a Date as its ISO string', () => {
    const masked = maskPhonesDeep({ at: new Date('2026-11-23T08:00:00Z'), never: new Date(Number.NaN) });

    expect(masked).toEqual({ at: '2026-11-23T08:00:00.000Z', never: null });
  });

  it('writes a Map as its entries and a Set as its values, masked', () => {
    const masked = maskPhonesDeep({
      replies: new Map([[cnMobile, { keyword: 'TD', from: cnMobile }]]),
      optedOut: new Set([cnMobile, '+12025550123']),
    });

    expect(masked).toEqual({
      replies: [['+86*******5678', { keyword: 'TD', from: '+86*******5678' }]],
      optedOut: ['+86*******5678', '+1******0123'],
    });
  });

  it('writes what toJSON returns, masked', () => {
    const member = { toJSON: () => ({ phone: cnMobile, tier: 'gold' }) };

    const masked = maskPhonesDeep({ member });

    expect(masked).toEqual({ member: { phone: '+86*******5678', tier: 'gold' } });
  });

  it('ends on an object whose toJSON returns another such object', () => {
    const endless = (): unknown => ({ phone: cnMobile, toJSON: endless });

    const masked = maskPhonesDeep({ endless: endless() });

    expect(JSON.stringify(masked)).toContain('[Truncated]');
    expect(JSON.stringify(masked)).not.toContain(cnHidden);
  });

  it('writes the fields of an object whose toJSON throws', () => {
    const broken = {
      phone: cnMobile,
      toJSON: () => {
        throw new Error('not serializable');
      },
    };

    const masked = maskPhonesDeep({ broken });

    expect(masked).toEqual({ broken: { phone: '+86*******5678', toJSON: expect.any(Function) } });
  });

  it('masks a phone number eight levels deep', () => {
    const payload = nest({ phone: cnMobile }, 8);

    const masked = maskPhonesDeep(payload);

    expect(JSON.stringify(masked)).toContain('+86*******5678');
    expect(JSON.stringify(masked)).not.toContain(cnHidden);
  });

  it('writes [Truncated] for an object deeper than eight levels, never the object itself', () => {
    const payload = nest({ phone: cnMobile }, 9);

    const masked = maskPhonesDeep(payload);

    expect(masked).toEqual(nest('[Truncated]', 9));
  });

  it('writes [Circular] for an object that contains itself', () => {
    const member: Record<string, unknown> = { phone: cnMobile };
    member.self = member;
    const batch = { recipients: [member] };
    member.batch = batch;

    const masked = maskPhonesDeep(batch);

    expect(masked).toEqual({
      recipients: [{ phone: '+86*******5678', self: '[Circular]', batch: '[Circular]' }],
    });
  });

  it('writes an object met twice outside a cycle in both places', () => {
    const store = { phone: cnMobile };

    const masked = maskPhonesDeep({ from: store, to: store });

    expect(masked).toEqual({ from: { phone: '+86*******5678' }, to: { phone: '+86*******5678' } });
  });
});

function nest(value: unknown, levels: number): unknown {
  let out = value;
  for (let i = 0; i < levels; i++) out = { child: out };
  return out;
}

/** The decimal digits of a text as ASCII, whatever the script or width they are written in. */
function digitsOf(text: string): string {
  return text.normalize('NFKC').replace(/\D/g, '');
}

/** An E.164 number with a real country code and the digits a mask must hide. */
function e164(): fc.Arbitrary<{ phone: string; callingCode: string; hidden: string }> {
  const countryCodes = [
    '1',
    '7',
    '33',
    '44',
    '49',
    '61',
    '65',
    '81',
    '86',
    '234',
    '852',
    '853',
    '886',
    '971',
  ];
  return fc.constantFrom(...countryCodes).chain((cc) =>
    fc
      .tuple(
        fc.integer({ min: 1, max: 9 }),
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 6, maxLength: 14 - cc.length }),
      )
      .map(([first, rest]) => {
        const national = `${first}${rest.join('')}`;
        return { phone: `+${cc}${national}`, callingCode: cc, hidden: national.slice(0, -4) };
      }),
  );
}

/**
 * A Chinese mobile written the ways people write one: nationally or with +86, grouped 3-4-4
 * with spaces, dashes, dots or the prefix in parentheses, in ASCII or full-width digits.
 */
function formatted(): fc.Arbitrary<{ text: string; hidden: string }> {
  const layouts = [
    (d: string) => d,
    (d: string) => `${d.slice(0, 3)} ${d.slice(3, 7)} ${d.slice(7)}`,
    (d: string) => `${d.slice(0, 3)}-${d.slice(3, 7)}-${d.slice(7)}`,
    (d: string) => `${d.slice(0, 3)}.${d.slice(3, 7)}.${d.slice(7)}`,
    (d: string) => `${d.slice(0, 3)}\u3000${d.slice(3, 7)}\u3000${d.slice(7)}`,
    (d: string) => `(${d.slice(0, 3)}) ${d.slice(3, 7)} ${d.slice(7)}`,
    (d: string) => `(${d.slice(0, 3)}) ${d.slice(3, 7)}-${d.slice(7)}`,
  ];
  return fc
    .record({
      prefix: fc.integer({ min: 3, max: 9 }),
      rest: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 9, maxLength: 9 }),
      layout: fc.constantFrom(...layouts),
      international: fc.constantFrom('', '+86', '+86 ', '+86-', '0086 '),
      fullWidth: fc.boolean(),
    })
    .map(({ prefix, rest, layout, international, fullWidth }) => {
      const digits = `1${prefix}${rest.join('')}`;
      const ascii = `${international}${layout(digits)}`;
      const text = fullWidth
        ? ascii.replace(/[0-9+()]/g, (char) => String.fromCharCode(char.charCodeAt(0) + 0xfee0))
        : ascii;
      return { text, hidden: digits.slice(0, 7) };
    });
}

/** Text around a number: letters, digits, signs and separators of both widths, touching it. */
function context(): fc.Arbitrary<string> {
  const tricky = fc.constantFrom(...'0123456789０１+＋-－ \u3000\n.,:：;_()（）=&/TeaZx会。'.split(''));
  return fc.string({ unit: fc.oneof(tricky, fc.string({ minLength: 1, maxLength: 1 })), maxLength: 30 });
}

/** Like context(), without digits. */
function digitlessContext(): fc.Arbitrary<string> {
  return context().map((text) => text.replace(/\p{Nd}/gu, ''));
}

describe('maskPhonesInText and compact timestamps', () => {
  it('keeps a run id named after its scheduled instant whole', () => {
    expect(maskPhonesInText('run run_20261123T093000000Z started')).toBe(
      'run run_20261123T093000000Z started',
    );
  });

  it('still masks a phone number after a T that follows no date', () => {
    expect(maskPhonesInText('T13812345678')).not.toContain('1381234');
    expect(maskPhonesInText('xx99999999T13812345678')).not.toContain('1381234');
  });
});
