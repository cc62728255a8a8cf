// Benchmark of @yoink/storage-redis against the seed's approach and the machine's limit.
// Run: pnpm --filter @yoink/storage-redis build && pnpm --filter @yoink/storage-redis bench
// Env: BENCH_RUNS (default 5), BENCH_BIG_LINES (default 5000000; 0 skips the big read).
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { MemoryStorage } from '@yoink/storage-core';
import { startRedis } from '@yoink/test-servers/redis';
import { Redis } from 'ioredis';
import { RedisStorage } from '../dist/index.js';

const LINES = 100_000;
const LINE_BYTES = 300;
const FLUSH_EVERY = 1_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BIG_LINES = Number(process.env.BENCH_BIG_LINES ?? 5_000_000);
const BIG_LINE_BYTES = 100;

function makeLine(i, bytes) {
  const head = `{"i":${i},"url":"https://example.com/page/${i}","body":"`;
  return `${head}${'x'.repeat(Math.max(0, bytes - head.length - 3))}"}\n`;
}

// The machine's load before this script adds its own (1-minute, 5, 15).
const loadBefore = loadavg();
const fmtLoad = (l) => l.map((x) => x.toFixed(2)).join(', ');

const lines = Array.from({ length: LINES }, (_, i) => makeLine(i, LINE_BYTES));

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeIt(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const redis = await startRedis();
const client = new Redis({ port: redis.port, maxRetriesPerRequest: null });
let keyN = 0;
const nextKey = (label) => `bench:${label}:${keyN++}`;

async function writeOurs() {
  const key = nextKey('ours');
  // The same client as the baselines, passed in (so connection set-up is not timed).
  const s = new RedisStorage(`redis://?key=${key}`, { client });
  const ms = await timeIt(async () => {
    for (let i = 0; i < LINES; i++) {
      await s.write(lines[i]);
      if ((i + 1) % FLUSH_EVERY === 0) await s.flush();
    }
    await s.close();
  });
  return { ms, key };
}

// Context: the same flushes with one write() per 1,000 lines, so the difference
// to writeOurs is core's per-write() bookkeeping (BufferedStorage.write).
const joined = [];
for (let i = 0; i < LINES; i += FLUSH_EVERY) joined.push(lines.slice(i, i + FLUSH_EVERY).join(''));
async function writeOursJoined() {
  const key = nextKey('joined');
  const s = new RedisStorage(`redis://?key=${key}`, { client });
  const ms = await timeIt(async () => {
    for (const batch of joined) {
      await s.write(batch);
      await s.flush();
    }
    await s.close();
  });
  await client.del(key, `{${key}}:meta`);
  return ms;
}

// Context, not a contender: the cost of core's write()/flush() bookkeeping alone (no I/O).
async function writeCoreOnly() {
  const s = new MemoryStorage(`memory://${nextKey('core')}`);
  return timeIt(async () => {
    for (let i = 0; i < LINES; i++) {
      await s.write(lines[i]);
      if ((i + 1) % FLUSH_EVERY === 0) await s.flush();
    }
    await s.close();
  });
}

async function writeSeed() {
  const key = nextKey('seed');
  const ms = await timeIt(async () => {
    for (let i = 0; i < LINES; i++) await client.rpush(key, lines[i]);
  });
  return { ms, key };
}

async function writeLimit() {
  const key = nextKey('limit');
  const ms = await timeIt(async () => {
    for (let i = 0; i < LINES; i += FLUSH_EVERY) {
      await client.rpush(key, ...lines.slice(i, i + FLUSH_EVERY));
    }
  });
  return { ms, key };
}

async function readOurs(key) {
  let n = 0;
  const ms = await timeIt(async () => {
    for await (const _ of new RedisStorage(`redis://?key=${key}`, { client }).read()) n++;
  });
  if (n !== LINES) throw new Error(`read ${n} lines, expected ${LINES}`);
  return ms;
}

async function readSeed(key) {
  let n = 0;
  const ms = await timeIt(async () => {
    for (const _ of await client.lrange(key, 0, -1)) n++;
  });
  if (n !== LINES) throw new Error(`seed read ${n} lines`);
  return ms;
}

async function readLimitPaged(key) {
  let n = 0;
  const ms = await timeIt(async () => {
    for (let i = 0; ; i += 1000) {
      const page = await client.lrange(key, i, i + 999);
      n += page.length;
      if (page.length < 1000) break;
    }
  });
  if (n !== LINES) throw new Error(`paged read ${n} lines`);
  return ms;
}

const results = {
  core: [],
  joined: [],
  ours: [],
  seed: [],
  limit: [],
  readOurs: [],
  readSeed: [],
  readLimit: [],
};
// One warm-up round (not counted), so every contender runs JIT-compiled code.
{
  const o = await writeOurs();
  const l = await writeLimit();
  await readOurs(o.key);
  await readLimitPaged(l.key);
  await client.del(o.key, `{${o.key}}:meta`, l.key);
}
for (let run = 0; run < RUNS; run++) {
  const o = await writeOurs();
  const l = await writeLimit();
  // The seed is slow; fewer runs keep the benchmark short.
  const s = run < Math.min(3, RUNS) ? await writeSeed() : undefined;
  results.ours.push(o.ms);
  results.core.push(await writeCoreOnly());
  results.joined.push(await writeOursJoined());
  MemoryStorage.clearAll();
  results.limit.push(l.ms);
  if (s) results.seed.push(s.ms);
  results.readOurs.push(await readOurs(o.key));
  results.readLimit.push(await readLimitPaged(l.key));
  if (s) results.readSeed.push(await readSeed(s.key));
  await client.del(o.key, `{${o.key}}:meta`, l.key, ...(s ? [s.key] : []));
}

const mb = (LINES * LINE_BYTES) / 1e6;
const row = (name, ms, base) =>
  `| ${name} | ${ms.toFixed(0)} ms | ${Math.round(LINES / (ms / 1000)).toLocaleString('en-US')} lines/s | ${(mb / (ms / 1000)).toFixed(0)} MB/s | ${base} |`;
const w = { ours: median(results.ours), seed: median(results.seed), limit: median(results.limit) };
const r = {
  ours: median(results.readOurs),
  seed: median(results.readSeed),
  limit: median(results.readLimit),
};
let redisVersion = '?';
try {
  redisVersion = execFileSync('redis-server', ['--version']).toString().trim().split(' ')[2];
} catch {}

console.log(
  `\nMachine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, redis-server ${redisVersion}\nLoad average before the run: ${fmtLoad(loadBefore)}; after the write and read runs: ${fmtLoad(loadavg())}`,
);
console.log(
  `Write: ${LINES.toLocaleString('en-US')} lines of ${LINE_BYTES} bytes, flush every ${FLUSH_EVERY}; median of ${RUNS} runs (seed: ${results.seed.length}).\n`,
);
console.log('| write | time | lines/s | MB/s | ratio |');
console.log('|---|---|---|---|---|');
console.log(row('RedisStorage (MULTI: fence script + XADD per element)', w.ours, '1.00×'));
console.log(
  row(
    'seed: one awaited RPUSH per line',
    w.seed,
    `ours is ${(w.seed / w.ours).toFixed(1)}× faster`,
  ),
);
console.log(
  row(
    'limit: one multi-value RPUSH per 1,000 lines, no checks',
    w.limit,
    `ours takes ${(w.ours / w.limit).toFixed(2)}× the limit's time`,
  ),
);
console.log(
  row(
    'context: RedisStorage, one write() of 1,000 lines per flush',
    median(results.joined),
    `${(median(results.joined) / w.limit).toFixed(2)}× the limit; core's 100k write() calls cost ${(w.ours - median(results.joined)).toFixed(0)} ms`,
  ),
);
console.log(
  row(
    'context: the same write()/flush() calls on MemoryStorage (core only, no I/O)',
    median(results.core),
    `${(median(results.core) / w.ours).toFixed(2)}× ours`,
  ),
);
console.log('\n| read (100k lines) | time | lines/s | MB/s | ratio |');
console.log('|---|---|---|---|---|');
console.log(row('RedisStorage.read() (XRANGE pages, decoded as they arrive)', r.ours, '1.00×'));
console.log(
  row('seed: LRANGE 0 -1 (all in memory)', r.seed, `${(r.seed / r.ours).toFixed(2)}× ours`),
);
console.log(row('LRANGE pages of 1,000', r.limit, `${(r.limit / r.ours).toFixed(2)}× ours`));

if (BIG_LINES > 0) {
  // A big checkpoint, written as a crawler would (flush every 1,000 lines),
  // read back in full; deciles show that the cost per page stays flat.
  const bigKey = nextKey('big');
  const listKey = nextKey('big-list');
  const tWrite = await timeIt(async () => {
    const s = new RedisStorage(`redis://?key=${bigKey}`, { client });
    for (let i = 0; i < BIG_LINES; i++) {
      await s.write(makeLine(i, BIG_LINE_BYTES));
      if ((i + 1) % FLUSH_EVERY === 0) await s.flush();
    }
    await s.close();
  });
  // The seed's layout: one list element per line.
  for (let i = 0; i < BIG_LINES; i += 10_000) {
    const batch = [];
    for (let j = i; j < Math.min(BIG_LINES, i + 10_000); j++)
      batch.push(makeLine(j, BIG_LINE_BYTES));
    await client.rpush(listKey, ...batch);
  }
  const decile = Math.ceil(BIG_LINES / 10);
  async function deciles(iterate) {
    const marks = [];
    let n = 0;
    let last = process.hrtime.bigint();
    const t0 = last;
    for await (const _ of iterate()) {
      n++;
      if (n % decile === 0) {
        const now = process.hrtime.bigint();
        marks.push(Number(now - last) / 1e6);
        last = now;
      }
    }
    if (n !== BIG_LINES) throw new Error(`big read: ${n} lines`);
    return { total: Number(process.hrtime.bigint() - t0) / 1e6, marks };
  }
  const ours = await deciles(() => new RedisStorage(`redis://?key=${bigKey}`, { client }).read());
  const naive = await deciles(async function* () {
    for (let i = 0; ; i += 1000) {
      const page = await client.lrange(listKey, i, i + 999);
      yield* page;
      if (page.length < 1000) return;
    }
  });
  console.log(
    `\nBig checkpoint: ${BIG_LINES.toLocaleString('en-US')} lines of ${BIG_LINE_BYTES} bytes (written by RedisStorage in ${(tWrite / 1000).toFixed(1)} s, flush every ${FLUSH_EVERY}).\n`,
  );
  console.log('| full read | total | lines/s | 1st 10% | 5th 10% | last 10% | max/min decile |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, d] of [
    ['RedisStorage.read() (stream, XRANGE from last ID)', ours],
    ['naive: list, LRANGE i i+999', naive],
  ]) {
    const m = d.marks;
    console.log(
      `| ${name} | ${(d.total / 1000).toFixed(1)} s | ${Math.round(BIG_LINES / (d.total / 1000)).toLocaleString('en-US')} | ${m[0].toFixed(0)} ms | ${m[4].toFixed(0)} ms | ${m[9].toFixed(0)} ms | ${(Math.max(...m) / Math.min(...m)).toFixed(1)}× |`,
    );
  }
  console.log(`\nnaive deciles (ms): ${naive.marks.map((x) => x.toFixed(0)).join(', ')}`);
  console.log(`ours deciles (ms):  ${ours.marks.map((x) => x.toFixed(0)).join(', ')}`);
  // Cost of one page at a given depth (median of 50): ~1,000 lines either way
  // (a list page of 1,000 elements; one stream element holds one flush of 1,000 lines).
  const flushes = Math.floor(BIG_LINES / FLUSH_EVERY);
  async function pageCost(fn) {
    const xs = [];
    for (let i = 0; i < 50; i++) xs.push(await timeIt(fn));
    return median(xs);
  }
  console.log('\n| one page of ~1,000 lines at depth | 0% | 10% | 50% | 90% |');
  console.log('|---|---|---|---|---|');
  const depths = [0, 0.1, 0.5, 0.9];
  const xr = [];
  const lr = [];
  for (const d of depths) {
    const seq = Math.max(1, Math.floor(flushes * d));
    xr.push(await pageCost(() => client.xrange(bigKey, `${seq}-0`, '+', 'COUNT', 1)));
    const at = Math.floor(BIG_LINES * d);
    lr.push(await pageCost(() => client.lrange(listKey, at, at + 999)));
  }
  console.log(
    `| stream: XRANGE <id> + COUNT 1 | ${xr.map((x) => `${x.toFixed(2)} ms`).join(' | ')} |`,
  );
  console.log(`| list: LRANGE i i+999 | ${lr.map((x) => `${x.toFixed(2)} ms`).join(' | ')} |`);
  await client.del(bigKey, `{${bigKey}}:meta`, listKey);
}

client.disconnect();
await redis.stop();
