// A child process that reads one checkpoint one way and prints one JSON line
// (a ReadChildResult). read-bench.ts runs one process per read, so each
// read's peak RSS (getrusage maxrss) is its own.
//   node dist/read-child.js <mode> <target> [key]
// mode: local-ours | local-raw | local-naive | redis-ours | redis-paged | redis-seed
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ReadChildResult } from './read-child-result.js';

const counts = { bytes: 0, lines: 0 };
function countLine(line: string): void {
  counts.lines++;
  counts.bytes += Buffer.byteLength(line) + 1;
}
const stripNewline = (line: string): string => (line.endsWith('\n') ? line.slice(0, -1) : line);

/** Sets up the reader (imports, connection) outside the timing; returns the timed part. */
async function prepare(
  mode: string,
  target: string,
  key: string | undefined,
): Promise<() => Promise<void>> {
  switch (mode) {
    case 'local-ours': {
      const { LocalFileStorage } = await import('@yoink/storage-local');
      const s = new LocalFileStorage(target);
      return async () => {
        for await (const line of s.read()) countLine(line);
      };
    }
    case 'local-raw':
      return async () => {
        for await (const chunk of createReadStream(target, { highWaterMark: 64 * 1024 })) {
          counts.bytes += (chunk as Buffer).length;
        }
      };
    case 'local-naive':
      return async () => {
        const lines = (await readFile(target, 'utf8')).split('\n');
        if (lines.at(-1) === '') lines.pop();
        for (const line of lines) countLine(line);
      };
    case 'redis-ours':
    case 'redis-paged':
    case 'redis-seed': {
      if (!key) throw new Error(`${mode} needs a key`);
      if (mode === 'redis-ours') {
        // RedisStorage on a client of its own, created from the URI, as an application reads.
        const { RedisStorage } = await import('@yoink/storage-redis');
        const s = new RedisStorage(`${target}?key=${encodeURIComponent(key)}`);
        await s.exists();
        return async () => {
          for await (const line of s.read()) countLine(line);
          await s.close();
        };
      }
      const { Redis } = await import('ioredis');
      const client = new Redis(target, { maxRetriesPerRequest: null });
      await client.ping();
      if (mode === 'redis-paged') {
        return async () => {
          for (let i = 0; ; i += 1000) {
            const page = await client.lrange(key, i, i + 999);
            for (const line of page) countLine(stripNewline(line));
            if (page.length < 1000) break;
          }
          client.disconnect();
        };
      }
      return async () => {
        for (const line of await client.lrange(key, 0, -1)) countLine(stripNewline(line));
        client.disconnect();
      };
    }
    default:
      throw new Error(`unknown read mode "${mode}"`);
  }
}

const [mode = '', target = '', key] = process.argv.slice(2);
const run = await prepare(mode, target, key);
const baseRss = process.memoryUsage().rss;
const t0 = process.hrtime.bigint();
await run();
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const result: ReadChildResult = {
  ms,
  bytes: counts.bytes,
  lines: counts.lines,
  baseRss,
  peakRss: process.resourceUsage().maxRSS * 1024,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
