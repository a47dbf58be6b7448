import {
  gsmBasicCharacters,
  gsmExtensionCharacters,
  isGsm7,
  measureMessage,
  nonGsmCharacters,
  splitMessage,
} from '@qunfa/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// How qunfa counts SMS parts: the figure that providers bill and rate limits count.

const han = (n: number): string => '优'.repeat(n);

describe('GSM-7 detection', () => {
  it('knows the 127 characters of the basic table and the 10 of the extension table', () => {
    expect(Array.from(gsmBasicCharacters)).toHaveLength(127);
    expect(Array.from(gsmExtensionCharacters)).toEqual(['\f', '^', '{', '}', '\\', '[', '~', ']', '|', '€']);
  });

  it('reads plain English, accented Latin and Greek capitals of the table as GSM-7', () => {
    expect(isGsm7({ text: 'Hello! Müller café, Ñoño, ΔΣΩ @ £5 ¥10 §1 ¿Qué tal? ¡Hola! Åse Øre Æ ß' })).toBe(
      true,
    );
  });

  it.each([
    ['a curly apostrophe', 'Don’t miss it'],
    ['a backtick', 'use `code`'],
    ['Chinese', '会员日'],
    ['full-width punctuation', 'Sale！'],
    ['an emoji', 'Party 🎉'],
    ['a lower-case c cedilla (only Ç is in the table)', 'façade'],
    ['an ë, which the table lacks', 'Zoë'],
    ['an acute ú or í, which the table lacks', 'Ñandú, sí'],
  ])('reads a text with %s as UCS-2', (_, text) => {
    expect(isGsm7({ text })).toBe(false);
    expect(measureMessage({ text }).encoding).toBe('ucs2');
  });

  it('names the characters that force UCS-2', () => {
    expect(nonGsmCharacters({ text: 'Don’t miss “Member Day” 🎉!' })).toEqual(['’', '“', '”', '🎉']);
  });
});

describe('measureMessage under the standard rule', () => {
  it.each([
    [160, 1],
    [161, 2],
    [306, 2],
    [307, 3],
    [459, 3],
    [460, 4],
  ])('sends %i GSM-7 characters in %i part(s)', (length, parts) => {
    expect(measureMessage({ text: 'a'.repeat(length) })).toMatchObject({
      encoding: 'gsm7',
      units: length,
      parts,
    });
  });

  it.each([
    [70, 1],
    [71, 2],
    [134, 2],
    [135, 3],
    [201, 3],
    [202, 4],
  ])('sends %i Chinese characters in %i part(s)', (length, parts) => {
    expect(measureMessage({ text: han(length) })).toMatchObject({ encoding: 'ucs2', units: length, parts });
  });

  it('counts each extension character as two septets', () => {
    expect(measureMessage({ text: '€[]{}~^|\\\f' })).toMatchObject({ encoding: 'gsm7', units: 20, parts: 1 });
    expect(measureMessage({ text: `${'a'.repeat(158)}€` })).toMatchObject({ units: 160, parts: 1 });
    expect(measureMessage({ text: `${'a'.repeat(159)}€` })).toMatchObject({ units: 161, parts: 2 });
  });

  it('never splits an escape from its character: 152 septets and a € open a second part', () => {
    const text = `${'a'.repeat(152)}€${'a'.repeat(152)}`;
    expect(measureMessage({ text })).toMatchObject({ units: 306, parts: 3 });
    expect(splitMessage({ text })).toEqual(['a'.repeat(152), `€${'a'.repeat(151)}`, 'a']);
  });

  it('counts an emoji as two UTF-16 code units', () => {
    expect(measureMessage({ text: '🎉' })).toMatchObject({ encoding: 'ucs2', units: 2, parts: 1 });
    expect(measureMessage({ text: `${han(68)}🎉` })).toMatchObject({ units: 70, parts: 1 });
    expect(measureMessage({ text: `${han(69)}🎉` })).toMatchObject({ units: 71, parts: 2 });
  });

  it('never splits a surrogate pair: an emoji that would straddle parts opens the next one', () => {
    const text = `${han(66)}🎉${han(66)}`;
    expect(measureMessage({ text })).toMatchObject({ units: 134, parts: 3 });
    expect(splitMessage({ text })).toEqual([han(66), `🎉${han(65)}`, han(1)]);
  });

  it('makes a whole English message UCS-2 for one curly quote', () => {
    const straight = `Don't miss Member Day this Saturday: 20% off everything in store. ${'x'.repeat(60)}`;
    const curly = straight.replace("'", '’');
    expect(measureMessage({ text: straight })).toMatchObject({ encoding: 'gsm7', parts: 1 });
    expect(measureMessage({ text: curly })).toMatchObject({ encoding: 'ucs2', parts: 2 });
  });

  it('counts a mixed Chinese and Latin message in code units', () => {
    const text = '【优选超市】Happy Birthday！王小明，生日专享8.8折🎂，凭此短信到店享优惠。';
    expect(measureMessage({ text })).toMatchObject({ encoding: 'ucs2', units: text.length, parts: 1 });
    expect(text.length).toBe(Array.from(text).length + 1);
  });
});

describe('measureMessage under the mainland China rule (Aliyun, Tencent Cloud)', () => {
  it('counts every character as one, 70 in one SMS and 67 per part, even in plain English', () => {
    expect(measureMessage({ text: 'a'.repeat(70), rule: 'china' })).toMatchObject({
      encoding: 'gsm7',
      parts: 1,
    });
    expect(measureMessage({ text: 'a'.repeat(71), rule: 'china' })).toMatchObject({ units: 71, parts: 2 });
    expect(measureMessage({ text: 'a'.repeat(160), rule: 'china' })).toMatchObject({ parts: 3 });
  });

  it('counts an extension character once and an emoji twice', () => {
    expect(measureMessage({ text: `${'a'.repeat(69)}€`, rule: 'china' })).toMatchObject({
      units: 70,
      parts: 1,
    });
    expect(measureMessage({ text: `${han(69)}🎉`, rule: 'china' })).toMatchObject({ units: 71, parts: 2 });
  });
});

describe('splitMessage', () => {
  const pieces = fc.constantFrom('a', 'Z', ' ', '€', '[', '\\', '优', '，', '🎉', '👨‍👩‍👧', 'é', '\n');
  const texts = fc.array(pieces, { maxLength: 400 }).map((chars) => chars.join(''));

  it('cuts any text into parts that each fit the part limit, and that join back to the text', () => {
    fc.assert(
      fc.property(texts, fc.constantFrom('standard' as const, 'china' as const), (text, rule) => {
        const size = measureMessage({ text, rule });
        const parts = splitMessage({ text, rule });
        expect(parts).toHaveLength(size.parts);
        expect(parts.join('')).toBe(text);
        if (parts.length === 1) {
          expect(size.units).toBeLessThanOrEqual(size.singleLimit);
          return;
        }
        for (const part of parts) {
          const units =
            size.encoding === 'gsm7' && rule === 'standard'
              ? measureMessage({ text: part }).units
              : part.length;
          expect(units).toBeLessThanOrEqual(size.partLimit);
          expect(part.length).toBeGreaterThan(0);
          // No part starts with a low surrogate, so no part ends with a lone high one.
          expect(/^[\udc00-\udfff]/.test(part)).toBe(false);
        }
      }),
    );
  });

  it('uses no more parts than the units need, plus at most one per unsplittable unit', () => {
    fc.assert(
      fc.property(texts, (text) => {
        const size = measureMessage({ text });
        if (size.parts === 1) return;
        expect(size.parts).toBeGreaterThanOrEqual(Math.ceil(size.units / size.partLimit));
        expect(size.parts).toBeLessThanOrEqual(Math.ceil(size.units / (size.partLimit - 1)));
      }),
    );
  });
});
