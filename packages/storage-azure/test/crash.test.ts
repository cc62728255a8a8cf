import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { collectLines } from '@yoink/storage-testkit';
import { beforeAll, expect, it } from 'vitest';
import { crawlLine } from './fixtures/crawl-line.mjs';
import { azurite, createContainer, storageAt } from './helpers.js';

const CRAWLER = fileURLToPath(new URL('./fixtures/crawler.mjs', import.meta.url));
const CONTAINER = 'crash';

beforeAll(async () => {
  await createContainer(CONTAINER);
});

/**
 * Runs the crawler until it has reported `atLeast` flushed lines, then
 * SIGKILLs it. Returns the highest count it reported.
 */
async function crawlAndKill(uri: string, atLeast: number): Promise<number> {
  const proc = spawn(process.execPath, [CRAWLER, uri, '2000000', '97'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString },
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
  return reported;
}

it('after SIGKILL mid-crawl, every reported line is there once and in order, one torn line at most, and the next writer starts clean', {
  timeout: 60_000,
}, async () => {
  const blob = 'killed.jsonl';
  const reported = await crawlAndKill(`azblob://${CONTAINER}/${blob}`, 3_000);

  const next = storageAt(CONTAINER, blob);
  await next.write('{"resumed":true}\n');
  await next.close();

  const lines = await collectLines(next.read());
  expect(lines.at(-1)).toBe('{"resumed":true}');
  const before = lines.slice(0, -1);
  // A prefix of complete records 0..m-1, with m ≥ the last reported count…
  let m = 0;
  while (m < before.length && before[m] === crawlLine(m)) m++;
  expect(m).toBeGreaterThanOrEqual(reported);
  // …then at most one torn record: a strict prefix of record m (every flush ends mid-line).
  const rest = before.slice(m);
  expect(rest.length).toBeLessThanOrEqual(1);
  if (rest.length === 1) {
    const torn = rest[0] as string;
    expect(crawlLine(m).startsWith(torn)).toBe(true);
    expect(torn.length).toBeLessThan(crawlLine(m).length);
  }
});
