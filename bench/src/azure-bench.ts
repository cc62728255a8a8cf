// The Azure measurements: @yoink/storage-azure on Azurite, next to the seed's
// design (download the whole blob, append, re-upload). Starts its own Azurite
// and a counting proxy in front of it.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { AzureBlobStorage } from '@yoink/storage-azure';
import { startAzurite } from '@yoink/test-servers/azurite';
import {
  countRequest,
  flushData,
  type GrowthRun,
  growByFlushes,
  since,
  snapshot,
  type WireMeter,
  wireMeter,
} from './growth.js';
import type { BenchPlan } from './plan.js';
import { median, timeMs } from './stats.js';
import { FLUSH_EVERY, LINE_BYTES, makeLines } from './workload.js';

/** What the Azure section measured. */
export interface AzureBenchResult {
  azurite: string;
  /** Per-flush cost as the checkpoint grows: ours, then the seed's design. */
  growth: GrowthRun[];
  /** A new writer on the grown checkpoint, up to and including its first flush. */
  reopen: WireMeter & { size: number };
  /** Write throughput, ms (median of `plan.runs`). */
  write: { lines: number; bytes: number; ours: number; appendLimit: number; putLimit: number };
  /** Read throughput of the written checkpoint, ms (median of `plan.readRuns`). */
  read: { bytes: number; ours: number; raw: number };
}

/** A request's kind: its method and its `comp` operation (`PUT appendblock`), or `blob`. */
function requestKind(method: string | undefined, url: string | undefined): string {
  const comp = new URL(url ?? '/', 'http://x').searchParams.get('comp');
  return `${method ?? '?'} ${comp ?? 'blob'}`;
}

/** An HTTP proxy in front of Azurite that counts body bytes both ways and requests. */
async function countingProxy(
  endpoint: string,
): Promise<{ endpoint: string; meter: WireMeter; stop(): Promise<void> }> {
  const upstream = new URL(endpoint);
  const meter = wireMeter();
  const server: Server = createServer((req, res) => {
    countRequest(meter, requestKind(req.method, req.url));
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
  meter: WireMeter,
  totalBytes: number,
  flushBytes: number,
): Promise<GrowthRun> {
  try {
    return { name, ...(await growByFlushes(design.append, meter, totalBytes, flushBytes)) };
  } finally {
    await design.close();
  }
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
    const before = snapshot(proxy.meter);
    const again = oursDesign(`azblob://bench/grow-${stamp}.jsonl`, viaProxy);
    await again.append(flushData(0, plan.azureFlushBytes));
    await again.close();
    const reopen = {
      size: ours.flushes.reduce((n, f) => n + f.data, 0),
      ...since(proxy.meter, before),
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
      azurite: (await fetch(`${azurite.endpoint}?comp=list`)).headers.get('server') ?? 'Azurite',
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
