import { describe, expect, it } from 'vitest';
import {
  cellText,
  readAttributeDate,
  readBirthday,
  readBoolean,
  readConsent,
  readGender,
  readInstant,
  readLocale,
  readNumber,
  readTags,
} from '../../../packages/domain/src/members/import/values';

// How cells of Chinese POS and CRM exports read as member values.

const shanghai = (text: string) => readInstant({ text, timeZone: 'Asia/Shanghai' });

describe('readInstant', () => {
  it.each([
    ['2024-01-05'],
    ['2024/1/5'],
    ['2024/01/05'],
    ['2024.1.5'],
    ['2024-1-5'],
    ['2024年1月5日'],
    ['2024 年 1 月 5 日'],
    ['20240105'],
    ['２０２４－０１－０５'],
    ['45296'],
  ])('reads %j as midnight of 5 January 2024 in the tenant time zone', (text) => {
    expect(shanghai(text)).toBe('2024-01-04T16:00:00.000Z');
  });

  it.each([
    ['2024-01-05 13:45', '2024-01-05T05:45:00.000Z'],
    ['2024-01-05 13:45:30', '2024-01-05T05:45:30.000Z'],
    ['2024/1/5 9:05', '2024-01-05T01:05:00.000Z'],
    ['2024.1.5 13:45', '2024-01-05T05:45:00.000Z'],
    ['2024年1月5日 13:45', '2024-01-05T05:45:00.000Z'],
    ['2024年1月5日 13时45分', '2024-01-05T05:45:00.000Z'],
    ['20240105 1345', '2024-01-05T05:45:00.000Z'],
    ['20240105134530', '2024-01-05T05:45:30.000Z'],
    ['2024-01-05T13:45:30', '2024-01-05T05:45:30.000Z'],
    ['2024-01-05T13:45:30.250', '2024-01-05T05:45:30.000Z'],
    ['2024-01-05T13:45:30Z', '2024-01-05T13:45:30.000Z'],
    ['2024-01-05T13:45:30+09:00', '2024-01-05T04:45:30.000Z'],
    ['45296.5', '2024-01-05T04:00:00.000Z'],
  ])('reads %j with its time', (text, instant) => {
    expect(shanghai(text)).toBe(instant);
  });

  it('reads wall-clock time in the given zone, daylight saving included', () => {
    expect(readInstant({ text: '2024-07-01 09:00', timeZone: 'America/New_York' })).toBe(
      '2024-07-01T13:00:00.000Z',
    );
    expect(readInstant({ text: '2024-01-05 09:00', timeZone: 'America/New_York' })).toBe(
      '2024-01-05T14:00:00.000Z',
    );
  });

  it.each([
    ['2024-02-30'],
    ['2023-02-29'],
    ['2024-13-01'],
    ['2024-01-05 25:00'],
    ['1/5/2024'],
    ['05.01.2024'],
    ['yesterday'],
    ['1850-01-01'],
    ['202401'],
  ])('refuses %j', (text) => {
    expect(shanghai(text)).toBeUndefined();
  });

  it('accepts 29 February in a leap year', () => {
    expect(shanghai('2024-02-29')).toBe('2024-02-28T16:00:00.000Z');
  });
});

describe('readBirthday', () => {
  it.each([
    ['1990-01-05', { month: 1, day: 5, year: 1990 }],
    ['1990/1/5', { month: 1, day: 5, year: 1990 }],
    ['1990.1.5', { month: 1, day: 5, year: 1990 }],
    ['1990年1月5日', { month: 1, day: 5, year: 1990 }],
    ['19900105', { month: 1, day: 5, year: 1990 }],
    ['1990-01-05 00:00:00', { month: 1, day: 5, year: 1990 }],
    ['1月5日', { month: 1, day: 5 }],
    ['01-05', { month: 1, day: 5 }],
    ['1/5', { month: 1, day: 5 }],
    ['2月29日', { month: 2, day: 29 }],
  ])('reads %j', (text, birthday) => {
    expect(readBirthday(text)).toEqual(birthday);
  });

  it.each([['2月30日'], ['13-01'], ['1991-02-29'], ['生日']])('refuses %j', (text) => {
    expect(readBirthday(text)).toBeUndefined();
  });
});

describe('readAttributeDate', () => {
  it('keeps a date a date and a date with a time an instant', () => {
    expect(readAttributeDate({ text: '2024/1/5', timeZone: 'Asia/Shanghai' })).toBe('2024-01-05');
    expect(readAttributeDate({ text: '2024/1/5 08:00', timeZone: 'Asia/Shanghai' })).toBe(
      '2024-01-05T00:00:00.000Z',
    );
  });
});

describe('readNumber', () => {
  it.each([
    ['1234', 1234],
    ['1,234', 1234],
    ['1,234.50', 1234.5],
    ['¥1,234.50', 1234.5],
    ['￥88元', 88],
    ['88 元', 88],
    ['RMB 99', 99],
    ['１２３４', 1234],
    ['１，２３４．５', 1234.5],
    ['-5', -5],
    ['0', 0],
    ['.5', 0.5],
  ])('reads %j as %d', (text, number) => {
    expect(readNumber(text)).toBe(number);
  });

  it.each([['abc'], ['1.2.3'], ['12a'], ['¥'], ['1e5']])('refuses %j', (text) => {
    expect(readNumber(text)).toBeUndefined();
  });
});

describe('readGender', () => {
  it.each([
    ['男', 'male'],
    ['女', 'female'],
    ['M', 'male'],
    ['f', 'female'],
    ['Male', 'male'],
    ['FEMALE', 'female'],
    ['女士', 'female'],
    ['先生', 'male'],
    ['保密', 'unknown'],
    ['其他', 'other'],
  ])('reads %j as %s', (text, gender) => {
    expect(readGender(text)).toBe(gender);
  });

  it('refuses anything else', () => {
    expect(readGender('x')).toBeUndefined();
  });
});

describe('readConsent', () => {
  it.each([
    ['是', 'granted'],
    ['同意', 'granted'],
    ['yes', 'granted'],
    ['Y', 'granted'],
    ['true', 'granted'],
    ['1', 'granted'],
    ['否', 'denied'],
    ['不同意', 'denied'],
    ['No', 'denied'],
    ['false', 'denied'],
    ['0', 'denied'],
    ['未知', 'unknown'],
  ])('reads %j as %s', (text, status) => {
    expect(readConsent(text)).toBe(status);
  });

  it('refuses anything else', () => {
    expect(readConsent('maybe')).toBeUndefined();
    expect(readBoolean('maybe')).toBeUndefined();
  });
});

describe('readTags', () => {
  it('splits on the separators of Chinese and English lists, trims and removes repeats', () => {
    expect(readTags('vip, 茶饮，咖啡;甜品；新客、老客|会员｜vip')).toEqual([
      'vip',
      '茶饮',
      '咖啡',
      '甜品',
      '新客',
      '老客',
      '会员',
    ]);
  });

  it('takes a JSON array as it is', () => {
    expect(readTags(['vip', ' tea ', '', 'vip'])).toEqual(['vip', 'tea']);
  });

  it('reads an empty cell as no tags', () => {
    expect(readTags('  ')).toEqual([]);
    expect(readTags(undefined)).toEqual([]);
  });
});

describe('readLocale', () => {
  it('reads language names and codes', () => {
    expect(readLocale('中文')).toBe('zh-CN');
    expect(readLocale('zh_CN')).toBe('zh-CN');
    expect(readLocale('English')).toBe('en');
    expect(readLocale('fr')).toBeUndefined();
  });
});

describe('cellText', () => {
  it('trims ASCII, full-width and no-break spaces and reads an empty cell as nothing', () => {
    expect(cellText('\u3000王芳\u00a0 ')).toBe('王芳');
    expect(cellText(' \u3000 ')).toBeUndefined();
    expect(cellText(null)).toBeUndefined();
    expect(cellText(13812345678)).toBe('13812345678');
  });
});
