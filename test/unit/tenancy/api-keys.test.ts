import { createHash } from 'node:crypto';
import { formatApiKey, generateApiKey, hashSecret, parseApiKey, secretMatches } from '@qunfa/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const keyId = 'AbCdEf012345';
const secret = '0123456789abcdefghijABCDEFGHIJxy';

/** Every call answers bytes 0, 1, 2, …, so the Base62 characters come out in alphabet order. */
function counting(): (size: number) => Uint8Array {
  return (size) => Uint8Array.from({ length: size }, (_, i) => i % 62);
}

describe('formatApiKey', () => {
  it('writes qf_, the tenant, the key id and the secret, separated by underscores', () => {
    const key = formatApiKey({ tenantId: 'acme-tea', keyId, secret });

    expect(key).toBe(`qf_acme-tea_${keyId}_${secret}`);
  });
});

describe('parseApiKey', () => {
  it('reads the tenant, key id and secret back', () => {
    const parsed = parseApiKey(`qf_acme-tea_${keyId}_${secret}`);

    expect(parsed).toEqual({ tenantId: 'acme-tea', keyId, secret });
  });

  it('reads back every key that generateApiKey makes', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        (tenantId, bytes) => {
          let offset = 0;
          const random = (size: number): Uint8Array =>
            Uint8Array.from({ length: size }, () => bytes[offset++ % bytes.length] ?? 0);
          const generated = generateApiKey({ tenantId, random });

          const parsed = parseApiKey(formatApiKey(generated));

          expect(parsed).toEqual(generated);
        },
      ),
    );
  });

  it.each([
    ['another prefix', `qk_acme_${keyId}_${secret}`],
    ['no prefix', `acme_${keyId}_${secret}`],
    ['an upper-case tenant', `qf_Acme_${keyId}_${secret}`],
    ['a tenant starting with a dash', `qf_-acme_${keyId}_${secret}`],
    ['a tenant of two characters', `qf_ac_${keyId}_${secret}`],
    ['a tenant with an underscore', `qf_acme_tea_${keyId}_${secret}`],
    ['a key id of 11 characters', `qf_acme_${keyId.slice(1)}_${secret}`],
    ['a key id with a dash', `qf_acme_AbCdEf-12345_${secret}`],
    ['a secret of 31 characters', `qf_acme_${keyId}_${secret.slice(1)}`],
    ['a secret of 33 characters', `qf_acme_${keyId}_${secret}z`],
    ['a secret with a symbol', `qf_acme_${keyId}_${secret.slice(1)}+`],
    ['surrounding spaces', ` qf_acme_${keyId}_${secret} `],
    ['an empty string', ''],
  ])('refuses %s', (_case, key) => {
    expect(parseApiKey(key)).toBeUndefined();
  });
});

describe('generateApiKey', () => {
  it('draws a 12-character key id and a 32-character secret in Base62 from the random source', () => {
    const key = generateApiKey({ tenantId: 'acme', random: counting() });

    expect(key).toEqual({
      tenantId: 'acme',
      keyId: '0123456789AB',
      secret: '0123456789ABCDEFGHIJKLMNOPQRSTUV',
    });
  });

  it('skips bytes of 248 and above, so that every character is equally likely', () => {
    const random = (size: number): Uint8Array =>
      Uint8Array.from({ length: size }, (_, i) => (i % 2 ? 61 : 250));

    const key = generateApiKey({ tenantId: 'acme', random });

    expect(key.keyId).toBe('z'.repeat(12));
    expect(key.secret).toBe('z'.repeat(32));
  });

  it('refuses a tenant id that could not start a key', () => {
    expect(() => generateApiKey({ tenantId: 'Acme Tea', random: counting() })).toThrow();
  });
});

describe('hashSecret', () => {
  it('is the hex SHA-256 of the secret', () => {
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashSecret(secret)).toBe(createHash('sha256').update(secret).digest('hex'));
  });
});

describe('secretMatches', () => {
  it('accepts the secret whose hash is stored', () => {
    expect(secretMatches({ secret, secretHash: hashSecret(secret) })).toBe(true);
  });

  it('refuses a secret that differs in one character', () => {
    const tampered = `${secret.slice(0, -1)}z`;

    expect(secretMatches({ secret: tampered, secretHash: hashSecret(secret) })).toBe(false);
  });

  it('refuses when the stored hash is not a SHA-256 in hex', () => {
    expect(secretMatches({ secret, secretHash: '' })).toBe(false);
    expect(secretMatches({ secret, secretHash: secret })).toBe(false);
  });
});
