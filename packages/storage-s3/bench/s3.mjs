// Bytes on the wire and requests per flush as an S3 checkpoint grows, for the
// seed's design (download + append + re-upload, reimplemented here), the
// object layout and the segments layout. Streamed request bodies count their
// Content-Length. Not a test: run `pnpm bench`.
//
//   BENCH_TOTAL_MB   checkpoint size to grow to (default 40)
//   BENCH_FLUSH_KB   bytes per flush (default 256)
import { cpus, totalmem } from 'node:os';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startMoto, startS3rver } from '@yoink/test-servers/s3';
import { S3Storage } from '../dist/index.js';

const TOTAL = Number(process.env.BENCH_TOTAL_MB ?? 40) * 1024 * 1024;
const FLUSH = Number(process.env.BENCH_FLUSH_KB ?? 256) * 1024;
const BUCKET = 'yoink-bench';
const MiB = 1024 * 1024;

/** Counts body bytes sent and received and requests, per flush. */
function meter(client) {
  const m = { up: 0, down: 0, requests: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request;
      m.requests += 1;
      const b = request?.body;
      if (typeof b === 'string') m.up += Buffer.byteLength(b);
      else if (b instanceof Uint8Array) m.up += b.byteLength;
      // A streamed body (the conditional re-put past 5 MiB) announces its size.
      else if (b !== undefined) m.up += Number(request.headers?.['content-length'] ?? 0);
      const out = await next(args);
      const len = Number(out.response?.headers?.['content-length'] ?? 0);
      if (request?.method === 'GET') m.down += len;
      return out;
    },
    { step: 'finalizeRequest', name: 'benchMeter', priority: 'low' },
  );
  return m;
}

function chunk(i) {
  const line = `{"i":${i},"url":"https://example.com/page/${i}","pad":"${'x'.repeat(180)}"}\n`;
  return `${line.repeat(Math.ceil(FLUSH / line.length)).slice(0, FLUSH - 1)}\n`;
}

/** The seed: every flush downloads the object, appends, re-uploads it. */
class SeedStorage {
  constructor(config, key) {
    this.client = new S3Client(config);
    this.key = key;
  }
  async append(data) {
    let old = Buffer.alloc(0);
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: this.key }));
      old = Buffer.from(await got.Body.transformToByteArray());
    } catch (e) {
      if (e.name !== 'NoSuchKey') throw e;
    }
    await this.client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: this.key,
        Body: Buffer.concat([old, Buffer.from(data)]),
      }),
    );
  }
  close() {
    this.client.destroy();
  }
}

async function run(name, server, make) {
  const { client, append, close } = make(server);
  const m = meter(client);
  const flushes = [];
  let size = 0;
  const t0 = performance.now();
  for (let i = 0; size < TOTAL; i++) {
    const before = { ...m };
    const data = chunk(i);
    await append(data);
    flushes.push({
      size,
      up: m.up - before.up,
      down: m.down - before.down,
      requests: m.requests - before.requests,
    });
    size += data.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  await close();
  const total = flushes.reduce(
    (t, f) => ({ up: t.up + f.up, down: t.down + f.down, requests: t.requests + f.requests }),
    { up: 0, down: 0, requests: 0 },
  );
  return { name, server: server.kind, flushes, total, seconds };
}

function storageMaker(layout, key, conditionalWrites = 'on') {
  return (server) => {
    // s3rver ignores conditional headers, so it runs only with the explicit opt-out.
    const conditions = server.kind === 's3rver' ? 'off' : conditionalWrites;
    const s = new S3Storage(
      `s3://${BUCKET}/${key}?endpoint=${encodeURIComponent(server.endpoint)}&forcePathStyle=true&layout=${layout}&conditionalWrites=${conditions}`,
      { clientConfig: { credentials: server.clientConfig.credentials } },
    );
    return {
      client: s.client,
      append: async (d) => {
        await s.write(d);
        await s.flush();
      },
      close: () => s.close(),
    };
  };
}

function seedMaker(key) {
  return (server) => {
    const s = new SeedStorage(server.clientConfig, key);
    return { client: s.client, append: (d) => s.append(d), close: () => s.close() };
  };
}

const mb = (n) => `${(n / MiB).toFixed(2)} MB`;

const moto = await startMoto({ buckets: [BUCKET] });
const s3rver = await startS3rver({ buckets: [BUCKET] });
const results = [];
try {
  results.push(await run('seed (download+append+put)', moto, seedMaker('seed.jsonl')));
  // moto ignores If-Match on CompleteMultipartUpload: with conditions on, the object layout
  // re-puts the object whole past 5 MiB there; conditionalWrites=off shows the server-side
  // append that Amazon S3, MinIO and R2 run with conditions on.
  results.push(
    await run(
      'object layout, server-side append as on AWS (conditionalWrites=off)',
      moto,
      storageMaker('object', 'object-off.jsonl', 'off'),
    ),
  );
  results.push(
    await run(
      'object layout, conditions on: streamed re-put',
      moto,
      storageMaker('object', 'object.jsonl'),
    ),
  );
  results.push(await run('segments layout', moto, storageMaker('segments', 'segments')));
  results.push(
    await run('object layout, fallback', s3rver, storageMaker('object', 'object.jsonl')),
  );
} finally {
  await moto.stop();
  await s3rver.stop();
}

console.log(
  `\nS3 checkpoint grown to ${mb(TOTAL)} in flushes of ${FLUSH / 1024} KiB (${results[0].flushes.length} flushes)`,
);
console.log(
  `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 1024 ** 3).toFixed(0)} GB RAM, Node ${process.version}\n`,
);
const marks = [1, 4, 8, 16, 32, 64, 128]
  .map((x) => x * MiB)
  .filter((x) => x < TOTAL)
  .concat([TOTAL - FLUSH]);
console.log('per flush at checkpoint size: bytes up / bytes down / requests');
const header = ['design (server)', ...marks.map((x) => `@${Math.round(x / MiB)} MB`)];
const rows = results.map((r) => [
  `${r.name} (${r.server})`,
  ...marks.map((x) => {
    const f = r.flushes.find((f) => f.size >= x) ?? r.flushes.at(-1);
    return `${(f.up / 1024).toFixed(0)}K/${(f.down / 1024).toFixed(0)}K/${f.requests}`;
  }),
]);
printTable(header, rows);
console.log('\ntotals (ratio = seed / this design, higher is better)');
const seed = results[0].total;
printTable(
  ['design (server)', 'uploaded', 'downloaded', 'requests', 'wire total', 'vs seed', 'time'],
  results.map((r) => [
    `${r.name} (${r.server})`,
    mb(r.total.up),
    mb(r.total.down),
    String(r.total.requests),
    mb(r.total.up + r.total.down),
    `${((seed.up + seed.down) / (r.total.up + r.total.down)).toFixed(1)}x`,
    `${r.seconds.toFixed(1)} s`,
  ]),
);

function printTable(head, body) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of body) console.log(line(r));
}
