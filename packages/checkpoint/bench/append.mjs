// Benchmark: CheckpointManager.append/records on a local file, against
// baselines measured in the same run:
//   - "seed": one fs.promises.appendFile per record (the Python seed's per-call async write);
//   - "raw storage": LocalFileStorage.write per line, no JSON, no manager (our floor);
//   - "JSON.parse loop": read() + JSON.parse, no torn/corrupt classification.
// Run: pnpm --filter @yoink/checkpoint bench   (after pnpm build)
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { LocalFileStorage } from '@yoink/storage-local';
import { CheckpointManager } from '../dist/index.js';

const RECORDS = Number(process.env.RECORDS ?? 100_000);
const record = (i) => ({
  url: `https://example.com/page/${i}`,
  status: 200,
  depth: i % 7,
  links: [i, i + 1],
});

const dir = await mkdtemp(join(tmpdir(), 'yoink-checkpoint-bench-'));
const results = [];
async function measure(name, fn) {
  const file = join(dir, `${results.length}.jsonl`);
  const t0 = performance.now();
  await fn(file);
  const seconds = (performance.now() - t0) / 1000;
  results.push({ name, seconds, perSecond: RECORDS / seconds });
  return file;
}

try {
  await measure('write: seed (appendFile per record)', async (file) => {
    for (let i = 0; i < RECORDS; i++) await appendFile(file, `${JSON.stringify(record(i))}\n`);
  });
  await measure('write: raw LocalFileStorage.write', async (file) => {
    const s = new LocalFileStorage(file);
    for (let i = 0; i < RECORDS; i++) await s.write(`${JSON.stringify(record(i))}\n`);
    await s.close();
  });
  const written = await measure('write: CheckpointManager.append (defaults)', async (file) => {
    const cp = new CheckpointManager({ storage: new LocalFileStorage(file) });
    for (let i = 0; i < RECORDS; i++) await cp.append(record(i));
    await cp.close();
  });
  await measure('read: read() + JSON.parse', async () => {
    const s = new LocalFileStorage(written);
    let n = 0;
    for await (const line of s.read()) if (JSON.parse(line)) n++;
    if (n !== RECORDS) throw new Error(`read ${n}`);
  });
  await measure('read: CheckpointManager.records()', async () => {
    const cp = new CheckpointManager({ storage: new LocalFileStorage(written) });
    let n = 0;
    for await (const _ of cp.records()) n++;
    if (n !== RECORDS) throw new Error(`read ${n}`);
  });
} finally {
  await rm(dir, { recursive: true, force: true });
}

const base = (prefix) => results.find((r) => r.name.startsWith(prefix));
const seed = base('write: seed');
const raw = base('write: raw');
const parse = base('read: read()');
console.log(`CheckpointManager benchmark: ${RECORDS.toLocaleString('en-US')} records, local file`);
console.log(
  `${'case'.padEnd(44)} ${'records/s'.padStart(12)} ${'seconds'.padStart(8)} ${'vs seed'.padStart(8)} ${'vs floor'.padStart(9)}`,
);
for (const r of results) {
  const floor = r.name.startsWith('read') ? parse : raw;
  const vsSeed = r.name.startsWith('write') ? `${(r.perSecond / seed.perSecond).toFixed(1)}x` : '-';
  console.log(
    `${r.name.padEnd(44)} ${Math.round(r.perSecond).toLocaleString('en-US').padStart(12)} ${r.seconds.toFixed(3).padStart(8)} ${vsSeed.padStart(8)} ${`${(r.perSecond / floor.perSecond).toFixed(2)}x`.padStart(9)}`,
  );
}
console.log(
  `machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${process.platform} ${process.arch}`,
);
