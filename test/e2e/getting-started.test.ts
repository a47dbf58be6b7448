import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CliIo, runQunfa } from '@qunfa/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack';

// docs/getting-started.md, checked: the guide's marked blocks are read from the document and
// run, in order, against a fresh local stack, so the guide fails this test the day one of
// its commands stops working.
//
// - `<!-- file: NAME -->` before a fenced block: the block is written to NAME.
// - `<!-- run -->` before a ```sh block: each command is run. `npx qunfa …` goes through the
//   CLI's main() in-process, `curl …` through fetch, `export NAME=VALUE` sets a variable.
// - A placeholder `<prefix>_…` (`tpl_…`, `cmp_…`) stands for the id the reader copies from
//   the previous command's output; `QUNFA_API_KEY` and `QUNFA_ENDPOINT` are the test stack's.

/** No step of the guide takes longer on the local stack (the whole guide runs in well under a minute). */
const stepSeconds = 60;

const guidePath = join(import.meta.dirname, '../../docs/getting-started.md');

interface GuideBlock {
  readonly kind: 'run' | 'file';
  readonly language: string;
  readonly text: string;
  /** The file's name, for `file` blocks. */
  readonly file?: string;
}

/** The marked fenced blocks of a Markdown document, in order; unmarked blocks are left out. */
function guideBlocks(markdown: string): GuideBlock[] {
  const blocks: GuideBlock[] = [];
  const pattern = /<!--\s*(run|file:\s*([^\s>]+))\s*-->\s*\n\s*```(\w*)\n([\s\S]*?)\n```/g;
  for (const match of markdown.matchAll(pattern)) {
    const [, marker = '', file, language = '', text = ''] = match;
    blocks.push(
      marker === 'run' ? { kind: 'run', language, text } : { kind: 'file', language, text, file: file ?? '' },
    );
  }
  return blocks;
}

/** A block's commands: comments dropped, `\` continuations joined, empty lines skipped. */
function commandsOf(text: string): string[] {
  return text
    .replace(/[ \t]*\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => stripComment(line).trim())
    .filter((line) => line !== '');
}

function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) return line.slice(0, i);
  }
  return line;
}

/** Shell words of one command: single and double quotes, `$NAME` and `${NAME}` expanded from `vars`. */
function shellWords(command: string, vars: Readonly<Record<string, string>>): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const expand = (text: string, at: number): [string, number] => {
    const match = /^\$(?:\{(\w+)\}|(\w+))/.exec(text.slice(at));
    if (!match) return ['$', at + 1];
    const name = match[1] ?? match[2] ?? '';
    const value = vars[name];
    if (value === undefined) throw new Error(`The guide uses $${name} before it is set: ${command}`);
    return [value, at + match[0].length];
  };
  for (let i = 0; i < command.length; ) {
    const c = command[i] ?? '';
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      i++;
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new Error(`Unclosed ' in: ${command}`);
      word = (word ?? '') + command.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      word ??= '';
      i++;
      while (i < command.length && command[i] !== '"') {
        if (command[i] === '\\' && /["\\$`]/.test(command[i + 1] ?? '')) {
          word += command[i + 1];
          i += 2;
        } else if (command[i] === '$') {
          const [value, next] = expand(command, i);
          word += value;
          i = next;
        } else word += command[i++];
      }
      if (i >= command.length) throw new Error(`Unclosed " in: ${command}`);
      i++;
    } else if (c === '$') {
      const [value, next] = expand(command, i);
      word = (word ?? '') + value;
      i = next;
    } else if (c === '\\') {
      word = (word ?? '') + (command[i + 1] ?? '');
      i += 2;
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** What one step printed and how it ended. */
interface StepResult {
  readonly command: string;
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

let env: TestStack;
let dir: string;
let apiKey: string;

beforeAll(async () => {
  env = await startTestStack({ name: 'getting-started' });
  dir = await mkdtemp(join(tmpdir(), 'qunfa-getting-started-'));
  const first = env.stack.firstTenant;
  if (!first.created) throw new Error('the test stack creates the first tenant');
  apiKey = first.apiKey;
});

afterAll(async () => {
  await env?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs the guide: every marked block in order. Returns each command's result. */
async function runGuide(blocks: readonly GuideBlock[]): Promise<StepResult[]> {
  const vars: Record<string, string> = {};
  /** `tpl_…` → the id the reader copied. */
  const placeholders = new Map<string, string>();
  const results: StepResult[] = [];
  let previous = '';

  const fill = (text: string) => {
    let filled = text;
    for (const [placeholder, value] of placeholders) filled = filled.replaceAll(placeholder, value);
    return filled;
  };

  const qunfa = async (argv: string[]): Promise<Omit<StepResult, 'command'>> => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      env: { QUNFA_ENDPOINT: vars.QUNFA_ENDPOINT, QUNFA_API_KEY: vars.QUNFA_API_KEY },
      cwd: dir,
      home: dir,
      out: (line) => out.push(line),
      err: (line) => err.push(line),
    };
    const code = await runQunfa(argv, io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  const curl = async (words: string[]): Promise<Omit<StepResult, 'command'>> => {
    let method: string | undefined;
    let url: string | undefined;
    let body: string | undefined;
    const headers: Record<string, string> = {};
    for (let i = 1; i < words.length; i++) {
      const word = words[i] ?? '';
      if (word === '-s' || word === '-sS' || word === '-S') continue;
      else if (word === '-X') method = words[++i];
      else if (word === '-H') {
        const [name = '', ...value] = (words[++i] ?? '').split(':');
        headers[name.trim().toLowerCase()] = value.join(':').trim();
      } else if (word === '-d' || word === '--data') body = words[++i];
      else if (word.startsWith('-')) throw new Error(`The test does not know curl's ${word}`);
      else url = word;
    }
    if (url === undefined) throw new Error(`curl without a URL: ${words.join(' ')}`);
    const response = await fetch(url.includes('://') ? url : `http://${url}`, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    return { code: response.ok ? 0 : 22, out: text, err: response.ok ? '' : `HTTP ${response.status}` };
  };

  for (const block of blocks) {
    if (block.kind === 'file') {
      await writeFile(join(dir, block.file ?? ''), `${fill(block.text)}\n`);
      continue;
    }
    for (const command of commandsOf(block.text)) {
      const exported = /^export\s+(\w+)=(.*)$/.exec(command);
      if (exported) {
        const [, name = '', raw = ''] = exported;
        const [written = ''] = shellWords(raw, vars);
        let value = written;
        if (name === 'QUNFA_ENDPOINT') value = env.stack.apiUrl;
        else if (name === 'QUNFA_API_KEY') {
          expect(written, 'the guide shows the key as a placeholder qf_…').toMatch(/^qf_.*…$/);
          value = apiKey;
        } else if (written.endsWith('…')) {
          const prefix = written.slice(0, -1);
          const id = new RegExp(`${prefix}[0-9A-Za-z]{6,}`).exec(previous)?.[0];
          expect(id, `${command}: the previous step printed no ${prefix} id`).toBeDefined();
          value = id ?? '';
          placeholders.set(written, value);
        }
        vars[name] = value;
        results.push({ command, code: 0, out: '', err: '' });
        continue;
      }
      const words = shellWords(command, vars);
      let step: Promise<Omit<StepResult, 'command'>>;
      if (words[0] === 'npx' && words[1] === 'qunfa') step = qunfa(words.slice(2));
      else if (words[0] === 'curl') step = curl(words);
      else throw new Error(`The test cannot run this line of the guide: ${command}`);
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        step,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Still running after ${stepSeconds} s: ${command}`)),
            stepSeconds * 1000,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      if (process.env.GUIDE_VERBOSE) process.stderr.write(`$ ${command}\n${result.out}\n${result.err}\n\n`);
      results.push({ command, ...result });
      expect({ command, code: result.code, err: result.code === 0 ? '' : result.err }).toEqual({
        command,
        code: 0,
        err: '',
      });
      previous = result.out;
    }
  }
  return results;
}

describe('docs/getting-started.md', () => {
  it('reads the guide: Shell words and marked blocks', () => {
    expect(shellWords(`curl -d '{"a": "{{x|d:\\"y\\"}}"}' "$E/t" -H "a: b"`, { E: 'http://h' })).toEqual([
      'curl',
      '-d',
      '{"a": "{{x|d:\\"y\\"}}"}',
      'http://h/t',
      '-H',
      'a: b',
    ]);
    expect(commandsOf('a \\\n  b # c\n\n# d\nexport X=y   # z')).toEqual(['a b', 'export X=y']);
    expect(
      guideBlocks(
        '<!-- run -->\n\n```sh\nls\n```\n\n```sh\nnot me\n```\n<!-- file: a.json -->\n```json\n{}\n```',
      ),
    ).toEqual([
      { kind: 'run', language: 'sh', text: 'ls' },
      { kind: 'file', language: 'json', text: '{}', file: 'a.json' },
    ]);
  });

  it('takes a new user from an empty stack to a first campaign report with the commands it shows', async () => {
    const markdown = await readFile(guidePath, 'utf8');
    const blocks = guideBlocks(markdown);
    // The guide still walks the whole way: files, then import, create, schedule, watch, report.
    expect(blocks.filter((block) => block.kind === 'file').map((block) => block.file)).toEqual([
      'members.csv',
      'campaign.json',
    ]);
    const commands = blocks
      .filter((block) => block.kind === 'run')
      .flatMap((block) => commandsOf(block.text));
    const steps = [
      /^npx qunfa members import members\.csv$/,
      /^curl .*-X PATCH .*\/tenant/,
      /^curl .*-X POST .*\/templates/,
      /^npx qunfa campaigns create campaign\.json$/,
      /^npx qunfa campaigns schedule /,
      /^npx qunfa campaigns watch /,
      /^npx qunfa campaigns report /,
    ];
    const at = steps.map((step) => commands.findIndex((command) => step.test(command)));
    expect(at.every((index) => index >= 0)).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    // `npm install && npm start` is what the reader runs; the test stack stands in for it.
    expect(markdown).toMatch(/```sh\nnpm install[^\n]*\nnpm start/);

    const results = await runGuide(blocks);
    const find = (pattern: RegExp) => {
      const found = results.find((result) => pattern.test(result.command));
      if (!found) throw new Error(`no step ${pattern}`);
      return found;
    };

    // What the guide's prose says the reader sees.
    const imported = find(/members import/);
    expect(imported.out).toMatch(/imported\s+5/);
    expect(imported.out).toMatch(/invalid\s+1/);
    const invalid = await readFile(join(dir, 'members.csv.invalid.csv'), 'utf8');
    expect(invalid).toMatch(/M006,021-6123 4567,杨丽.*not_mobile/);
    expect(find(/templates preview/).out).toMatch(/【茶小满】(王芳|李伟|张娜)您好，春季新品上市/);
    expect(find(/campaigns watch/).out).toMatch(/completed .*targeted 4, sent 3/);
    const report = find(/campaigns report \S+$/).out;
    expect(report).toMatch(/^sent\s+█+.*\s3\s+75\.0%/m);
    expect(report).toMatch(/no_consent\s+1/);
    expect(find(/segments preview/).out).toMatch(/opted/i);
  });
});
