import type { ReportChart } from './charts.js';
import { perFlushTable, totalsTable, type WireFlush } from './growth.js';
import { S3_SIZES } from './implementation-constants.js';
import { num } from './markdown.js';
import { type S3Run, s3Run } from './s3-bench.js';
import { chartLink, type Section, sectionHead } from './section.js';
import { BUCKET } from './servers.js';
import { MiB } from './stats.js';
import { lineChart } from './svg-chart.js';
import { countsText, judgeS3Growth } from './targets.js';

/** The runs of the S3 growth section, in report order: server, design, conditionalWrites. */
const RUNS = [
  ['moto', 'seed', 'on'],
  ['moto', 'object', 'off'],
  ['moto', 'object', 'on'],
  ['moto', 'segments', 'on'],
  ['s3rver', 'object', 'off'],
  ['s3rver', 'segments', 'off'],
] as const;

const perFlush = (f: WireFlush): string =>
  `${countsText(f.commands)}: ${num(f.up / 1024, 0)} KiB up, ${num(f.down / 1024, 0)} KiB down`;

/** What each run's flushes did below and past S3's minimum part size, from what was counted. */
function whatEachFlushSent(run: S3Run): string {
  const minPart = S3_SIZES.minPartBytes;
  const below = run.flushes.filter((f) => f.size > 0 && f.size < minPart).at(-1);
  const past = run.flushes.filter((f) => f.size >= minPart).at(-1);
  const parts = [
    below && `at ${num(below.size / MiB, 1)} MiB a flush sent ${perFlush(below)}`,
    past && `at ${num(past.size / MiB, 1)} MiB ${perFlush(past)}`,
  ].filter(Boolean);
  return `- ${run.name}: ${parts.join('; ')}.`;
}

/** Bytes on the wire per flush as the object grows, one line per run. */
function bytesChart(runs: readonly S3Run[], flushBytes: number): ReportChart {
  const title = 'S3: bytes on the wire (up + down) per flush as the object grows';
  return {
    file: 's3-bytes-per-flush.svg',
    alt: title,
    svg: lineChart({
      title,
      subtitle: `flushes of ${flushBytes / 1024} KiB, exact counts; equal lines overlap`,
      xLabel: 'object size before the flush (MiB)',
      yLabel: 'KiB per flush',
      logY: true,
      // The seed last, dashed, on top.
      series: [
        ...runs.filter((x) => x.design !== 'seed'),
        ...runs.filter((x) => x.design === 'seed'),
      ].map((run) => ({
        name: run.name,
        points: run.flushes.map((f) => [f.size / MiB, (f.up + f.down) / 1024] as const),
        dashed: run.design === 'seed',
      })),
    }),
  };
}

/** `@yoink/storage-s3`'s two layouts against the seed's download + append + re-upload, bytes and requests per flush. */
export const s3Section: Section<S3Run[]> = {
  id: 's3',
  group: 's3',
  async measure({ plan, servers, log }) {
    const runs: S3Run[] = [];
    for (const [kind, design, conditions] of RUNS) {
      const server = await (kind === 'moto' ? servers.moto() : servers.s3rver());
      log(`s3: ${design} on ${kind} (conditionalWrites=${conditions})`);
      runs.push(
        await s3Run(server, BUCKET, design, plan.s3TotalBytes, plan.s3FlushBytes, conditions),
      );
    }
    return runs;
  },
  render(runs, run) {
    const p = run.plan;
    const verdicts = judgeS3Growth(runs);
    const chart = bytesChart(runs, p.s3FlushBytes);
    const md = [
      ...sectionHead(
        '## S3 (`@yoink/storage-s3`)',
        run,
        verdicts,
        'moto_server and s3rver on loopback',
      ),
      `One checkpoint grown to ${num(p.s3TotalBytes / MiB, 0)} MiB in flushes of ${p.s3FlushBytes / 1024} KiB, per design and server. A client middleware counts request body bytes (up; a streamed body counts its \`Content-Length\`), GET response bytes (down) and requests by command for every flush. The seed's design (download the object, append, re-upload) is reimplemented in the runner.`,
      '',
      'Per flush at an object size: KiB up / KiB down / requests.',
      '',
      perFlushTable(runs, p.s3TotalBytes, p.s3FlushBytes),
      '',
      `What one flush sent, below and past ${num(S3_SIZES.minPartBytes / MiB, 0)} MiB (S3's minimum part size, from \`@yoink/storage-s3\`):`,
      '',
      ...runs.map(whatEachFlushSent),
      '',
      'Totals over the run:',
      '',
      totalsTable(
        runs,
        runs.find((x) => x.design === 'seed'),
      ),
      '',
      chartLink(chart),
      '',
    ];
    return { markdown: md, charts: [chart], verdicts };
  },
};
