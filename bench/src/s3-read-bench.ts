import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandInput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { S3Storage, type S3StorageOptions } from '@yoink/storage-s3';
import type { S3TestServer } from '@yoink/test-servers/s3';
import { S3_SIZES } from './implementation-constants.js';
import { MiB, median, timeMs } from './stats.js';

/** One read contender: its median time and the GETs one read sent. */
interface ReadTiming {
  ms: number;
  requests: number;
}

/** Reading one checkpoint through the latency proxy, several ways. */
interface ReadPair {
  /** What was read: segments (count) or one object (bytes). */
  bytes: number;
  lines: number;
  /** S3Storage, one GET at a time (segments: readConcurrency 1; object: one streamed GET). */
  sequential: ReadTiming;
  /** S3Storage with its defaults: segments fetched ahead / parallel ranges. */
  parallel: ReadTiming;
  /**
   * The server's ceiling: the same GETs sent by a bare S3Client, 16 at a
   * time, their bodies counted and dropped (no order kept, no lines split).
   */
  limit: ReadTiming;
  /** Object only: one bare streamed GET, its body counted and dropped. */
  rawSingle?: ReadTiming;
}

/** Requests to open a segments checkpoint for writing, at one segment count. */
interface OpenPoint {
  segments: number;
  /** S3Storage's open: StartAfter probes + the last byte of the last segment. */
  requests: number;
  /** Listing every page, the design before (one ListObjectsV2 per 1,000 segments) + the same last-byte GET. */
  fullListing: number;
}

/** Everything the S3 read benchmark measured. */
export interface S3ReadResult {
  /** The proxy's delay before each request, ms. */
  latencyMs: number;
  /** Runs per timing (median). */
  runs: number;
  segments: ReadPair & { count: number; concurrency: number };
  object: ReadPair & { rangeBytes: number; concurrency: number };
  /** Open cost against an in-memory listing, up to 100,000 segments. */
  open: OpenPoint[];
  /** Open cost counted on moto, on the segments checkpoint read above. */
  openOnMoto: OpenPoint;
}

/** What the S3 read benchmark is asked to do. */
export interface S3ReadPlan {
  segments: number;
  objectBytes: number;
  openCounts: readonly number[];
  runs: number;
  latencyMs: number;
}

const DEFAULT_CONCURRENCY = S3_SIZES.readConcurrency;
const DEFAULT_RANGE = S3_SIZES.readRangeBytes;
/** Ranges S3Storage keeps in flight within its read-ahead budget. */
const RANGES_IN_FLIGHT = Math.min(
  DEFAULT_CONCURRENCY,
  Math.floor(S3_SIZES.readAheadBytes / DEFAULT_RANGE),
);

/** A JSONL line of ~300 bytes, numbered. */
function line(i: number): string {
  const head = `{"i":${i},"url":"https://example.com/page/${i}","pad":"`;
  return `${head}${'x'.repeat(297 - head.length)}"}\n`;
}

/** Counts requests by command name with a middleware (`name`: the middleware's, unique per client). */
export function countRequests(client: S3Client, name = 'yoinkBenchCount'): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName).replace(/Command$/, '');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name },
  );
  return counts;
}

function total(counts: Map<string, number>): number {
  return [...counts.values()].reduce((a, b) => a + b, 0);
}

function storageAt(
  endpoint: string,
  server: S3TestServer,
  bucket: string,
  key: string,
  options: S3StorageOptions,
): S3Storage {
  return new S3Storage(
    `s3://${bucket}/${key}?endpoint=${encodeURIComponent(endpoint)}&forcePathStyle=true`,
    { ...options, clientConfig: { credentials: server.clientConfig.credentials } },
  );
}

/** Reads every line once; resolves with the GETs sent and the lines and bytes read. */
async function readOnce(
  s: S3Storage,
): Promise<{ ms: number; requests: number; lines: number; bytes: number }> {
  const counts = countRequests(s.client);
  let lines = 0;
  let bytes = 0;
  const ms = await timeMs(async () => {
    for await (const l of s.read()) {
      lines += 1;
      bytes += l.length + 1;
    }
  });
  await s.close();
  return { ms, requests: counts.get('GetObject') ?? 0, lines, bytes };
}

/** Median time of `runs` reads by `make()`, each on a fresh storage; checks every read saw `lines`. */
async function timeReads(
  runs: number,
  lines: number,
  make: () => S3Storage,
): Promise<ReadTiming & { bytes: number }> {
  const times: number[] = [];
  let last = { ms: 0, requests: 0, lines: 0, bytes: 0 };
  for (let i = 0; i < runs; i++) {
    last = await readOnce(make());
    if (last.lines !== lines) throw new Error(`read ${last.lines} lines, expected ${lines}`);
    times.push(last.ms);
  }
  return { ms: median(times), requests: last.requests, bytes: last.bytes };
}

/** Sends `inputs` as GETs with a bare client, `concurrency` at a time; bodies are counted and dropped. */
async function rawGets(
  endpoint: string,
  server: S3TestServer,
  inputs: readonly { Bucket: string; Key: string; Range?: string }[],
  concurrency: number,
): Promise<number> {
  const client = new S3Client({ ...server.clientConfig, endpoint });
  let next = 0;
  let bytes = 0;
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, inputs.length) }, async () => {
        while (next < inputs.length) {
          const input = inputs[next++] as (typeof inputs)[number];
          const got = await client.send(new GetObjectCommand(input));
          for await (const chunk of got.Body as AsyncIterable<Uint8Array>) bytes += chunk.length;
        }
      }),
    );
  } finally {
    client.destroy();
  }
  return bytes;
}

/** Median time of `runs` runs of `rawGets`; checks each moved `bytes`. */
async function timeRaw(
  runs: number,
  bytes: number,
  run: () => Promise<number>,
  requests: number,
): Promise<ReadTiming> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    let moved = 0;
    times.push(
      await timeMs(async () => {
        moved = await run();
      }),
    );
    if (moved !== bytes) throw new Error(`raw GETs moved ${moved} bytes, expected ${bytes}`);
  }
  return { ms: median(times), requests };
}

/**
 * A client whose requests never leave the process: a middleware answers a
 * segments checkpoint of `count` segments under `prefix` as S3 would
 * (ListObjectsV2 honouring Prefix, StartAfter, MaxKeys and ContinuationToken;
 * a GET of a last byte; a PUT) and counts the requests.
 */
function fakeSegmentsClient(
  prefix: string,
  count: number,
): { client: S3Client; requests: () => number } {
  const client = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const key = (i: number): string => `${prefix}${String(i).padStart(12, '0')}.jsonl`;
  /** The first segment number whose key is above `after`. */
  const firstAbove = (after: string | undefined): number => {
    if (after === undefined) return 0;
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (key(mid) <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  let requests = 0;
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      requests += 1;
      const input = args.input as ListObjectsV2CommandInput;
      switch (context.commandName) {
        case 'ListObjectsV2Command': {
          const from = Math.max(firstAbove(input.StartAfter), firstAbove(input.ContinuationToken));
          const to = Math.min(count, from + (input.MaxKeys ?? 1000));
          const contents = [];
          for (let i = from; i < to; i++) contents.push({ Key: key(i), Size: 300 });
          const truncated = to < count;
          return {
            output: {
              $metadata: {},
              Contents: contents,
              IsTruncated: truncated,
              ...(truncated ? { NextContinuationToken: key(to - 1) } : {}),
            },
            response: {},
          } as never;
        }
        case 'GetObjectCommand':
          return { output: { $metadata: {}, Body: [Buffer.from('\n')] }, response: {} } as never;
        case 'PutObjectCommand':
          return { output: { $metadata: {}, ETag: '"bench"' }, response: {} } as never;
        default:
          throw new Error(`unexpected ${context.commandName}`);
      }
    },
    { step: 'initialize', name: 'yoinkBenchFakeS3' },
  );
  return { client, requests: () => requests };
}

/** Requests S3Storage sends to open a checkpoint of `count` segments (before its first PUT). */
async function openRequests(count: number): Promise<OpenPoint> {
  const fake = fakeSegmentsClient('crawl/', count);
  const s = new S3Storage('s3://bench-bucket/crawl?layout=segments', { client: fake.client });
  await s.write('x\n');
  await s.flush();
  const requests = fake.requests() - 1; // the PUT of the new segment
  await s.close();
  // The design before: list every page of the prefix, then the same last-byte GET.
  const old = fakeSegmentsClient('crawl/', count);
  let token: string | undefined;
  do {
    const page = await old.client.send(
      new ListObjectsV2Command({
        Bucket: 'bench-bucket',
        Prefix: 'crawl/',
        ContinuationToken: token,
      }),
    );
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  old.client.destroy();
  fake.client.destroy();
  return { segments: count, requests, fullListing: old.requests() + (count > 0 ? 1 : 0) };
}

/** Puts `count` segments of `linesPer` lines straight into `server` (32 at a time). */
async function putSegments(
  server: S3TestServer,
  bucket: string,
  prefix: string,
  count: number,
  linesPer: number,
): Promise<void> {
  const client = new S3Client(server.clientConfig);
  try {
    for (let i = 0; i < count; i += 32) {
      await Promise.all(
        Array.from({ length: Math.min(32, count - i) }, (_, j) => {
          const seq = i + j;
          let body = '';
          for (let k = 0; k < linesPer; k++) body += line(seq * linesPer + k);
          return client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: `${prefix}${String(seq).padStart(12, '0')}.jsonl`,
              Body: body,
            }),
          );
        }),
      );
    }
  } finally {
    client.destroy();
  }
}

/** Puts one object of about `bytes` (300-byte lines) straight into `server`; returns its line count. */
async function putObject(
  server: S3TestServer,
  bucket: string,
  key: string,
  bytes: number,
): Promise<number> {
  const lines = Math.floor(bytes / 300);
  const body = Buffer.allocUnsafe(lines * 300);
  for (let i = 0; i < lines; i++) body.write(line(i), i * 300, 'latin1');
  const client = new S3Client(server.clientConfig);
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  } finally {
    client.destroy();
  }
  return lines;
}

/** s3rver and the latency proxy, running in a child process. */
interface ReadServer {
  server: S3TestServer;
  proxyEndpoint: string;
  stop(): Promise<void>;
}

/** Starts `read-server-child.js` and waits for its JSON line. */
async function startReadServer(bucket: string, latencyMs: number): Promise<ReadServer> {
  const script = fileURLToPath(new URL('./read-server-child.js', import.meta.url));
  const child = spawn(process.execPath, [script, bucket, String(latencyMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const line = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      text += d;
      const nl = text.indexOf('\n');
      if (nl !== -1) resolve(text.slice(0, nl));
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`read server child exited with code ${code}`)));
  });
  const ready = JSON.parse(line) as {
    endpoint: string;
    port: number;
    proxy: string;
    clientConfig: S3TestServer['clientConfig'];
  };
  const stop = async (): Promise<void> => {
    child.stdin.end();
    await exited;
  };
  return {
    server: {
      kind: 's3rver',
      endpoint: ready.endpoint,
      port: ready.port,
      clientConfig: ready.clientConfig,
      createBucket: () => Promise.reject(new Error('not needed')),
      stop,
    },
    proxyEndpoint: ready.proxy,
    stop,
  };
}

/**
 * S3 reads through a latency proxy (a fixed delay before each request, like
 * real S3's time to first byte) in front of s3rver, both in a child process
 * so that their work does not share the reader's thread; side by side in one
 * run: a segments
 * checkpoint read one GET at a time and with segments fetched ahead; one big
 * object read as a single stream and in parallel ranges. Plus the requests
 * that opening a segments checkpoint costs, up to 100,000 segments (an
 * in-memory listing) and on moto.
 */
export async function s3ReadBench(
  bucket: string,
  plan: S3ReadPlan,
  log: (message: string) => void,
): Promise<S3ReadResult> {
  const stamp = Date.now();
  const segKey = `bench-read-segments-${stamp}`;
  const objKey = `bench-read-object-${stamp}.jsonl`;
  const linesPer = 10;
  log('s3 read: starting s3rver and the latency proxy in a child process');
  const child = await startReadServer(bucket, plan.latencyMs);
  const server = child.server;
  const proxy = { endpoint: child.proxyEndpoint };
  try {
    log(`s3 read: putting ${plan.segments} segments and a ${plan.objectBytes / MiB} MiB object`);
    await putSegments(server, bucket, `${segKey}/`, plan.segments, linesPer);
    const objectLines = await putObject(server, bucket, objKey, plan.objectBytes);
    const at = (key: string, options: S3StorageOptions) =>
      storageAt(proxy.endpoint, server, bucket, key, options);
    const segLines = plan.segments * linesPer;
    log(
      `s3 read: ${plan.segments} segments: parallel, the server's limit, one at a time (${plan.latencyMs} ms per request)`,
    );
    const segParallel = await timeReads(plan.runs, segLines, () =>
      at(segKey, { layout: 'segments' }),
    );
    const segInputs = Array.from({ length: plan.segments }, (_, i) => ({
      Bucket: bucket,
      Key: `${segKey}/${String(i).padStart(12, '0')}.jsonl`,
    }));
    const segLimit = await timeRaw(
      plan.runs,
      segParallel.bytes,
      () => rawGets(proxy.endpoint, server, segInputs, DEFAULT_CONCURRENCY),
      plan.segments,
    );
    const segSequential = await timeReads(1, segLines, () =>
      at(segKey, { layout: 'segments', readConcurrency: 1 }),
    );
    log(
      `s3 read: a ${plan.objectBytes / MiB} MiB object: parallel ranges, one stream, and bare GETs of each`,
    );
    const objectBytes = objectLines * 300;
    const threshold = Math.min(S3_SIZES.parallelReadThresholdBytes, objectBytes);
    const objParallel = await timeReads(plan.runs, objectLines, () =>
      at(objKey, { parallelReadThresholdBytes: threshold }),
    );
    const objSingle = await timeReads(plan.runs, objectLines, () =>
      // One range as large as S3 allows: one GET, streamed.
      at(objKey, { readRangeBytes: 5 * 1024 * MiB, parallelReadThresholdBytes: 5 * 1024 * MiB }),
    );
    const ranges = Array.from({ length: Math.ceil(objectBytes / DEFAULT_RANGE) }, (_, i) => ({
      Bucket: bucket,
      Key: objKey,
      Range: `bytes=${i * DEFAULT_RANGE}-${Math.min((i + 1) * DEFAULT_RANGE, objectBytes) - 1}`,
    }));
    // The read-ahead budget holds RANGES_IN_FLIGHT ranges: the bare client gets as many.
    const objLimit = await timeRaw(
      plan.runs,
      objectBytes,
      () => rawGets(proxy.endpoint, server, ranges, RANGES_IN_FLIGHT),
      ranges.length,
    );
    const objRawSingle = await timeRaw(
      plan.runs,
      objectBytes,
      () => rawGets(proxy.endpoint, server, [{ Bucket: bucket, Key: objKey }], 1),
      1,
    );
    log('s3 open: requests versus segment count');
    const open: OpenPoint[] = [];
    for (const count of plan.openCounts) open.push(await openRequests(count));
    const onMoto = storageAt(server.endpoint, server, bucket, segKey, {
      layout: 'segments',
      conditionalWrites: 'off',
    });
    const counts = countRequests(onMoto.client);
    await onMoto.write('{"bench":"open"}\n');
    await onMoto.flush();
    await onMoto.close();
    const motoPages = Math.ceil(plan.segments / 1000);
    return {
      latencyMs: plan.latencyMs,
      runs: plan.runs,
      segments: {
        count: plan.segments,
        concurrency: DEFAULT_CONCURRENCY,
        bytes: segParallel.bytes,
        lines: segLines,
        sequential: segSequential,
        parallel: segParallel,
        limit: segLimit,
      },
      object: {
        rangeBytes: DEFAULT_RANGE,
        concurrency: RANGES_IN_FLIGHT,
        bytes: objParallel.bytes,
        lines: objectLines,
        sequential: objSingle,
        parallel: objParallel,
        limit: objLimit,
        rawSingle: objRawSingle,
      },
      open,
      openOnMoto: {
        segments: plan.segments,
        requests: total(counts) - 1,
        fullListing: motoPages + 1,
      },
    };
  } finally {
    await child.stop();
  }
}
