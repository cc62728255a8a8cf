import { flushCostChart, readCharts } from './charts.js';
import { type FlushCostPoint, flushCostTable } from './flush-scale.js';
import {
  type LocalReadPoint,
  type LocalWriteResult,
  localFlushScale,
  localReadScale,
  localWrite,
} from './local-bench.js';
import { markdownTable, num, ratio, timingTable } from './markdown.js';
import { chartLink, type Section, sectionHead } from './section.js';
import { MB } from './stats.js';
import { judgeLocal, READ_GROWTH_LIMIT_MB } from './targets.js';
import { FLUSH_EVERY, LINE_BYTES } from './workload.js';

/** What the local section measured. */
export interface LocalResult {
  write: LocalWriteResult;
  flush: FlushCostPoint[];
  read: LocalReadPoint[];
}

/** How a read section describes its read runs (shared by the local and Redis sections). */
export function readMethod(readRuns: number): string {
  return `each read ${readRuns === 1 ? 'once' : `${readRuns} times`} per reader, each read in a fresh Node process; MB/s of the median run, peak RSS growth = the process's peak RSS (getrusage) − its RSS just before the read (worst run)`;
}

/** `@yoink/storage-local` against the seed's FileHandle.write per line and one writeSync. */
export const localSection: Section<LocalResult> = {
  id: 'local',
  group: 'local',
  async measure({ plan, dir, log }) {
    log('local: write');
    const write = await localWrite(dir, plan.localLines, plan.runs);
    log('local: write cost per flush as the checkpoint grows');
    const flush = await localFlushScale(dir, plan.flushMarksMB, plan.flushBatches);
    log('local: read as the checkpoint grows');
    const read = await localReadScale(dir, plan.readSizesMB, plan.readRuns);
    return { write, flush, read };
  },
  render(r, run) {
    const lw = r.write;
    const verdicts = judgeLocal(lw, r.read);
    const flushChart = flushCostChart(
      'local-flush-cost.svg',
      'Local files',
      r.flush,
      {
        ours: `ours: LocalFileStorage write() × ${num(FLUSH_EVERY, 0)} + flush()`,
        seed: `seed: ${num(FLUSH_EVERY, 0)} awaited FileHandle.write`,
        limit: 'limit: join + one writeSync',
      },
      run.plan.flushBatches,
    );
    const reads = readCharts(
      'local',
      'Local files',
      [
        {
          name: 'LocalFileStorage.read() (lines)',
          ours: true,
          points: r.read.map((p) => ({ sizeMB: p.sizeMB, figure: p.ours })),
        },
        {
          name: 'raw createReadStream (bytes, no lines)',
          points: r.read.map((p) => ({ sizeMB: p.sizeMB, figure: p.raw })),
        },
        {
          name: 'readFile + split (all in memory)',
          points: r.read.map((p) => ({ sizeMB: p.sizeMB, figure: p.naive })),
        },
      ],
      READ_GROWTH_LIMIT_MB,
    );
    const charts = [flushChart, ...reads];
    const md = [
      ...sectionHead('## Local files (`@yoink/storage-local`)', run, verdicts),
      `Write: ${num(lw.lines, 0)} lines of ${LINE_BYTES} bytes (${num(lw.bytes / MB, 1)} MB), \`flush()\` every ${num(FLUSH_EVERY, 0)} lines; median of ${lw.runs} interleaved runs after one warm-up round; files in the OS temp folder, each fsynced and removed after its run, outside the timing.`,
      '',
      timingTable('write', lw.bytes, 'MB/s', [
        { name: 'ours: `LocalFileStorage` (defaults)', ms: lw.ours },
        { name: 'seed: one awaited `FileHandle.write` per line', ms: lw.seed },
        { name: "limit (target): `writeSync` of `lines.join('')`", ms: lw.limitJoin },
        { name: 'limit (reference): `writeSync` of a prebuilt `Buffer`', ms: lw.limitBuffer },
      ]),
      '',
      'With durability:',
      '',
      timingTable('write', lw.bytes, 'MB/s', [
        { name: "ours: `LocalFileStorage` with `durability: 'fsync'`", ms: lw.oursFsync },
        { name: "limit: `writeSync` of `lines.join('')`, then one `fsync`", ms: lw.limitFsync },
      ]),
      '',
      `Write cost per flush as the checkpoint grows (each contender's file padded to the size untimed, then the median of ${run.plan.flushBatches} flushes of ${num(FLUSH_EVERY, 0)} lines):`,
      '',
      flushCostTable(r.flush),
      '',
      chartLink(flushChart),
      '',
      `Read: one file grown to each size and read ${readMethod(run.plan.readRuns)}.`,
      '',
      markdownTable(
        [
          'checkpoint',
          'lines',
          'ours MB/s',
          'raw stream MB/s',
          'ours / raw time',
          'ours RSS growth',
          'readFile + split RSS growth',
        ],
        r.read.map((x) => [
          `${num(x.sizeMB, 0)} MB`,
          num(x.lines, 0),
          num(x.ours.mbps, 0),
          num(x.raw.mbps, 0),
          ratio(x.ours.ms / x.raw.ms, 2),
          `${num(x.ours.growth / MB, 1)} MB`,
          `${num(x.naive.growth / MB, 1)} MB`,
        ]),
      ),
      '',
      ...reads.flatMap((c) => [chartLink(c), '']),
    ];
    return { markdown: md, charts, verdicts };
  },
};
