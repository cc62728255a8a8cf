import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3Storage } from '@yoink/storage-s3';
import type { S3TestServer } from '@yoink/test-servers/s3';
import {
  countRequest,
  type GrowthRun,
  growByFlushes,
  type WireMeter,
  wireMeter,
} from './growth.js';

/** One design's run: its flushes, in order. */
export interface S3Run extends GrowthRun {
  design: S3DesignName;
  server: S3TestServer['kind'];
  /** The storage's `conditionalWrites` (absent for the seed). */
  conditionalWrites?: 'on' | 'off';
}

/** Counts request/response body bytes, requests and command names with a client middleware. */
function meter(client: S3Client): WireMeter {
  const m = wireMeter();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      countRequest(m, (context.commandName ?? 'unknown').replace(/Command$/, ''));
      const request = args.request as
        | { method?: string; body?: unknown; headers?: Record<string, string | undefined> }
        | undefined;
      const body = request?.body;
      if (typeof body === 'string') m.up += Buffer.byteLength(body);
      else if (body instanceof Uint8Array) m.up += body.byteLength;
      // A streamed body announces its size.
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

/** The run's name: the design, the server and, for the storage, its `conditionalWrites`. */
function runName(
  kind: S3TestServer['kind'],
  design: S3DesignName,
  conditions: 'on' | 'off',
): string {
  if (design === 'seed') return `seed: download + append + re-upload (${kind})`;
  return `${design} layout (${kind}, conditionalWrites=${conditions})`;
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
  let grown: Awaited<ReturnType<typeof growByFlushes>>;
  try {
    grown = await growByFlushes(d.append, m, totalBytes, flushBytes);
  } finally {
    await d.close();
  }
  return {
    name: runName(server.kind, design, conditions),
    design,
    server: server.kind,
    ...grown,
    ...(design === 'seed' ? {} : { conditionalWrites: conditions }),
  };
}
