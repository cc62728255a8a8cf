import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { StorageError } from '@yoink/storage-core';
import { collectLines } from '@yoink/storage-testkit';
import { type S3TestServer, startMoto } from '@yoink/test-servers/s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3Storage, type S3StorageOptions } from '../src/index.js';
import { segmentKey } from '../src/segments-layout.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';

const BUCKET = 'yoink-parallel-read';
const KiB = 1024;
let moto: S3TestServer;
let proxy: FaultProxy;
let direct: S3Client;
let n = 0;

beforeAll(async () => {
  moto = await startMoto({ buckets: [BUCKET] });
  proxy = await startFaultProxy(moto.endpoint);
  direct = new S3Client(moto.clientConfig);
}, 60_000);

afterAll(async () => {
  direct?.destroy();
  await proxy?.stop();
  await moto?.stop();
});

beforeEach(() => {
  proxy.decide = () => 'pass';
});

function open(endpoint: string, key: string, options: S3StorageOptions = {}): S3Storage {
  return new S3Storage(
    `s3://${BUCKET}/${key}?endpoint=${encodeURIComponent(endpoint)}&forcePathStyle=true`,
    { ...options, clientConfig: { credentials: moto.clientConfig.credentials } },
  );
}

/** The lines of segment `i`: `count` lines of about `bytes` bytes each. */
function segmentLines(i: number, count: number, bytes = 40): string[] {
  return Array.from({ length: count }, (_, j) => {
    const head = `{"segment":${i},"line":${j},"pad":"`;
    return `${head}${'x'.repeat(Math.max(0, bytes - head.length - 2))}"}`;
  });
}

/** Puts segments straight into moto (20 at a time); returns every line in order. */
async function putSegments(key: string, sizes: readonly number[][]): Promise<string[]> {
  const all: string[][] = [];
  for (let i = 0; i < sizes.length; i += 20) {
    await Promise.all(
      sizes.slice(i, i + 20).map(async ([count, bytes], j) => {
        const lines = segmentLines(i + j, count ?? 1, bytes);
        all[i + j] = lines;
        await direct.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: segmentKey(`${key}/`, i + j),
            Body: lines.map((l) => `${l}\n`).join(''),
          }),
        );
      }),
    );
  }
  return all.flat();
}

interface GetMeter {
  /** GETs sent whose reply has not come yet, now and at most. */
  inFlight: number;
  maxInFlight: number;
  /** Body bytes announced by the GET replies received so far. */
  received: number;
  /** Each GET's input, in the order they were sent, with the bytes consumed then. */
  sent: { input: Record<string, unknown>; consumedBefore: number }[];
  /** Bytes the consumer has taken (lines plus their newline); updated by the test. */
  consumed: number;
}

/** Counts the GETs of `client` with a middleware (the bytes ahead of the consumer, in flight). */
function meterGets(client: S3Client): GetMeter {
  const m: GetMeter = { inFlight: 0, maxInFlight: 0, received: 0, sent: [], consumed: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'GetObjectCommand') return next(args);
      m.sent.push({ input: args.input as Record<string, unknown>, consumedBefore: m.consumed });
      m.inFlight += 1;
      m.maxInFlight = Math.max(m.maxInFlight, m.inFlight);
      try {
        const out = await next(args);
        m.received += Number((out.output as { ContentLength?: number }).ContentLength ?? 0);
        return out;
      } finally {
        m.inFlight -= 1;
      }
    },
    { step: 'initialize', name: 'yoinkMeterGets' },
  );
  return m;
}

/** Reads every line, recording the most bytes the storage had fetched ahead of the consumer. */
async function readMetered(s: S3Storage, m: GetMeter): Promise<{ lines: string[]; ahead: number }> {
  const lines: string[] = [];
  let ahead = 0;
  for await (const line of s.read()) {
    ahead = Math.max(ahead, m.received - m.consumed);
    m.consumed += Buffer.byteLength(line) + 1;
    lines.push(line);
  }
  return { lines, ahead };
}

describe('segments layout: parallel read', () => {
  it('many small segments: every line exactly once and in order, with several GETs in flight and never more than readConcurrency', {
    timeout: 60_000,
  }, async () => {
    const key = `many-${++n}`;
    const expected = await putSegments(
      key,
      Array.from({ length: 200 }, (_, i) => [1 + (i % 7), 30 + (i % 50)]),
    );
    const s = open(moto.endpoint, key, { layout: 'segments', readConcurrency: 8 });
    const m = meterGets(s.client);
    const { lines } = await readMetered(s, m);
    expect(lines).toEqual(expected);
    expect(m.sent.length).toBe(200);
    expect(m.maxInFlight).toBeGreaterThan(1);
    expect(m.maxInFlight).toBeLessThanOrEqual(8);
  });

  it('bytes fetched ahead of the consumer stay within readAheadBytes', {
    timeout: 60_000,
  }, async () => {
    const key = `budget-${++n}`;
    // 40 segments of 100 lines of 100 bytes (10,000 bytes each).
    const expected = await putSegments(
      key,
      Array.from({ length: 40 }, () => [100, 99]),
    );
    const budget = 35_000;
    const s = open(moto.endpoint, key, {
      layout: 'segments',
      readConcurrency: 16,
      readAheadBytes: budget,
    });
    const m = meterGets(s.client);
    const { lines, ahead } = await readMetered(s, m);
    expect(lines).toEqual(expected);
    // The budget holds three segments: the concurrency of 16 is never reached.
    expect(m.maxInFlight).toBeGreaterThan(1);
    expect(m.maxInFlight).toBeLessThanOrEqual(3);
    expect(ahead).toBeLessThanOrEqual(budget + 100);
  });

  it('a segment larger than readAheadBytes is streamed alone, after everything before it', {
    timeout: 60_000,
  }, async () => {
    const key = `big-segment-${++n}`;
    const expected = await putSegments(key, [
      [10, 50],
      [10, 50],
      [2_000, 100],
      [10, 50],
      [10, 50],
    ]);
    const s = open(moto.endpoint, key, { layout: 'segments', readAheadBytes: 50 * KiB });
    const m = meterGets(s.client);
    const { lines } = await readMetered(s, m);
    expect(lines).toEqual(expected);
    const bigKey = segmentKey(`${key}/`, 2);
    const big = m.sent.findIndex((g) => g.input.Key === bigKey);
    // Nothing after it was requested before the consumer had every line up to its end.
    const upToBig = expected.slice(0, 2_020).reduce((t, l) => t + Buffer.byteLength(l) + 1, 0);
    for (const later of m.sent.slice(big + 1)) {
      expect(later.consumedBefore).toBeGreaterThanOrEqual(upToBig);
    }
  });
});

/** Grows an object of about `bytes` in flushes of `flushBytes` (server-side appends past 5 MiB). */
async function growObject(key: string, bytes: number, flushBytes: number): Promise<string[]> {
  const w = open(moto.endpoint, key, { conditionalWrites: 'off' });
  const all: string[] = [];
  for (let f = 0; all.length * 100 < bytes; f++) {
    const lines = segmentLines(f, Math.ceil(flushBytes / 100), 99);
    for (const l of lines) await w.write(`${l}\n`);
    await w.flush();
    all.push(...lines);
  }
  await w.close();
  return all;
}

describe('object layout: parallel ranged read', () => {
  it('a multipart object over the threshold is read in ranges, in order and exactly, each range conditional on the first ETag', {
    timeout: 60_000,
  }, async () => {
    const key = `ranges-${++n}.jsonl`;
    const expected = await growObject(key, 6 * 1024 * KiB, 1024 * KiB);
    const s = open(moto.endpoint, key, {
      parallelReadThresholdBytes: 1024 * KiB,
      readRangeBytes: 256 * KiB,
      readConcurrency: 4,
      readAheadBytes: 768 * KiB,
    });
    const m = meterGets(s.client);
    const { lines, ahead } = await readMetered(s, m);
    expect(lines).toEqual(expected);
    const size = expected.length * 100;
    expect(m.sent.length).toBe(Math.ceil(size / (256 * KiB)));
    const [first, ...rest] = m.sent.map((g) => g.input);
    expect(first).toMatchObject({ Range: `bytes=0-${256 * KiB - 1}` });
    expect(first?.IfMatch).toBeUndefined();
    const etag = rest[0]?.IfMatch;
    expect(etag).toMatch(/-\d+"?$/); // a multipart object's ETag
    rest.forEach((input, i) => {
      const start = (i + 1) * 256 * KiB;
      expect(input).toMatchObject({
        IfMatch: etag,
        Range: `bytes=${start}-${Math.min(start + 256 * KiB, size) - 1}`,
      });
    });
    expect(m.maxInFlight).toBeGreaterThan(1);
    expect(m.maxInFlight).toBeLessThanOrEqual(3);
    expect(ahead).toBeLessThanOrEqual(768 * KiB + 100);
  });

  it('an object between readRangeBytes and the threshold: one more streamed GET for the rest, with If-Match', {
    timeout: 60_000,
  }, async () => {
    const key = `two-gets-${++n}.jsonl`;
    const expected = await growObject(key, 300 * KiB, 100 * KiB);
    const s = open(moto.endpoint, key, { readRangeBytes: 64 * KiB });
    const m = meterGets(s.client);
    expect((await readMetered(s, m)).lines).toEqual(expected);
    expect(m.sent.map((g) => g.input.Range)).toEqual([
      `bytes=0-${64 * KiB - 1}`,
      `bytes=${64 * KiB}-${expected.length * 100 - 1}`,
    ]);
    expect(m.sent[1]?.input.IfMatch).toMatch(/^"?[0-9a-f]+"?$/);
  });

  it('a flush between two ranges fails the read with a StorageError instead of mixing two versions', {
    timeout: 60_000,
  }, async () => {
    const key = `changes-${++n}.jsonl`;
    await growObject(key, 1024 * KiB, 512 * KiB);
    const reader = open(moto.endpoint, key, {
      parallelReadThresholdBytes: 512 * KiB,
      readRangeBytes: 256 * KiB,
      readConcurrency: 1,
      readAheadBytes: 256 * KiB,
    });
    const writer = open(moto.endpoint, key, { conditionalWrites: 'off' });
    const lines: string[] = [];
    const e = await (async () => {
      for await (const line of reader.read()) {
        if (lines.length === 0) {
          await writer.write('{"late":true}\n');
          await writer.flush();
        }
        lines.push(line);
      }
    })().then(
      () => undefined,
      (x: unknown) => x,
    );
    await writer.close();
    expect(StorageError.isInstance(e), String(e)).toBe(true);
    expect((e as Error).message).toContain('changed while it was being read');
    // Only the first range was yielded: every line from the version the read started on.
    expect(lines.length).toBeLessThanOrEqual(Math.ceil((256 * KiB) / 100));
    expect(lines.every((l) => l.startsWith('{"segment":'))).toBe(true);
  });
});

describe('object layout: edge cases of the first ranged GET', () => {
  it('an empty object reads as nothing (a range of it is unsatisfiable: read whole)', async () => {
    const key = `empty-${++n}.jsonl`;
    await direct.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: '' }));
    expect(await collectLines(open(moto.endpoint, key).read())).toEqual([]);
  });

  it('a missing object reads as nothing', async () => {
    expect(await collectLines(open(moto.endpoint, `missing-${++n}.jsonl`).read())).toEqual([]);
  });
});

describe('cancelling a parallel read', () => {
  const cases = {
    segments: {
      async setUp(key: string) {
        await putSegments(
          key,
          Array.from({ length: 10 }, () => [5, 50]),
        );
        // Segments 0 and 1 answer; the GETs of the others hang until the client gives up.
        proxy.decide = (req) =>
          req.method === 'GET' && /\/0{10}(?:0[2-9]|[1-9]\d)\.jsonl/.test(req.url ?? '')
            ? 'hang'
            : 'pass';
        return { layout: 'segments', readConcurrency: 4 } as const;
      },
    },
    object: {
      async setUp(key: string) {
        await growObject(key, 1024 * KiB, 512 * KiB);
        // The first range answers; every later range hangs.
        proxy.decide = (req) =>
          req.method === 'GET' && /^bytes=[1-9]/.test(String(req.headers.range ?? ''))
            ? 'hang'
            : 'pass';
        return {
          parallelReadThresholdBytes: 512 * KiB,
          readRangeBytes: 128 * KiB,
          readConcurrency: 4,
        } as const;
      },
    },
  };

  for (const [layout, { setUp }] of Object.entries(cases)) {
    it(`layout=${layout}: an abort cancels every GET in flight (the server sees them closed)`, {
      timeout: 30_000,
    }, async () => {
      const key = `abort-${layout}-${++n}${layout === 'object' ? '.jsonl' : ''}`;
      const options = await setUp(key);
      // A long request timeout: only the abort can close the hanging requests in time.
      const s = open(proxy.endpoint, key, { ...options, requestTimeoutMs: 120_000 });
      const controller = new AbortController();
      const read = collectLines(s.read({ signal: controller.signal })).then(
        () => undefined,
        (x: unknown) => x,
      );
      await proxy.hangingReaches(2);
      controller.abort();
      expect(((await read) as Error | undefined)?.name).toBe('AbortError');
      await proxy.noneHanging();
      expect(proxy.hanging).toBe(0);
    });

    it(`layout=${layout}: a reader that stops early releases the GETs in flight`, {
      timeout: 30_000,
    }, async () => {
      const key = `early-${layout}-${++n}${layout === 'object' ? '.jsonl' : ''}`;
      const options = await setUp(key);
      const s = open(proxy.endpoint, key, { ...options, requestTimeoutMs: 120_000 });
      for await (const _ of s.read()) {
        await proxy.hangingReaches(2);
        break;
      }
      await proxy.noneHanging();
      expect(proxy.hanging).toBe(0);
    });
  }
});
