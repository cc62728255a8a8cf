/**
 * A GitHub-flavoured Markdown table, columns padded so the source reads well too.
 *
 * @example
 * ```ts
 * markdownTable(['a', 'b'], [['1', '2']]);
 * // | a | b |\n| --- | --- |\n| 1 | 2 |
 * ```
 */
export function markdownTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = head.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${head.map((_, i) => (cells[i] ?? '').padEnd(widths[i] as number)).join(' | ')} |`;
  return [
    line(head),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...rows.map(line),
  ].join('\n');
}

/** `x` with `digits` decimals and thousands separators: 12,345.6. */
export function num(x: number, digits = 1): string {
  return x.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** A ratio as `12.3×`. */
export function ratio(x: number, digits = 1): string {
  return `${num(x, digits)}×`;
}

/** One row of {@link timingTable}: a contender's name and median time. */
export interface TimingRow {
  name: string;
  ms: number;
}

/**
 * A table of contenders doing the same work: ms, a rate (`amount` per second
 * in `unit`s) and how the first row (ours) compares with each of the others:
 * `N× faster` against a slower one, `N× its time` against a faster one.
 */
export function timingTable(
  what: string,
  amount: number,
  unit: 'MB/s' | 'lines/s' | 'records/s',
  rows: readonly TimingRow[],
): string {
  const ours = rows[0];
  const scale = unit === 'MB/s' ? 1e6 : 1;
  return markdownTable(
    [what, 'ms', unit, 'ours is'],
    rows.map((r, i) => [
      r.name,
      num(r.ms, 1),
      num(amount / scale / (r.ms / 1000), 0),
      i === 0 || !ours
        ? '—'
        : r.ms >= ours.ms
          ? `${ratio(r.ms / ours.ms)} faster`
          : `${ratio(ours.ms / r.ms, 2)} its time`,
    ]),
  );
}
