// The Azure section of the benchmark: @yoink/storage-azure on Azurite, next to
// the seed's design (download the whole blob, append, re-upload) and S3's
// layouts. Starts its own Azurite and a counting proxy in front of it.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { AzureBlobStorage } from '@yoink/storage-azure';
import { startAzurite } from '@yoink/test-servers/azurite';
import { markdownTable, num, ratio } from './markdown.js';
import type { BenchPlan, BenchResults } from './results.js';
import { MB, MiB, median, timeMs } from './stats.js';
import { FLUSH_EVERY, LINE_BYTES, makeLines } from './workload.js';

/** Bytes on the wire and requests of one flush. */
export interface AzureFlush {
  /** Checkpoint size before this flush, bytes. */
  size: number;
  /** Bytes of the flush's data. */
  data: number;
  /** Request body bytes sent. */
  up: number;
  /** Response body bytes received. */
  down: number;
  requests: number;
}

/** One design grown to the plan's size: its flushes, in order. */
export interface AzureGrowth {
  name: string;
  flushes: AzureFlush[];
  seconds: number;
}

/** What the Azure section measured. */
export interface AzureBenchResult {
  azurite: string;
  /** Per-flush cost as the checkpoint grows: ours, then the seed's design. */
  growth: AzureGrowth[];
  /** A new writer on the grown checkpoint, up to and including its first flush. */
  reopen: { size: number; requests: number; down: number };
  /** Write throughput, ms (median of `plan.runs`). */
  write: { lines: number; bytes: number; ours: number; appendLimit: number; putLimit: number };
  /** Read throughput of the written checkpoint, ms (median of `plan.readRuns`). */
  read: { bytes: number; ours: number; raw: number };
}

/** One Azure target, judged. */
export interface AzureVerdict {
  target: string;
  measured: string;
  status: 'MET' | 'NOT MET';
}

interface Meter {
  up: number;
  down: number;
  requests: number;
}

/** An HTTP proxy in front of Azurite that counts body bytes both ways and requests. */
async function countingProxy(
  endpoint: string,
): Promise<{ endpoint: string; meter: Meter; stop(): Promise<void> }> {
  const upstream = new URL(endpoint);
  const meter: Meter = { up: 0, down: 0, requests: 0 };
  const server: Server = createServer((req, res) => {
    meter.requests += 1;
    req.on('data', (d: Buffer) => {
      meter.up += d.length;
    });
    const up = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.on('data', (d: Buffer) => {
          meter.down += d.length;
        });
        upRes.pipe(res);
      },
    );
    up.on('error', (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}${upstream.pathname}`,
    meter,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A flush's worth of JSONL (`bytes` long, whole lines), as the S3 section writes. */
function flushData(i: number, bytes: number): string {
  const line = `{"i":${i},"url":"https://example.com/page/${i}","pad":"${'x'.repeat(180)}"}\n`;
  return `${line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes - 1)}\n`;
}

interface Design {
  append(data: string): Promise<void>;
  close(): Promise<void>;
}

/** The seed's design on Azure, reimplemented: every flush downloads the blob, appends, re-uploads it. */
function seedDesign(container: ContainerClient, name: string): Design {
  const blob = container.getBlockBlobClient(name);
  return {
    async append(data) {
      let old: Buffer = Buffer.alloc(0);
      try {
        old = await blob.downloadToBuffer();
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode !== 404) throw e;
      }
      const body = Buffer.concat([old, Buffer.from(data)]);
      await blob.upload(body, body.length);
    },
    async close() {},
  };
}

function oursDesign(uri: string, connectionString: string): Design {
  const s = new AzureBlobStorage(uri, { connectionString });
  return {
    async append(data) {
      await s.write(data);
      await s.flush();
    },
    close: () => s.close(),
  };
}

async function grow(
  name: string,
  design: Design,
  meter: Meter,
  totalBytes: number,
  flushBytes: number,
): Promise<AzureGrowth> {
  const flushes: AzureFlush[] = [];
  let size = 0;
  const t0 = performance.now();
  try {
    for (let i = 0; size < totalBytes; i++) {
      const before = { ...meter };
      const data = flushData(i, flushBytes);
      await design.append(data);
      flushes.push({
        size,
        data: data.length,
        up: meter.up - before.up,
        down: meter.down - before.down,
        requests: meter.requests - before.requests,
      });
      size += data.length;
    }
  } finally {
    await design.close();
  }
  return { name, flushes, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Runs the Azure benchmark on a fresh Azurite: per-flush bytes and requests
 * as one checkpoint grows to `plan.azureTotalBytes` (ours and the seed's
 * design), a reopen of the grown checkpoint, write throughput of
 * `plan.azureLines` lines against raw AppendBlock and one PutBlob, and read
 * throughput against one raw download.
 */
export async function azureBench(
  plan: BenchPlan,
  log: (message: string) => void,
): Promise<AzureBenchResult> {
  const azurite = await startAzurite({ containers: ['bench'] });
  const proxy = await countingProxy(azurite.endpoint);
  const viaProxy = azurite.connectionString.replace(
    /BlobEndpoint=[^;]*/,
    `BlobEndpoint=${proxy.endpoint}`,
  );
  const container = BlobServiceClient.fromConnectionString(viaProxy).getContainerClient('bench');
  const direct = BlobServiceClient.fromConnectionString(
    azurite.connectionString,
  ).getContainerClient('bench');
  const stamp = Date.now().toString(36);
  try {
    log('azure: bytes and requests per flush as the checkpoint grows');
    const ours = await grow(
      'append blob (ours)',
      oursDesign(`azblob://bench/grow-${stamp}.jsonl`, viaProxy),
      proxy.meter,
      plan.azureTotalBytes,
      plan.azureFlushBytes,
    );
    const seed = await grow(
      'seed: download + append + re-upload',
      seedDesign(container, `seed-${stamp}.jsonl`),
      proxy.meter,
      plan.azureTotalBytes,
      plan.azureFlushBytes,
    );
    const before = { ...proxy.meter };
    const again = oursDesign(`azblob://bench/grow-${stamp}.jsonl`, viaProxy);
    await again.append(flushData(0, plan.azureFlushBytes));
    await again.close();
    const reopen = {
      size: ours.flushes.reduce((n, f) => n + f.data, 0),
      requests: proxy.meter.requests - before.requests,
      down: proxy.meter.down - before.down,
    };

    log('azure: write and read throughput');
    const lines = makeLines(plan.azureLines, LINE_BYTES);
    const batches: string[] = [];
    for (let i = 0; i < lines.length; i += FLUSH_EVERY) {
      batches.push(lines.slice(i, i + FLUSH_EVERY).join(''));
    }
    const bytes = batches.reduce((n, b) => n + Buffer.byteLength(b), 0);
    const times = { ours: [] as number[], appendLimit: [] as number[], putLimit: [] as number[] };
    for (let run = 0; run < plan.runs; run++) {
      const s = new AzureBlobStorage(`azblob://bench/write-${stamp}-${run}.jsonl`, {
        connectionString: azurite.connectionString,
      });
      times.ours.push(
        await timeMs(async () => {
          for (let i = 0; i < lines.length; i++) {
            await s.write(lines[i] as string);
            if ((i + 1) % FLUSH_EVERY === 0) await s.flush();
          }
          await s.close();
        }),
      );
      const raw = direct.getAppendBlobClient(`raw-${stamp}-${run}.jsonl`);
      times.appendLimit.push(
        await timeMs(async () => {
          await raw.create();
          for (const b of batches) await raw.appendBlock(b, Buffer.byteLength(b));
        }),
      );
      const whole = Buffer.from(batches.join(''));
      const put = direct.getBlockBlobClient(`put-${stamp}-${run}.jsonl`);
      times.putLimit.push(await timeMs(() => put.upload(whole, whole.length)));
    }
    const readTimes = { ours: [] as number[], raw: [] as number[] };
    for (let run = 0; run < plan.readRuns; run++) {
      const s = new AzureBlobStorage(`azblob://bench/write-${stamp}-0.jsonl`, {
        connectionString: azurite.connectionString,
      });
      let n = 0;
      readTimes.ours.push(
        await timeMs(async () => {
          for await (const line of s.read()) n += line.length + 1;
        }),
      );
      if (n !== bytes) throw new Error(`read ${n} bytes back, wrote ${bytes}`);
      readTimes.raw.push(
        await timeMs(async () => {
          const res = await direct.getBlobClient(`write-${stamp}-0.jsonl`).download();
          let got = 0;
          for await (const chunk of res.readableStreamBody ?? []) got += (chunk as Buffer).length;
          if (got !== bytes) throw new Error(`downloaded ${got} bytes, wrote ${bytes}`);
        }),
      );
    }
    return {
      azurite: 'azurite-blob 3.35 (npm azurite), loopback',
      growth: [ours, seed],
      reopen,
      write: {
        lines: lines.length,
        bytes,
        ours: median(times.ours),
        appendLimit: median(times.appendLimit),
        putLimit: median(times.putLimit),
      },
      read: { bytes, ours: median(readTimes.ours), raw: median(readTimes.raw) },
    };
  } finally {
    await proxy.stop();
    await azurite.stop();
  }
}

/** The Azure targets: no download after opening, flat bytes per flush. */
export function judgeAzure(a: AzureBenchResult): AzureVerdict[] {
  const ours = a.growth[0];
  if (!ours) return [];
  const down = ours.flushes.reduce((n, f) => n + f.down, 0);
  const ups = ours.flushes.map((f) => f.up / f.data);
  const reqs = new Set(ours.flushes.slice(1).map((f) => f.requests));
  const spread = Math.max(...ups) / Math.min(...ups);
  return [
    {
      target: 'Azure: a flush downloads nothing; opening reads 1 byte',
      measured: `${num(down, 0)} bytes downloaded over ${ours.flushes.length} flushes; a new writer on the ${num(a.reopen.size / MiB, 1)} MiB checkpoint: ${a.reopen.requests} requests, ${num(a.reopen.down, 0)} byte(s) down up to its first flush`,
      status: down === 0 && a.reopen.down <= 1 ? 'MET' : 'NOT MET',
    },
    {
      target: 'Azure: bytes per flush flat as the checkpoint grows',
      measured: `upload per flush / flush data: max/min ${ratio(spread, 3)}; requests per flush ${[...reqs].join(', ')}`,
      status: spread <= 1.05 && reqs.size === 1 ? 'MET' : 'NOT MET',
    },
  ];
}

const mbps = (bytes: number, ms: number): string => num(bytes / MB / (ms / 1000), 0);

/** The report's Azure section (Markdown lines). */
export function renderAzureSection(r: BenchResults): string[] {
  const a = r.azure;
  if (!a) return [];
  const p = r.plan;
  const out: string[] = [];
  out.push('## Azure Blob Storage (`@yoink/storage-azure`)');
  out.push('');
  out.push(
    `On ${a.azurite}, started by the runner. One checkpoint grown to ${num(p.azureTotalBytes / MiB, 0)} MiB in flushes of ${p.azureFlushBytes / 1024} KiB: ours (one append blob; each flush is AppendBlock requests of up to 4 MiB at the position the writer knows) and the seed's design reimplemented on Azure (download the whole blob, append, re-upload). A counting proxy in front of Azurite measures request body bytes (up), response body bytes (down) and requests per flush. The S3 rows are the S3 section's runs at the same sizes.`,
  );
  out.push('');
  out.push('| target | measured | verdict |');
  out.push('| --- | --- | --- |');
  for (const v of judgeAzure(a)) out.push(`| ${v.target} | ${v.measured} | **${v.status}** |`);
  out.push('');
  const total = p.azureTotalBytes;
  const marks = [1, 2, 4, 8, 16, 32, 64, 128]
    .map((x) => x * MiB)
    .filter((x) => x < total)
    .concat([total - p.azureFlushBytes]);
  const cell = (f: { up: number; down: number; requests: number } | undefined): string =>
    f ? `${num(f.up / 1024, 0)} / ${num(f.down / 1024, 0)} / ${f.requests}` : '—';
  const rows: string[][] = a.growth.map((g) => [
    `${g.name} (Azurite)`,
    ...marks.map((x) => cell(g.flushes.find((f) => f.size >= x) ?? g.flushes.at(-1))),
  ]);
  for (const run of r.s3.filter((x) => x.server === 'moto')) {
    rows.push([
      `S3 ${run.name}`,
      ...marks.map((x) =>
        x < p.s3TotalBytes ? cell(run.flushes.find((f) => f.size >= x) ?? run.flushes.at(-1)) : '—',
      ),
    ]);
  }
  out.push('Per flush at a checkpoint size: KiB up / KiB down / requests.');
  out.push('');
  out.push(
    markdownTable(['design (server)', ...marks.map((x) => `@${num(x / MiB, 1)} MiB`)], rows),
  );
  out.push('');
  const seed = a.growth[1];
  const seedWire = seed ? seed.flushes.reduce((n, f) => n + f.up + f.down, 0) : 0;
  out.push(
    markdownTable(
      [
        'design (Azurite)',
        'flushes',
        'uploaded',
        'downloaded',
        'requests',
        "seed's wire bytes / this",
        'time',
      ],
      a.growth.map((g) => {
        const t = g.flushes.reduce(
          (x, f) => ({ up: x.up + f.up, down: x.down + f.down, requests: x.requests + f.requests }),
          { up: 0, down: 0, requests: 0 },
        );
        return [
          g.name,
          String(g.flushes.length),
          `${num(t.up / MB, 1)} MB`,
          `${num(t.down / MB, 1)} MB`,
          String(t.requests),
          seedWire ? ratio(seedWire / (t.up + t.down)) : '—',
          `${num(g.seconds, 1)} s`,
        ];
      }),
    ),
  );
  out.push('');
  const w = a.write;
  out.push(
    `Write: ${num(w.lines, 0)} lines of ${LINE_BYTES} bytes (${num(w.bytes / MB, 1)} MB), one \`write()\` per line and a \`flush()\` every ${num(FLUSH_EVERY, 0)} lines; median of ${p.runs} runs. Read: the same checkpoint through \`read()\` (lines, 8 MiB ranged downloads) against one raw streaming download; median of ${p.readRuns}.`,
  );
  out.push('');
  out.push(
    markdownTable(
      ['', 'ms', 'MB/s', 'ours / this (time)'],
      [
        ['write: ours (`AzureBlobStorage`)', num(w.ours, 0), mbps(w.bytes, w.ours), '1.00×'],
        [
          'write limit: raw AppendBlock per 1,000 lines, no condition',
          num(w.appendLimit, 0),
          mbps(w.bytes, w.appendLimit),
          ratio(w.ours / w.appendLimit, 2),
        ],
        [
          'write limit: one PutBlob of all the bytes',
          num(w.putLimit, 0),
          mbps(w.bytes, w.putLimit),
          ratio(w.ours / w.putLimit, 2),
        ],
        [
          'read: ours (`read()`, lines)',
          num(a.read.ours, 0),
          mbps(a.read.bytes, a.read.ours),
          '1.00×',
        ],
        [
          'read limit: one streaming GetBlob',
          num(a.read.raw, 0),
          mbps(a.read.bytes, a.read.raw),
          ratio(a.read.ours / a.read.raw, 2),
        ],
      ],
    ),
  );
  out.push('');
  out.push(
    "Why it is flat: AppendBlock appends on the server, so a flush uploads its own bytes and nothing else, whatever the checkpoint's size; `x-ms-blob-condition-appendpos` makes it exactly once without reading anything back. Opening a checkpoint costs a few property reads (the chain of blobs is searched in O(log n)) and a 1-byte ranged read of the last byte. The seed's design moves the whole blob twice per flush.",
  );
  out.push('');
  return out;
}
