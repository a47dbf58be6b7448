import * as z from 'zod';

// What an inbound reply asks for. The built-in keywords are matched against the WHOLE reply,
// never a substring ("don't stop" is no opt-out; ARCHITECTURE.md, lessons from the peers),
// after the reply is read the way a person means it: Unicode NFKC (full-width ＴＤ is TD,
// the ideographic space a space), surrounding white space and closing punctuation dropped
// (`TD。`, `STOP!`), case folded. A tenant adds keyword rules of its own, each with the
// auto-reply it answers; they are matched the same way and never shadow a built-in one.

/** Replies that opt the number out of marketing (CTIA's list, plus 退订 / TD / T / R / N / 取消). */
export const optOutKeywords = [
  '退订',
  'TD',
  'T',
  'R',
  'N',
  '取消',
  'STOP',
  'UNSUBSCRIBE',
  'END',
  'QUIT',
  'CANCEL',
  'STOPALL',
  'OPTOUT',
  'REVOKE',
] as const;

/** Replies that ask to be messaged again: honoured only with consent recorded after the opt-out. */
export const optInKeywords = ['START', 'YES', 'UNSTOP', '订阅'] as const;

export const helpKeywords = ['HELP', '帮助'] as const;

/** A reply read the way a person means it: NFKC, trimmed, closing punctuation dropped, case folded. */
export function normalizeReply(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/^[\s\p{Cf}]+|[\s\p{Cf}.!?,;。！？，；~～]+$/gu, '')
    .toUpperCase();
}

const builtIn = new Map<string, 'optOut' | 'optIn' | 'help'>([
  ...optOutKeywords.map((k) => [normalizeReply(k), 'optOut'] as const),
  ...optInKeywords.map((k) => [normalizeReply(k), 'optIn'] as const),
  ...helpKeywords.map((k) => [normalizeReply(k), 'help'] as const),
]);

/** A tenant's own keyword and the auto-reply it answers ("退货" → the return-policy link). */
export const replyRule = z.strictObject({
  /** The replies that trigger it, each matched as the whole reply (normalized). */
  keywords: z.array(z.string().trim().min(1).max(40)).min(1).max(20),
  /** The answer, sent through the tenant's provider. */
  reply: z.string().trim().min(1).max(500),
});
export type ReplyRule = z.infer<typeof replyRule>;

/** What a tenant configures for replies (`PUT /reply-rules`). */
export const replyRulesFields = z
  .strictObject({
    rules: z.array(replyRule).max(100),
    /** The answer to HELP; a default naming the tenant and how to opt out otherwise. */
    helpText: z.string().trim().min(1).max(500).exactOptional(),
    /** Sent before an opt-out takes effect. */
    optOutConfirmation: z.string().trim().min(1).max(500).exactOptional(),
    /** Sent when an opt-in is honoured. */
    optInConfirmation: z.string().trim().min(1).max(500).exactOptional(),
  })
  .superRefine((value, ctx) => {
    const seen = new Map<string, string>();
    value.rules.forEach((rule, r) => {
      rule.keywords.forEach((keyword, k) => {
        const normalized = normalizeReply(keyword);
        const path = ['rules', r, 'keywords', k];
        if (normalized === '') {
          ctx.addIssue({ code: 'custom', path, message: 'is only punctuation or white space' });
        } else if (builtIn.has(normalized)) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `"${keyword}" is a built-in keyword (opt-out, opt-in or help) and cannot be a rule`,
          });
        } else if (seen.has(normalized)) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `"${keyword}" is already a keyword of ${seen.get(normalized)}`,
          });
        } else {
          seen.set(normalized, `rules.${r}`);
        }
      });
    });
  });
export type ReplyRules = z.infer<typeof replyRulesFields>;

/** What a reply asks for. */
export type ReplyIntent =
  | { readonly kind: 'optOut' | 'optIn' | 'help'; readonly keyword: string }
  | { readonly kind: 'rule'; readonly keyword: string; readonly reply: string }
  | { readonly kind: 'none' };

/** The intent of a reply, built-in keywords first, then the tenant's rules. */
export function classifyReply({
  text,
  rules = [],
}: {
  text: string;
  rules?: readonly ReplyRule[];
}): ReplyIntent {
  const normalized = normalizeReply(text);
  const kind = builtIn.get(normalized);
  if (kind) return { kind, keyword: normalized };
  for (const rule of rules) {
    if (rule.keywords.some((keyword) => normalizeReply(keyword) === normalized)) {
      return { kind: 'rule', keyword: normalized, reply: rule.reply };
    }
  }
  return { kind: 'none' };
}

/** The service messages a reply is answered with, in the tenant's locale unless it set its own. */
export function replyTexts({
  rules,
  tenantName,
  locale,
}: {
  rules: Pick<ReplyRules, 'helpText' | 'optOutConfirmation' | 'optInConfirmation'> | undefined;
  tenantName: string;
  locale: 'zh-CN' | 'en';
}): { help: string; optOut: string; optIn: string; needsConsent: string } {
  const zh = locale === 'zh-CN';
  return {
    help:
      rules?.helpText ??
      (zh
        ? `【${tenantName}】会员短信服务。回复TD退订，回复START重新订阅。`
        : `${tenantName} member SMS. Reply STOP to unsubscribe, START to subscribe again.`),
    optOut:
      rules?.optOutConfirmation ??
      (zh
        ? `【${tenantName}】您已成功退订，将不再收到营销短信。`
        : `${tenantName}: you are unsubscribed and will receive no more marketing messages.`),
    optIn:
      rules?.optInConfirmation ??
      (zh ? `【${tenantName}】您已重新订阅会员短信。` : `${tenantName}: you are subscribed again.`),
    needsConsent: zh
      ? `【${tenantName}】重新订阅需要您在门店或会员小程序中重新授权。`
      : `${tenantName}: to subscribe again, please give your consent in store or in the member app.`,
  };
}
