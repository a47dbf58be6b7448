// The placeholder grammar of a template body. Small and strict on purpose: a merchant's typo
// must fail when the template is saved, never print `{{nmae}}` into a million messages.
//
//   body        = { text | placeholder }
//   placeholder = "{{" [ws] variable { [ws] "|" [ws] filter } [ws] "}}"
//   variable    = identifier [ "." identifier ]      only `attributes.<name>` takes a dot
//   identifier  = ASCII letter { ASCII letter | digit | "_" }
//   filter      = "default" ":" string               used when the value is missing or unusable
//               | "number"                           1,280 (grouped; at most 2 decimals)
//               | "money" [ ":" string ]             a currency code: CNY (default), USD, EUR, GBP, HKD
//               | "date" [ ":" string ]              a date pattern, see formats.ts
//   string      = '"' { any character but '"', "{", "}", "|", a line break } '"'
//
// At most one `default` and one of number/money/date per placeholder, in either order.
// `{{` always opens a placeholder and `}}` outside one is an error, so literal text can hold a
// single `{` or `}` but never a pair.

export type Format =
  | { readonly kind: 'number' }
  | { readonly kind: 'money'; readonly currency: string | undefined }
  | { readonly kind: 'date'; readonly pattern: string | undefined };

export interface Placeholder {
  readonly kind: 'placeholder';
  /** `name`, `attributes.couponCode`, `deadline`. */
  readonly variable: string;
  readonly fallback: string | undefined;
  readonly format: Format | undefined;
  /** The placeholder as written, for error messages. */
  readonly source: string;
  /** 1-based character position in the body (code points, as the merchant counts them). */
  readonly at: number;
}

export interface Literal {
  readonly kind: 'text';
  readonly text: string;
}

export type Segment = Literal | Placeholder;

export interface SyntaxProblem {
  readonly at: number;
  readonly message: string;
}

export interface ParsedBody {
  readonly segments: readonly Segment[];
  readonly problems: readonly SyntaxProblem[];
}

const identifier = /^[A-Za-z][A-Za-z0-9_]*/;
const wholeIdentifier = /^[A-Za-z][A-Za-z0-9_]*$/;
const filterNames = ['default', 'number', 'money', 'date'] as const;
type FilterName = (typeof filterNames)[number];
const isFilterName = (name: string): name is FilterName => (filterNames as readonly string[]).includes(name);

/** 1-based position of UTF-16 index `index`, counted in code points. */
function positionOf(body: string, index: number): number {
  let at = 1;
  for (let i = 0; i < index; i++) {
    const code = body.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) i++;
    at++;
  }
  return at;
}

/** Splits a body into literal text and placeholders, collecting every syntax problem. */
export function parseBody({ body }: { body: string }): ParsedBody {
  const segments: Segment[] = [];
  const problems: SyntaxProblem[] = [];
  let text = '';
  let i = 0;
  while (i < body.length) {
    const open = body.indexOf('{{', i);
    const close = body.indexOf('}}', i);
    if (close !== -1 && (open === -1 || close < open)) {
      problems.push({ at: positionOf(body, close), message: '"}}" without a matching "{{"' });
      text += body.slice(i, close + 2);
      i = close + 2;
      continue;
    }
    if (open === -1) {
      text += body.slice(i);
      break;
    }
    text += body.slice(i, open);
    const end = body.indexOf('}}', open + 2);
    const nextOpen = body.indexOf('{{', open + 2);
    const at = positionOf(body, open);
    if (end === -1 || (nextOpen !== -1 && nextOpen < end)) {
      problems.push({ at, message: `"{{" is not closed by "}}"` });
      i = end === -1 || nextOpen === -1 ? body.length : nextOpen;
      continue;
    }
    const source = body.slice(open, end + 2);
    const parsed = parsePlaceholder(body.slice(open + 2, end), source, at);
    if ('message' in parsed) problems.push(parsed);
    else {
      if (text) segments.push({ kind: 'text', text });
      text = '';
      segments.push(parsed);
    }
    i = end + 2;
  }
  if (text) segments.push({ kind: 'text', text });
  return { segments, problems };
}

function parsePlaceholder(inner: string, source: string, at: number): Placeholder | SyntaxProblem {
  const fail = (message: string): SyntaxProblem => ({ at, message: `${source}: ${message}` });
  let rest = inner.trimStart();
  const head = /^[A-Za-z0-9_.]*/.exec(rest)?.[0] ?? '';
  if (!head) return fail('write a variable name, e.g. {{name}}');
  const names = head.split('.');
  if (names.length > 2 || names.some((name) => !wholeIdentifier.test(name))) {
    return fail(`"${head}" is not a variable name (a letter, then letters, digits or _; attributes.<name>)`);
  }
  rest = rest.slice(head.length).trimStart();
  let fallback: string | undefined;
  let format: Format | undefined;
  while (rest) {
    if (!rest.startsWith('|')) return fail(`expected "|" or "}}" after ${head}, found "${rest.slice(0, 8)}"`);
    rest = rest.slice(1).trimStart();
    const name = identifier.exec(rest)?.[0] ?? '';
    if (!isFilterName(name)) {
      return fail(`unknown filter "${name || rest.slice(0, 8)}"; filters are ${filterNames.join(', ')}`);
    }
    rest = rest.slice(name.length).trimStart();
    let argument: string | undefined;
    if (rest.startsWith(':')) {
      rest = rest.slice(1).trimStart();
      const quoted = /^"([^"{}|\r\n]*)"/.exec(rest);
      if (!quoted) {
        const hint = /^[“”「」]/.test(rest) ? ' (use straight double quotes "…")' : '';
        return fail(`${name} takes a value in double quotes, e.g. ${name}:"…"${hint}`);
      }
      argument = quoted[1] ?? '';
      rest = rest.slice(quoted[0].length).trimStart();
    }
    if (name === 'default') {
      if (argument === undefined) return fail('default needs a value, e.g. default:"会员"');
      if (fallback !== undefined) return fail('only one default per placeholder');
      fallback = argument;
      continue;
    }
    if (format) return fail(`only one of number, money, date per placeholder`);
    if (name === 'number') {
      if (argument !== undefined) return fail('number takes no value');
      format = { kind: 'number' };
    } else if (name === 'money') format = { kind: 'money', currency: argument };
    else format = { kind: 'date', pattern: argument };
  }
  return { kind: 'placeholder', variable: head, fallback, format, source, at };
}
