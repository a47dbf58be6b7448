import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import {
  decodeText,
  detectEncoding,
  EncodingError,
  sniffBytes,
} from '../../../packages/domain/src/members/import/decode';
import { chunked } from './support';

// Bytes → text: UTF-8 with or without BOM, or GBK/GB18030 as Excel writes CSV on a Chinese
// Windows, told apart from the bytes and decoded chunk by chunk.

const text = '会员卡号,姓名,手机号\r\nM0001,王芳,13812345678\r\nM0002,李雷,13900000001\r\n';

async function decodeAll(
  bytes: Uint8Array,
  chunkSize: number,
  encoding: 'auto' | 'utf-8' | 'gb18030' = 'auto',
): Promise<{ text: string; encoding: string | undefined; bytes: number }> {
  let detected: string | undefined;
  let counted = 0;
  let out = '';
  for await (const part of decodeText({
    source: chunked(bytes, chunkSize),
    encoding,
    onEncoding: (value) => {
      detected = value;
    },
    onBytes: (n) => {
      counted += n;
    },
  })) {
    out += part;
  }
  return { text: out, encoding: detected, bytes: counted };
}

const utf8 = (value: string): Uint8Array => new TextEncoder().encode(value);
const gbk = (value: string): Uint8Array => new Uint8Array(iconv.encode(value, 'gbk'));

describe('decodeText', () => {
  it.each([1, 2, 3, 7, 64, 1 << 16])('reads UTF-8 in chunks of %i bytes', async (size) => {
    expect(await decodeAll(utf8(text), size)).toEqual({ text, encoding: 'utf-8', bytes: utf8(text).length });
  });

  it.each([1, 3, 1 << 16])('drops the UTF-8 BOM that Excel writes (chunks of %i bytes)', async (size) => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8(text)]);
    expect(await decodeAll(bytes, size)).toMatchObject({ text, encoding: 'utf-8' });
  });

  it.each([1, 2, 5, 1 << 16])('reads GBK as GB18030 (chunks of %i bytes)', async (size) => {
    expect(await decodeAll(gbk(text), size)).toEqual({ text, encoding: 'gb18030', bytes: gbk(text).length });
  });

  it('decides on the first non-ASCII bytes, even far into the file', async () => {
    const ascii = 'phone,name\r\n'.padEnd(200_000, 'x');
    const late = `${ascii}\r\n13812345678,王芳\r\n`;
    expect(await decodeAll(gbk(late), 4096)).toMatchObject({ text: late, encoding: 'gb18030' });
    expect(await decodeAll(utf8(late), 4096)).toMatchObject({ text: late, encoding: 'utf-8' });
  });

  it('gathers enough bytes before deciding, so a lone character split across chunks decides right', async () => {
    const many = `${'王芳,'.repeat(sniffBytes)}\n`;
    expect(await decodeAll(gbk(many), 1)).toMatchObject({ text: many, encoding: 'gb18030' });
    expect(await decodeAll(utf8(many), 1)).toMatchObject({ text: many, encoding: 'utf-8' });
  });

  it('reads pure ASCII without deciding anything', async () => {
    expect(await decodeAll(utf8('phone\n13812345678\n'), 5)).toEqual({
      text: 'phone\n13812345678\n',
      encoding: undefined,
      bytes: 18,
    });
  });

  it('uses the encoding it is told', async () => {
    expect(await decodeAll(gbk(text), 3, 'gb18030')).toMatchObject({ text, encoding: 'gb18030' });
  });

  it('stops with the byte offset when the file changes encoding midway', async () => {
    const mixed = new Uint8Array([...utf8(`${'王芳,'.repeat(2000)}\n`), ...gbk('李雷\n')]);
    const attempt = decodeAll(mixed, 1024);
    await expect(attempt).rejects.toBeInstanceOf(EncodingError);
    await expect(attempt).rejects.toThrow(/not valid UTF-8 near byte 1[0-9]{4}/);
  });

  it('stops when told UTF-8 for a GBK file', async () => {
    await expect(decodeAll(gbk(text), 64, 'utf-8')).rejects.toThrow(/not valid UTF-8/);
  });
});

describe('detectEncoding', () => {
  it('reads the BOM, then validity as UTF-8', () => {
    expect(detectEncoding({ bytes: new Uint8Array([0xef, 0xbb, 0xbf]), complete: true })).toBe('utf-8');
    expect(detectEncoding({ bytes: utf8('王芳'), complete: true })).toBe('utf-8');
    expect(detectEncoding({ bytes: gbk('王芳'), complete: true })).toBe('gb18030');
    // 联通 in GBK is the classic text that Notepad mistook for UTF-8; it is not valid UTF-8.
    expect(detectEncoding({ bytes: gbk('联通'), complete: true })).toBe('gb18030');
  });

  it('does not hold a character cut at the end of an incomplete sample against UTF-8', () => {
    const bytes = utf8('王芳').slice(0, 4);
    expect(detectEncoding({ bytes, complete: false })).toBe('utf-8');
    expect(detectEncoding({ bytes, complete: true })).toBe('gb18030');
  });
});
