import type { BenchResults } from './results.js';
import { MB, MiB } from './stats.js';
import { type ChartSeries, lineChart } from './svg-chart.js';

/** A chart of the report: its file name under the output's `benchmarks/` folder, alt text and SVG. */
export interface ReportChart {
  file: string;
  alt: string;
  svg: string;
}

/** Renders the report's charts (scale curves) from one run's results. */
export function buildCharts(r: BenchResults): ReportChart[] {
  const charts: ReportChart[] = [];
  const flushSubtitle = `1,000 lines of 300 B per flush; median of ${r.plan.flushBatches} flushes at each size`;
  charts.push({
    file: 'local-flush-cost.svg',
    alt: 'Local files: write cost per flush as the checkpoint grows',
    svg: lineChart({
      title: 'Local files: write cost per flush as the checkpoint grows',
      subtitle: flushSubtitle,
      xLabel: 'checkpoint size (MB)',
      yLabel: 'ms per flush',
      logX: true,
      logY: true,
      series: [
        {
          name: 'ours: LocalFileStorage write() × 1,000 + flush()',
          points: r.localFlush.map((p) => [p.sizeMB, p.ours]),
        },
        {
          name: 'seed: 1,000 awaited FileHandle.write',
          points: r.localFlush.map((p) => [p.sizeMB, p.seed]),
          dashed: true,
        },
        {
          name: 'limit: join + one writeSync',
          points: r.localFlush.map((p) => [p.sizeMB, p.limit]),
          dashed: true,
        },
      ],
    }),
  });
  charts.push({
    file: 'redis-flush-cost.svg',
    alt: 'Redis: write cost per flush as the checkpoint grows',
    svg: lineChart({
      title: 'Redis: write cost per flush as the checkpoint grows',
      subtitle: flushSubtitle,
      xLabel: 'checkpoint size (MB)',
      yLabel: 'ms per flush',
      logX: true,
      logY: true,
      series: [
        {
          name: 'ours: RedisStorage write() × 1,000 + flush()',
          points: r.redisScale.flush.map((p) => [p.sizeMB, p.ours]),
        },
        {
          name: 'seed: 1,000 awaited RPUSH',
          points: r.redisScale.flush.map((p) => [p.sizeMB, p.seed]),
          dashed: true,
        },
        {
          name: 'limit: one 1,000-value RPUSH',
          points: r.redisScale.flush.map((p) => [p.sizeMB, p.limit]),
          dashed: true,
        },
      ],
    }),
  });
  charts.push({
    file: 's3-bytes-per-flush.svg',
    alt: 'S3: bytes on the wire per flush as the object grows',
    svg: lineChart({
      title: 'S3: bytes on the wire (up + down) per flush as the object grows',
      subtitle: `flushes of ${r.plan.s3FlushBytes / 1024} KiB, exact counts; equal lines overlap (segments; object layouts below 5 MiB)`,
      xLabel: 'object size before the flush (MiB)',
      yLabel: 'KiB per flush',
      logY: true,
      // The seed last, dashed, on top: past 5 MiB it coincides with the s3rver fallback.
      series: [
        ...r.s3.filter((x) => !x.name.startsWith('seed')),
        ...r.s3.filter((x) => x.name.startsWith('seed')),
      ].map(
        (run): ChartSeries => ({
          name: run.name,
          points: run.flushes.map((f) => [f.size / MiB, (f.up + f.down) / 1024]),
          dashed: run.name.startsWith('seed'),
        }),
      ),
    }),
  });
  charts.push({
    file: 'read-throughput.svg',
    alt: 'Read throughput as the checkpoint grows',
    svg: lineChart({
      title: 'Read throughput as the checkpoint grows',
      subtitle: 'each read in its own process; median of the runs',
      xLabel: 'checkpoint size (MB)',
      yLabel: 'MB/s',
      logX: true,
      series: [
        {
          name: 'local: LocalFileStorage.read() (lines)',
          points: r.localRead.map((p) => [p.sizeMB, p.ours.mbps]),
        },
        {
          name: 'local: raw createReadStream (bytes, no lines)',
          points: r.localRead.map((p) => [p.sizeMB, p.raw.mbps]),
          dashed: true,
        },
        {
          name: 'local: readFile + split (all in memory)',
          points: r.localRead.map((p) => [p.sizeMB, p.naive.mbps]),
          dashed: true,
        },
        {
          name: 'Redis: RedisStorage.read() (stream pages)',
          points: r.redisScale.read.map((p) => [p.sizeMB, p.ours.mbps]),
        },
        {
          name: 'Redis: LRANGE pages of 1,000',
          points: r.redisScale.read.map((p) => [p.sizeMB, p.paged.mbps]),
          dashed: true,
        },
      ],
    }),
  });
  charts.push({
    file: 'read-memory.svg',
    alt: 'Peak RSS growth while reading, as the checkpoint grows',
    svg: lineChart({
      title: 'Peak RSS growth while reading, as the checkpoint grows',
      subtitle: 'peak RSS (getrusage) − RSS before the read, each read in its own process',
      xLabel: 'checkpoint size (MB)',
      yLabel: 'MB',
      logX: true,
      logY: true,
      reference: { y: 64, label: 'target: 64 MB' },
      series: [
        {
          name: 'local: LocalFileStorage.read()',
          points: r.localRead.map((p) => [p.sizeMB, Math.max(0.1, p.ours.growth / MB)]),
        },
        {
          name: 'local: readFile + split (all in memory)',
          points: r.localRead.map((p) => [p.sizeMB, Math.max(0.1, p.naive.growth / MB)]),
          dashed: true,
        },
        {
          name: 'Redis: RedisStorage.read()',
          points: r.redisScale.read.map((p) => [p.sizeMB, Math.max(0.1, p.ours.growth / MB)]),
        },
        {
          name: 'Redis: LRANGE pages of 1,000',
          points: r.redisScale.read.map((p) => [p.sizeMB, Math.max(0.1, p.paged.growth / MB)]),
          dashed: true,
        },
        {
          name: 'Redis seed: LRANGE 0 -1 (all in memory)',
          points: r.redisScale.read.map((p) => [p.sizeMB, Math.max(0.1, p.seed.growth / MB)]),
          dashed: true,
        },
      ],
    }),
  });
  return charts;
}
