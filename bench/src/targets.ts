import { S3_SIZES } from './implementation-constants.js';
import type { LocalReadPoint, LocalWriteResult } from './local-bench.js';
import { num, ratio } from './markdown.js';
import type { RedisReadPoint, RedisWriteResult } from './redis-bench.js';
import type { S3Run } from './s3-bench.js';
import { MB, MiB } from './stats.js';

/** Whether a run meets a target; NOT MEASURED when the run was too small to tell (quick mode). */
type TargetStatus = 'MET' | 'NOT MET' | 'NOT MEASURED';

const st = (ok: boolean): TargetStatus => (ok ? 'MET' : 'NOT MET');

/** One target, judged on one run's figures. */
export interface TargetVerdict {
  target: string;
  measured: string;
  status: TargetStatus;
  /** Why, when it is not met or needs context. */
  note: string;
}

/** Read memory growth allowed, MB (the read-memory charts draw it). */
export const READ_GROWTH_LIMIT_MB = 64;
const READ_GROWTH_LIMIT = READ_GROWTH_LIMIT_MB * MB;
/** Upload overhead allowed per append-path flush beyond the new bytes (CompleteMultipartUpload XML etc.). */
const APPEND_OVERHEAD_LIMIT = 16 * 1024;
/** Issue 17: Redis reads at least this many lines per second while its memory stays bounded. */
const REDIS_READ_LINES_PER_S = 1_000_000;
/** Issue 17: the Redis read-memory target is judged on checkpoints of at least this size. */
const REDIS_READ_JUDGED_MB = 300;

/** A checkpoint's commands or requests as `A ×1, B ×2`. */
export function countsText(counts: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? 'nothing' : entries.map(([k, n]) => `${k} ×${n}`).join(', ');
}

/** Issue 8: ours at least this many times faster than the seed. */
const SEED_SPEEDUP_TARGET = 20;

/** The "≥ 20× the seed" verdict: ours against the seed, with the limit's own speed-up as the ceiling when missed. */
function seedSpeedup(
  target: string,
  ms: { seed: number; ours: number; limit: number },
  limitName: string,
): TargetVerdict {
  const speedup = ms.seed / ms.ours;
  const met = speedup >= SEED_SPEEDUP_TARGET;
  return {
    target,
    measured: `${ratio(speedup)} (seed ${num(ms.seed, 0)} ms, ours ${num(ms.ours, 0)} ms)`,
    status: st(met),
    note: met
      ? ''
      : `The limit (${limitName}) is ${ratio(ms.seed / ms.limit)} faster than the seed in this run, so no design could reach ${SEED_SPEEDUP_TARGET}× here.`,
  };
}

/** Judges the local-file targets of issue 8: speed against the seed and the limit, read memory. */
export function judgeLocal(lw: LocalWriteResult, read: readonly LocalReadPoint[]): TargetVerdict[] {
  const out: TargetVerdict[] = [];
  out.push(
    seedSpeedup(
      'Local: ≥ 20× the seed (one awaited FileHandle.write per line)',
      { ...lw, limit: lw.limitJoin },
      'one writeSync of the joined string',
    ),
  );
  const localVsJoin = lw.ours / lw.limitJoin;
  out.push({
    target: 'Local: within 1.5× of the limit (one writeSync of the joined string)',
    measured: `${ratio(localVsJoin, 2)} (limit ${num(lw.limitJoin, 0)} ms); against a prebuilt Buffer: ${ratio(lw.ours / lw.limitBuffer, 2)}`,
    status: st(localVsJoin <= 1.5),
    note: 'Measured against the joined string, because a checkpoint writer is given JS strings: UTF-8 encoding is part of the job. The prebuilt-Buffer write leaves the encoding out and is shown for reference only.',
  });
  const biggest = read.at(-1);
  if (biggest) {
    const g = biggest.ours.growth;
    const small = biggest.sizeMB < 200;
    out.push({
      target: 'Read memory growth under 64 MB for a checkpoint of several hundred MB (local)',
      measured: `${num(g / MB, 1)} MB peak RSS growth reading ${num(biggest.sizeMB, 0)} MB`,
      status: small ? 'NOT MEASURED' : st(g < READ_GROWTH_LIMIT),
      note: small
        ? `Quick mode reads only ${num(biggest.sizeMB, 0)} MB; run the full benchmark for a checkpoint of several hundred MB.`
        : '',
    });
  }
  return out;
}

/**
 * Judges the Redis targets of issues 8 and 17: speed against the seed and the
 * limit, and read memory and speed up to the largest checkpoint read.
 *
 * @param flushCommands the commands one RedisStorage flush sent in the run (INFO commandstats).
 */
export function judgeRedis(
  rw: RedisWriteResult,
  read: readonly RedisReadPoint[],
  flushCommands: Readonly<Record<string, number>>,
): TargetVerdict[] {
  const out: TargetVerdict[] = [];
  out.push(
    seedSpeedup(
      'Redis: ≥ 20× the seed (one awaited RPUSH per line)',
      rw,
      'pipelined multi-value RPUSH',
    ),
  );
  const redisVsLimit = rw.ours / rw.limit;
  out.push({
    target: 'Redis: within 1.2× of the limit (multi-value RPUSH per 1,000 lines, same client)',
    measured: `${ratio(redisVsLimit, 2)} (limit ${num(rw.limit, 0)} ms)`,
    status: st(redisVsLimit <= 1.2),
    note:
      redisVsLimit <= 1.2
        ? ''
        : `Per flush RedisStorage sent ${countsText(flushCommands)} in this run (INFO commandstats), where the limit sends one RPUSH.`,
  });
  const judged = read.filter((p) => p.sizeMB >= REDIS_READ_JUDGED_MB);
  const biggest = read.at(-1);
  if (biggest) {
    const linesPerS = (p: RedisReadPoint): number => p.ours.lines / (p.ours.ms / 1000);
    const worst =
      judged.length === 0
        ? biggest
        : judged.reduce((a, b) => (b.ours.growth > a.ours.growth ? b : a));
    const slowest =
      judged.length === 0
        ? biggest
        : judged.reduce((a, b) => (linesPerS(b) < linesPerS(a) ? b : a));
    out.push({
      target: `Redis read: peak RSS growth ≤ 64 MB at ${REDIS_READ_JUDGED_MB} MB and beyond, reading ≥ ${num(REDIS_READ_LINES_PER_S / 1e6, 0)} M lines/s`,
      measured: `worst ${num(worst.ours.growth / MB, 1)} MB at ${num(worst.sizeMB, 0)} MB; slowest ${num(linesPerS(slowest) / 1e6, 2)} M lines/s at ${num(slowest.sizeMB, 0)} MB (LRANGE pages of the same lines: ${num(worst.paged.growth / MB, 1)} MB)`,
      status:
        judged.length === 0
          ? 'NOT MEASURED'
          : st(
              judged.every(
                (p) => p.ours.growth <= READ_GROWTH_LIMIT && linesPerS(p) >= REDIS_READ_LINES_PER_S,
              ),
            ),
      note:
        judged.length === 0
          ? `This run reads up to ${num(biggest.sizeMB, 0)} MB; the full benchmark reads up to 1 GB.`
          : `Growth by size: ${read.map((x) => `${num(x.ours.growth / MB, 0)} MB at ${num(x.sizeMB, 0)} MB`).join(', ')}.`,
    });
  }
  return out;
}

/** Judges the S3 write targets of issue 8 on the growth runs: no download, only new bytes, flat segments. */
export function judgeS3Growth(runs: readonly S3Run[]): TargetVerdict[] {
  const out: TargetVerdict[] = [];
  // The server-side append (what Amazon S3 runs) is judged: on moto it runs with conditionalWrites=off.
  const objectRun =
    runs.find(
      (x) => x.server === 'moto' && x.design === 'object' && x.conditionalWrites === 'off',
    ) ?? runs.find((x) => x.server === 'moto' && x.design === 'object');
  const minPart = S3_SIZES.minPartBytes;
  if (objectRun) {
    const down = objectRun.flushes.reduce((n, f) => n + f.down, 0);
    out.push({
      target: 'S3 object layout: downloads nothing after opening',
      measured: `${num(down / MB, 2)} MB downloaded over ${objectRun.flushes.length} flushes (${objectRun.name})`,
      status: st(down === 0),
      note: '',
    });
    const past = objectRun.flushes.filter((f) => f.size >= minPart);
    const worst = Math.max(0, ...past.map((f) => f.up - f.data));
    const last = past.at(-1);
    out.push({
      target: `S3 object layout: past ${num(minPart / MiB, 0)} MiB, uploads only the new bytes per flush`,
      measured:
        past.length === 0
          ? `no flush past ${num(minPart / MiB, 0)} MiB in this run`
          : `${past.length} flushes past ${num(minPart / MiB, 0)} MiB; worst upload beyond the new bytes: ${num(worst / 1024, 1)} KiB per flush`,
      status: past.length === 0 ? 'NOT MEASURED' : st(worst <= APPEND_OVERHEAD_LIMIT),
      note: last
        ? `Judged on ${objectRun.name}; its last flush sent ${countsText(last.commands)}.`
        : '',
    });
  }
  for (const seg of runs.filter((x) => x.design === 'segments')) {
    // The first flush also opens the checkpoint; flatness is judged after it.
    const steady = seg.flushes.slice(1);
    const ups = steady.map((f) => f.up);
    const reqs = new Set(steady.map((f) => f.requests));
    const spread = Math.max(...ups) / Math.min(...ups);
    const down = steady.reduce((n, f) => n + f.down, 0);
    const first = seg.flushes[0];
    out.push({
      target: `S3 segments layout: flat cost per flush after opening (${seg.server})`,
      measured: `upload per flush max/min ${ratio(spread, 3)}; requests per flush ${[...reqs].join(', ')}; ${num(down, 0)} bytes downloaded after opening`,
      status: st(steady.length > 1 && spread <= 1.05 && reqs.size === 1 && down === 0),
      note: first
        ? `Judged after the first flush, which also opens the checkpoint: ${countsText(first.commands)}, ${num(first.down, 0)} bytes down.`
        : '',
    });
  }
  return out;
}
