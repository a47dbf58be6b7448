import { maskPhone } from '@qunfa/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  campaignAction,
  campaignProgress,
  configureSimulator,
  createCampaign,
  phoneOf,
  pollUntil,
  putMembers,
  saveTemplate,
  simulatorMessagesTo,
  simulatorReceived,
  waitForRun,
} from '../support/sending';
import { startTestStack, type TestStack } from '../support/stack';

// A campaign's report adds up against the simulator's record (issue 6, item 8). An A/B
// campaign with a tracked link is sent through the simulator, which reports some numbers
// unreachable and loses the last part of others' two-part messages, and sends its receipts
// late, out of order and some twice. Then members reply (an opt-out in full-width letters, a
// "don't stop" that is none), click their short links (a person twice, a HEAD and a preview
// bot not counted) and buy (attributed by the click, or by the delivery; an event reported
// twice counted once). The report, in total and per variant, as JSON and as CSV, says what
// the simulator's own record and those actions say; the failed messages are listed with
// masked phones, and a retry sends to the failed members only.

let env: TestStack;

beforeAll(async () => {
  env = await startTestStack({
    name: 'engagement',
    simulator: { seed: 21, receipts: { delayMs: 100, jitterMs: 200, duplicateRate: 0.3, outOfOrder: true } },
  });
});

afterAll(() => env?.stop());

const size = 60;
const block = 21;
const indexes = Array.from({ length: size }, (_, i) => i);
const phone = (i: number): string => phoneOf(i, block);
const memberIdOf = (i: number): string => `E${String(i).padStart(4, '0')}`;
/** No marketing consent: every tenth member. */
const noConsent = (i: number): boolean => i % 10 === 0;
/** Every part's receipt fails (UNDELIV). */
const unreachable = [3, 17, 29, 44];
/** The last part's receipt fails, the first is delivered: the message failed. */
const partFailure = [7, 22, 38, 51];
const failing = [...unreachable, ...partFailure].sort((a, b) => a - b);
const eligible = indexes.filter((i) => !noConsent(i));
const delivered = eligible.filter((i) => !failing.includes(i));

/** Where each variant's {{link}} sends. */
const links = { A: 'https://shop.example.com/double11?v=a', B: 'https://shop.example.com/double11?v=b' };
/** Words only each variant's template has, to tell from the simulator's record who got which. */
const marks = { A: '新品八折', B: '满三百减五十' };
const handset =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

// Shared by the retry, which follows the first run.
let campaignId = '';
let firstRunId = '';

// ── the report as the API gives it ────────────────────────────────────────────────────

const reportCounts = z.looseObject({
  targeted: z.number(),
  suppressed: z.object({ total: z.number(), byReason: z.record(z.string(), z.number()) }),
  sent: z.number(),
  delivered: z.number(),
  failed: z.looseObject({
    total: z.number(),
    atSending: z.number(),
    undelivered: z.number(),
    byReason: z.record(z.string(), z.number()),
  }),
  unknown: z.number(),
  awaitingReceipt: z.number(),
  remaining: z.number(),
  clicks: z.object({ total: z.number(), unique: z.number() }),
  replies: z.number(),
  optOuts: z.number(),
  conversions: z.number(),
  revenue: z.string(),
  revenueMicros: z.number(),
  rates: z.looseObject({
    reachedBase: z.string(),
    delivery: z.number().nullable(),
    click: z.number().nullable(),
    reply: z.number().nullable(),
    optOut: z.number().nullable(),
    conversion: z.number().nullable(),
  }),
});
type ReportCounts = z.infer<typeof reportCounts>;
const runReport = z.looseObject({
  runId: z.string(),
  state: z.string(),
  total: reportCounts,
  byVariant: z.record(z.string(), reportCounts),
  timeline: z.array(
    z.looseObject({ hour: z.string(), sent: z.number(), delivered: z.number(), clicks: z.number() }),
  ),
});
type RunReport = z.infer<typeof runReport>;

async function readReport(runId?: string): Promise<RunReport> {
  const { status, body } = await env.api(
    'GET',
    `/campaigns/${campaignId}/report${runId === undefined ? '' : `?runId=${runId}`}`,
  );
  expect(status, JSON.stringify(body)).toBe(200);
  return runReport.parse(body);
}

/** Every message the run sent has its final receipt counted. */
const settled = (report: RunReport): boolean =>
  report.state === 'completed' &&
  report.total.sent > 0 &&
  report.total.delivered + report.total.failed.undelivered === report.total.sent;

// ── the simulator's record ────────────────────────────────────────────────────────────

const simulatedMessage = z.looseObject({
  to: z.string(),
  text: z.string(),
  parts: z.number(),
  reference: z.string().optional(),
  acceptedAt: z.string(),
});

/** Everything the simulator accepted, oldest first (GET /admin/messages). */
async function simulatorMessages(): Promise<z.infer<typeof simulatedMessage>[]> {
  const response = await fetch(`${env.stack.components.simulator.url}/admin/messages?limit=100000`);
  return z.object({ messages: z.array(simulatedMessage) }).parse(await response.json()).messages;
}

const variantOfText = (text: string): 'A' | 'B' | undefined =>
  text.includes(marks.A) ? 'A' : text.includes(marks.B) ? 'B' : undefined;

/** The short link's code in a message's text. */
function codeIn(text: string): string {
  const code = /\/l\/([0-9A-Za-z]{6,16})(?![0-9A-Za-z])/.exec(text)?.[1];
  if (code === undefined) throw new Error(`no short link in ${text}`);
  return code;
}

async function follow(code: string, { method = 'GET', userAgent = handset } = {}): Promise<Response> {
  const response = await fetch(new URL(`/l/${code}`, env.stack.apiUrl), {
    method,
    redirect: 'manual',
    headers: { 'user-agent': userAgent },
  });
  await response.body?.cancel();
  return response;
}

const sum = (values: readonly number[]): number => values.reduce((total, n) => total + n, 0);

/** Each rate is its count over its stated denominator (delivered, once receipts came). */
function expectRatesAddUp(counts: ReportCounts): void {
  const over = (numerator: number, denominator: number) => (denominator > 0 ? numerator / denominator : null);
  expect(counts.rates.reachedBase).toBe('delivered');
  expect(counts.rates).toMatchObject({
    delivery: over(counts.delivered, counts.sent),
    click: over(counts.clicks.unique, counts.delivered),
    reply: over(counts.replies, counts.delivered),
    optOut: over(counts.optOuts, counts.delivered),
    conversion: over(counts.conversions, counts.delivered),
  });
}

describe('a campaign report on the local stack', () => {
  it("adds up against the simulator's record, the replies, the clicks and the conversions", async () => {
    // Prepare: 60 members (every tenth without consent), numbers the simulator fails, two
    // two-part templates with a tracked link, an A/B campaign with a link per variant.
    await putMembers(
      env,
      indexes.map((i) => ({
        memberId: memberIdOf(i),
        phone: phone(i),
        consent: noConsent(i) ? 'unknown' : 'granted',
      })),
    );
    const allDay = { start: '00:00', end: '24:00' };
    // Two a day, so the retry of a failed member is not capped by the day's first message.
    expect((await env.api('PATCH', '/tenant', { sendWindow: allDay, dailyMax: 2 })).status).toBe(200);
    await configureSimulator(env, {
      numbers: { unreachable: unreachable.map(phone), partFailure: partFailure.map(phone) },
    });
    const templates = {
      A: await saveTemplate(env, {
        name: '双11 A',
        body: `{{name|default:"会员"}}您好，双十一会员日${marks.A}，积分翻倍，限时三天，门店与小程序同享，会员专属好礼等您来领，详情请点击{{link}}`,
      }),
      B: await saveTemplate(env, {
        name: '双11 B',
        body: `{{name|default:"会员"}}您好，双十一会员日全场${marks.B}，积分翻倍，限时三天，门店与小程序同享，会员专属好礼等您来领，详情请点击{{link}}`,
      }),
    };
    campaignId = await createCampaign(env, {
      name: '双11会员日',
      audience: { definition: { not: { tags: { any: ['staff'] } } } },
      content: {
        variants: [
          { variantId: 'A', templateId: templates.A, link: links.A, percent: 50 },
          { variantId: 'B', templateId: templates.B, link: links.B, percent: 50 },
        ],
      },
      sendWindow: allDay,
    });

    // Act: send it, then have every receipt sent now and wait until the report has them all.
    await campaignAction(env, campaignId, 'schedule');
    const run = await waitForRun(env, campaignId);
    firstRunId = run?.runId ?? '';
    const receipts = await env.stack.components.simulator.flushReceipts();
    const sentReport = await pollUntil(() => readReport(), settled, { timeoutMs: 60_000 });

    // Assess (the simulator's record): one two-part message per eligible member, each with
    // its variant's text and its own short link.
    expect(run?.state).toBe('completed');
    expect(settled(sentReport), JSON.stringify(sentReport.total)).toBe(true);
    const got = await simulatorReceived(env);
    const accepted = await simulatorMessages();
    expect(got.total).toBe(eligible.length);
    expect(got.duplicateReferences).toEqual([]);
    expect(eligible.every((i) => got.byPhone[phone(i)] === 1)).toBe(true);
    expect(indexes.filter(noConsent).some((i) => got.byPhone[phone(i)] !== undefined)).toBe(false);
    const messageTo = new Map(accepted.map((message) => [message.to, message]));
    const variantOf = new Map(eligible.map((i) => [i, variantOfText(messageTo.get(phone(i))?.text ?? '')]));
    expect([...variantOf.values()].every((variant) => variant === 'A' || variant === 'B')).toBe(true);
    expect(accepted.every((message) => message.parts >= 2)).toBe(true);
    // A receipt per part reached the API, some of them twice, none lost.
    expect(receipts).toMatchObject({ pending: 0, receiptsLost: 0, callbacksRefused: 0, callbacksFailed: 0 });
    expect(receipts.receiptsDelivered).toBeGreaterThan(sum(accepted.map((message) => message.parts)));
    expect(new Set(accepted.map((message) => codeIn(message.text))).size).toBe(eligible.length);

    // Act: replies. A full-width "ＴＤ " with a space opts out; "don't stop" does not.
    const { simulator } = env.stack.components;
    const [optingOut, notStopping, clicker, buyer] = delivered as [number, number, number, number];
    const optOutReply = await simulator.reply({ phone: phone(optingOut), text: 'ＴＤ ' });
    const otherReply = await simulator.reply({ phone: phone(notStopping), text: "don't stop" });
    const optOut = await pollUntil(
      async () => (await env.api('GET', `/opt-outs/${encodeURIComponent(phone(optingOut))}`)).body,
      (body) => body.optedOut === true,
      { timeoutMs: 30_000 },
    );

    // Assess: the opt-out holds, and its confirmation came after the campaign's message.
    expect(optOutReply).toMatchObject({ status: 'delivered', httpStatus: 200 });
    expect(otherReply).toMatchObject({ status: 'delivered', httpStatus: 200 });
    expect(optOut).toMatchObject({ optedOut: true, maskedPhone: maskPhone(phone(optingOut)) });
    const toOptingOut = await simulatorMessagesTo(env, phone(optingOut));
    expect(toOptingOut).toHaveLength(2);
    expect(toOptingOut[0]?.reference).toMatch(/^run_/);
    expect(toOptingOut[1]?.reference).toMatch(/^reply_[0-9a-f]+:answer$/);
    expect(String(toOptingOut[1]?.text)).toContain('退订');
    expect(Date.parse(toOptingOut[1]?.acceptedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(toOptingOut[0]?.acceptedAt ?? ''),
    );

    // Act: clicks. The clicker taps their link twice; a HEAD and a preview bot fetch it too.
    const code = codeIn(messageTo.get(phone(clicker))?.text ?? '');
    const firstTap = await follow(code);
    const secondTap = await follow(code);
    const head = await follow(code, { method: 'HEAD' });
    const bot = await follow(code, {
      userAgent: 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
    });
    const unknown = await follow('Zz9Yy8Xx7W');

    // Assess: each is sent to the variant's URL; an unknown code is not found.
    const clickerVariant = variantOf.get(clicker) ?? 'A';
    for (const answer of [firstTap, secondTap, head, bot]) {
      expect(answer.status).toBe(302);
      expect(answer.headers.get('location')).toBe(links[clickerVariant]);
    }
    expect(unknown.status).toBe(404);

    // Act: conversions. The clicker buys (attributed by the click), the same event is
    // reported again, and another delivered member buys (attributed by the delivery).
    const purchase = {
      type: 'purchase',
      eventId: 'order-1001',
      memberId: memberIdOf(clicker),
      amount: '128.50',
    };
    const bought = await env.api('POST', '/events', purchase);
    const again = await env.api('POST', '/events', purchase);
    const other = await env.api('POST', '/events', {
      type: 'purchase',
      eventId: 'order-1002',
      phone: phone(buyer),
      amount: '99.9',
    });

    // Assess: attributed to this run and the member's variant, the repeat counted once.
    expect(bought.status, JSON.stringify(bought.body)).toBe(201);
    expect(bought.body.attribution).toMatchObject({
      campaignId,
      runId: firstRunId,
      variantId: clickerVariant,
      by: 'click',
    });
    expect(again.status).toBe(200);
    expect(again.body.result).toBe('duplicate');
    expect(other.status, JSON.stringify(other.body)).toBe(201);
    expect(other.body.attribution).toMatchObject({
      campaignId,
      runId: firstRunId,
      variantId: variantOf.get(buyer),
      by: 'delivery',
    });

    // Assess (the report): once both replies are counted, every figure is what the simulator
    // and the members' actions say, in total and per variant.
    const report = await pollUntil(
      () => readReport(),
      (current) => current.total.replies >= 2 && current.total.optOuts >= 1,
      { timeoutMs: 30_000 },
    );
    // "don't stop", counted as a reply, opted nobody out and was not answered.
    const stillIn = await env.api('GET', `/opt-outs/${encodeURIComponent(phone(notStopping))}`);
    expect(stillIn.body.optedOut).toBe(false);
    expect(await simulatorMessagesTo(env, phone(notStopping))).toHaveLength(1);
    const expected = (among: (i: number) => boolean) => {
      const sentTo = eligible.filter(among);
      const failed = sentTo.filter((i) => failing.includes(i));
      const replied = [optingOut, notStopping].filter(among);
      const conversions = [clicker, buyer].filter(among);
      return {
        sent: sentTo.length,
        delivered: sentTo.length - failed.length,
        failed: {
          total: failed.length,
          atSending: 0,
          undelivered: failed.length,
          byReason: failed.length > 0 ? { unreachable: failed.length } : {},
        },
        unknown: 0,
        awaitingReceipt: 0,
        remaining: 0,
        clicks: among(clicker) ? { total: 2, unique: 1 } : { total: 0, unique: 0 },
        replies: replied.length,
        optOuts: [optingOut].filter(among).length,
        conversions: conversions.length,
        revenueMicros: (among(clicker) ? 128_500_000 : 0) + (among(buyer) ? 99_900_000 : 0),
      };
    };
    expect(report.runId).toBe(firstRunId);
    expect(report.total).toMatchObject({
      targeted: size,
      suppressed: { total: size - eligible.length, byReason: { no_consent: size - eligible.length } },
      ...expected(() => true),
      sent: got.total,
      revenue: '228.40',
    });
    expect(Object.keys(report.byVariant).sort()).toEqual(['A', 'B']);
    for (const variant of ['A', 'B'] as const) {
      expect(report.byVariant[variant], variant).toMatchObject(expected((i) => variantOf.get(i) === variant));
    }
    for (const counts of [report.total, ...Object.values(report.byVariant)]) {
      expectRatesAddUp(counts);
      expect(counts.suppressed.total + counts.sent + counts.failed.atSending + counts.unknown).toBe(
        counts.targeted,
      );
    }
    const variants = Object.values(report.byVariant);
    const summed = (read: (counts: ReportCounts) => number) => sum(variants.map(read));
    expect({
      targeted: summed((c) => c.targeted),
      suppressed: summed((c) => c.suppressed.total),
      sent: summed((c) => c.sent),
      delivered: summed((c) => c.delivered),
      failed: summed((c) => c.failed.total),
      clicks: summed((c) => c.clicks.total),
      uniqueClicks: summed((c) => c.clicks.unique),
      replies: summed((c) => c.replies),
      optOuts: summed((c) => c.optOuts),
      conversions: summed((c) => c.conversions),
      revenueMicros: summed((c) => c.revenueMicros),
    }).toEqual({
      targeted: report.total.targeted,
      suppressed: report.total.suppressed.total,
      sent: report.total.sent,
      delivered: report.total.delivered,
      failed: report.total.failed.total,
      clicks: report.total.clicks.total,
      uniqueClicks: report.total.clicks.unique,
      replies: report.total.replies,
      optOuts: report.total.optOuts,
      conversions: report.total.conversions,
      revenueMicros: report.total.revenueMicros,
    });
    expect({
      sent: sum(report.timeline.map((hour) => hour.sent)),
      delivered: sum(report.timeline.map((hour) => hour.delivered)),
      clicks: sum(report.timeline.map((hour) => hour.clicks)),
    }).toEqual({ sent: report.total.sent, delivered: report.total.delivered, clicks: 2 });

    // Assess (CSV): one row for the run and one per variant, the same figures.
    const { firstTenant } = env.stack;
    if (!firstTenant.created) throw new Error('the stack must have created its first tenant');
    const csv = await fetch(new URL(`/campaigns/${campaignId}/report?format=csv`, env.stack.apiUrl), {
      headers: { authorization: `Bearer ${firstTenant.apiKey}` },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header = '', ...rows] = (await csv.text())
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    const columns = header.split(',');
    const cell = (row: string, column: string) => row.split(',')[columns.indexOf(column)];
    expect(rows.map((row) => cell(row, 'variant'))).toEqual(['all', 'A', 'B']);
    for (const [row, counts] of [
      [rows[0] ?? '', report.total],
      [rows[1] ?? '', report.byVariant.A],
      [rows[2] ?? '', report.byVariant.B],
    ] as const) {
      expect({
        run: cell(row, 'run_id'),
        sent: cell(row, 'sent'),
        delivered: cell(row, 'delivered'),
        undelivered: cell(row, 'undelivered'),
        suppressedNoConsent: cell(row, 'suppressed_no_consent'),
        clicks: cell(row, 'clicks'),
        uniqueClicks: cell(row, 'unique_clicks'),
        replies: cell(row, 'replies'),
        optOuts: cell(row, 'opt_outs'),
        conversions: cell(row, 'conversions'),
        revenue: cell(row, 'revenue'),
      }).toEqual({
        run: firstRunId,
        sent: String(counts?.sent),
        delivered: String(counts?.delivered),
        undelivered: String(counts?.failed.undelivered),
        suppressedNoConsent: String(counts?.suppressed.byReason.no_consent ?? 0),
        clicks: String(counts?.clicks.total),
        uniqueClicks: String(counts?.clicks.unique),
        replies: String(counts?.replies),
        optOuts: String(counts?.optOuts),
        conversions: String(counts?.conversions),
        revenue: counts?.revenue,
      });
    }

    // Assess (the failed messages): exactly the failing members, their phones masked.
    const failedPage = await env.api('GET', `/campaigns/${campaignId}/messages?status=failed&limit=100`);
    expect(failedPage.status).toBe(200);
    const items = z
      .array(
        z.looseObject({
          memberId: z.string(),
          maskedPhone: z.string(),
          state: z.string(),
          reason: z.string(),
        }),
      )
      .parse(failedPage.body.items);
    expect(failedPage.body.cursor).toBeUndefined();
    expect(items.map((item) => item.memberId).sort()).toEqual(failing.map(memberIdOf));
    for (const item of items) {
      const i = Number(item.memberId.slice(1));
      expect(item).toMatchObject({ state: 'failed', maskedPhone: maskPhone(phone(i)) });
      expect(item.reason).toMatch(/^unreachable/);
    }
    const listed = JSON.stringify(failedPage.body);
    expect(failing.some((i) => listed.includes(phone(i).slice(3)))).toBe(false);
  });

  it('retries the failed members only, in a run of their own', async () => {
    // Prepare: the numbers that lost a part are reachable now; the unreachable ones still are not.
    expect(firstRunId).not.toBe('');
    await configureSimulator(env, { numbers: { partFailure: [] } });
    const before = await simulatorReceived(env);
    const firstReport = await readReport(firstRunId);

    // Act: retry the failed members, wait for their run and its receipts.
    const retried = await env.api('POST', `/campaigns/${campaignId}/retry-failed`);
    const progress = await pollUntil(
      () => campaignProgress(env, campaignId),
      ({ run }) => run !== undefined && run.runId !== firstRunId && run.state === 'completed',
    );
    await env.stack.components.simulator.flushReceipts();
    const report = await pollUntil(() => readReport(), settled, { timeoutMs: 60_000 });

    // Assess: one more message to each failing member and to nobody else; the new run's
    // report says so; the first run's report is unchanged.
    expect(retried.status, JSON.stringify(retried.body)).toBe(202);
    expect(retried.body).toMatchObject({ ofRunId: firstRunId, failedMembers: failing.length });
    expect(progress.run?.runId).not.toBe(firstRunId);
    expect(progress.run?.state).toBe('completed');
    const after = await simulatorReceived(env);
    expect(after.total - before.total).toBe(failing.length);
    expect(failing.every((i) => after.byPhone[phone(i)] === (before.byPhone[phone(i)] ?? 0) + 1)).toBe(true);
    expect(report.runId).toBe(progress.run?.runId);
    expect(report.total).toMatchObject({
      targeted: failing.length,
      suppressed: { total: 0 },
      sent: failing.length,
      delivered: partFailure.length,
      failed: { total: unreachable.length, undelivered: unreachable.length },
      unknown: 0,
    });
    expect(await readReport(firstRunId)).toEqual(firstReport);
  });
});
