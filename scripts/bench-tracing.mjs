#!/usr/bin/env node
// What the yoink:storage:* tracing channels cost on the write path (a script,
// never a test: docs/tracing.md quotes its output). Run after `pnpm build`:
//
//   node scripts/bench-tracing.mjs [rounds]
//
// One run = 200,000 writes of an ~80-byte JSON line, a flush every 1,000
// writes (200 flushes), then close(). Variants, interleaved round by round in
// one process (the order rotates each round) so that they share the machine's
// state, then compared by their medians:
//
//   memory, no channels   core's MemoryStorage from a copy of core's dist in
//                         which traced() is `return false` (as if core had no
//                         channels at all): the baseline
//   memory, no subscriber core as built: the channels exist, nobody listens
//   memory, subscribed    a subscriber on every channel (the cost of listening)
//   local, no subscriber  LocalFileStorage on a temp file
//   local, subscribed     the same, with a subscriber on every channel
//
// "Within noise" means the difference of medians is smaller than the
// baseline's own interquartile spread.
import { spawnSync } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// A collection before each run keeps one run's garbage out of the next one's
// time: start again with --expose-gc when it is not on.
if (typeof globalThis.gc !== 'function') {
  const { status } = spawnSync(process.execPath, ['--expose-gc', ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  process.exit(status ?? 1);
}

const ROOT = new URL('..', import.meta.url).pathname;
const ROUNDS = Number(process.argv[2] ?? 31);
const WARMUP = 3;
const WRITES = 200_000;
const FLUSH_EVERY = 1_000;
const LINE = `${JSON.stringify({ url: 'https://example.com/some/page?id=000000', status: 200, depth: 3 })}\n`;

// The baseline: a copy of core's dist whose tracing check is compiled out.
const copy = join(ROOT, '.tmp', 'bench-tracing', 'no-channels');
rmSync(copy, { recursive: true, force: true });
mkdirSync(copy, { recursive: true });
cpSync(join(ROOT, 'packages', 'storage-core', 'dist'), join(copy, 'dist'), { recursive: true });
writeFileSync(join(copy, 'package.json'), '{"type":"module"}\n');
const tracingFile = join(copy, 'dist', 'tracing.js');
const source = readFileSync(tracingFile, 'utf8');
const stubbed = source.replace(
  /export function traced\(operation\) \{[\s\S]*?\n\}/,
  'export function traced(operation) {\n    return false;\n}',
);
if (stubbed === source) throw new Error(`traced() not found in ${tracingFile}: update this script`);
writeFileSync(tracingFile, stubbed);

const core = await import(pathToFileURL(join(ROOT, 'packages/storage-core/dist/index.js')).href);
const bare = await import(pathToFileURL(join(copy, 'dist', 'index.js')).href);
const { LocalFileStorage } = await import(
  pathToFileURL(join(ROOT, 'packages/storage-local/dist/index.js')).href
);

const dir = mkdtempSync(join(tmpdir(), 'yoink-bench-tracing-'));
let n = 0;

/** A subscriber on every channel that does what a tracer would: read the fields. */
function subscribeAll() {
  let seen = 0;
  const handlers = {
    start: (ctx) => {
      seen += ctx.uri.length;
    },
    end() {},
    asyncStart() {},
    asyncEnd: (ctx) => {
      seen += ctx.bytes ?? 0;
    },
    error() {},
  };
  const channels = Object.values(core.TRACING_CHANNELS).map((name) =>
    diagnostics.tracingChannel(name),
  );
  for (const c of channels) c.subscribe(handlers);
  return () => {
    for (const c of channels) c.unsubscribe(handlers);
    return seen;
  };
}

async function writePath(storage) {
  globalThis.gc();
  const started = performance.now();
  for (let i = 1; i <= WRITES; i++) {
    storage.write(LINE);
    if (i % FLUSH_EVERY === 0) await storage.flush();
  }
  await storage.close();
  return performance.now() - started;
}

const variants = {
  'memory, no channels': () => writePath(new bare.MemoryStorage(`memory://bench-${++n}`)),
  'memory, no subscriber': () => writePath(new core.MemoryStorage(`memory://bench-${++n}`)),
  'memory, subscribed': async () => {
    const stop = subscribeAll();
    try {
      return await writePath(new core.MemoryStorage(`memory://bench-${++n}`));
    } finally {
      stop();
    }
  },
  'local, no subscriber': () => writePath(new LocalFileStorage(join(dir, `${++n}.jsonl`))),
  'local, subscribed': async () => {
    const stop = subscribeAll();
    try {
      return await writePath(new LocalFileStorage(join(dir, `${++n}.jsonl`)));
    } finally {
      stop();
    }
  },
};

const names = Object.keys(variants);
const times = Object.fromEntries(names.map((k) => [k, []]));
for (let round = 0; round < WARMUP + ROUNDS; round++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(round + i) % names.length];
    const ms = await variants[name]();
    if (round >= WARMUP) times[name].push(ms);
    core.MemoryStorage.clearAll();
    bare.MemoryStorage.clearAll();
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}
rmSync(dir, { recursive: true, force: true });
rmSync(copy, { recursive: true, force: true });

function quantile(sorted, q) {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  return sorted[lo] + (sorted[Math.ceil(i)] - sorted[lo]) * (i - lo);
}
const stats = Object.fromEntries(
  names.map((k) => {
    const s = [...times[k]].sort((a, b) => a - b);
    return [k, { median: quantile(s, 0.5), p25: quantile(s, 0.25), p75: quantile(s, 0.75) }];
  }),
);

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `Tracing channels on the write path: ${WRITES.toLocaleString('en')} writes, ${WRITES / FLUSH_EVERY} flushes, ${ROUNDS} interleaved rounds (+${WARMUP} warm-up)`,
);
console.log(
  `${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${process.platform} ${process.arch}\n`,
);
const rows = [['variant', 'median ms', 'p25–p75 ms', 'vs baseline']];
function row(name, base) {
  const s = stats[name];
  const ratio = base ? `${(s.median / stats[base].median).toFixed(3)}×` : '';
  rows.push([name, s.median.toFixed(1), `${s.p25.toFixed(1)}–${s.p75.toFixed(1)}`, ratio]);
}
row('memory, no channels', 'memory, no channels');
row('memory, no subscriber', 'memory, no channels');
row('memory, subscribed', 'memory, no channels');
row('local, no subscriber', 'local, no subscriber');
row('local, subscribed', 'local, no subscriber');
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));

function verdict(a, b) {
  const diff = stats[b].median - stats[a].median;
  const noise = stats[a].p75 - stats[a].p25;
  const within = Math.abs(diff) <= noise;
  return `${b} vs ${a}: ${diff >= 0 ? '+' : ''}${diff.toFixed(1)} ms (${((diff / stats[a].median) * 100).toFixed(1)}%); the baseline's spread is ${noise.toFixed(1)} ms: ${within ? 'within noise' : 'outside the noise'}`;
}
console.log('');
console.log(verdict('memory, no channels', 'memory, no subscriber'));
console.log(verdict('memory, no channels', 'memory, subscribed'));
console.log(verdict('local, no subscriber', 'local, subscribed'));
