import { TextDecoder } from 'node:util';
import type { ImportEncoding } from './report';

// Bytes → text, streamed. Chinese merchants send UTF-8 (with a BOM when Excel saved it as
// "CSV UTF-8") or GBK/GB18030 (Excel's plain "CSV" on a Chinese Windows). Nothing in a file
// says which, so the bytes decide:
//
// - a UTF-8 BOM (EF BB BF) means UTF-8;
// - ASCII reads the same in both, so chunks of pure ASCII pass through undecided;
// - from the first byte ≥ 0x80, at least `sniffBytes` are gathered and checked as UTF-8:
//   valid → UTF-8, invalid → GB18030 (a superset of GBK). Chinese text in GBK is almost
//   never valid UTF-8: GBK lead bytes 0x81–0xFE are followed by a byte 0x40–0xFE, and UTF-8
//   wants every lead byte (0xC2–0xF4) followed by 0x80–0xBF continuation bytes, over and over.
//
// The decoders are fatal: a byte sequence that the chosen encoding cannot read stops the
// import with `bad_encoding` and the byte offset, rather than importing mojibake names.

/** Non-ASCII bytes gathered before deciding (a few dozen Chinese characters). */
export const sniffBytes = 4096;

export class EncodingError extends Error {
  readonly byteOffset: number;
  constructor(message: string, byteOffset: number) {
    super(message);
    this.name = 'EncodingError';
    this.byteOffset = byteOffset;
  }
}

function isValid(bytes: Uint8Array, encoding: ImportEncoding, complete: boolean): boolean {
  try {
    new TextDecoder(encoding, { fatal: true }).decode(bytes, { stream: !complete });
    return true;
  } catch {
    return false;
  }
}

/** The encoding of a file that starts with `bytes` (`complete` when that is the whole file). */
export function detectEncoding({
  bytes,
  complete,
}: {
  bytes: Uint8Array;
  complete: boolean;
}): ImportEncoding {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  return isValid(bytes, 'utf-8', complete) ? 'utf-8' : 'gb18030';
}

function firstNonAscii(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] ?? 0) >= 0x80) return i;
  return -1;
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/**
 * Decodes a byte stream into text chunks, holding at most `sniffBytes` plus one chunk. The
 * encoding is reported through `onEncoding` once known; `onBytes` counts the bytes read.
 */
export async function* decodeText({
  source,
  encoding = 'auto',
  onEncoding,
  onBytes,
}: {
  source: AsyncIterable<Uint8Array>;
  encoding?: ImportEncoding | 'auto';
  onEncoding?: (encoding: ImportEncoding) => void;
  onBytes?: (bytes: number) => void;
}): AsyncGenerator<string, void, undefined> {
  let decoder: TextDecoder | undefined;
  let chosen: ImportEncoding | undefined;
  let offset = 0;
  let held: Uint8Array[] = [];
  let heldLength = 0;
  let nonAsciiHeld = 0;
  const ascii = new TextDecoder('utf-8');

  const choose = (value: ImportEncoding): void => {
    chosen = value;
    // `ignoreBOM: false` (the default) drops the UTF-8 BOM, so the first header is clean.
    decoder = new TextDecoder(value, { fatal: true });
    onEncoding?.(value);
  };
  const decode = (bytes: Uint8Array, final: boolean): string => {
    try {
      return decoder?.decode(bytes, { stream: !final }) ?? '';
    } catch {
      throw new EncodingError(
        `The file is not valid ${chosen === 'utf-8' ? 'UTF-8' : 'GB18030'} near byte ${offset}: save it again as CSV UTF-8.`,
        offset,
      );
    }
  };
  if (encoding !== 'auto') choose(encoding);

  for await (const chunk of source) {
    onBytes?.(chunk.length);
    if (decoder) {
      const text = decode(chunk, false);
      offset += chunk.length;
      if (text) yield text;
      continue;
    }
    if (heldLength === 0) {
      const first = firstNonAscii(chunk);
      if (first === -1) {
        // Pure ASCII is the same text in UTF-8 and GB18030: no need to decide yet.
        offset += chunk.length;
        const text = ascii.decode(chunk);
        if (text) yield text;
        continue;
      }
      nonAsciiHeld = chunk.length - first;
    } else {
      nonAsciiHeld += chunk.length;
    }
    held.push(chunk);
    heldLength += chunk.length;
    if (nonAsciiHeld < sniffBytes) continue;
    const bytes = concat(held, heldLength);
    held = [];
    heldLength = 0;
    choose(detectEncoding({ bytes, complete: false }));
    const text = decode(bytes, false);
    offset += bytes.length;
    if (text) yield text;
  }
  if (!decoder && heldLength > 0) {
    const bytes = concat(held, heldLength);
    choose(detectEncoding({ bytes, complete: true }));
    const text = decode(bytes, true);
    offset += bytes.length;
    if (text) yield text;
    return;
  }
  const rest = decode(new Uint8Array(0), true);
  if (rest) yield rest;
}
