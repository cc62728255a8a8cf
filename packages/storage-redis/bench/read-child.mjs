// One read in a fresh process, so its peak RSS is its own:
//   node bench/read-child.mjs <mode> <redis url> <key>
// mode: ours   RedisStorage.read() on the client it creates from the URI;
//       lrange LRANGE pages of 1,000 over a list of the same lines (ioredis 6, RESP2).
// Prints one JSON line: { ms, lines, baseRss, peakRss } (bytes).
import { Redis } from 'ioredis';
import { RedisStorage } from '../dist/index.js';

const [mode, url, key] = process.argv.slice(2);
let lines = 0;
let run;
if (mode === 'ours') {
  const s = new RedisStorage(`${url}?key=${encodeURIComponent(key)}`);
  await s.exists(); // connect outside the measurement
  run = async () => {
    for await (const _ of s.read()) lines++;
    await s.close();
  };
} else if (mode === 'lrange') {
  const client = new Redis(url, { protocol: 2 });
  await client.ping();
  run = async () => {
    for (let i = 0; ; i += 1000) {
      const page = await client.lrange(key, i, i + 999);
      lines += page.length;
      if (page.length < 1000) break;
    }
    client.disconnect();
  };
} else {
  throw new Error(`unknown mode ${mode}`);
}
const baseRss = process.memoryUsage().rss;
const t0 = process.hrtime.bigint();
await run();
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write(
  `${JSON.stringify({ ms, lines, baseRss, peakRss: process.resourceUsage().maxRSS * 1024 })}\n`,
);
