import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { OptOutView } from '@qunfa/domain';
import { argument, type Context, intOption, printJson, stringOption } from '../context';
import { formatNumber, table } from '../format';
import { type ExitCode, exitCodes, UsageError } from '../io';

// `qunfa opt-outs …`: the numbers that must not receive marketing, never shown in clear.

export async function optOutsCommand(context: Context, verb: string | undefined): Promise<ExitCode> {
  switch (verb) {
    case 'list':
      return list(context);
    case 'add':
      return add(context);
    case 'remove':
      return remove(context);
    case 'export':
      return exportAll(context);
    default:
      throw new UsageError(
        verb ? `Unknown command: opt-outs ${verb}.` : 'Say what to do with opt-outs, e.g. opt-outs list.',
        'opt-outs',
      );
  }
}

async function list(context: Context): Promise<ExitCode> {
  if (context.args.length > 0) throw new UsageError(`Unexpected argument: ${context.args[0]}.`, 'opt-outs');
  const limit = intOption(context, 'limit', { min: 1, max: 500 });
  const all = context.values.all === true;
  const api = await context.api();
  const items: OptOutView[] = [];
  let cursor = stringOption(context, 'cursor');
  do {
    const page = await api.call<{ items: OptOutView[]; cursor?: string }>('GET', '/opt-outs', {
      query: { limit: all ? 500 : limit, cursor },
    });
    items.push(...page.items);
    cursor = page.cursor;
  } while (all && cursor);
  if (context.json) {
    printJson(context, { items, ...(cursor ? { cursor } : {}) });
    return exitCodes.ok;
  }
  if (items.length === 0) context.io.out('No opt-outs.');
  else
    context.io.out(
      table(
        ['phone', 'source', 'reason', 'since'],
        items.map((o) => [o.maskedPhone ?? '(erased)', o.source, o.reason, o.at]),
      ),
    );
  if (cursor) context.io.out(`More: qunfa opt-outs list --cursor ${cursor} (or --all)`);
  return exitCodes.ok;
}

async function add(context: Context): Promise<ExitCode> {
  const phone = argument(context, 'phone number to opt out, e.g. 13812345678', 'opt-outs');
  const reason = stringOption(context, 'reason');
  const api = await context.api();
  const response = await api.call<{ result: 'created' | 'unchanged'; optOut: OptOutView }>(
    'POST',
    '/opt-outs',
    {
      json: { phone, ...(reason === undefined ? {} : { reason }) },
    },
  );
  if (context.json) printJson(context, response);
  else
    context.io.out(
      response.result === 'created'
        ? `Opted out ${response.optOut.maskedPhone}: no marketing message will reach it.`
        : `${response.optOut.maskedPhone} was already opted out (since ${response.optOut.at}).`,
    );
  return exitCodes.ok;
}

async function remove(context: Context): Promise<ExitCode> {
  const phone = argument(context, 'phone number to re-subscribe', 'opt-outs');
  const at = stringOption(context, 'consent-at');
  const source = stringOption(context, 'source');
  if ((at === undefined) !== (source === undefined))
    throw new UsageError(
      'Give both --consent-at (when the member agreed again, e.g. 2025-03-01T10:00:00+08:00) and --source (where, e.g. store or web), or neither.',
      'opt-outs',
    );
  if (at !== undefined && Number.isNaN(Date.parse(at)))
    throw new UsageError(
      `--consent-at is an ISO date and time such as 2025-03-01T10:00:00+08:00, not ${at}.`,
      'opt-outs',
    );
  const api = await context.api();
  await api.request('DELETE', `/opt-outs/${encodeURIComponent(phone)}`, {
    ...(at === undefined ? {} : { json: { consent: { at, source } } }),
    notFoundHint: 'The number is not opted out: see `qunfa opt-outs list`.',
  });
  if (context.json) printJson(context, { removed: true });
  else context.io.out(`Re-subscribed ${phone}: marketing messages may reach it again.`);
  return exitCodes.ok;
}

async function exportAll(context: Context): Promise<ExitCode> {
  if (context.args.length > 0) throw new UsageError(`Unexpected argument: ${context.args[0]}.`, 'opt-outs');
  const out = stringOption(context, 'out');
  const api = await context.api();
  const parts: string[] = [];
  let rows = 0;
  let cursor: string | undefined;
  do {
    const response = await api.request('GET', '/opt-outs/export', { query: { cursor } });
    rows += Number(response.headers.get('x-export-rows') ?? 0);
    // Every part starts with the BOM and the header: keep them once.
    parts.push(parts.length === 0 ? response.text : response.text.replace(/^\uFEFF?[^\n]*\n/, ''));
    cursor = response.headers.get('x-next-cursor') ?? undefined;
  } while (cursor);
  const csv = parts.join('');
  if (out === undefined) {
    context.io.out(csv.replace(/^\uFEFF/, '').replace(/\r?\n$/, ''));
    return exitCodes.ok;
  }
  const path = resolve(context.io.cwd, out);
  await writeFile(path, csv);
  context.io.err(`Exported ${formatNumber(rows)} opt-outs to ${path}.`);
  return exitCodes.ok;
}
