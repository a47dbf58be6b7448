const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Source of randomness, injected so that the domain stays deterministic under test. */
export type RandomBytes = (size: number) => Uint8Array;

/**
 * `length` Base62 characters from `random`, without modulo bias: bytes of 248 and above
 * are discarded (248 = 4 × 62), so each character is uniform over the alphabet.
 */
export function randomBase62({ random, length }: { random: RandomBytes; length: number }): string {
  let out = '';
  while (out.length < length) {
    for (const byte of random(length * 2)) {
      if (byte < 248) out += alphabet[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}
