import * as z from 'zod';

// Words that get a template refused by the providers or a message blocked by the carriers, so
// a template holding one is refused at save (400, naming the words). The built-in list is a
// starting point drawn from what the providers' content rules prohibit (Aliyun and Tencent
// Cloud template review standards and Tencent's notice on 金融营销、赌博、诈骗: gambling,
// invoices, loans and cash-out, pornography, drugs, weapons, fraud and fake documents; Twilio's
// and AWS's prohibited content: gambling, high-risk lending, SHAFT). Each tenant adds its own.
//
// Matching is deliberately blunt: Unicode-normalized (full-width letters fold), case-blind,
// and for Chinese words blind to spaces and punctuation put between the characters (发 票,
// 发-票). English words match whole words only. A false positive costs a merchant one edit;
// a false negative can get the tenant's signature suspended.

export const builtInBannedWords: readonly string[] = [
  // 发票与证件
  '发票',
  '代开',
  '办证',
  '假证',
  '刻章',
  // 赌博彩票
  '赌',
  '博彩',
  '彩票',
  '六合彩',
  '时时彩',
  '百家乐',
  '老虎机',
  // 金融借贷
  '贷款',
  '网贷',
  '借贷',
  '放款',
  '套现',
  '提额',
  '信用卡代还',
  '高利贷',
  '无抵押',
  '荐股',
  '内幕消息',
  '理财返利',
  '刷单',
  '洗钱',
  // 色情
  '色情',
  '裸聊',
  '约炮',
  '援交',
  '成人用品',
  // 毒品与管制物品
  '毒品',
  '冰毒',
  '大麻',
  '迷药',
  '枪支',
  '弹药',
  '窃听',
  '代孕',
  // 诈骗
  '中奖',
  '传销',
  // English
  'casino',
  'gambling',
  'payday loan',
  'cash advance',
  'debt relief',
  'viagra',
];

export const bannedWordList = z
  .array(z.string().trim().min(1, 'a banned word is not empty').max(40))
  .max(500, 'at most 500 banned words per tenant');

const hasCjk = /[\p{Script=Han}]/u;
const fold = (text: string): string => text.normalize('NFKC').toLowerCase();
const compact = (text: string): string => fold(text).replace(/[\s\p{P}\p{S}]+/gu, '');
const escaped = (word: string): string => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Matcher {
  readonly word: string;
  readonly test: (folded: string, compacted: string) => boolean;
}

function matcherOf(word: string): Matcher {
  if (hasCjk.test(word) || !/[\p{L}\p{N}]/u.test(word)) {
    const needle = compact(word);
    // A word of punctuation only would match everything once compacted.
    if (!needle) return { word, test: () => false };
    return { word, test: (_folded, compacted) => compacted.includes(needle) };
  }
  const pattern = new RegExp(
    `(?<![\\p{L}\\p{N}])${fold(word).trim().split(/\s+/).map(escaped).join('\\s+')}(?![\\p{L}\\p{N}])`,
    'u',
  );
  return { word, test: (folded) => pattern.test(folded) };
}

const builtInMatchers = builtInBannedWords.map(matcherOf);

/** The banned words (built-in and the tenant's) that `text` holds, each once, in list order. */
export function findBannedWords({
  text,
  tenantWords = [],
}: {
  text: string;
  tenantWords?: readonly string[];
}): string[] {
  const folded = fold(text);
  const compacted = compact(text);
  const found = new Set<string>();
  for (const matcher of [...builtInMatchers, ...tenantWords.map(matcherOf)]) {
    if (matcher.test(folded, compacted)) found.add(matcher.word);
  }
  return [...found];
}
