import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type {
  Campaign,
  CampaignWithProgress,
  ProportionTest,
  ReportCounts,
  RunProgress,
  RunReport,
} from '@qunfa/domain';
import type { Api } from '../client';
import {
  argument,
  type Context,
  intOption,
  parseJson,
  printJson,
  secondsOption,
  stringOption,
} from '../context';
import { formatDuration, formatNumber, funnel, percent, progressLine, table } from '../format';
import { CliError, type ExitCode, exitCodes, nowOf, sleepOf, UsageError } from '../io';
import { Progress } from '../progress';

// `qunfa campaigns …`: list, create from a JSON file, the lifecycle moves, a live view of a
// run and its report with a funnel chart.

const notFound = 'List your campaigns with `qunfa campaigns list`.';
const endedRuns = new Set(['completed', 'cancelled', 'failed', 'missed']);
const moves = {
  schedule: 'Scheduled',
  pause: 'Paused',
  resume: 'Resumed',
  cancel: 'Cancelled',
} as const;

export async function campaignsCommand(context: Context, verb: string | undefined): Promise<ExitCode> {
  switch (verb) {
    case 'list':
      return list(context);
    case 'create':
      return create(context);
    case 'schedule':
    case 'pause':
    case 'resume':
    case 'cancel':
      return move(context, verb);
    case 'watch':
      return watch(context);
    case 'report':
      return report(context);
    default:
      throw new UsageError(
        verb ? `Unknown command: campaigns ${verb}.` : 'Say what to do with campaigns, e.g. campaigns list.',
        'campaigns',
      );
  }
}

async function list(context: Context): Promise<ExitCode> {
  if (context.args.length > 0) throw new UsageError(`Unexpected argument: ${context.args[0]}.`, 'campaigns');
  const limit = intOption(context, 'limit', { min: 1, max: 100 });
  const api = await context.api();
  const page = await api.call<{ items: Campaign[]; cursor?: string }>('GET', '/campaigns', {
    query: { limit, cursor: stringOption(context, 'cursor') },
  });
  if (context.json) {
    printJson(context, page);
    return exitCodes.ok;
  }
  if (page.items.length === 0) {
    context.io.out('No campaigns yet. Create one with `qunfa campaigns create campaign.json`.');
    return exitCodes.ok;
  }
  context.io.out(
    table(
      ['id', 'name', 'state', 'category', 'schedule', 'updated'],
      page.items.map((c) => [
        c.campaignId,
        c.name,
        c.state,
        c.category,
        scheduleText(c),
        c.updatedAt.slice(0, 16),
      ]),
    ),
  );
  if (page.cursor) context.io.out(`More: qunfa campaigns list --cursor ${page.cursor}`);
  return exitCodes.ok;
}

function scheduleText(campaign: Campaign): string {
  const schedule = campaign.schedule;
  if (schedule.kind === 'at') return `at ${schedule.at}`;
  if (schedule.kind === 'cron') return `cron ${schedule.expression} ${schedule.timeZone}`;
  return schedule.kind;
}

async function create(context: Context): Promise<ExitCode> {
  const file = resolve(
    context.io.cwd,
    argument(context, 'campaign file (JSON, as POST /campaigns takes it)', 'campaigns'),
  );
  const text = await readFile(file, 'utf8').catch(() => {
    throw new UsageError(`Cannot read ${file}: check the path.`, 'campaigns');
  });
  const input = parseJson(text, file);
  const api = await context.api();
  const created = await api.call<Campaign>('POST', '/campaigns', {
    json: input,
    notFoundHint: 'A segment or template the campaign names does not exist.',
  });
  if (context.json) printJson(context, created);
  else
    context.io.out(
      `Created draft campaign ${created.campaignId} (${created.name}).\nSend it with: qunfa campaigns schedule ${created.campaignId}`,
    );
  return exitCodes.ok;
}

async function move(context: Context, verb: keyof typeof moves): Promise<ExitCode> {
  const campaignId = argument(context, `campaign to ${verb} (its id)`, 'campaigns');
  const api = await context.api();
  const campaign = await api.call<Campaign>('POST', `/campaigns/${encodeURIComponent(campaignId)}/${verb}`, {
    notFoundHint: notFound,
  });
  if (context.json) printJson(context, campaign);
  else {
    context.io.out(`${moves[verb]} ${campaign.campaignId} (${campaign.name}): now ${campaign.state}.`);
    if (verb === 'schedule' || verb === 'resume')
      context.io.out(`Follow it with: qunfa campaigns watch ${campaign.campaignId}`);
  }
  return exitCodes.ok;
}

async function getCampaign(api: Api, campaignId: string): Promise<CampaignWithProgress> {
  return api.call<CampaignWithProgress>('GET', `/campaigns/${encodeURIComponent(campaignId)}`, {
    notFoundHint: notFound,
  });
}

/** The one line `watch` redraws. */
export function runLine(run: RunProgress, campaignState: string, width: number): string {
  const dealt = run.sent + run.failed + run.unknown + run.suppressed.total;
  const note = [
    campaignState === 'paused' ? 'paused' : run.state,
    `sent ${formatNumber(run.sent)}`,
    ...(run.suppressed.total > 0 ? [`suppressed ${formatNumber(run.suppressed.total)}`] : []),
    ...(run.failed > 0 ? [`failed ${formatNumber(run.failed)}`] : []),
  ].join(' · ');
  return progressLine({
    label: 'Sending',
    done: dealt,
    total: run.targeted,
    width,
    rate: `${formatNumber(run.ratePerSecond)}/s`,
    etaSeconds: run.etaSeconds,
    note,
  });
}

async function watch(context: Context): Promise<ExitCode> {
  const campaignId = argument(context, 'campaign to watch (its id)', 'campaigns');
  const interval = secondsOption(context, 'interval', 2);
  const timeout = secondsOption(context, 'timeout', 24 * 3600);
  const api = await context.api();
  const now = nowOf(context.io);
  const until = now() + timeout * 1000;
  const progress = new Progress(context.io);
  const started = now();
  let campaign = await getCampaign(api, campaignId);
  // A run that ended before the watch began is the previous run of a recurring campaign,
  // unless the campaign itself has ended: then it is the run to show.
  const previousRun = campaign.state === 'scheduled' ? campaign.latestRun?.runId : undefined;
  for (;;) {
    const run = campaign.latestRun;
    if (campaign.state === 'draft')
      throw new CliError(
        `Campaign ${campaignId} is a draft: nothing will send. Schedule it with \`qunfa campaigns schedule ${campaignId}\`.`,
      );
    const current = run && run.runId !== previousRun ? run : undefined;
    if (current) {
      progress.update(runLine(current, campaign.state, progress.width));
      if (endedRuns.has(current.state) && campaign.state !== 'running') {
        progress.done(runLine(current, campaign.state, progress.width));
        return finish(context, campaign, current, (now() - started) / 1000);
      }
    } else if (['cancelled', 'failed', 'completed'].includes(campaign.state)) {
      progress.done();
      context.io.out(`Campaign ${campaignId} is ${campaign.state} without a run to show.`);
      return campaign.state === 'failed' ? exitCodes.failed : exitCodes.ok;
    } else {
      progress.update(
        `Waiting for ${campaignId} to start (${campaign.state}${campaign.startAt ? `, due ${campaign.startAt}` : ''})…`,
      );
    }
    if (now() >= until) {
      progress.done();
      throw new CliError(
        `Still ${current?.state ?? campaign.state} after ${formatDuration(timeout)}; the campaign goes on. Watch again with \`qunfa campaigns watch ${campaignId}\`.`,
      );
    }
    await sleepOf(context.io)(interval * 1000);
    campaign = await getCampaign(api, campaignId);
  }
}

function finish(
  context: Context,
  campaign: CampaignWithProgress,
  run: RunProgress,
  seconds: number,
): ExitCode {
  if (context.json) {
    printJson(context, campaign);
  } else {
    const lines = [
      `Run ${run.runId} ${run.state} (watched ${formatDuration(seconds)}): targeted ${formatNumber(run.targeted)}, sent ${formatNumber(run.sent)}, delivered ${formatNumber(run.delivered)}, failed ${formatNumber(run.failed)}, suppressed ${formatNumber(run.suppressed.total)}.`,
    ];
    if (run.missedReason) lines.push(`Missed: ${run.missedReason}.`);
    if (campaign.failure) lines.push(`Failed: ${campaign.failure.reason}.`);
    lines.push(`See the report with: qunfa campaigns report ${campaign.campaignId}`);
    context.io.out(lines.join('\n'));
  }
  return run.state === 'failed' || run.state === 'missed' ? exitCodes.failed : exitCodes.ok;
}

async function report(context: Context): Promise<ExitCode> {
  const campaignId = argument(context, 'campaign whose report to show (its id)', 'campaigns');
  const runId = stringOption(context, 'run');
  const api = await context.api();
  const path = `/campaigns/${encodeURIComponent(campaignId)}/report`;
  if (context.values.csv === true) {
    const response = await api.request('GET', path, {
      query: { runId, format: 'csv' },
      notFoundHint: notFound,
    });
    context.io.out(response.text.replace(/\r?\n$/, ''));
    return exitCodes.ok;
  }
  const body = await api.call<RunReport>('GET', path, { query: { runId }, notFoundHint: notFound });
  if (context.json) printJson(context, body);
  else context.io.out(reportText(body, context.io.terminal?.columns ?? 80));
  return exitCodes.ok;
}

/** The funnel of a group: targeted → sent → delivered → clicked → converted. */
export function funnelStages(counts: ReportCounts): { label: string; value: number }[] {
  return [
    { label: 'targeted', value: counts.targeted },
    { label: 'sent', value: counts.sent },
    { label: 'delivered', value: counts.delivered },
    { label: 'clicked', value: counts.clicks.unique },
    { label: 'converted', value: counts.conversions },
  ];
}

/** A run's report as a person reads it in a terminal `width` columns wide. */
export function reportText(report: RunReport, width: number): string {
  const t = report.total;
  const lines = [
    `${report.campaignName} (${report.campaignId}), run ${report.runId}: ${report.state}`,
    `scheduled ${report.scheduledAt}${report.startedAt ? `, started ${report.startedAt}` : ''}${report.endedAt ? `, ended ${report.endedAt}` : ''}`,
    '',
    funnel(funnelStages(t), width),
    '',
    'Totals',
    table(
      ['', 'count'],
      [
        ['targeted', t.targeted],
        ['suppressed', t.suppressed.total],
        ['sent', t.sent],
        ['delivered', t.delivered],
        ['failed', t.failed.total],
        ['unknown', t.unknown],
        ['awaiting receipt', t.awaitingReceipt],
        ['remaining', t.remaining],
        ['clicks (unique)', t.clicks.unique],
        ['replies', t.replies],
        ['opt-outs', t.optOuts],
        ['conversions', t.conversions],
        ['revenue', t.revenue],
        ['cost', t.cost],
      ],
    ),
    '',
    `Rates (of ${t.rates.reachedBase})`,
    table(
      ['delivery', 'click', 'reply', 'opt-out', 'conversion'],
      [
        [
          percent(t.rates.delivery),
          percent(t.rates.click),
          percent(t.rates.reply),
          percent(t.rates.optOut),
          percent(t.rates.conversion),
        ],
      ],
    ),
  ];
  const suppressed = Object.entries(t.suppressed.byReason).filter(([, n]) => n > 0);
  if (suppressed.length > 0)
    lines.push(
      '',
      'Suppressed',
      table(
        ['reason', 'members'],
        suppressed.map(([reason, n]) => [reason, n]),
      ),
    );
  const failed = Object.entries(t.failed.byReason).filter(([, n]) => n > 0);
  if (failed.length > 0)
    lines.push(
      '',
      'Failed',
      table(
        ['reason', 'messages'],
        failed.map(([reason, n]) => [reason, n]),
      ),
    );
  const variants = Object.entries(report.byVariant);
  if (variants.length > 1) {
    lines.push(
      '',
      'Per variant',
      table(
        [
          'variant',
          'targeted',
          'sent',
          'delivered',
          'clicks',
          'conversions',
          'delivery',
          'click',
          'conversion',
        ],
        variants.map(([variantId, c]) => [
          variantId,
          c.targeted,
          c.sent,
          c.delivered,
          c.clicks.unique,
          c.conversions,
          percent(c.rates.delivery),
          percent(c.rates.click),
          percent(c.rates.conversion),
        ]),
      ),
    );
  }
  for (const comparison of report.comparisons) {
    const click = comparison.click;
    lines.push(
      `Variant ${comparison.variantId} vs ${comparison.control}: click ${percent(click.rate)} vs ${percent(click.controlRate)}${
        significance(click.test) ? ` (${significance(click.test)})` : ''
      }`,
    );
  }
  const holdout = report.holdout;
  if (holdout.members > 0) {
    lines.push(
      '',
      `Holdout: ${formatNumber(holdout.members)} members, conversion ${percent(holdout.conversionRate)} vs ${percent(holdout.sentConversionRate)} sent${
        holdout.lift ? `, lift ${percent(holdout.lift.absolute)}` : ''
      }${holdout.reason ? ` (${holdout.reason})` : ''}`,
    );
  }
  return lines.join('\n');
}

function significance(test: ProportionTest): string {
  if (test.pValue === null) return '';
  return `p = ${test.pValue.toFixed(3)}${test.significant ? ', significant' : ''}`;
}
