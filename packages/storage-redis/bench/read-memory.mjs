// Redis read memory and speed as the checkpoint grows, up to 1 GB:
//   pnpm --filter @yoink/storage-redis build && node bench/read-memory.mjs
// Env: BENCH_SIZES_MB (default 32,100,300,1000), BENCH_RUNS (default 3).
// One checkpoint (RedisStorage's stream, 300-byte lines, flush every 1,000)
// and a list of the same lines grow side by side; at each size each is read
// BENCH_RUNS times, interleaved, each read in a fresh process (read-child.mjs)
// so its peak RSS is its own. Target: peak RSS growth ≤ 64 MB while reading
// ≥ 1,000,000 lines/s.
import { execFile } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startRedis } from '@yoink/test-servers/redis';
import { Redis } from 'ioredis';
import { RedisStorage } from '../dist/index.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./read-child.mjs', import.meta.url));
const SIZES = (process.env.BENCH_SIZES_MB ?? '32,100,300,1000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MB = 1e6;
const LIMIT_BYTES = 64 * 1024 * 1024;

const line = (i) => {
  const head = `{"i":${i},"url":"https://example.com/page/${i}","body":"`;
  return `${head}${'x'.repeat(300 - head.length - 3)}"}\n`;
};

const loadBefore = loadavg();
const redis = await startRedis({ save: '' });
const client = new Redis({ port: redis.port, protocol: 2 });
const writer = new RedisStorage(`redis://?key=bench:read`, { client, allowEviction: true });
let bytes = 0;
let written = 0;
const rows = [];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function readOnce(mode, key) {
  const { stdout } = await run(process.execPath, [CHILD, mode, redis.url, key]);
  const r = JSON.parse(stdout);
  if (r.lines !== written) throw new Error(`${mode} read ${r.lines} lines, expected ${written}`);
  return { linesPerS: r.lines / (r.ms / 1000), growth: r.peakRss - r.baseRss };
}
try {
  for (const size of SIZES) {
    while (bytes < size * MB) {
      const batch = [];
      for (let k = 0; k < 1000; k++) batch.push(line(written + k));
      await writer.write(batch.join(''));
      await writer.flush();
      await client.rpush('bench:list', ...batch);
      written += batch.length;
      bytes += batch.length * 300;
    }
    const got = { ours: [], lrange: [] };
    for (let i = 0; i < RUNS; i++) {
      got.ours.push(await readOnce('ours', 'bench:read'));
      got.lrange.push(await readOnce('lrange', 'bench:list'));
    }
    rows.push({
      sizeMB: bytes / MB,
      lines: written,
      ours: {
        linesPerS: median(got.ours.map((r) => r.linesPerS)),
        growth: Math.max(...got.ours.map((r) => r.growth)),
      },
      lrange: {
        linesPerS: median(got.lrange.map((r) => r.linesPerS)),
        growth: Math.max(...got.lrange.map((r) => r.growth)),
      },
    });
    process.stderr.write(`read-memory: ${Math.round(bytes / MB)} MB done\n`);
  }
} finally {
  await writer.close().catch(() => {});
  client.disconnect();
  await redis.stop();
}
const f = (x) => (x / MB).toFixed(1);
const l = (x) => `${(x / 1e6).toFixed(2)} M`;
console.log(
  `Machine: ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; load average before ${loadBefore.map((x) => x.toFixed(2)).join(', ')}, after ${loadavg()
    .map((x) => x.toFixed(2))
    .join(', ')}`,
);
console.log(
  `300-byte lines; ${RUNS} reads per size and reader, interleaved; growth = worst peak RSS − RSS before the read; lines/s = median\n`,
);
console.log(
  '| checkpoint | lines | RedisStorage.read() RSS growth | lines/s | LRANGE pages of 1,000 RSS growth | lines/s | target (≤ 64 MB, ≥ 1 M lines/s) |',
);
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const memOk = r.ours.growth <= LIMIT_BYTES;
  const speedOk = r.ours.linesPerS >= 1e6;
  const status =
    memOk && speedOk
      ? 'MET'
      : `NOT MET (${[!memOk && 'memory', !speedOk && 'speed'].filter(Boolean).join(', ')})`;
  console.log(
    `| ${Math.round(r.sizeMB)} MB | ${r.lines.toLocaleString('en')} | ${f(r.ours.growth)} MB | ${l(r.ours.linesPerS)} | ${f(r.lrange.growth)} MB | ${l(r.lrange.linesPerS)} | ${status} |`,
  );
}
