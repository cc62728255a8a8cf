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
