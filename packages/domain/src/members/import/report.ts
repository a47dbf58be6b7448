import * as z from 'zod';
import { phoneRejections } from '../phone';

// What an import tells the merchant: how many members it created, updated or left alone,
// and every row it could not take, by row and column as they see them in Excel (the header
// is row 1). `GET /imports/{id}` returns it; these schemas are its contract.

/** Why a cell (or a whole JSON line) was refused. */
export const importRowReasons = [
  'missing',
  ...phoneRejections,
  'invalid_member_id',
  'invalid_date',
  'invalid_number',
  'not_an_integer',
  'negative',
  'invalid_gender',
  'invalid_consent',
  'invalid_boolean',
  'invalid_locale',
  'invalid_time_zone',
  'too_long',
  'tag_too_long',
  'too_many_tags',
  'invalid_json',
  'not_an_object',
] as const;
export type ImportRowReason = (typeof importRowReasons)[number];

/** Why a whole file stopped: nothing after the point it names was read. */
export const importFailureReasons = [
  'empty_file',
  'bad_encoding',
  'malformed_csv',
  'line_too_long',
  'missing_columns',
  'duplicate_columns',
  'no_phone_column',
] as const;
export type ImportFailureReason = (typeof importFailureReasons)[number];

/** Sentences for the back office, one per reason, in the locales qunfa speaks. */
export const importReasonText: Readonly<
  Record<ImportRowReason | ImportFailureReason, { readonly en: string; readonly 'zh-CN': string }>
> = {
  missing: { en: 'This value is required.', 'zh-CN': '必填项为空。' },
  not_a_number: { en: 'Not a phone number.', 'zh-CN': '不是电话号码。' },
  wrong_length: { en: 'Too few or too many digits.', 'zh-CN': '号码位数不对。' },
  not_mobile: {
    en: 'A landline or service number: it cannot receive SMS.',
    'zh-CN': '固定电话或服务号码，无法接收短信。',
  },
  impossible: { en: 'No such number exists.', 'zh-CN': '号码不存在（号段无效）。' },
  unsupported_region: { en: 'Unknown country code or region.', 'zh-CN': '无法识别的国家或地区代码。' },
  invalid_member_id: {
    en: 'Member ids are 1–64 letters, digits or . _ : @ -.',
    'zh-CN': '会员编号须为 1–64 位字母、数字或 . _ : @ -。',
  },
  invalid_date: {
    en: 'Not a date (write 2024-01-05, 2024/1/5 or 2024年1月5日).',
    'zh-CN': '日期无法识别（请写作 2024-01-05、2024/1/5 或 2024年1月5日）。',
  },
  invalid_number: { en: 'Not a number.', 'zh-CN': '不是数字。' },
  not_an_integer: { en: 'A whole number is expected.', 'zh-CN': '应为整数。' },
  negative: { en: 'Cannot be negative.', 'zh-CN': '不能为负数。' },
  invalid_gender: { en: 'Write 男/女 or male/female.', 'zh-CN': '请填写 男/女 或 male/female。' },
  invalid_consent: { en: 'Write 是/否 or yes/no.', 'zh-CN': '请填写 是/否 或 yes/no。' },
  invalid_boolean: { en: 'Write 是/否 or yes/no.', 'zh-CN': '请填写 是/否 或 yes/no。' },
  invalid_locale: { en: 'Write zh-CN or en.', 'zh-CN': '请填写 zh-CN 或 en。' },
  invalid_time_zone: {
    en: 'Not a time zone such as Asia/Shanghai.',
    'zh-CN': '时区无法识别（如 Asia/Shanghai）。',
  },
  too_long: { en: 'Too long.', 'zh-CN': '内容过长。' },
  tag_too_long: { en: 'A tag is longer than 40 characters.', 'zh-CN': '标签超过 40 个字符。' },
  too_many_tags: { en: 'More than 100 tags.', 'zh-CN': '标签超过 100 个。' },
  invalid_json: { en: 'This line is not valid JSON.', 'zh-CN': '该行不是有效的 JSON。' },
  not_an_object: { en: 'This line is not a JSON object.', 'zh-CN': '该行不是 JSON 对象。' },
  empty_file: { en: 'The file is empty.', 'zh-CN': '文件为空。' },
  bad_encoding: {
    en: 'The file is neither UTF-8 nor GBK/GB18030: save it again as CSV UTF-8.',
    'zh-CN': '文件编码既不是 UTF-8 也不是 GBK/GB18030，请另存为 CSV UTF-8。',
  },
  malformed_csv: {
    en: 'The CSV is malformed (look for an unclosed quote).',
    'zh-CN': 'CSV 格式错误（请检查引号）。',
  },
  line_too_long: { en: 'A line is longer than 1 MB.', 'zh-CN': '单行超过 1 MB。' },
  missing_columns: { en: 'A mapped column is not in the file.', 'zh-CN': '映射的列在文件中不存在。' },
  duplicate_columns: { en: 'A mapped column appears twice.', 'zh-CN': '映射的列在表头中重复出现。' },
  no_phone_column: { en: 'No column holds phone numbers.', 'zh-CN': '文件中没有手机号列。' },
};

const rowNumber = z.number().int().min(1);

/** One refused cell; `column` is the file's own column name (the key, for JSON lines). */
export const importProblem = z.strictObject({
  row: rowNumber,
  column: z.string(),
  reason: z.enum(importRowReasons),
});
export type ImportProblem = z.infer<typeof importProblem>;

/** A row that repeats an earlier member of the same file (see `dedupe.ts` for the rule). */
export const importDuplicate = z.strictObject({
  row: rowNumber,
  duplicateOf: rowNumber,
  by: z.enum(['memberId', 'phone']),
});
export type ImportDuplicate = z.infer<typeof importDuplicate>;

export const importFormats = ['csv', 'jsonl'] as const;
export type ImportFormat = (typeof importFormats)[number];
export const importEncodings = ['utf-8', 'gb18030'] as const;
export type ImportEncoding = (typeof importEncodings)[number];

export const importFailure = z.strictObject({
  reason: z.enum(importFailureReasons),
  message: z.string(),
  /** The row being read when the file stopped. */
  row: rowNumber.exactOptional(),
});
export type ImportFailure = z.infer<typeof importFailure>;

const count = z.number().int().min(0);

export const importReport = z.strictObject({
  state: z.enum(['running', 'completed', 'failed']),
  format: z.enum(importFormats),
  /** As detected (or as told); absent until the first non-ASCII byte decides it. */
  encoding: z.enum(importEncodings).exactOptional(),
  /** Which column filled which field, and the columns nothing read. */
  columns: z.strictObject({
    mapped: z.record(z.string(), z.string()),
    ignored: z.array(z.string()),
  }),
  progress: z.strictObject({
    /** Data rows read (blank rows are skipped and not counted). */
    rowsRead: count,
    bytesRead: count,
  }),
  /** Per row: once completed, created + updated + unchanged + invalid + duplicate = rowsRead. */
  counts: z.strictObject({
    created: count,
    updated: count,
    unchanged: count,
    invalid: count,
    duplicate: count,
  }),
  /** Every problem of every invalid row, up to the cap; `truncated` says when more were found. */
  invalidRows: z.array(importProblem),
  duplicates: z.array(importDuplicate),
  truncated: z.strictObject({ invalidRows: z.boolean(), duplicates: z.boolean() }),
  failure: importFailure.exactOptional(),
});
export type ImportReport = z.infer<typeof importReport>;
