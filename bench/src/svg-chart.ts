/** One line of a {@link lineChart}: a name for the legend and its (x, y) points. */
export interface ChartSeries {
  /** Shown in the legend. */
  name: string;
  /** Points in x order; non-finite points (and non-positive ones on a log axis) are left out. */
  points: readonly (readonly [number, number])[];
  /** Draw the line dashed (for baselines). Default `false`. */
  dashed?: boolean;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  /** Title at the top. */
  title: string;
  /** A second, smaller line under the title (e.g. the workload). */
  subtitle?: string;
  /** Label of the x axis, with its unit. */
  xLabel: string;
  /** Label of the y axis, with its unit. */
  yLabel: string;
  /** The lines; at least one. */
  series: readonly ChartSeries[];
  /** Logarithmic x axis. Default `false`. */
  logX?: boolean;
  /** Logarithmic y axis. Default `false`. */
  logY?: boolean;
  /** Start a linear y axis at zero. Default `true`. */
  yFromZero?: boolean;
  /** A horizontal reference line (e.g. a target), drawn dotted and labelled. */
  reference?: { y: number; label: string };
  /** Width in px. Default 720. */
  width?: number;
  /** Height in px. Default 400. */
  height?: number;
}

/** Okabe–Ito colours: distinguishable with the common colour-vision deficiencies. */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

/** Escapes text for an SVG text node or attribute. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** A short label for a tick value: 1.5k, 20M, 0.25. */
export function formatTick(value: number): string {
  const abs = Math.abs(value);
  const trim = (x: number): string => String(Number(x.toPrecision(3)));
  if (abs >= 1e9) return `${trim(value / 1e9)}G`;
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e4) return `${trim(value / 1e3)}k`;
  return trim(value);
}

/** "Nice" linear ticks (steps of 1, 2 or 5 × 10^k) covering [min, max]. */
export function linearTicks(min: number, max: number, target = 6): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

/** Ticks of a log axis: powers of ten, plus 2× and 5× when the range spans few decades. */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const multipliers = hi - lo <= 3 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) {
    for (const m of multipliers) {
      const t = Number((m * 10 ** e).toPrecision(12));
      if (t >= min * (1 - 1e-9) && t <= max * (1 + 1e-9)) ticks.push(t);
    }
  }
  return ticks;
}

const NICE = [1, 2, 5, 10];

/** The largest 1, 2 or 5 × 10^k at or below `v` (> 0). */
function niceLogFloor(v: number): number {
  const d = 10 ** Math.floor(Math.log10(v));
  const m = [...NICE].reverse().find((x) => x * d <= v * (1 + 1e-9)) ?? 1;
  return Number((m * d).toPrecision(12));
}

/** The smallest 1, 2 or 5 × 10^k at or above `v` (> 0). */
function niceLogCeil(v: number): number {
  const d = 10 ** Math.floor(Math.log10(v));
  const m = NICE.find((x) => x * d >= v * (1 - 1e-9)) ?? 10;
  return Number((m * d).toPrecision(12));
}

interface Axis {
  lo: number;
  hi: number;
  log: boolean;
  ticks: number[];
}

function makeAxis(values: number[], log: boolean, fromZero: boolean): Axis {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (log) {
    if (lo === hi) {
      lo /= 2;
      hi *= 2;
    }
    // Widen to the nearest 1, 2 or 5 × 10^k on each side, so both ends carry a tick.
    // A little margin first, so a line at the minimum does not run along the axis.
    lo = niceLogFloor(lo / 1.25);
    hi = niceLogCeil(hi * 1.25);
    return { lo, hi, log, ticks: logTicks(lo, hi) };
  }
  if (fromZero) lo = Math.min(0, lo);
  if (lo === hi) {
    hi = lo === 0 ? 1 : hi + Math.abs(hi) * 0.5;
    if (!fromZero) lo -= Math.abs(lo) * 0.5;
  }
  const ticks = linearTicks(lo, hi);
  const step = ticks.length > 1 ? (ticks[1] as number) - (ticks[0] as number) : hi - lo;
  // Round the ends out to a tick so the top line is labelled.
  hi = Math.ceil(hi / step - 1e-9) * step;
  lo = Math.floor(lo / step + 1e-9) * step;
  return { lo, hi, log, ticks: linearTicks(lo, hi) };
}

function scale(axis: Axis, value: number, from: number, to: number): number {
  const f = axis.log
    ? (Math.log10(value) - Math.log10(axis.lo)) / (Math.log10(axis.hi) - Math.log10(axis.lo))
    : (value - axis.lo) / (axis.hi - axis.lo);
  return from + f * (to - from);
}

const px = (n: number): string => n.toFixed(1);

/**
 * Renders a line chart as a standalone SVG document (axes, ticks, grid,
 * legend, optional log scales and a reference line), with a white background
 * so it reads in GitHub's dark mode too. No dependencies.
 *
 * @throws {Error} when no series has a point that can be drawn.
 *
 * @example
 * ```ts
 * const svg = lineChart({
 *   title: 'Write cost per flush',
 *   xLabel: 'checkpoint size (MB)',
 *   yLabel: 'ms per flush',
 *   logX: true,
 *   series: [{ name: 'ours', points: [[1, 0.8], [10, 0.9], [100, 0.8]] }],
 * });
 * await writeFile('chart.svg', svg);
 * ```
 */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 400;
  const logX = options.logX ?? false;
  const logY = options.logY ?? false;
  const usable = (v: number, log: boolean): boolean => Number.isFinite(v) && (!log || v > 0);
  const series = options.series.map((s) => ({
    ...s,
    points: s.points.filter(([x, y]) => usable(x, logX) && usable(y, logY)),
  }));
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) throw new Error(`lineChart "${options.title}": no point to draw`);
  const ys = all.map(([, y]) => y);
  if (options.reference && usable(options.reference.y, logY)) ys.push(options.reference.y);
  const xAxis = makeAxis(
    all.map(([x]) => x),
    logX,
    false,
  );
  const yAxis = makeAxis(ys, logY, options.yFromZero ?? true);

  const legendRows = series.length;
  const top = options.subtitle ? 58 : 42;
  const left = 78;
  const right = 20;
  const bottom = 56 + legendRows * 18;
  const x0 = left;
  const x1 = width - right;
  const y0 = height - bottom;
  const y1 = top;
  const sx = (v: number): number => scale(xAxis, v, x0, x1);
  const sy = (v: number): number => scale(yAxis, v, y0, y1);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<title>${escapeXml(options.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600" fill="#222">${escapeXml(options.title)}</text>`,
  );
  if (options.subtitle) {
    out.push(
      `<text x="${width / 2}" y="40" text-anchor="middle" font-size="11" fill="#555">${escapeXml(options.subtitle)}</text>`,
    );
  }
  // Grid and ticks.
  out.push('<g stroke="#e3e3e3" stroke-width="1">');
  for (const t of yAxis.ticks)
    out.push(`<line x1="${x0}" x2="${x1}" y1="${px(sy(t))}" y2="${px(sy(t))}"/>`);
  for (const t of xAxis.ticks)
    out.push(`<line x1="${px(sx(t))}" x2="${px(sx(t))}" y1="${y1}" y2="${y0}"/>`);
  out.push('</g>');
  out.push('<g fill="#333" font-size="11">');
  for (const t of yAxis.ticks) {
    out.push(
      `<text x="${x0 - 6}" y="${px(sy(t) + 4)}" text-anchor="end">${escapeXml(formatTick(t))}</text>`,
    );
  }
  for (const t of xAxis.ticks) {
    out.push(
      `<text x="${px(sx(t))}" y="${y0 + 16}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`,
    );
  }
  out.push('</g>');
  // Axes.
  out.push(`<path d="M${x0} ${y1} V${y0} H${x1}" fill="none" stroke="#333" stroke-width="1.2"/>`);
  out.push(
    `<text x="${(x0 + x1) / 2}" y="${y0 + 34}" text-anchor="middle" fill="#222">${escapeXml(options.xLabel)}${logX ? ' (log scale)' : ''}</text>`,
  );
  const yMid = (y0 + y1) / 2;
  out.push(
    `<text x="16" y="${yMid}" text-anchor="middle" transform="rotate(-90 16 ${yMid})" fill="#222">${escapeXml(options.yLabel)}${logY ? ' (log scale)' : ''}</text>`,
  );
  if (options.reference && usable(options.reference.y, logY)) {
    const ry = px(sy(options.reference.y));
    out.push(
      `<line x1="${x0}" x2="${x1}" y1="${ry}" y2="${ry}" stroke="#888" stroke-width="1.2" stroke-dasharray="2 3"/>`,
    );
    out.push(
      `<text x="${x1 - 4}" y="${Number(ry) - 5}" text-anchor="end" font-size="11" fill="#555">${escapeXml(options.reference.label)}</text>`,
    );
  }
  // Lines and markers.
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length] as string;
    if (s.points.length === 0) return;
    const d = s.points
      .map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${px(sx(x))} ${px(sy(y))}`)
      .join(' ');
    out.push(
      `<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    for (const [x, y] of s.points) {
      out.push(`<circle cx="${px(sx(x))}" cy="${px(sy(y))}" r="3" fill="${colour}"/>`);
    }
  });
  // Legend, under the x label.
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length] as string;
    const ly = y0 + 52 + i * 18;
    out.push(
      `<line x1="${x0}" x2="${x0 + 26}" y1="${ly - 4}" y2="${ly - 4}" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    out.push(`<circle cx="${x0 + 13}" cy="${ly - 4}" r="3" fill="${colour}"/>`);
    out.push(`<text x="${x0 + 34}" y="${ly}" fill="#222">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
