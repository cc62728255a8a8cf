import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  ConditionalWritesUnsupportedError,
  StoragePermissionError,
  StorageUnavailableError,
} from '@yoink/storage-core';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3Storage } from '../src/index.js';

// Endpoints the tests below pretend to talk to; nothing is sent over the network.
const B2 = 'https://s3.us-west-004.backblazeb2.com';
const CUSTOM = 'https://objects.example.test';

function s3Error(name: string, status: number, message = name): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, attempts: 1 },
    message,
  });
}

function md5(body: unknown): string {
  return `"${createHash('md5')
    .update(Buffer.from(body as Buffer))
    .digest('hex')}"`;
}

function clientFor(endpoint: string): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

type Mock = ReturnType<typeof mockClient>;

function commands(mock: Mock): Array<[string, Record<string, unknown>]> {
  return mock.calls().map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: object };
    return [
      command.constructor.name.replace(/Command$/, ''),
      command.input as Record<string, unknown>,
    ];
  });
}

function probeRequests(mock: Mock): number {
  return commands(mock).filter(([, i]) => String(i.Key ?? '').includes('.yoink-probe-')).length;
}

/**
 * A server that stores objects in a Map and enforces If-None-Match / If-Match
 * on PutObject and CompleteMultipartUpload, as AWS S3 does.
 */
function enforcingServer(mock: Mock): Map<string, { body: Buffer; etag: string }> {
  const objects = new Map<string, { body: Buffer; etag: string }>();
  const check = (input: { Key?: string; IfNoneMatch?: string; IfMatch?: string }) => {
    const existing = objects.get(input.Key ?? '');
    if (input.IfNoneMatch === '*' && existing) throw s3Error('PreconditionFailed', 412);
    if (input.IfMatch !== undefined) {
      if (!existing) throw s3Error('NoSuchKey', 404);
      if (existing.etag !== input.IfMatch) throw s3Error('PreconditionFailed', 412);
    }
  };
  mock.on(HeadObjectCommand).callsFake((input: { Key: string }) => {
    const o = objects.get(input.Key);
    if (!o) throw s3Error('NotFound', 404);
    return { ETag: o.etag, ContentLength: o.body.length };
  });
  mock.on(PutObjectCommand).callsFake((input: { Key: string; Body: Buffer }) => {
    check(input);
    const etag = md5(input.Body);
    objects.set(input.Key, { body: Buffer.from(input.Body), etag });
    return { ETag: etag };
  });
  mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up' });
  mock.on(UploadPartCommand).resolves({ ETag: '"part"' });
  mock.on(CompleteMultipartUploadCommand).callsFake((input: { Key: string }) => {
    check(input);
    objects.set(input.Key, { body: Buffer.from('x'), etag: '"mpu-1"' });
    return { ETag: '"mpu-1"' };
  });
  mock.on(AbortMultipartUploadCommand).resolves({});
  mock.on(DeleteObjectCommand).callsFake((input: { Key: string }) => {
    objects.delete(input.Key);
    return {};
  });
  mock.on(ListObjectsV2Command).resolves({ IsTruncated: false, Contents: [] });
  return objects;
}

describe('an endpoint that answers NotImplemented to conditional writes (as Backblaze B2 does)', () => {
  const client = clientFor(B2);
  const mock = mockClient(client);

  beforeEach(() => {
    mock.reset();
    mock.on(HeadObjectCommand).rejects(s3Error('NotFound', 404));
    mock.on(ListObjectsV2Command).resolves({ IsTruncated: false, Contents: [] });
    mock.on(PutObjectCommand).callsFake((input: { IfNoneMatch?: string; IfMatch?: string }) => {
      if (input.IfNoneMatch !== undefined || input.IfMatch !== undefined) {
        throw s3Error(
          'NotImplemented',
          501,
          'A header you provided implies functionality that is not implemented',
        );
      }
      return { ETag: '"e"' };
    });
    mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up' });
    mock.on(UploadPartCommand).resolves({ ETag: '"p"' });
    mock.on(CompleteMultipartUploadCommand).rejects(s3Error('NotImplemented', 501));
    mock.on(AbortMultipartUploadCommand).resolves({});
    mock.on(DeleteObjectCommand).resolves({});
  });

  for (const layout of ['object', 'segments'] as const) {
    it(`is refused with ConditionalWritesUnsupportedError naming the endpoint and the opt-out (layout=${layout})`, async () => {
      const s = new S3Storage(`s3://b2-bucket-${layout}/crawls/a.jsonl`, { client, layout });
      const e = await s
        .write('x\n')
        .then(() => s.flush())
        .catch((x: unknown) => x);
      expect(ConditionalWritesUnsupportedError.isInstance(e)).toBe(true);
      const message = (e as Error).message;
      expect(message).toContain('s3.us-west-004.backblazeb2.com');
      expect(message).toContain('NotImplemented');
      expect(message).toContain('conditionalWrites=off');
      // Nothing but the probe's throw-away object was written.
      const puts = commands(mock).filter(([n]) => n === 'PutObject');
      expect(puts.length).toBeGreaterThan(0);
      for (const [, input] of puts) expect(String(input.Key)).toContain('.yoink-probe-');
    });
  }

  it("works with conditionalWrites: 'off', sending no conditional header", async () => {
    const s = new S3Storage('s3://b2-bucket-off/crawls/a.jsonl', {
      client,
      conditionalWrites: 'off',
    });
    await s.write('x\n');
    await s.flush();
    expect(commands(mock).map(([n]) => n)).toEqual(['HeadObject', 'PutObject']);
    const put = commands(mock)[1]?.[1] ?? {};
    expect(put.Key).toBe('crawls/a.jsonl');
    expect(put.IfNoneMatch).toBeUndefined();
    expect(put.IfMatch).toBeUndefined();
  });
});

describe('the probe on an endpoint that enforces conditional writes', () => {
  const client = clientFor(CUSTOM);
  const mock = mockClient(client);

  beforeEach(() => {
    mock.reset();
  });

  it('runs once per injected client and bucket', async () => {
    enforcingServer(mock);
    const a = new S3Storage('s3://once-bucket/a.jsonl', { client });
    await a.write('a\n');
    await a.flush();
    const first = probeRequests(mock);
    expect(first).toBeGreaterThan(0);
    const b = new S3Storage('s3://once-bucket/b.jsonl', { client });
    await b.write('b\n');
    await b.flush();
    expect(probeRequests(mock)).toBe(first);
    // Another client on the same endpoint is checked on its own.
    const other = clientFor(CUSTOM);
    const otherMock = mockClient(other);
    enforcingServer(otherMock);
    const c = new S3Storage('s3://once-bucket/c.jsonl', { client: other });
    await c.write('c\n');
    await c.flush();
    expect(probeRequests(otherMock)).toBeGreaterThan(0);
    otherMock.restore();
  });

  it('checks If-None-Match and If-Match on PutObject and If-Match on CompleteMultipartUpload, then deletes its object', async () => {
    const objects = enforcingServer(mock);
    const s = new S3Storage('s3://checks-bucket/a.jsonl', { client });
    await s.write('a\n');
    await s.flush();
    const probe = commands(mock).filter(([, i]) => String(i.Key ?? '').includes('.yoink-probe-'));
    const puts = probe.filter(([n]) => n === 'PutObject').map(([, i]) => i);
    expect(puts.some((i) => i.IfNoneMatch === '*')).toBe(true);
    expect(puts.some((i) => typeof i.IfMatch === 'string')).toBe(true);
    const completes = probe.filter(([n]) => n === 'CompleteMultipartUpload');
    expect(completes.some(([, i]) => typeof i.IfMatch === 'string')).toBe(true);
    expect(probe.some(([n]) => n === 'DeleteObject')).toBe(true);
    // The probe key sits beside the checkpoint, so a policy scoped to its prefix covers it.
    expect(String(probe[0]?.[1].Key)).toMatch(/^a\.jsonl\.yoink-probe-[0-9a-f-]{36}$/);
    expect([...objects.keys()]).toEqual(['a.jsonl']);
  });

  it('a probe that fails for a transient reason is not cached: the next write checks again', async () => {
    enforcingServer(mock);
    mock
      .on(PutObjectCommand)
      .rejectsOnce(s3Error('SlowDown', 503))
      .callsFake(() => ({ ETag: '"x"' }));
    // The first PutObject (the probe's) is throttled past the retries.
    const s = new S3Storage('s3://transient-bucket/a.jsonl', { client });
    const e = await s.write('a\n').catch((x: unknown) => x);
    expect(StorageUnavailableError.isInstance(e)).toBe(true);
    expect((e as StorageUnavailableError).retryable).toBe(true);
    // The server now ignores conditions: had the failure been cached as a
    // verdict the storage would never look again; it looks, and refuses.
    const again = await s.write('a\n').catch((x: unknown) => x);
    expect(ConditionalWritesUnsupportedError.isInstance(again)).toBe(true);
  });

  it('a probe refused by a permission is a StoragePermissionError naming it, and is not cached', async () => {
    enforcingServer(mock);
    mock.on(PutObjectCommand).rejectsOnce(s3Error('AccessDenied', 403));
    const s = new S3Storage('s3://denied-bucket/a.jsonl', { client });
    const e = await s.write('a\n').catch((x: unknown) => x);
    expect(StoragePermissionError.isInstance(e)).toBe(true);
    expect((e as Error).message).toContain('s3:PutObject');
  });

  it('a missing s3:DeleteObject does not fail the probe', async () => {
    enforcingServer(mock);
    mock.on(DeleteObjectCommand).rejects(s3Error('AccessDenied', 403));
    const s = new S3Storage('s3://no-delete-bucket/a.jsonl', { client });
    await s.write('a\n');
    await s.flush();
    expect(s.bufferedBytes).toBe(0);
  });

  it('Amazon S3 itself (no custom endpoint) is trusted without a probe', async () => {
    const aws = new S3Client({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const awsMock = mockClient(aws);
    enforcingServer(awsMock);
    const s = new S3Storage('s3://aws-bucket/a.jsonl', { client: aws });
    await s.write('a\n');
    await s.flush();
    expect(probeRequests(awsMock)).toBe(0);
    awsMock.restore();
  });
});
