import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3Storage } from '@yoink/storage-s3';
import type { S3TestServer } from '@yoink/test-servers/s3';
import { MiB } from './stats.js';

/** Bytes on the wire and requests of one flush. */
export interface S3Flush {
  /** Object size before this flush, bytes. */
  size: number;
  /** Bytes of the flush's data. */
  data: number;
  /** Request body bytes sent. */
  up: number;
  /** Response body bytes received (GET). */
  down: number;
  requests: number;
}

/** One design's run: its flushes, in order. */
export interface S3Run {
  name: string;
  server: S3TestServer['kind'];
  flushes: S3Flush[];
  seconds: number;
  /** The storage's `conditionalWrites` (absent for the seed). */
  conditionalWrites?: 'on' | 'off';
}

interface Meter {
  up: number;
  down: number;
  requests: number;
}

/** Counts request/response body bytes and requests with a client middleware. */
function meter(client: S3Client): Meter {
  const m: Meter = { up: 0, down: 0, requests: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as
        | { method?: string; body?: unknown; headers?: Record<string, string | undefined> }
        | undefined;
      m.requests += 1;
      const body = request?.body;
      if (typeof body === 'string') m.up += Buffer.byteLength(body);
      else if (body instanceof Uint8Array) m.up += body.byteLength;
      // A streamed body (the conditional re-put past 5 MiB) announces its size.
      else if (body !== undefined) m.up += Number(request?.headers?.['content-length'] ?? 0);
      const out = await next(args);
      const response = out.response as { headers?: Record<string, string | undefined> } | undefined;
      if (request?.method === 'GET') m.down += Number(response?.headers?.['content-length'] ?? 0);
      return out;
    },
    { step: 'finalizeRequest', name: 'yoinkBenchMeter', priority: 'low' },
  );
  return m;
}

/** A flush's worth of JSONL (`bytes` long, whole lines). */
function flushData(i: number, bytes: number): string {
  const line = `{"i":${i},"url":"https://example.com/page/${i}","pad":"${'x'.repeat(180)}"}\n`;
  return `${line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes - 1)}\n`;
}

interface Design {
  client: S3Client;
  append(data: string): Promise<void>;
  close(): Promise<void>;
}

/** The seed's S3 design, reimplemented: every flush downloads the object, appends, re-uploads it. */
function seedDesign(server: S3TestServer, bucket: string, key: string): Design {
  const client = new S3Client(server.clientConfig);
  return {
    client,
    async append(data) {
      let old: Uint8Array = new Uint8Array(0);
      try {
        const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        old = (await got.Body?.transformToByteArray()) ?? old;
      } catch (e) {
        if ((e as { name?: string }).name !== 'NoSuchKey') throw e;
      }
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: Buffer.concat([old, Buffer.from(data)]),
        }),
      );
    },
    async close() {
      client.destroy();
    },
  };
}

function storageDesign(
  server: S3TestServer,
  bucket: string,
  key: string,
  layout: 'object' | 'segments',
  conditionalWrites: 'on' | 'off',
): Design {
  const s = new S3Storage(
    `s3://${bucket}/${key}?endpoint=${encodeURIComponent(server.endpoint)}&forcePathStyle=true&layout=${layout}&conditionalWrites=${conditionalWrites}`,
    {
      clientConfig: {
        credentials: server.clientConfig.credentials,
        region: server.clientConfig.region,
      },
    },
  );
  return {
    client: s.client,
    async append(data) {
      await s.write(data);
      await s.flush();
    },
    close: () => s.close(),
  };
}

/** Which design a run measures. */
export type S3DesignName = 'seed' | 'object' | 'segments';

/**
 * The run's name. moto enforces If-Match on PutObject but not on
 * CompleteMultipartUpload, so with conditional writes on, the object layout
 * past 5 MiB re-puts the object whole there (streamed); with
 * `conditionalWrites=off` it runs the server-side append that Amazon S3,
 * MinIO and R2 run with conditions on.
 */
function runName(
  kind: S3TestServer['kind'],
  design: S3DesignName,
  conditions: 'on' | 'off',
): string {
  if (design === 'seed') return `seed: download + append + re-upload (${kind})`;
  if (design === 'segments') return `segments layout (${kind})`;
  if (kind === 's3rver') return 'object layout, fallback rewrite (s3rver)';
  return conditions === 'off'
    ? 'object layout, server-side append as on AWS (moto, conditionalWrites=off)'
    : 'object layout, conditions on: streamed re-put past 5 MiB (moto)';
}

/**
 * Grows one checkpoint to `totalBytes` in flushes of `flushBytes` with one
 * design on one server and records each flush's bytes up, bytes down and
 * requests (counted by a client middleware; a streamed request body counts
 * its `Content-Length`). s3rver ignores conditional headers, so there the
 * storage always runs with the explicit opt-out.
 */
export async function s3Run(
  server: S3TestServer,
  bucket: string,
  design: S3DesignName,
  totalBytes: number,
  flushBytes: number,
  conditionalWrites: 'on' | 'off' = 'on',
): Promise<S3Run> {
  const conditions = server.kind === 's3rver' ? 'off' : conditionalWrites;
  const key = `bench-${design}-${conditions}-${server.kind}-${Date.now()}${design === 'segments' ? '' : '.jsonl'}`;
  const d =
    design === 'seed'
      ? seedDesign(server, bucket, key)
      : storageDesign(server, bucket, key, design, conditions);
  const m = meter(d.client);
  const flushes: S3Flush[] = [];
  let size = 0;
  const t0 = performance.now();
  try {
    for (let i = 0; size < totalBytes; i++) {
      const before = { ...m };
      const data = flushData(i, flushBytes);
      await d.append(data);
      flushes.push({
        size,
        data: data.length,
        up: m.up - before.up,
        down: m.down - before.down,
        requests: m.requests - before.requests,
      });
      size += data.length;
    }
  } finally {
    await d.close();
  }
  return {
    name: runName(server.kind, design, conditions),
    server: server.kind,
    flushes,
    seconds: (performance.now() - t0) / 1000,
    ...(design === 'seed' ? {} : { conditionalWrites: conditions }),
  };
}

/** Totals of a run. */
export function s3Totals(run: S3Run): { up: number; down: number; requests: number } {
  return run.flushes.reduce(
    (t, f) => ({ up: t.up + f.up, down: t.down + f.down, requests: t.requests + f.requests }),
    { up: 0, down: 0, requests: 0 },
  );
}

/** The S3 multipart minimum: past it the object layout appends server-side. */
export const MULTIPART_MIN = 5 * MiB;
