import { normalizePhone, phoneRegions, phoneRejections } from '@qunfa/domain';
import fc from 'fast-check';
import { type CountryCode, parsePhoneNumberWithError } from 'libphonenumber-js/mobile';
import examples from 'libphonenumber-js/mobile/examples';
import { describe, expect, it } from 'vitest';

// Phone numbers on the way in: every accepted number is a mobile in E.164, and every refusal
// says why in words a merchant can act on.

const cn = (raw: string) => normalizePhone({ raw, defaultRegion: 'CN' });

describe('normalizePhone', () => {
  describe('accepts Chinese mobiles in every usual written form', () => {
    it.each([
      ['13812345678'],
      ['138 1234 5678'],
      ['138-1234-5678'],
      ['138.1234.5678'],
      ['(138) 1234 5678'],
      ['+86 138 1234 5678'],
      ['+86-13812345678'],
      ['(+86)13812345678'],
      ['008613812345678'],
      ['0086 138 1234 5678'],
      ['8613812345678'],
      ['86 138 1234 5678'],
      ['１３８１２３４５６７８'],
      ['＋８６　１３８－１２３４－５６７８'],
      ['138\u00a01234\u00a05678'],
      ['\u200b13812345678\ufeff'],
      ["'13812345678"],
      ['  13812345678  '],
    ])('%j → +8613812345678', (raw) => {
      expect(cn(raw)).toEqual({ ok: true, e164: '+8613812345678' });
    });
  });

  it('reads +86, 0086 and 86 before a Chinese mobile whatever the default region', () => {
    for (const defaultRegion of ['HK', 'US', 'SG', 'GB']) {
      for (const raw of ['+8613812345678', '008613812345678', '8613812345678']) {
        expect(normalizePhone({ raw, defaultRegion })).toEqual({ ok: true, e164: '+8613812345678' });
      }
    }
  });

  it.each([
    ['HK', '9123 4567', '+85291234567'],
    ['MO', '6612 3456', '+85366123456'],
    ['TW', '0912 345 678', '+886912345678'],
    ['US', '(201) 555-0123', '+12015550123'],
    ['GB', '07400 123456', '+447400123456'],
    ['SG', '9123 4567', '+6591234567'],
    ['CN', '+852 9123 4567', '+85291234567'],
    ['GB', '07797 712345', '+447797712345'],
    ['CN', '+1 876 210 1234', '+18762101234'],
  ])('reads a mobile of %s written %j', (defaultRegion, raw, e164) => {
    expect(normalizePhone({ raw, defaultRegion })).toEqual({ ok: true, e164 });
  });

  describe('refuses with a reason', () => {
    it.each([
      ['010-6552 9988', 'not_mobile'],
      ['021 1234 5678', 'not_mobile'],
      ['400-812-3123', 'not_mobile'],
      ['1381234567', 'wrong_length'],
      ['138123456789', 'wrong_length'],
      ['12345', 'wrong_length'],
      ['14012345678', 'impossible'],
      ['12012345678', 'impossible'],
      ['abc', 'not_a_number'],
      ['', 'not_a_number'],
      ['+', 'not_a_number'],
      ['138 1234 5678 转 12', 'not_a_number'],
      ['1.38123E+10', 'not_a_number'],
      ['+999 1234 5678', 'unsupported_region'],
    ])('%j → %s', (raw, reason) => {
      expect(cn(raw)).toEqual({ ok: false, reason });
    });

    it('names landlines of other regions too', () => {
      expect(normalizePhone({ raw: '2123 4567', defaultRegion: 'HK' })).toEqual({
        ok: false,
        reason: 'not_mobile',
      });
      expect(normalizePhone({ raw: '020 7946 0000', defaultRegion: 'GB' })).toEqual({
        ok: false,
        reason: 'not_mobile',
      });
      expect(normalizePhone({ raw: '6123 4567', defaultRegion: 'SG' })).toEqual({
        ok: false,
        reason: 'not_mobile',
      });
    });

    it('refuses numbers of regions it does not read, naming the region', () => {
      expect(cn('+55 11 96123 4567')).toEqual({ ok: false, reason: 'unsupported_region' });
      expect(normalizePhone({ raw: '11 96123 4567', defaultRegion: 'BR' })).toEqual({
        ok: false,
        reason: 'unsupported_region',
      });
    });

    it('refuses a number without country code when the default region is unknown', () => {
      expect(normalizePhone({ raw: '13812345678', defaultRegion: 'XX' })).toEqual({
        ok: false,
        reason: 'unsupported_region',
      });
      expect(normalizePhone({ raw: '+8613812345678', defaultRegion: 'XX' })).toEqual({
        ok: true,
        e164: '+8613812345678',
      });
    });
  });

  describe('properties', () => {
    const regions = ['CN', 'HK', 'MO', 'TW', 'US', 'GB', 'SG', 'JP', 'KR', 'AU', 'MY'] as const;
    const separators = [' ', '-', '.', '\u00a0', '\u3000', '－', '—', '(', ')', ''];
    const fullWidth = (text: string, mask: readonly boolean[]): string =>
      [...text]
        .map((char, i) => {
          if (!mask[i % mask.length]) return char;
          if (/\d/.test(char)) return String.fromCharCode(char.charCodeAt(0) + 0xfee0);
          return char === '+' ? '＋' : char;
        })
        .join('');
    const withSeparators = (text: string, picks: readonly number[]): string =>
      [...text].map((char, i) => `${char}${separators[picks[i % picks.length] ?? 0] ?? ''}`).join('');
    const digits = (min: number, max: number) =>
      fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
    const anyText = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'0123456789+ -.()０１２３８６＋　'), maxLength: 20 }),
      fc
        .tuple(fc.constantFrom('13', '15', '18', '17', '19', '14', '16'), digits(9, 9))
        .map(([a, b]) => a + b),
      fc
        .tuple(fc.constantFrom('+86', '+852', '+1', '+44', '+65', '0086', '86'), digits(6, 12))
        .map(([a, b]) => a + b),
    );

    it('gives only valid E.164 numbers, and an accepted number normalizes to itself', () => {
      fc.assert(
        fc.property(
          anyText,
          fc.constantFrom(...regions),
          fc.constantFrom(...regions),
          (raw, region, other) => {
            const result = normalizePhone({ raw, defaultRegion: region });
            if (!result.ok) {
              expect(phoneRejections).toContain(result.reason);
              return;
            }
            expect(result.e164).toMatch(/^\+[1-9]\d{6,14}$/);
            expect(normalizePhone({ raw: result.e164, defaultRegion: region })).toEqual(result);
            expect(normalizePhone({ raw: result.e164, defaultRegion: other })).toEqual(result);
          },
        ),
        { numRuns: 2000 },
      );
    });

    const cnMobile = fc
      .tuple(fc.constantFrom('130', '135', '139', '150', '158', '166', '177', '186', '199'), digits(8, 8))
      .map(([prefix, rest]) => prefix + rest);
    const cnPrefix = fc.constantFrom('', '+86', '+86 ', '0086', '0086 ', '86', '(+86)', '＋８６');
    const picks = fc.array(fc.nat({ max: separators.length - 1 }), { minLength: 1, maxLength: 12 });
    const mask = fc.array(fc.boolean(), { minLength: 1, maxLength: 12 });

    it('reads every written form of one Chinese mobile as the same number', () => {
      fc.assert(
        fc.property(
          cnMobile,
          cnPrefix,
          picks,
          mask,
          fc.constantFrom(...regions),
          (mobile, prefix, pick, wide, region) => {
            const raw = fullWidth(prefix + withSeparators(mobile, pick), wide);
            // A bare national number is Chinese only where China is the default region.
            const defaultRegion = prefix === '' ? 'CN' : region;
            expect(normalizePhone({ raw, defaultRegion })).toEqual({ ok: true, e164: `+86${mobile}` });
          },
        ),
        { numRuns: 2000 },
      );
    });

    it("reads the international, national and 00 forms of every supported region's mobiles as one number", () => {
      const others = phoneRegions.filter(
        (region): region is CountryCode => region !== 'CN' && region in examples,
      );
      fc.assert(
        fc.property(fc.constantFrom(...others), picks, mask, (region, pick, wide) => {
          const example = parsePhoneNumberWithError(examples[region], region);
          const forms = [
            example.number,
            example.formatInternational(),
            example.formatNational(),
            `00${example.countryCallingCode}${example.nationalNumber}`,
          ];
          for (const form of forms) {
            const raw = fullWidth(withSeparators(form, pick), wide);
            expect(normalizePhone({ raw, defaultRegion: region })).toEqual({
              ok: true,
              e164: example.number,
            });
          }
        }),
        { numRuns: 500 },
      );
    });
  });
});
