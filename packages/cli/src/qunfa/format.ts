// Terminal output for the `qunfa` CLI: tables, bars, the funnel chart and progress lines.
// Widths are display columns: a Chinese character takes two, so names line up in a terminal.

/** Whether a code point is shown two columns wide (East Asian Wide and Fullwidth, emoji). */
function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0x303e) ||
    (code >= 0x3041 && code <= 0x33ff) ||
    (code >= 0x3400 && code <= 0x4dbf) ||
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0xa000 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}

/** Display columns of a string (combining marks and zero-width characters take none). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x300 && code <= 0x36f) || code === 0x200b || code === 0xfe0f) continue;
    width += isWide(code) ? 2 : 1;
  }
  return width;
}

export function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

export function padStart(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - displayWidth(text))) + text;
}

export type Cell = string | number | null | undefined;

/**
 * A plain-text table: a header, a rule and the rows. Numbers are right-aligned, anything else
 * left-aligned; null and undefined print as `–`.
 */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number'));
  const widths = headers.map((header, i) =>
    Math.max(displayWidth(header), ...text.map((row) => displayWidth(row[i] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? padStart(cell, widths[i] ?? 0) : padEnd(cell, widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}

function cellText(cell: Cell): string {
  if (cell === null || cell === undefined) return '–';
  return typeof cell === 'number' ? formatNumber(cell) : cell;
}

export function formatNumber(value: number): string {
  return Number.isInteger(value)
    ? value.toLocaleString('en-US')
    : value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** A fraction as a percentage with one decimal; `–` when there is nothing to divide by. */
export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '–';
  return `${(rate * 100).toFixed(1)}%`;
}

const eighths = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar of █ `width` columns long at 1, drawn to an eighth of a column. */
export function bar(fraction: number, width: number): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const total = Math.round(clamped * width * 8);
  return '█'.repeat(Math.floor(total / 8)) + (eighths[total % 8] ?? '');
}

export interface FunnelStage {
  readonly label: string;
  readonly value: number;
}

/**
 * A funnel chart: one bar per stage scaled to the first, with the count, the share of the
 * first stage and the step from the one before, fitted to `width` columns.
 */
export function funnel(stages: readonly FunnelStage[], width: number): string {
  const top = stages[0]?.value ?? 0;
  const labelWidth = Math.max(...stages.map((stage) => displayWidth(stage.label)));
  const valueWidth = Math.max(...stages.map((stage) => formatNumber(stage.value).length));
  const shares = stages.map((stage, i) => {
    const ofTop = top > 0 ? percent(stage.value / top) : '–';
    const before = stages[i - 1]?.value;
    const step =
      i === 0 ? '' : before ? ` (${percent(stage.value / before)} of ${stages[i - 1]?.label})` : '';
    return `${ofTop}${step}`;
  });
  // The bar takes what the label, the count and the shares leave, at least 10 columns.
  const shareWidth = Math.max(...shares.map((share) => displayWidth(share)));
  const barWidth = Math.max(10, width - labelWidth - valueWidth - shareWidth - 6);
  return stages
    .map((stage, i) => {
      const drawn = bar(top > 0 ? stage.value / top : 0, barWidth);
      return `${padEnd(stage.label, labelWidth)}  ${padEnd(drawn || (stage.value > 0 ? '▏' : ''), barWidth)}  ${padStart(formatNumber(stage.value), valueWidth)}  ${shares[i] ?? ''}`.trimEnd();
    })
    .join('\n');
}

/** 75 → `1m15s`, 3700 → `1h01m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * One progress line: `label [█████▌     ] 55% 550/1,000 · 120/s · ETA 4s`, fitted to `width`.
 * `total` 0 or unknown draws an empty bar.
 */
export function progressLine({
  label,
  done,
  total,
  width,
  unit = (n: number) => formatNumber(n),
  rate,
  etaSeconds,
  note,
}: {
  label: string;
  done: number;
  total: number;
  width: number;
  unit?: (n: number) => string;
  rate?: string | undefined;
  etaSeconds?: number | undefined;
  note?: string | undefined;
}): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const tail = [
    `${Math.floor(fraction * 100)}%`.padStart(4),
    `${unit(done)}/${unit(total)}`,
    ...(rate ? [rate] : []),
    ...(etaSeconds === undefined ? [] : [`ETA ${formatDuration(etaSeconds)}`]),
    ...(note ? [note] : []),
  ].join(' · ');
  const barWidth = Math.max(10, Math.min(40, width - displayWidth(label) - displayWidth(tail) - 5));
  return `${label} [${padEnd(bar(fraction, barWidth), barWidth)}] ${tail}`;
}
