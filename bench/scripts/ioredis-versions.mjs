// A one-off, not part of the report: ioredis 5 against ioredis 6, and
// RedisStorage against the pipelined limit, measured in one run (interleaved
// rounds, medians). It answered whether the ioredis 6 upgrade cost write or
// read speed; run it again when a new ioredis major comes out:
//   pnpm build && node bench/scripts/ioredis-versions.mjs
// Env: BENCH_RUNS (default 7), BENCH_LINES (default 100000).
// Each contender writes the same 300-byte lines with a flush every 1,000,
// through a client of the given ioredis major passed in as options.client
// (RedisStorage's own clients are ioredis 6), then reads them back.
import { cpus, loadavg, totalmem } from 'node:os';
import { RedisStorage } from '@yoink/storage-redis';
import { startRedis } from '@yoink/test-servers/redis';
import { Redis as Redis6 } from 'ioredis';
import { Redis as Redis5 } from 'ioredis5';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const LINES = Number(process.env.BENCH_LINES ?? 100_000);
const FLUSH_EVERY = 1_000;

const line = (i) => {
  const head = `{"i":${i},"url":"https://example.com/page/${i}","body":"`;
  return `${head}${'x'.repeat(300 - head.length - 3)}"}\n`;
};
const lines = Array.from({ length: LINES }, (_, i) => line(i));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Wall time and this process's CPU time (user + system) of `fn`, in ms. */
async function timeMs(fn) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e6, cpu: (c.user + c.system) / 1000 };
}

const loadBefore = loadavg();
const redis = await startRedis();
const clients = {
  5: new Redis5({ port: redis.port, maxRetriesPerRequest: null }),
  6: new Redis6({ port: redis.port, maxRetriesPerRequest: null, protocol: 2 }),
  '6 (RESP3)': new Redis6({ port: redis.port, maxRetriesPerRequest: null }),
};
let keyN = 0;
const keyOf = (label) => `bench:${label}:${keyN++}`;

async function ours(client, key) {
  const s = new RedisStorage(`redis://?key=${key}`, { client });
  for (let i = 0; i < LINES; i++) {
    await s.write(lines[i]);
    if ((i + 1) % FLUSH_EVERY === 0) await s.flush();
  }
  await s.close();
}
async function limit(client, key) {
  for (let i = 0; i < LINES; i += FLUSH_EVERY) {
    await client.rpush(key, ...lines.slice(i, i + FLUSH_EVERY));
  }
}
async function readOurs(client, key) {
  let n = 0;
  for await (const _ of new RedisStorage(`redis://?key=${key}`, { client }).read()) n++;
  if (n !== LINES) throw new Error(`read ${n} lines`);
}
async function drop(client, key) {
  await client.del(key, `{${key}}:meta`, `{${key}}:writer`);
}

const t = {};
const push = (name, ms) => {
  for (const k of ['wall', 'cpu']) {
    t[`${name} ${k}`] ??= [];
    t[`${name} ${k}`].push(ms[k]);
  }
};
for (let run = -1; run < RUNS; run++) {
  for (const [major, client] of Object.entries(clients)) {
    const o = keyOf('ours');
    const l = keyOf('limit');
    const ow = await timeMs(() => ours(client, o));
    const lw = await timeMs(() => limit(client, l));
    const or = await timeMs(() => readOurs(client, o));
    if (run >= 0) {
      push(`write ours ${major}`, ow);
      push(`write limit ${major}`, lw);
      push(`read ours ${major}`, or);
    }
    await drop(client, o);
    await client.del(l);
  }
}
const m = (k) => median(t[k]);
console.log(
  `Machine: ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; load before ${loadBefore.map((x) => x.toFixed(2)).join(', ')}, after ${loadavg()
    .map((x) => x.toFixed(2))
    .join(', ')}`,
);
console.log(
  `${LINES.toLocaleString('en')} lines of 300 B, flush every 1,000; median of ${RUNS} interleaved runs\n`,
);
console.log(
  '| client | RedisStorage write | limit (RPUSH per 1,000) | ours / limit | client CPU: ours / limit | RedisStorage read | read lines/s | read client CPU |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const major of Object.keys(clients)) {
  const w = m(`write ours ${major} wall`);
  const l = m(`write limit ${major} wall`);
  const wc = m(`write ours ${major} cpu`);
  const lc = m(`write limit ${major} cpu`);
  const r = m(`read ours ${major} wall`);
  const rc = m(`read ours ${major} cpu`);
  console.log(
    `| ioredis ${major} | ${w.toFixed(0)} ms | ${l.toFixed(0)} ms | ${(w / l).toFixed(2)}× | ${wc.toFixed(0)} / ${lc.toFixed(0)} ms = ${(wc / lc).toFixed(2)}× | ${r.toFixed(0)} ms | ${Math.round(LINES / (r / 1000)).toLocaleString('en')} | ${rc.toFixed(0)} ms |`,
  );
}
console.log(
  `\nper-run ms: ${JSON.stringify(Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.map((x) => Math.round(x))])))}`,
);
for (const c of Object.values(clients)) c.disconnect();
await redis.stop();
