// Benchmark: `yoink-storage cp` local → local and `yoink-storage bench`,
// against baselines measured in the same run on the same file:
//   - fs.copyFile (the kernel's copy: the machine's limit);
//   - a Node stream pipe (createReadStream → createWriteStream: the limit of a
//     streaming copy in Node, no line handling).
// Each cp runs the real CLI as a child process (startup included).
// Run: pnpm --filter @yoink/storage-cli bench   (after pnpm build)
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const LINES = Number(process.env.LINES ?? 250_000);
const dir = await mkdtemp(join(tmpdir(), 'yoink-cli-bench-'));
const src = join(dir, 'src.jsonl');
const line = (i) =>
  `${JSON.stringify({ i, url: `https://example.com/page/${i}`, status: 200, pad: 'x'.repeat(120) })}\n`;
let n = 0;
const dst = () => join(dir, `dst-${n++}.jsonl`);

async function time(fn) {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

try {
  await writeFile(src, Array.from({ length: LINES }, (_, i) => line(i)).join(''));
  const bytes = (await stat(src)).size;
  const rows = [
    ['fs.copyFile (machine limit)', await time(() => copyFile(src, dst()))],
    [
      'Node stream pipe',
      await time(() => pipeline(createReadStream(src), createWriteStream(dst()))),
    ],
    [
      'yoink-storage cp (child process)',
      await time(async () => execFileSync(process.execPath, [CLI, 'cp', src, dst()])),
    ],
  ];
  const [, limit] = rows[0];
  const [, pipe] = rows[1];
  console.log(
    `yoink-storage cp: ${LINES.toLocaleString('en-US')} lines, ${(bytes / 2 ** 20).toFixed(1)} MiB, local → local`,
  );
  console.log(
    `${'case'.padEnd(34)} ${'MiB/s'.padStart(8)} ${'seconds'.padStart(8)} ${'vs copyFile'.padStart(12)} ${'vs pipe'.padStart(8)}`,
  );
  for (const [name, seconds] of rows) {
    console.log(
      `${name.padEnd(34)} ${(bytes / 2 ** 20 / seconds).toFixed(1).padStart(8)} ${seconds.toFixed(3).padStart(8)} ${`${(limit / seconds).toFixed(2)}x`.padStart(12)} ${`${(pipe / seconds).toFixed(2)}x`.padStart(8)}`,
    );
  }
  console.log(
    `machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${process.platform} ${process.arch}`,
  );
  console.log('');
  console.log('$ yoink-storage bench   (a temporary local file)');
  process.stdout.write(execFileSync(process.execPath, [CLI, 'bench'], { encoding: 'utf8' }));
} finally {
  await rm(dir, { recursive: true, force: true });
}
