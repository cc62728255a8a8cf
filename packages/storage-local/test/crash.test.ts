import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { collectLines } from '@yoink/storage-testkit';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LocalFileStorage } from '../src/index.js';
import { readLockOwner } from '../src/lock-folder.js';
import { crawlLine } from './fixtures/crawl-line.mjs';
import { makeTempDir, removeTempDir } from './temp-dir.js';

const CRAWLER = fileURLToPath(new URL('./fixtures/crawler.mjs', import.meta.url));

let dir = '';
beforeEach(async () => {
  dir = await makeTempDir('crash');
});
afterEach(async () => {
  await removeTempDir(dir);
});

/**
 * Runs the crawler until it has reported `atLeast` flushed lines, then
 * SIGKILLs it. Returns the highest count it reported and its pid.
 */
async function crawlAndKill(
  path: string,
  atLeast: number,
): Promise<{ reported: number; pid: number }> {
  const proc = spawn(process.execPath, [CRAWLER, path, '2000000', '97'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let reported = 0;
  for await (const line of createInterface({ input: proc.stdout })) {
    const m = /^flushed (\d+)$/.exec(line);
    if (m) reported = Number(m[1]);
    if (reported >= atLeast) {
      proc.kill('SIGKILL');
      break;
    }
  }
  await exited;
  if (reported < atLeast) throw new Error(`the crawler stopped early (${reported}): ${stderr}`);
  return { reported, pid: proc.pid as number };
}

it('after SIGKILL mid-crawl, every reported line is there in order, one torn line at most, and the next writer starts clean', {
  timeout: 60_000,
}, async () => {
  const path = join(dir, 'crawl.jsonl');
  const { reported, pid } = await crawlAndKill(path, 5_000);
  // The dead crawler's lock is still there (SIGKILL runs no exit handler).
  expect((await readLockOwner(`${path}.lock`))?.pid).toBe(pid);

  // The next writer takes the lock over at once (same host, dead pid) and appends.
  const next = new LocalFileStorage(path);
  await next.write('{"resumed":true}\n');
  await next.close();

  const lines = await collectLines(next.read());
  expect(lines.at(-1)).toBe('{"resumed":true}');
  const before = lines.slice(0, -1);
  // A prefix of complete records 0..m-1, with m ≥ the last reported count…
  let m = 0;
  while (m < before.length && before[m] === crawlLine(m)) m++;
  expect(m).toBeGreaterThanOrEqual(reported);
  // …then at most one torn record: a strict prefix of record m.
  const rest = before.slice(m);
  expect(rest.length).toBeLessThanOrEqual(1);
  if (rest.length === 1) {
    const torn = rest[0] as string;
    expect(crawlLine(m).startsWith(torn)).toBe(true);
    expect(torn.length).toBeLessThan(crawlLine(m).length);
  }
});

it('a crawl that flushes mid-line and is killed always leaves a torn tail, which the next writer steps over', {
  timeout: 60_000,
}, async () => {
  const path = join(dir, 'torn.jsonl');
  await crawlAndKill(path, 300);
  const next = new LocalFileStorage(path);
  await next.write('{"resumed":true}\n');
  await next.close();
  const lines = await collectLines(next.read());
  // Every flush of the crawler ends mid-line, so a torn record precedes ours.
  const torn = lines.at(-2) as string;
  expect(torn.startsWith('{"i":')).toBe(true);
  expect(() => JSON.parse(torn)).toThrow();
  expect(lines.at(-1)).toBe('{"resumed":true}');
});
