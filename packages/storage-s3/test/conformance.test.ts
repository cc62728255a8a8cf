import { describeConformance, freePort } from '@yoink/storage-testkit';
import { type S3TestServer, startMoto, startS3rver } from '@yoink/test-servers/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Storage } from '../src/index.js';
import { failNextWrite, type RecordedCommand, recordCommands, storageOn } from './helpers.js';

const BUCKET = 'yoink-conformance';
const servers: { s3rver?: S3TestServer; moto?: S3TestServer } = {};

beforeAll(async () => {
  [servers.s3rver, servers.moto] = await Promise.all([
    startS3rver({ buckets: [BUCKET] }),
    startMoto({ buckets: [BUCKET] }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([servers.s3rver?.stop(), servers.moto?.stop()]);
});

function server(kind: 's3rver' | 'moto'): S3TestServer {
  const s = servers[kind];
  if (!s) throw new Error(`${kind} did not start`);
  return s;
}

for (const kind of ['s3rver', 'moto'] as const) {
  for (const layout of ['object', 'segments'] as const) {
    describeConformance<S3Storage>(`S3Storage layout=${layout} on ${kind}`, {
      create: (location) =>
        storageOn(
          server(kind),
          BUCKET,
          layout === 'object' ? `${location}.jsonl` : location,
          { layout },
          // s3rver ignores conditional headers: it runs only with the explicit opt-out.
          kind === 's3rver' ? { conditionalWrites: 'off' } : {},
        ),
      failNextFlush: (storage) => failNextWrite(storage.client),
      // Nothing listens on the port: one attempt, so the test does not wait for retries.
      unreachable: async (location) =>
        new S3Storage(
          `s3://${BUCKET}/${location}?endpoint=http%3A%2F%2F127.0.0.1%3A${await freePort()}&forcePathStyle=true`,
          {
            layout,
            maxAttempts: 1,
            clientConfig: { credentials: server(kind).clientConfig.credentials },
            ...(kind === 's3rver' ? { conditionalWrites: 'off' } : {}),
          },
        ),
      // s3rver ignores If-Match/If-None-Match, so it cannot detect a second
      // writer (and runs with conditionalWrites=off); moto enforces them, so
      // the real conflict path runs there.
      secondWriter: kind === 'moto',
      // Past 5 MiB, so the big-line checkpoint crosses the multipart minimum.
      bigLineBytes: 6_000_000,
    });
  }
}

describe('client settings for a custom endpoint', () => {
  it('a storage with ?endpoint= computes checksums only when required', async () => {
    const s = storageOn(server('s3rver'), BUCKET, 'settings.jsonl', { conditionalWrites: 'off' });
    expect(await s.client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await s.client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    expect(await s.client.config.region()).toBe('us-east-1');
    await s.close();
  });
});

const MiB = 1024 * 1024;

/** Lines of ~`bytes` bytes in total, numbered from `from`. */
function linesOf(from: number, bytes: number): string[] {
  const out: string[] = [];
  let total = 0;
  for (let i = from; total < bytes; i++) {
    const line = `{"i":${i},"pad":"${'p'.repeat(200 + (i % 50))}"}`;
    out.push(line);
    total += line.length + 1;
  }
  return out;
}

async function readLines(s: S3Storage): Promise<string[]> {
  const out: string[] = [];
  for await (const l of s.read()) out.push(l);
  return out;
}

/** Grows a checkpoint to ~6 MiB in 1 MiB flushes, then adds 3 flushes of ~100 KB. */
async function growPast5MiB(s: S3Storage): Promise<{
  all: string[];
  smallFlushes: string[][];
  log: RecordedCommand[];
  fullLog: RecordedCommand[];
}> {
  const fullLog = recordCommands(s.client);
  const all: string[] = [];
  for (let f = 0; f < 6; f++) {
    const lines = linesOf(all.length, MiB);
    for (const l of lines) await s.write(`${l}\n`);
    await s.flush();
    all.push(...lines);
  }
  const start = fullLog.length;
  const smallFlushes: string[][] = [];
  for (let f = 0; f < 3; f++) {
    const lines = linesOf(all.length, 100_000);
    for (const l of lines) await s.write(`${l}\n`);
    await s.flush();
    all.push(...lines);
    smallFlushes.push(lines);
  }
  return { all, smallFlushes, log: fullLog.slice(start), fullLog };
}

function bytesOf(lines: string[]): number {
  return lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
}

describe('a checkpoint past 5 MiB (object layout)', () => {
  it('on moto with conditionalWrites off, each flush appends server-side and uploads only the new bytes', {
    timeout: 60_000,
  }, async () => {
    const off = { conditionalWrites: 'off' } as const;
    const s = storageOn(server('moto'), BUCKET, 'grow-moto.jsonl', off);
    const { all, smallFlushes, log } = await growPast5MiB(s);
    const names = log.map((c) => c.name);
    // Per flush: create, one copy of the whole existing object, one new part, complete.
    expect(names).toEqual(
      smallFlushes.flatMap(() => [
        'CreateMultipartUpload',
        'UploadPartCopy',
        'UploadPart',
        'CompleteMultipartUpload',
      ]),
    );
    const uploads = log.filter((c) => c.name === 'UploadPart').map((c) => c.bytesUp);
    expect(uploads).toEqual(smallFlushes.map(bytesOf));
    expect(log.filter((c) => c.name === 'GetObject')).toEqual([]);
    for (const c of log) {
      expect(c.input.IfMatch).toBeUndefined();
      expect(c.input.CopySourceIfMatch).toBeUndefined();
    }
    expect(s.usesRewriteFallback).toBe(false);
    await s.close();

    // A new writer opens with HEAD + a 1-byte ranged GET, then appends the same way.
    const again = storageOn(server('moto'), BUCKET, 'grow-moto.jsonl', off);
    const log2 = recordCommands(again.client);
    const more = linesOf(all.length, 50_000);
    for (const l of more) await again.write(`${l}\n`);
    await again.close();
    all.push(...more);
    expect(log2.map((c) => c.name)).toEqual([
      'HeadObject',
      'GetObject',
      'CreateMultipartUpload',
      'UploadPartCopy',
      'UploadPart',
      'CompleteMultipartUpload',
    ]);
    expect(log2[1]?.bytesDown).toBe(1);
    const reader = storageOn(server('moto'), BUCKET, 'grow-moto.jsonl');
    expect(await readLines(reader)).toEqual(all);
    await reader.close();
  });

  it('on moto with conditional writes on (moto ignores If-Match on CompleteMultipartUpload), each flush re-puts the object with If-Match', {
    timeout: 60_000,
  }, async () => {
    const s = storageOn(server('moto'), BUCKET, 'grow-moto-guarded.jsonl');
    const { all, smallFlushes, log } = await growPast5MiB(s);
    // Per flush: a GET of the object streamed into one conditional PUT.
    expect(log.map((c) => c.name)).toEqual(smallFlushes.flatMap(() => ['GetObject', 'PutObject']));
    let size = bytesOf(all) - bytesOf(smallFlushes.flat());
    for (const [i, flush] of smallFlushes.entries()) {
      const get = log[2 * i];
      const put = log[2 * i + 1];
      expect(get?.input.IfMatch).toMatch(/^"?[0-9a-f]+(-\d+)?"?$/);
      expect(put?.input.IfMatch).toBe(get?.input.IfMatch);
      expect(put?.input.ContentLength).toBe(size + bytesOf(flush));
      size += bytesOf(flush);
    }
    expect(log.some((c) => c.name === 'CompleteMultipartUpload')).toBe(false);
    await s.close();
    const reader = storageOn(server('moto'), BUCKET, 'grow-moto-guarded.jsonl');
    expect(await readLines(reader)).toEqual(all);
    await reader.close();
  });

  it('on s3rver (no UploadPartCopy), flushes fall back to a streamed rewrite and the data is exact', {
    timeout: 60_000,
  }, async () => {
    const s = storageOn(server('s3rver'), BUCKET, 'grow-s3rver.jsonl', {
      partSizeBytes: 5 * MiB,
      conditionalWrites: 'off',
    });
    const { all, smallFlushes, log, fullLog } = await growPast5MiB(s);
    expect(s.usesRewriteFallback).toBe(true);
    // UploadPartCopy is tried once; the fallback is remembered for later flushes.
    expect(fullLog.filter((c) => c.name === 'UploadPartCopy').length).toBe(1);
    expect(fullLog.filter((c) => c.name === 'AbortMultipartUpload').length).toBe(1);
    expect(log.filter((c) => c.name === 'UploadPartCopy')).toEqual([]);
    // Each fallback flush streams the object once (no buffering of it all).
    expect(log.filter((c) => c.name === 'GetObject').length).toBe(smallFlushes.length);
    expect(log.filter((c) => c.name === 'CompleteMultipartUpload').length).toBe(
      smallFlushes.length,
    );
    expect(log.filter((c) => c.name === 'PutObject')).toEqual([]);
    await s.close();
    const reader = storageOn(server('s3rver'), BUCKET, 'grow-s3rver.jsonl', {
      conditionalWrites: 'off',
    });
    const lines = await readLines(reader);
    expect(lines.length).toBe(all.length);
    expect(lines).toEqual(all);
    await reader.close();
  });
});
