#!/usr/bin/env node
// yoink storage demo: a crawl checkpoint on a local file, no server needed.
//
//   pnpm install && pnpm demo        (pnpm demo = build + node scripts/demo.mjs)
//
// 1. A simulated crawler (a child process) appends one record per page through
//    CheckpointManager. Mid-crawl a write is cut short and the process is killed.
// 2. The crawl resumes from the checkpoint: records() skips the torn record with
//    a warning, the pages already done are skipped, the rest are crawled.
// 3. The CLI shows `yoink-storage stat` and copies the checkpoint with `cp` to
//    another file (memory:// would vanish with the CLI's process).
//
// Pass --keep to keep the temporary folder.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (dir) => join(root, dir, 'dist', 'index.js');
for (const dir of ['packages/checkpoint', 'packages/storage-local', 'apps/cli']) {
  if (!existsSync(dist(dir))) {
    console.error(`${dir} is not built: run "pnpm demo" (it builds first) or "pnpm build".`);
    process.exit(1);
  }
}
// An application installs @yoink/checkpoint and a backend; importing the backend registers it.
const { CheckpointManager } = await import(dist('packages/checkpoint'));
await import(dist('packages/storage-local'));

const PAGES = 40;
const CRASH_AT = 18;
const urls = Array.from({ length: PAGES }, (_, i) => `https://example.com/page/${i + 1}`);
const fakeFetch = (url) => ({ url, status: 200, links: (url.length * 7) % 13 });

if (process.argv[2] === 'crawl') {
  // ---- the child: a crawler that is about to crash ------------------------
  const file = process.argv[3];
  const checkpoint = await CheckpointManager.fromUri(file, { flushEvery: 1 });
  for (const url of urls.slice(0, CRASH_AT - 1)) await checkpoint.append(fakeFetch(url));
  // The crash: only the first half of the next record reaches the disk.
  const record = `${JSON.stringify(fakeFetch(urls[CRASH_AT - 1]))}\n`;
  appendFileSync(file, record.slice(0, Math.floor(record.length / 2)));
  process.stdout.write('torn\n');
  setInterval(() => {}, 60_000); // wait for the kill
} else {
  await main();
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'yoink-demo-'));
  const file = join(dir, 'crawl.jsonl');
  const say = (text = '') => console.log(text);
  const indent = (text) =>
    text
      .trimEnd()
      .split('\n')
      .map((l) => `   ${l}`)
      .join('\n');
  try {
    say('yoink storage demo: a crawl checkpoint on a local file (no server needed)');
    say(`checkpoint: ${file}`);
    say();

    say(`1. Crawling ${PAGES} pages, one checkpoint record per page…`);
    await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'crawl', file], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child.stdout.on('data', (d) => {
        if (String(d).includes('torn')) child.kill('SIGKILL');
      });
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (signal === 'SIGKILL') resolve();
        else reject(new Error(`the crawler exited with ${code} before the simulated crash`));
      });
    });
    say(`   crawled pages 1-${CRASH_AT - 1}, then the crawler was killed (SIGKILL)`);
    say(`   while writing page ${CRASH_AT}: only half of its record reached the file.`);
    say();

    say('2. Resuming from the checkpoint…');
    const checkpoint = await CheckpointManager.fromUri(file, {
      flushEvery: 5,
      handleSignals: true, // Ctrl-C now flushes before exiting
      onWarning: (w) => {
        if (w.kind === 'torn-record') {
          say(`   warning: skipped a torn record at line ${w.line}: "${w.preview}"`);
        }
      },
    });
    const done = new Set();
    for await (const record of checkpoint.records()) done.add(record.url);
    const todo = urls.filter((url) => !done.has(url));
    say(`   ${done.size} pages already done; crawling the remaining ${todo.length}`);
    for (const url of todo) await checkpoint.append(fakeFetch(url));
    await checkpoint.close();
    let total = 0;
    for await (const _ of (await CheckpointManager.fromUri(file, { onWarning() {} })).records()) {
      total++;
    }
    say(`   done: ${total} of ${PAGES} pages are in the checkpoint, each once`);
    say('   the torn bytes stay on a line of their own, in the middle of the file:');
    const lines = readFileSync(file, 'utf8').split('\n');
    for (let i = CRASH_AT - 2; i <= CRASH_AT; i++) say(`     line ${i + 1}: ${lines[i]}`);
    say();

    const cli = (...args) => {
      say(`$ yoink-storage ${args.join(' ')}`);
      const run = spawnSync(process.execPath, [join(root, 'apps/cli/dist/cli.js'), ...args], {
        cwd: dir,
        encoding: 'utf8',
      });
      if (run.stdout) say(indent(run.stdout));
      if (run.stderr) say(indent(run.stderr));
      if (run.status !== 0) throw new Error(`yoink-storage ${args[0]} exited with ${run.status}`);
      return run.stdout;
    };
    say('3. Inspecting and copying the checkpoint with the CLI:');
    cli('stat', 'crawl.jsonl');
    say();
    cli('cp', 'crawl.jsonl', 'crawl-copy.jsonl');
    const same = readFileSync(file).equals(readFileSync(join(dir, 'crawl-copy.jsonl')));
    say(`   the copy is ${same ? 'byte-for-byte identical' : 'DIFFERENT'}`);
    say();
    cli('stat', '--json', 'crawl-copy.jsonl');
    if (!same) process.exitCode = 1;
  } finally {
    if (process.argv.includes('--keep')) say(`\n(kept ${dir})`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
