// The benchmark runner: `pnpm bench` (full) or `pnpm bench --quick [--out <dir>]`.
// Starts redis-server, s3rver, moto_server and Azurite, measures every backend against the
// seed's approach and the machine's limit, and writes <out>/benchmarks.md and
// <out>/benchmarks/*.svg.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis } from '@yoink/test-servers/redis';
import { startMoto, startS3rver } from '@yoink/test-servers/s3';
import { Redis } from 'ioredis';
import { parseRunArgs } from './args.js';
import { azureBench, judgeAzure } from './azure-bench.js';
import { buildCharts } from './charts.js';
import { localFlushScale, localReadScale, localWrite } from './local-bench.js';
import { machineInfo } from './machine.js';
import { FULL_PLAN, QUICK_PLAN } from './plan.js';
import { redisScale, redisWrite } from './redis-bench.js';
import { renderReport } from './report.js';
import type { BenchResults } from './results.js';
import { type S3Run, s3Run } from './s3-bench.js';
import { s3ReadBench } from './s3-read-bench.js';
import { judgeTargets } from './targets.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BUCKET = 'yoink-bench';

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function main(): Promise<void> {
  const args = parseRunArgs(process.argv.slice(2), REPO);
  const plan = args.quick ? QUICK_PLAN : FULL_PLAN;
  const machine = machineInfo();
  const started = performance.now();
  const rel = relative(REPO, args.outDir);
  const outArg = rel.startsWith('..') || isAbsolute(rel) ? args.outDir : rel;
  const command = `pnpm bench${args.quick ? ' --quick' : ''}${outArg === 'docs' ? '' : ` --out ${outArg}`}`;
  log(`${plan.mode} run; report to ${args.outDir}`);

  const dir = await mkdtemp(join(os.tmpdir(), 'yoink-bench-'));
  const redis = await startRedis();
  const client = new Redis({ host: redis.host, port: redis.port, maxRetriesPerRequest: null });
  const s3rver = await startS3rver({ buckets: [BUCKET] });
  const moto = await startMoto({ buckets: [BUCKET] });
  try {
    log('local: write');
    const lw = await localWrite(dir, plan.localLines, plan.runs);
    log('local: write cost per flush as the checkpoint grows');
    const lf = await localFlushScale(dir, plan.flushMarksMB, plan.flushBatches);
    log('local: read as the checkpoint grows');
    const lr = await localReadScale(dir, plan.readSizesMB, plan.readRuns);
    log('redis: write');
    const rw = await redisWrite(client, plan.redisLines, plan.runs);
    log('redis: write cost per flush and read as the checkpoint grows');
    const rs = await redisScale(
      client,
      redis.url,
      plan.flushMarksMB,
      plan.flushBatches,
      plan.readRuns,
    );
    const s3: S3Run[] = [];
    for (const [server, design, conditions] of [
      [moto, 'seed', 'on'],
      [moto, 'object', 'off'],
      [moto, 'object', 'on'],
      [moto, 'segments', 'on'],
      [s3rver, 'object', 'off'],
      [s3rver, 'segments', 'off'],
    ] as const) {
      log(`s3: ${design} on ${server.kind} (conditionalWrites=${conditions})`);
      s3.push(
        await s3Run(server, BUCKET, design, plan.s3TotalBytes, plan.s3FlushBytes, conditions),
      );
    }
    const azure = await azureBench(plan, log);
    const s3Read = await s3ReadBench(
      BUCKET,
      {
        segments: plan.s3ReadSegments,
        objectBytes: plan.s3ReadObjectBytes,
        openCounts: plan.s3OpenCounts,
        runs: plan.readRuns,
        latencyMs: 20,
      },
      log,
    );
    const results: BenchResults = {
      plan,
      machine,
      command,
      seconds: (performance.now() - started) / 1000,
      localWrite: lw,
      localFlush: lf,
      localRead: lr,
      redisWrite: rw,
      redisScale: rs,
      s3,
      azure,
      s3Read,
    };
    const targets = judgeTargets(results);
    const charts = buildCharts(results);
    await mkdir(join(args.outDir, 'benchmarks'), { recursive: true });
    for (const c of charts) await writeFile(join(args.outDir, 'benchmarks', c.file), c.svg);
    await writeFile(join(args.outDir, 'benchmarks.md'), renderReport(results, targets, charts));
    log(
      `wrote ${join(args.outDir, 'benchmarks.md')} and ${charts.length} charts in ${results.seconds.toFixed(0)} s`,
    );
    for (const t of [...targets, ...judgeAzure(azure)])
      process.stdout.write(`${t.status.padEnd(12)} ${t.target}: ${t.measured}\n`);
  } finally {
    client.disconnect();
    await Promise.allSettled([redis.stop(), s3rver.stop(), moto.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
