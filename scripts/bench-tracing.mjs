#!/usr/bin/env node
// What the yoink:storage:* tracing channels cost on the write path (a script,
// never a test: docs/tracing.md quotes its output). Run after `pnpm build`:
//
//   node scripts/bench-tracing.mjs [rounds]
//
// One run = 200,000 writes of an ~80-byte JSON line, a flush every 1,000
// writes (200 flushes), then close(), on `memory://` and on a local file.
//
// Phase 1, the claim ("no subscriber costs nothing"): core as built, whose
// channels exist but have no subscriber, against the same core and local
// backend copied with traced() compiled to `return false` (as if core had no
// channels at all). Nothing subscribes during this phase.
// Phase 2, for scale: the same workload with a subscriber on every channel
// against no subscriber (a subscriber makes each flush build its context and
// publish five events).
//
// Within a phase the variants run interleaved, round by round, in one process
// (the order rotates each round), after a collection (--expose-gc), and are
// compared by their medians. "Within noise" means the difference of medians is
// smaller than the baseline's interquartile spread.
import { spawnSync } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

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

// The baseline: copies of core and of the local backend (which then imports
// the copy of core), with core's tracing check compiled out.
const bare = join(ROOT, '.tmp', 'bench-tracing', 'no-channels');
const bareModules = join(bare, 'node_modules');
rmSync(bare, { recursive: true, force: true });
for (const name of ['storage-core', 'storage-local']) {
  const to = join(bareModules, '@yoink', name);
  mkdirSync(to, { recursive: true });
  cpSync(join(ROOT, 'packages', name, 'dist'), join(to, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'packages', name, 'package.json'), join(to, 'package.json'));
}
symlinkSync(
  realpathSync(join(ROOT, 'packages', 'storage-local', 'node_modules', 'proper-lockfile')),
  join(bareModules, 'proper-lockfile'),
);
const tracingFile = join(bareModules, '@yoink', 'storage-core', 'dist', 'tracing.js');
const source = readFileSync(tracingFile, 'utf8');
const stubbed = source.replace(
  /export function traced\(operation\) \{[\s\S]*?\n\}/,
  'export function traced(operation) {\n    return false;\n}',
);
if (stubbed === source) throw new Error(`traced() not found in ${tracingFile}: update this script`);
writeFileSync(tracingFile, stubbed);

const load = (path) => import(pathToFileURL(path).href);
const core = await load(join(ROOT, 'packages/storage-core/dist/index.js'));
const local = await load(join(ROOT, 'packages/storage-local/dist/index.js'));
const bareCore = await load(join(bareModules, '@yoink/storage-core/dist/index.js'));
const bareLocal = await load(join(bareModules, '@yoink/storage-local/dist/index.js'));

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

const memory = (mod) => () => writePath(new mod.MemoryStorage(`memory://bench-${++n}`));
const file = (mod) => () => writePath(new mod.LocalFileStorage(join(dir, `${++n}.jsonl`)));
const subscribed = (run) => async () => {
  const stop = subscribeAll();
  try {
    return await run();
  } finally {
    stop();
  }
};

/** Runs the variants interleaved; returns name → { median, p25, p75 }. */
async function phase(variants) {
  const names = Object.keys(variants);
  const times = Object.fromEntries(names.map((k) => [k, []]));
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length];
      const ms = await variants[name]();
      if (round >= WARMUP) times[name].push(ms);
      core.MemoryStorage.clearAll();
      bareCore.MemoryStorage.clearAll();
    }
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }
  const quantile = (sorted, q) => {
    const i = (sorted.length - 1) * q;
    const lo = Math.floor(i);
    return sorted[lo] + (sorted[Math.ceil(i)] - sorted[lo]) * (i - lo);
  };
  return Object.fromEntries(
    names.map((k) => {
      const s = [...times[k]].sort((a, b) => a - b);
      return [k, { median: quantile(s, 0.5), p25: quantile(s, 0.25), p75: quantile(s, 0.75) }];
    }),
  );
}

const claim = await phase({
  'memory, no channels': memory(bareCore),
  'memory, no subscriber': memory(core),
  'local, no channels': file(bareLocal),
  'local, no subscriber': file(local),
});
const scale = await phase({
  'memory, no subscriber': memory(core),
  'memory, subscribed': subscribed(memory(core)),
  'local, no subscriber': file(local),
  'local, subscribed': subscribed(file(local)),
});
rmSync(dir, { recursive: true, force: true });
rmSync(bare, { recursive: true, force: true });

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `Tracing channels on the write path: ${WRITES.toLocaleString('en')} writes, ${WRITES / FLUSH_EVERY} flushes; ${ROUNDS} interleaved rounds (+${WARMUP} warm-up) per phase`,
);
console.log(
  `${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${process.platform} ${process.arch}`,
);

function table(title, stats, pairs) {
  console.log(`\n${title}`);
  const rows = [['variant', 'median ms', 'p25–p75 ms', 'vs baseline']];
  for (const [base, other] of pairs) {
    for (const name of [base, other]) {
      const s = stats[name];
      rows.push([
        name,
        s.median.toFixed(1),
        `${s.p25.toFixed(1)}–${s.p75.toFixed(1)}`,
        `${(s.median / stats[base].median).toFixed(3)}×`,
      ]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
  for (const [base, other] of pairs) {
    const diff = stats[other].median - stats[base].median;
    const noise = stats[base].p75 - stats[base].p25;
    console.log(
      `${other} vs ${base}: ${diff >= 0 ? '+' : ''}${diff.toFixed(1)} ms (${((diff / stats[base].median) * 100).toFixed(1)}%); ` +
        `the baseline's spread is ${noise.toFixed(1)} ms: ${Math.abs(diff) <= noise ? 'within noise' : 'outside the noise'}`,
    );
  }
}

table('Phase 1: no subscriber against no channels at all', claim, [
  ['memory, no channels', 'memory, no subscriber'],
  ['local, no channels', 'local, no subscriber'],
]);
table('Phase 2: a subscriber on every channel against none', scale, [
  ['memory, no subscriber', 'memory, subscribed'],
  ['local, no subscriber', 'local, subscribed'],
]);
