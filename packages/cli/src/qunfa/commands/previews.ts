import type { SegmentPreview, TemplatePreview } from '@qunfa/domain';
import { argument, type Context, intOption, parseJson, printJson, stringOption } from '../context';
import { formatNumber, table } from '../format';
import { type ExitCode, exitCodes, UsageError } from '../io';
import { audienceOf } from './audience';

// `qunfa segments preview` and `qunfa templates preview ID`: who a send would reach, and what
// they would read and what it would cost, before anything is sent.

const categories = ['marketing', 'notification'];

export async function segmentsCommand(context: Context, verb: string | undefined): Promise<ExitCode> {
  if (verb !== 'preview')
    throw new UsageError(
      verb ? `Unknown command: segments ${verb}.` : 'Say what to do: segments preview.',
      'segments',
    );
  if (context.args.length > 0) throw new UsageError(`Unexpected argument: ${context.args[0]}.`, 'segments');
  const audience = await audienceOf(context, 'segments');
  const category = stringOption(context, 'category');
  if (category !== undefined && !categories.includes(category))
    throw new UsageError(`--category is one of ${categories.join(', ')}.`, 'segments');
  const sampleSize = intOption(context, 'sample', { min: 0, max: 100 });
  const api = await context.api();
  const preview = await api.call<SegmentPreview>('POST', '/segments/preview', {
    json: {
      ...audience,
      ...(category === undefined ? {} : { category }),
      ...(sampleSize === undefined ? {} : { sampleSize }),
    },
    notFoundHint: 'No such segment: check the id, or pass the definition with --file or --definition.',
  });
  if (context.json) printJson(context, preview);
  else context.io.out(segmentPreviewText(preview));
  return exitCodes.ok;
}

export function segmentPreviewText(preview: SegmentPreview): string {
  const suppressed = Object.entries(preview.suppressed).filter(([, n]) => n > 0);
  const lines = [
    `${preview.exact ? '' : '≈ '}${formatNumber(preview.matching)} members match, ${formatNumber(preview.eligible)} eligible to receive it${preview.exact ? '' : ` (estimated from ${preview.shardsRead} of ${preview.shardCount} shards)`}.`,
  ];
  if (suppressed.length > 0)
    lines.push(
      '',
      table(
        ['suppressed', 'members'],
        suppressed.map(([reason, n]) => [reason, n]),
      ),
    );
  if (preview.sample.length > 0) {
    lines.push(
      '',
      'Sample:',
      table(
        ['member', 'phone', 'name', 'tier', 'tags', 'suppressed'],
        preview.sample.map((m) => [
          m.memberId,
          m.maskedPhone,
          m.name,
          m.tier,
          m.tags.join('、') || undefined,
          m.suppressionReason,
        ]),
      ),
    );
  }
  return lines.join('\n');
}

export async function templatesCommand(context: Context, verb: string | undefined): Promise<ExitCode> {
  if (verb !== 'preview')
    throw new UsageError(
      verb ? `Unknown command: templates ${verb}.` : 'Say what to do: templates preview TEMPLATE_ID.',
      'templates',
    );
  const templateId = argument(context, 'template to preview (its id, e.g. tpl_…)', 'templates');
  const audience = await audienceOf(context, 'templates', { members: true });
  const valuesText = stringOption(context, 'values');
  const sampleSize = intOption(context, 'sample', { min: 0, max: 20 });
  const api = await context.api();
  const preview = await api.call<TemplatePreview>(
    'POST',
    `/templates/${encodeURIComponent(templateId)}/preview`,
    {
      json: {
        ...audience,
        ...(valuesText === undefined ? {} : { values: parseJson(valuesText, '--values') }),
        ...(sampleSize === undefined ? {} : { sampleSize }),
      },
      notFoundHint: 'Check the template id and the segment id (GET /templates lists the templates).',
    },
  );
  if (context.json) printJson(context, preview);
  else context.io.out(templatePreviewText(preview));
  return exitCodes.ok;
}

export function templatePreviewText(preview: TemplatePreview): string {
  const lines = [
    `${formatNumber(preview.rendered)} of ${formatNumber(preview.audience)} members would receive it: ${formatNumber(preview.totalParts)} parts (${preview.averageParts} per message), about ${preview.cost.total} ${preview.cost.currency} with ${preview.provider}.`,
  ];
  if (preview.suppressed.total > 0)
    lines.push(
      '',
      table(
        ['left out', 'variable', 'members'],
        preview.suppressed.byReason.map((s) => [s.reason, s.variable, s.count]),
      ),
    );
  if (preview.partsDistribution.length > 0)
    lines.push(
      '',
      table(
        ['parts', 'messages'],
        preview.partsDistribution.map((d) => [d.parts, d.messages]),
      ),
    );
  for (const sample of preview.samples)
    lines.push('', `${sample.phone} (${sample.memberId}):`, `  ${sample.text}`);
  return lines.join('\n');
}
