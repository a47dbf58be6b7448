import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Context, parseJson, stringOption } from '../context';
import { UsageError } from '../io';

/**
 * The audience of a preview from the command line: `--segment ID`, `--definition '{…}'`, or
 * `--file FILE` holding a definition (or a segment, whose `definition` is taken); with
 * `members` allowed, `--members id1,id2`.
 */
export async function audienceOf(
  context: Context,
  group: string,
  { members = false }: { members?: boolean } = {},
): Promise<{ segmentId: string } | { definition: unknown } | { memberIds: string[] }> {
  const segment = stringOption(context, 'segment');
  const inline = stringOption(context, 'definition');
  const file = stringOption(context, 'file');
  const memberList = members ? stringOption(context, 'members') : undefined;
  const given = [segment, inline, file, memberList].filter((value) => value !== undefined).length;
  const choices = `--segment ID, --definition '{…}', --file definition.json${members ? ' or --members id1,id2' : ''}`;
  if (given !== 1) throw new UsageError(`Give the audience with exactly one of ${choices}.`, group);
  if (segment !== undefined) return { segmentId: segment };
  if (memberList !== undefined)
    return {
      memberIds: memberList
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    };
  if (inline !== undefined) return { definition: parseJson(inline, '--definition') };
  const path = resolve(context.io.cwd, file ?? '');
  const text = await readFile(path, 'utf8').catch(() => {
    throw new UsageError(`--file: cannot read ${path}.`, group);
  });
  const json = parseJson(text, path);
  const definition =
    typeof json === 'object' && json !== null && 'definition' in json
      ? (json as { definition: unknown }).definition
      : json;
  return { definition };
}
