import { getReplyRules, putReplyRules, type ReplyRuleDeps, replyRulesFields } from '@qunfa/domain';
import { defineRoute, type Route } from '@qunfa/http';

/** The tenant's keyword rules with their auto-replies, and its HELP and confirmation texts. */
export function replyRuleRoutes({ replyRules }: { replyRules: ReplyRuleDeps }): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/reply-rules',
      summary: 'Keyword rules with their auto-replies, and the HELP and opt-out/opt-in texts.',
      role: 'viewer',
      handle: async ({ principal }) => ({
        status: 200,
        body: await getReplyRules(replyRules, { tenantId: principal.tenantId }),
      }),
    }),
    defineRoute({
      method: 'PUT',
      path: '/reply-rules',
      summary:
        'Replaces the reply rules. A keyword is matched as the whole reply; built-in keywords (TD, STOP, START, HELP …) cannot be rules.',
      role: 'marketer',
      body: replyRulesFields,
      handle: async ({ principal, body }) => ({
        status: 200,
        body: await putReplyRules(replyRules, { tenantId: principal.tenantId, fields: body }),
      }),
    }),
  ];
}
