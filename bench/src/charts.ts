import type { FlushCostPoint } from './flush-scale.js';
import type { ReadFigure } from './read-bench.js';
import { MB } from './stats.js';
import { type ChartSeries, lineChart } from './svg-chart.js';
import { FLUSH_EVERY, LINE_BYTES } from './workload.js';

/** A chart of the report: its file name under the output's `benchmarks/` folder, alt text and SVG. */
export interface ReportChart {
  file: string;
  alt: string;
  svg: string;
}

/** Names of the three lines of a flush-cost chart. */
export interface FlushCostNames {
  ours: string;
  seed: string;
  limit: string;
}

/** Write cost per flush as the checkpoint grows: ours, the seed and the limit (log-log). */
export function flushCostChart(
  file: string,
  backend: string,
  points: readonly FlushCostPoint[],
  names: FlushCostNames,
  batches: number,
): ReportChart {
  const title = `${backend}: write cost per flush as the checkpoint grows`;
  return {
    file,
    alt: title,
    svg: lineChart({
      title,
      subtitle: `${FLUSH_EVERY.toLocaleString('en-US')} lines of ${LINE_BYTES} B per flush; median of ${batches} flushes at each size`,
      xLabel: 'checkpoint size (MB)',
      yLabel: 'ms per flush',
      logX: true,
      logY: true,
      series: (['ours', 'seed', 'limit'] as const).map((k) => ({
        name: names[k],
        points: points.map((p) => [p.sizeMB, p[k]] as const),
        dashed: k !== 'ours',
      })),
    }),
  };
}

/** One reader's figures at each checkpoint size, for {@link readCharts}. */
export interface ReaderLine {
  name: string;
  /** `true` for the storage under test (a solid line); baselines are dashed. */
  ours?: boolean;
  /** Leave it out of the throughput chart (it moves no lines, or is too slow to compare). */
  memoryOnly?: boolean;
  points: readonly { sizeMB: number; figure: ReadFigure }[];
}

/**
 * Read throughput and peak RSS growth as the checkpoint grows, for one
 * backend's readers: two charts, `<prefix>-read-throughput.svg` and
 * `<prefix>-read-memory.svg` (with the `limitMB` target line).
 */
export function readCharts(
  prefix: string,
  backend: string,
  readers: readonly ReaderLine[],
  limitMB: number,
): ReportChart[] {
  const line = (r: ReaderLine, y: (f: ReadFigure) => number): ChartSeries => ({
    name: r.name,
    points: r.points.map((p) => [p.sizeMB, y(p.figure)] as const),
    dashed: !r.ours,
  });
  const throughput = `${backend}: read throughput as the checkpoint grows`;
  const memory = `${backend}: peak RSS growth while reading, as the checkpoint grows`;
  return [
    {
      file: `${prefix}-read-throughput.svg`,
      alt: throughput,
      svg: lineChart({
        title: throughput,
        subtitle: 'each read in its own process; median of the runs',
        xLabel: 'checkpoint size (MB)',
        yLabel: 'MB/s',
        logX: true,
        series: readers.filter((r) => !r.memoryOnly).map((r) => line(r, (f) => f.mbps)),
      }),
    },
    {
      file: `${prefix}-read-memory.svg`,
      alt: memory,
      svg: lineChart({
        title: memory,
        subtitle: 'peak RSS (getrusage) − RSS before the read, each read in its own process',
        xLabel: 'checkpoint size (MB)',
        yLabel: 'MB',
        logX: true,
        logY: true,
        reference: { y: limitMB, label: `target: ${limitMB} MB` },
        series: readers.map((r) => line(r, (f) => Math.max(0.1, f.growth / MB))),
      }),
    },
  ];
}
