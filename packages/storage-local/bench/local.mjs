// Benchmark of @yoink/storage-local (a script, not a test).
//   pnpm --filter @yoink/storage-local bench        (after a build)
// Options (environment): BENCH_LINES (200000), BENCH_RUNS (5), BENCH_READ_MB (300), BENCH_DIR (os.tmpdir()).
//
// Write: BENCH_LINES lines of ~300 bytes, flushing every 1,000, three ways in one run:
//   ours  — LocalFileStorage (coalesced appends, lock on)
//   seed  — the seed's approach: open with 'a', one awaited FileHandle.write per line
//   limit — the same bytes (a prebuilt Buffer) in one fs.writeFileSync
//   limit + join — the lines joined into one string, then one fs.writeFileSync
// plus ours with durability 'fsync' (against one write + one fsync). Median of BENCH_RUNS runs, interleaved;
// each file is fsynced and removed after its run, outside the timing.
// Read: a checkpoint of BENCH_READ_MB MB through read(), MB/s and peak RSS growth,
// against a raw fs.createReadStream pass over the same file.
import {
  closeSync,
  createReadStream,
  fsyncSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LocalFileStorage } from '../dist/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const LINES = Number(process.env.BENCH_LINES ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const READ_MB = Number(process.env.BENCH_READ_MB ?? 300);
const FLUSH_EVERY = 1_000;
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? os.tmpdir(), 'yoink-local-bench-'));

function makeLine(i) {
  const head = `{"i":${i},"url":"https://example.com/section/${i % 97}/page/${i}","status":200,"title":"`;
  return `${head}${'t'.repeat(Math.max(0, 297 - head.length))}"}\n`;
}
const lines = Array.from({ length: LINES }, (_, i) => makeLine(i));
const all = Buffer.from(lines.join(''), 'utf8');
const MB = all.length / 1e6;

async function ours(path, options = {}) {
  const s = new LocalFileStorage(path, options);
  for (let i = 0; i < LINES; i++) {
    await s.write(lines[i]);
    if ((i + 1) % FLUSH_EVERY === 0) await s.flush();
  }
  await s.close();
}

async function seed(path) {
  const fh = await open(path, 'a');
  for (let i = 0; i < LINES; i++) {
    await fh.write(lines[i]);
    // The seed's flush() handed nothing more to the OS: there is no userspace buffer.
  }
  await fh.close();
}

async function limit(path) {
  writeFileSync(path, all);
}

async function limitJoin(path) {
  writeFileSync(path, lines.join(''));
}

async function limitFsync(path) {
  const fd = openSync(path, 'a');
  writeSync(fd, all);
  fsyncSync(fd);
  closeSync(fd);
}

const ways = {
  ours: (p) => ours(p),
  seed,
  limit,
  'limit + join': limitJoin,
  'ours fsync': (p) => ours(p, { durability: 'fsync' }),
  'limit fsync': limitFsync,
};

const times = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
let n = 0;
for (let run = 0; run < RUNS; run++) {
  for (const [name, fn] of Object.entries(ways)) {
    const path = join(dir, `w-${n++}.jsonl`);
    gc();
    const t0 = performance.now();
    await fn(path);
    const ms = performance.now() - t0;
    if (statSync(path).size !== all.length)
      throw new Error(`${name} wrote ${statSync(path).size} bytes, expected ${all.length}`);
    // Outside the timing: write the pages back now, so they do not slow the next run down.
    const fd = openSync(path, 'r');
    fsyncSync(fd);
    closeSync(fd);
    rmSync(path, { force: true });
    times[name].push(ms);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
const mbps = (ms) => MB / (ms / 1000);

// ---- read ----
const readPath = join(dir, 'read.jsonl');
{
  const fd = openSync(readPath, 'w');
  const block = Buffer.from(lines.slice(0, 10_000).join(''));
  let written = 0;
  while (written < READ_MB * 1e6) written += writeSync(fd, block);
  closeSync(fd);
}
const readBytes = statSync(readPath).size;

async function rawRead() {
  const t0 = performance.now();
  let bytes = 0;
  for await (const chunk of createReadStream(readPath, { highWaterMark: 64 * 1024 }))
    bytes += chunk.length;
  return { ms: performance.now() - t0, bytes };
}

async function oursRead() {
  gc();
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const t0 = performance.now();
  let count = 0;
  const s = new LocalFileStorage(readPath);
  for await (const _line of s.read()) {
    count++;
    if ((count & 0x3fff) === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  const ms = performance.now() - t0;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { ms, count, growth: peak - base };
}

const raw = [];
const ourReads = [];
for (let run = 0; run < 3; run++) {
  raw.push(await rawRead());
  ourReads.push(await oursRead());
}
rmSync(dir, { recursive: true, force: true });

const rawMs = median(raw.map((r) => r.ms));
const readMs = median(ourReads.map((r) => r.ms));
const peakGrowth = Math.max(...ourReads.map((r) => r.growth));

// ---- report ----
const fmt = (x, d = 1) => x.toFixed(d);
console.log(
  `\nMachine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${fmt(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`,
);
console.log(
  `Files in ${os.tmpdir()}; ${LINES} lines, ${fmt(MB)} MB, flush every ${FLUSH_EVERY}; median of ${RUNS} runs\n`,
);
console.log('| write            | ms (median) | MB/s    |');
console.log('|------------------|-------------|---------|');
for (const name of Object.keys(ways)) {
  console.log(
    `| ${name.padEnd(16)} | ${fmt(med[name]).padStart(11)} | ${fmt(mbps(med[name])).padStart(7)} |`,
  );
}
console.log('\n| ratio                                | value   | target  |');
console.log('|--------------------------------------|---------|---------|');
const speedup = med.seed / med.ours;
const vsLimit = med.ours / med.limit;
console.log(`| ours vs seed (speed-up)              | ${fmt(speedup).padStart(6)}× | ≥ 20×   |`);
console.log(`| ours vs limit (time ratio)           | ${fmt(vsLimit, 2).padStart(6)}× | ≤ 1.5×  |`);
console.log(
  `| ours vs limit + join (time ratio)    | ${fmt(med.ours / med['limit + join'], 2).padStart(6)}× | (info)  |`,
);
console.log(
  `| ours fsync vs limit fsync (time)     | ${fmt(med['ours fsync'] / med['limit fsync'], 2).padStart(6)}× | (info)  |`,
);
console.log(`\n| read (${fmt(readBytes / 1e6, 0)} MB)         | ms (median) | MB/s    |`);
console.log('|-----------------------|-------------|---------|');
console.log(
  `| raw createReadStream  | ${fmt(rawMs).padStart(11)} | ${fmt(readBytes / 1e6 / (rawMs / 1000)).padStart(7)} |`,
);
console.log(
  `| ours read() (lines)   | ${fmt(readMs).padStart(11)} | ${fmt(readBytes / 1e6 / (readMs / 1000)).padStart(7)} |`,
);
console.log(
  `\nread(): ${ourReads[0].count} lines; peak RSS growth ${fmt(peakGrowth / 2 ** 20)} MiB (target < 64 MiB); ${fmt(readMs / rawMs, 2)}× the raw read time`,
);
const targets = [
  ['ours ≥ 20× the seed', speedup >= 20],
  ['ours ≤ 1.5× limit + join (string input)', med.ours / med['limit + join'] <= 1.5],
  ['ours ≤ 1.5× limit (prebuilt bytes)', vsLimit <= 1.5],
  ['read() peak RSS growth < 64 MiB', peakGrowth < 64 * 2 ** 20],
];
console.log('');
for (const [what, met] of targets) console.log(`${met ? 'met   ' : 'MISSED'}  ${what}`);
