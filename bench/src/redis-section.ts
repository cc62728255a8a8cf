import { flushCostChart, readCharts } from './charts.js';
import { type FlushCostPoint, flushCostTable } from './flush-scale.js';
import { REDIS_SIZES } from './implementation-constants.js';
import { readMethod } from './local-section.js';
import { markdownTable, num, timingTable } from './markdown.js';
import {
  type RedisReadPoint,
  type RedisWriteResult,
  redisFlushCommands,
  redisFlushScale,
  redisReadScale,
  redisWrite,
} from './redis-bench.js';
import { chartLink, type Section, sectionHead } from './section.js';
import { MB, MiB } from './stats.js';
import { countsText, judgeRedis, READ_GROWTH_LIMIT_MB } from './targets.js';
import { FLUSH_EVERY, LINE_BYTES } from './workload.js';

/** What the Redis section measured. */
export interface RedisResult {
  redisServer: string;
  write: RedisWriteResult;
  /** Commands one RedisStorage flush sent (INFO commandstats). */
  flushCommands: Record<string, number>;
  flush: FlushCostPoint[];
  read: RedisReadPoint[];
}

const mbOrDash = (bytes: number | undefined): string =>
  bytes === undefined ? '—' : `${num(bytes / MB, 1)} MB`;

/** `@yoink/storage-redis` against the seed's RPUSH per line and a multi-value RPUSH per flush. */
export const redisSection: Section<RedisResult> = {
  id: 'redis',
  group: 'redis',
  async measure({ plan, servers, log }) {
    const redis = await servers.redis();
    const client = await servers.redisClient();
    log('redis: write');
    const write = await redisWrite(client, plan.redisLines, plan.runs);
    const flushCommands = await redisFlushCommands(client);
    log('redis: write cost per flush as the checkpoint grows');
    const flush = await redisFlushScale(client, plan.flushMarksMB, plan.flushBatches);
    log(`redis: read as the checkpoint grows, up to ${plan.redisReadSizesMB.at(-1)} MB`);
    const read = await redisReadScale(
      client,
      redis.url,
      plan.redisReadSizesMB,
      plan.readRuns,
      plan.redisSeedReadMaxMB,
    );
    const version = (await client.info('server')).match(/^redis_version:(\S+)/m)?.[1] ?? 'unknown';
    return { redisServer: version, write, flushCommands, flush, read };
  },
  render(r, run) {
    const rw = r.write;
    const verdicts = judgeRedis(rw, r.read, r.flushCommands);
    const flushChart = flushCostChart(
      'redis-flush-cost.svg',
      'Redis',
      r.flush,
      {
        ours: `ours: RedisStorage write() × ${num(FLUSH_EVERY, 0)} + flush()`,
        seed: `seed: ${num(FLUSH_EVERY, 0)} awaited RPUSH`,
        limit: `limit: one ${num(FLUSH_EVERY, 0)}-value RPUSH`,
      },
      run.plan.flushBatches,
    );
    const at = (pick: (p: RedisReadPoint) => RedisReadPoint['seed']) =>
      r.read.flatMap((p) => {
        const figure = pick(p);
        return figure ? [{ sizeMB: p.sizeMB, figure }] : [];
      });
    const reads = readCharts(
      'redis',
      'Redis',
      [
        { name: 'RedisStorage.read() (stream pages)', ours: true, points: at((p) => p.ours) },
        { name: `LRANGE pages of ${num(FLUSH_EVERY, 0)}`, points: at((p) => p.paged) },
        { name: 'seed: LRANGE 0 -1 (all in memory)', memoryOnly: true, points: at((p) => p.seed) },
      ],
      READ_GROWTH_LIMIT_MB,
    );
    const linesPerS = (f: { lines: number; ms: number }): string =>
      num(f.lines / (f.ms / 1000) / 1e6, 2);
    const md = [
      ...sectionHead(
        '## Redis (`@yoink/storage-redis`)',
        run,
        verdicts,
        `redis-server ${r.redisServer} on loopback`,
      ),
      `Write: ${num(rw.lines, 0)} lines of ${LINE_BYTES} bytes (${num(rw.bytes / MB, 1)} MB), \`flush()\` every ${num(FLUSH_EVERY, 0)} lines, all through the same ioredis client; median of ${rw.runs} interleaved runs after one warm-up round. One flush of RedisStorage sent ${countsText(r.flushCommands)} (counted with INFO commandstats in this run, which counts the commands a script runs too).`,
      '',
      timingTable('write', rw.lines, 'lines/s', [
        { name: 'ours: `RedisStorage`', ms: rw.ours },
        { name: 'seed: one awaited `RPUSH` per line', ms: rw.seed },
        {
          name: `limit: one multi-value \`RPUSH\` per ${num(FLUSH_EVERY, 0)} lines, no checks`,
          ms: rw.limit,
        },
      ]),
      '',
      `Write cost per flush as the checkpoint grows (each contender padded to the size in ${num(FLUSH_EVERY, 0)}-line flushes, untimed, then the median of ${run.plan.flushBatches} flushes):`,
      '',
      flushCostTable(r.flush),
      '',
      chartLink(flushChart),
      '',
      `Read: a RedisStorage stream and a list of the same lines grown side by side, ${readMethod(run.plan.readRuns)}. RedisStorage reads pages of ${num(REDIS_SIZES.readPageBytes / MiB, 2)} MiB of entries (at most ${num(REDIS_SIZES.maxPageEntries, 0)} entries) on a client it creates from the URI; the seed's LRANGE 0 -1 runs up to ${num(run.plan.redisSeedReadMaxMB, 0)} MB.`,
      '',
      markdownTable(
        [
          'checkpoint',
          'ours MB/s',
          'ours M lines/s',
          'LRANGE pages MB/s',
          'ours RSS growth',
          'LRANGE pages RSS growth',
          'seed LRANGE 0 -1 RSS growth',
        ],
        r.read.map((x) => [
          `${num(x.sizeMB, 0)} MB`,
          num(x.ours.mbps, 0),
          linesPerS(x.ours),
          num(x.paged.mbps, 0),
          mbOrDash(x.ours.growth),
          mbOrDash(x.paged.growth),
          mbOrDash(x.seed?.growth),
        ]),
      ),
      '',
      ...reads.flatMap((c) => [chartLink(c), '']),
    ];
    return { markdown: md, charts: [flushChart, ...reads], verdicts };
  },
};
