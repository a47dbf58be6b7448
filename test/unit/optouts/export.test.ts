import { csvField, exportOptOuts, phoneHash } from '@qunfa/domain';
import { describe, expect, it } from 'vitest';
import { MemoryOptOutStore } from '../../support/fakes/memory-member-store';

describe('exportOptOuts', () => {
  const tenantId = 'acme';
  const storeWith = async (count: number): Promise<MemoryOptOutStore> => {
    const optOuts = new MemoryOptOutStore();
    for (let i = 0; i < count; i++) {
      const phone = `+86138000${String(10_000 + i)}`;
      await optOuts.add(tenantId, {
        phoneHash: phoneHash({ tenantId, phone }),
        phone,
        source: 'sms',
        at: '2026-01-01T00:00:00.000Z',
      });
    }
    return optOuts;
  };
  const rowsOf = (csv: string): string[] => csv.trimEnd().split('\r\n').slice(1);

  it('splits a list larger than a part into parts that each hold whole rows, none twice', async () => {
    const optOuts = await storeWith(25);

    const parts = [];
    let cursor: string | undefined;
    do {
      const part = await exportOptOuts(
        { optOuts },
        { tenantId, maxBytes: 400, pageSize: 4, ...(cursor ? { cursor } : {}) },
      );
      parts.push(part);
      cursor = part.cursor;
    } while (cursor);

    expect(parts.length).toBeGreaterThan(2);
    for (const part of parts) {
      expect(Buffer.byteLength(JSON.stringify(part.csv))).toBeLessThanOrEqual(400 + 2);
      expect(part.csv.startsWith('\uFEFFmasked_phone,source,reason,opted_out_at\r\n')).toBe(true);
      expect(rowsOf(part.csv)).toHaveLength(part.rows);
    }
    const rows = parts.flatMap((part) => rowsOf(part.csv));
    expect(rows).toHaveLength(25);
    expect(new Set(rows.map((row) => row.slice(0, 15))).size).toBe(25);
  });

  it('answers one part without a cursor when everything fits', async () => {
    const part = await exportOptOuts({ optOuts: await storeWith(3) }, { tenantId });

    expect(part.rows).toBe(3);
    expect(part).not.toHaveProperty('cursor');
  });
});

describe('csvField', () => {
  it('quotes commas, quotes and line breaks', () => {
    expect(csvField('a, "b"\nc')).toBe('"a, ""b""\nc"');
  });

  it('defuses what Excel would read as a formula', () => {
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField('+86*******5678')).toBe("'+86*******5678");
    expect(csvField('退订')).toBe('退订');
  });
});
