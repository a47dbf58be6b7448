import * as z from 'zod';
import { type AttributeType, attributeName } from '../member';

// Which column of the merchant's file fills which member field. The merchant maps their own
// column names (`{"手机号": "phone", "会员卡号": "memberId"}`); without a mapping the usual
// Chinese and English headers are recognized. A mapping is checked whole, before any row is
// read, so a typo in a field name never half-imports a file.

/** What a column can fill: the member fields, the member id and the time consent was given. */
export const importFields = [
  'memberId',
  'phone',
  'name',
  'gender',
  'birthday',
  'store',
  'tier',
  'tags',
  'points',
  'totalSpend',
  'purchaseCount',
  'firstPurchaseAt',
  'lastPurchaseAt',
  'joinedAt',
  'timeZone',
  'locale',
  'consent',
  'consentAt',
] as const;
export type ImportField = (typeof importFields)[number];

export const attributeTypes = [
  'string',
  'number',
  'boolean',
  'date',
] as const satisfies readonly AttributeType[];

/** A column's destination: a member field, or a typed custom attribute. */
export type ImportTarget =
  | { readonly kind: 'field'; readonly field: ImportField }
  | { readonly kind: 'attribute'; readonly name: string; readonly type: AttributeType };

const attributeTarget = /^attributes\.([^:]+?)(?::(string|number|boolean|date))?$/;

/**
 * `phone`, `memberId`, … or `attributes.<name>` with an optional type: `attributes.visits:number`
 * (string unless said; a file's cells are all text, so the type cannot be guessed safely).
 */
export function parseImportTarget(text: string): ImportTarget | undefined {
  const field = importFields.find((name) => name === text);
  if (field) return { kind: 'field', field };
  const match = attributeTarget.exec(text);
  if (!match?.[1] || !attributeName.safeParse(match[1]).success) return undefined;
  const type = attributeTypes.find((name) => name === match[2]) ?? 'string';
  return { kind: 'attribute', name: match[1], type };
}

export function formatImportTarget(target: ImportTarget): string {
  if (target.kind === 'field') return target.field;
  return target.type === 'string' ? `attributes.${target.name}` : `attributes.${target.name}:${target.type}`;
}

/** The key that identifies a target once, whatever its type: two columns may not fill it. */
export function targetKey(target: ImportTarget): string {
  return target.kind === 'field' ? target.field : `attributes.${target.name}`;
}

export const maxMappedColumns = 200;

/** A merchant's mapping: source column → target. Every problem is reported, by column. */
export const importMapping = z
  .record(z.string().trim().min(1).max(200), z.string())
  .superRefine((mapping, ctx) => {
    const columns = Object.keys(mapping);
    if (columns.length > maxMappedColumns) {
      ctx.addIssue({ code: 'custom', path: [], message: `Map at most ${maxMappedColumns} columns.` });
    }
    const filledBy = new Map<string, string>();
    for (const [column, text] of Object.entries(mapping)) {
      const target = parseImportTarget(text);
      if (target === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [column],
          message: `Unknown field "${text}". Map to one of ${importFields.join(', ')}, or to attributes.<name> with an optional :string, :number, :boolean or :date.`,
        });
        continue;
      }
      const key = targetKey(target);
      const other = filledBy.get(key);
      // Several tag columns (标签1, 标签2) add up; any other field comes from one column.
      if (other !== undefined && key !== 'tags') {
        ctx.addIssue({
          code: 'custom',
          path: [column],
          message: `"${key}" is already filled by column "${other}".`,
        });
      }
      filledBy.set(key, column);
    }
    if (!filledBy.has('phone')) {
      ctx.addIssue({ code: 'custom', path: [], message: 'Map one column to "phone".' });
    }
    if (filledBy.has('consentAt') && !filledBy.has('consent')) {
      ctx.addIssue({
        code: 'custom',
        path: [filledBy.get('consentAt') ?? ''],
        message: '"consentAt" needs a column mapped to "consent".',
      });
    }
  });
export type ImportMapping = z.infer<typeof importMapping>;

// The headers that Chinese POS, CRM and e-commerce exports use, and the English ones of
// integrations, folded (see `foldHeader`). Earlier names win when two columns of one file
// mean the same field: 手机 (mobile) before 电话 (telephone, often a landline).
const headerNames: Readonly<Record<Exclude<ImportField, 'consentAt'>, readonly string[]>> = {
  phone: [
    '手机',
    '手机号',
    '手机号码',
    '会员手机',
    '会员手机号',
    '移动电话',
    'mobile',
    'mobilephone',
    'mobilenumber',
    'cellphone',
    'cell',
    'phone',
    'phonenumber',
    '电话',
    '电话号码',
    '联系电话',
    '联系方式',
    'tel',
    'telephone',
  ],
  memberId: [
    '会员卡号',
    '会员编号',
    '会员号',
    '会员id',
    '卡号',
    '会员码',
    'memberid',
    'membercode',
    'memberno',
    'cardno',
    'cardnumber',
    'customerid',
  ],
  name: [
    '姓名',
    '会员姓名',
    '客户姓名',
    '会员名称',
    '名字',
    'name',
    'fullname',
    'membername',
    'customername',
  ],
  gender: ['性别', 'gender', 'sex'],
  birthday: ['生日', '出生日期', '出生年月日', '会员生日', 'birthday', 'birthdate', 'dateofbirth', 'dob'],
  store: ['门店', '所属门店', '开卡门店', '注册门店', '归属门店', '店铺', 'store', 'shop'],
  tier: ['等级', '会员等级', '级别', '会员级别', 'tier', 'level', 'memberlevel'],
  tags: ['标签', '会员标签', '客户标签', 'tags', 'tag', 'labels'],
  points: ['积分', '当前积分', '可用积分', '积分余额', '会员积分', 'points', 'point'],
  totalSpend: [
    '消费金额',
    '累计消费',
    '累计消费金额',
    '总消费',
    '消费总额',
    '总消费金额',
    'totalspend',
    'spend',
    'totalamount',
  ],
  purchaseCount: [
    '消费次数',
    '累计消费次数',
    '购买次数',
    '订单数',
    '订单数量',
    'purchasecount',
    'ordercount',
    'orders',
  ],
  firstPurchaseAt: [
    '首次消费',
    '首次消费时间',
    '首次消费日期',
    '首次购买时间',
    'firstpurchaseat',
    'firstpurchase',
  ],
  lastPurchaseAt: [
    '最近消费',
    '最近消费时间',
    '最近消费日期',
    '最后消费时间',
    '上次消费时间',
    '最近购买时间',
    'lastpurchaseat',
    'lastpurchase',
    'lastorderat',
  ],
  joinedAt: [
    '入会时间',
    '入会日期',
    '注册时间',
    '注册日期',
    '开卡时间',
    '开卡日期',
    '加入时间',
    'joinedat',
    'joined',
    'registeredat',
    'signupdate',
  ],
  timeZone: ['时区', 'timezone'],
  locale: ['语言', 'locale', 'language'],
  consent: [
    '营销同意',
    '同意营销',
    '营销短信',
    '接收营销短信',
    '是否接收短信',
    '短信订阅',
    'consent',
    'marketingconsent',
    'smsconsent',
    'optin',
  ],
};

const recognized = new Map<string, { field: ImportField; rank: number }>();
for (const [field, names] of Object.entries(headerNames)) {
  const known = importFields.find((name) => name === field);
  names.forEach((name, rank) => {
    if (known) recognized.set(name, { field: known, rank });
  });
}

/**
 * `手机号码*`, ` Mobile Phone `, `消费金额(元)` → `手机号码`, `mobilephone`, `消费金额`: full-width
 * folded, case, spaces, `_`/`-`, required-marks and a trailing unit in brackets dropped.
 */
export function foldHeader(header: string): string {
  return header
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s*\([^)]*\)\s*$/, '')
    .replace(/[\s_\-*:]/g, '');
}

/** The target a header means without a mapping (its rank breaks ties); `undefined` if none. */
export function recognizeColumn(header: string): { target: ImportTarget; rank: number } | undefined {
  const exact = parseImportTarget(header.trim());
  if (exact) return { target: exact, rank: -1 };
  const hit = recognized.get(foldHeader(header));
  return hit && { target: { kind: 'field', field: hit.field }, rank: hit.rank };
}

/** A file column bound to its target. */
export interface ColumnBinding {
  readonly index: number;
  readonly column: string;
  readonly target: ImportTarget;
}

export type HeaderBinding =
  | { readonly ok: true; readonly bindings: readonly ColumnBinding[]; readonly ignored: readonly string[] }
  | {
      readonly ok: false;
      readonly reason: 'missing_columns' | 'duplicate_columns' | 'no_phone_column';
      readonly message: string;
    };

/**
 * Binds a CSV header to targets: by the merchant's mapping when given (every mapped column
 * must be in the header, exactly once), else by recognizing the headers.
 */
export function bindHeader({
  header,
  mapping,
}: {
  header: readonly string[];
  mapping: ImportMapping | undefined;
}): HeaderBinding {
  const columns = header.map((name) => name.trim());
  return mapping === undefined ? recognizeHeader(columns) : mapHeader(columns, mapping);
}

function mapHeader(columns: readonly string[], mapping: ImportMapping): HeaderBinding {
  const bindings: ColumnBinding[] = [];
  const missing: string[] = [];
  const repeated: string[] = [];
  for (const [column, text] of Object.entries(mapping)) {
    const target = parseImportTarget(text);
    const name = column.trim();
    const index = columns.indexOf(name);
    if (index === -1) missing.push(name);
    else if (columns.indexOf(name, index + 1) !== -1) repeated.push(name);
    else if (target) bindings.push({ index, column: name, target });
  }
  if (missing.length > 0) {
    return {
      ok: false,
      reason: 'missing_columns',
      message: `The file has no column ${quoted(missing)}; its header is ${quoted(columns)}.`,
    };
  }
  if (repeated.length > 0) {
    return {
      ok: false,
      reason: 'duplicate_columns',
      message: `Column ${quoted(repeated)} appears more than once in the header: rename one.`,
    };
  }
  const mapped = new Set(bindings.map((binding) => binding.index));
  const ignored = columns.filter((name, index) => name !== '' && !mapped.has(index));
  return { ok: true, bindings: bindings.sort((a, b) => a.index - b.index), ignored };
}

function recognizeHeader(columns: readonly string[]): HeaderBinding {
  const best = new Map<string, { binding: ColumnBinding; rank: number }>();
  const tagColumns: ColumnBinding[] = [];
  columns.forEach((column, index) => {
    const hit = column === '' ? undefined : recognizeColumn(column);
    if (!hit) return;
    const binding = { index, column, target: hit.target };
    const key = targetKey(hit.target);
    if (key === 'tags') {
      tagColumns.push(binding);
      return;
    }
    const current = best.get(key);
    if (current === undefined || hit.rank < current.rank) best.set(key, { binding, rank: hit.rank });
  });
  const bindings = [...[...best.values()].map((entry) => entry.binding), ...tagColumns].sort(
    (a, b) => a.index - b.index,
  );
  if (!best.has('phone')) {
    return {
      ok: false,
      reason: 'no_phone_column',
      message: `No column holds phone numbers (such as 手机号 or mobile) in the header ${quoted(columns)}; send a mapping.`,
    };
  }
  const mapped = new Set(bindings.map((binding) => binding.index));
  const ignored = columns.filter((name, index) => name !== '' && !mapped.has(index));
  return { ok: true, bindings, ignored };
}

function quoted(names: readonly string[]): string {
  return names.map((name) => `"${name}"`).join(', ');
}
