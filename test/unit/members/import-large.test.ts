import { importMembers } from '@qunfa/domain';
import { describe, expect, it } from 'vitest';
import { MemoryImportPort } from './support';

// A 100,000-row file streams through: it is generated chunk by chunk and never exists whole,
// and the first batch is written long before the end of the file has been produced.

const rows = 100_000;
const header = '会员卡号,姓名,手机号,性别,生日,会员等级,标签,积分,消费金额,最近消费时间,营销同意\r\n';

/** Row i (data rows from 0): every 1,000th has a landline, every 997th repeats member M(i-1). */
function line(i: number): string {
  const id = i % 997 === 996 ? `M${i - 1}` : `M${i}`;
  const phone =
    i % 1000 === 999
      ? '010-6552 9988'
      : `139 ${String(i)
          .padStart(8, '0')
          .replace(/(\d{4})(\d{4})/, '$1 $2')}`;
  return `${id},会员${i},${phone},${i % 2 ? '男' : '女'},${1970 + (i % 40)}年${1 + (i % 12)}月${1 + (i % 28)}日,${i % 3 ? '银卡' : '金卡'},"vip,茶饮",${i % 5000},"￥${i % 9000}.50",2024/1/${1 + (i % 28)} 13:45,${i % 4 ? '是' : '否'}\r\n`;
}

function generatedFile(): { source: AsyncIterable<Uint8Array>; produced: () => number } {
  const encoder = new TextEncoder();
  let produced = 0;
  async function* source(): AsyncGenerator<Uint8Array> {
    let text = header;
    for (let i = 0; i < rows; i++) {
      text += line(i);
      if (text.length >= 16_384 || i === rows - 1) {
        const bytes = encoder.encode(text);
        produced += bytes.length;
        text = '';
        yield bytes;
      }
    }
  }
  return { source: source(), produced: () => produced };
}

describe('importMembers at scale', () => {
  it('streams a generated 100,000-row CSV through in batches', async () => {
    const port = new MemoryImportPort();
    const file = generatedFile();
    let producedAtFirstSave: number | undefined;
    const save = port.save.bind(port);
    port.save = async (changes) => {
      producedAtFirstSave ??= file.produced();
      await save(changes);
    };
    // A repeat of a member whose own row was a landline is that member's first valid row.
    const landline = (i: number): boolean => i % 1000 === 999;
    const landlines = Array.from({ length: rows }, (_, i) => i).filter(landline).length;
    const repeats = Array.from({ length: rows }, (_, i) => i).filter(
      (i) => i % 997 === 996 && !landline(i) && !landline(i - 1),
    ).length;

    const report = await importMembers({
      source: file.source,
      format: 'csv',
      settings: { defaultRegion: 'CN', timeZone: 'Asia/Shanghai' },
      now: new Date('2024-03-01T02:00:00.000Z'),
      port,
    });

    expect(report).toMatchObject({
      state: 'completed',
      progress: { rowsRead: rows, bytesRead: file.produced() },
      counts: {
        created: rows - landlines - repeats,
        updated: 0,
        unchanged: 0,
        invalid: landlines,
        duplicate: repeats,
      },
      truncated: { invalidRows: false, duplicates: false },
    });
    expect(report.invalidRows[0]).toEqual({ row: 1001, column: '手机号', reason: 'not_mobile' });
    expect(report.duplicates[0]).toEqual({ row: 998, duplicateOf: 997, by: 'memberId' });
    expect(port.members.size).toBe(rows - landlines - repeats);
    expect(port.members.get('M12345')).toMatchObject({
      phone: '+8613900012345',
      birthday: { year: 1995, month: 10, day: 26 },
      totalSpend: 3345.5,
      lastPurchaseAt: '2024-01-26T05:45:00.000Z',
    });
    // The first batch was written when less than 2% of the file had been produced.
    expect(producedAtFirstSave).toBeLessThan(file.produced() / 50);
  }, 60_000);
});
