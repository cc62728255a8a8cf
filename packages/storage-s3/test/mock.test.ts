import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import {
  ConcurrentWriterError,
  StorageError,
  StoragePermissionError,
  StorageUnavailableError,
} from '@yoink/storage-core';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3Storage } from '../src/index.js';
import { listFrom } from './fake-listing.js';

const MiB = 1024 * 1024;
const URI = 's3://mock-bucket/crawls/a.jsonl';

function s3Error(name: string, status: number, message = name): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, attempts: 1 },
    message,
  });
}

function body(text: string): GetObjectCommandOutput['Body'] {
  return Readable.from([Buffer.from(text)]) as unknown as GetObjectCommandOutput['Body'];
}

function md5(text: string | Buffer): string {
  return createHash('md5').update(text).digest('hex');
}

const client = new S3Client({
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const mock = mockClient(client);

/** The commands sent, in order, as `[name, input]`. */
function sent(): Array<[string, Record<string, unknown>]> {
  return mock.calls().map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: object };
    return [
      command.constructor.name.replace(/Command$/, ''),
      command.input as Record<string, unknown>,
    ];
  });
}

function names(): string[] {
  return sent().map(([n]) => n);
}

function inputOf(name: string, index = 0): Record<string, unknown> {
  const found = sent().filter(([n]) => n === name)[index];
  if (!found) throw new Error(`no ${name} #${index} was sent; sent: ${names().join(', ')}`);
  return found[1];
}

function storage(options: ConstructorParameters<typeof S3Storage>[1] = {}): S3Storage {
  return new S3Storage(URI, { client, ...options });
}

beforeEach(() => {
  mock.reset();
});

/** A 6 MiB object ending in "\n" whose ETag is "big". */
function mockBigObject(size = 6 * MiB): void {
  mock.on(HeadObjectCommand).resolves({ ETag: '"big"', ContentLength: size });
  mock.on(GetObjectCommand).resolves({ Body: body('\n'), ETag: '"big"', ContentLength: 1 });
  mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
  mock.on(UploadPartCopyCommand).callsFake((input: { PartNumber: number }) => ({
    CopyPartResult: { ETag: `"${md5(`copy-${input.PartNumber}`)}"` },
  }));
  mock.on(UploadPartCommand).resolves({ ETag: `"${md5('new')}"` });
}

describe('object layout: the commands of each flush path', () => {
  it('creates a new object with one PutObject and If-None-Match: *', async () => {
    mock.on(HeadObjectCommand).rejects(s3Error('NotFound', 404));
    mock.on(PutObjectCommand).resolves({ ETag: '"e1"' });
    const s = storage();
    await s.write('{"a":1}\n');
    await s.flush();
    expect(names()).toEqual(['HeadObject', 'PutObject']);
    const put = inputOf('PutObject');
    expect(put.IfNoneMatch).toBe('*');
    expect(put.IfMatch).toBeUndefined();
    expect(Buffer.from(put.Body as Buffer).toString()).toBe('{"a":1}\n');
  });

  it('re-puts a small object from its own copy with If-Match, never downloading again', async () => {
    mock.on(HeadObjectCommand).resolves({ ETag: '"e0"', ContentLength: 4 });
    mock.on(GetObjectCommand).resolves({ Body: body('old\n'), ETag: '"e0"', ContentLength: 4 });
    mock.on(PutObjectCommand).resolvesOnce({ ETag: '"e1"' }).resolvesOnce({ ETag: '"e2"' });
    const s = storage();
    await s.write('new1\n');
    await s.flush();
    await s.write('new2\n');
    await s.flush();
    expect(names()).toEqual(['HeadObject', 'GetObject', 'PutObject', 'PutObject']);
    expect(inputOf('GetObject').IfMatch).toBe('"e0"');
    const first = inputOf('PutObject', 0);
    const second = inputOf('PutObject', 1);
    expect(first.IfMatch).toBe('"e0"');
    expect(Buffer.from(first.Body as Buffer).toString()).toBe('old\nnew1\n');
    expect(second.IfMatch).toBe('"e1"');
    expect(Buffer.from(second.Body as Buffer).toString()).toBe('old\nnew1\nnew2\n');
  });

  it('appends to an object past 5 MiB server-side: copy, new part, complete with If-Match', async () => {
    mockBigObject();
    mock.on(CompleteMultipartUploadCommand).resolves({ ETag: '"after-1"' });
    const s = storage();
    await s.write('tail\n');
    await s.flush();
    expect(names()).toEqual([
      'HeadObject',
      'GetObject',
      'CreateMultipartUpload',
      'UploadPartCopy',
      'UploadPart',
      'CompleteMultipartUpload',
    ]);
    expect(inputOf('GetObject').Range).toBe(`bytes=${6 * MiB - 1}-${6 * MiB - 1}`);
    const copy = inputOf('UploadPartCopy');
    expect(copy).toMatchObject({
      UploadId: 'up-1',
      PartNumber: 1,
      CopySource: 'mock-bucket/crawls/a.jsonl',
      CopySourceRange: `bytes=0-${6 * MiB - 1}`,
      CopySourceIfMatch: '"big"',
    });
    const part = inputOf('UploadPart');
    expect(part.PartNumber).toBe(2);
    expect(Buffer.from(part.Body as Buffer).toString()).toBe('tail\n');
    const complete = inputOf('CompleteMultipartUpload');
    expect(complete.IfMatch).toBe('"big"');
    expect(complete.MultipartUpload).toEqual({
      Parts: [
        { PartNumber: 1, ETag: `"${md5('copy-1')}"` },
        { PartNumber: 2, ETag: `"${md5('new')}"` },
      ],
    });
  });

  it('copies a big object in balanced ranges of at most copyPartSizeBytes, each at least 5 MiB', async () => {
    mockBigObject(25 * MiB);
    mock.on(CompleteMultipartUploadCommand).resolves({ ETag: '"after"' });
    const s = storage({ copyPartSizeBytes: 10 * MiB });
    await s.write('x\n');
    await s.flush();
    const ranges = sent()
      .filter(([n]) => n === 'UploadPartCopy')
      .map(([, input]) => input.CopySourceRange as string);
    expect(ranges).toEqual([
      `bytes=0-${Math.ceil((25 * MiB) / 3) - 1}`,
      `bytes=${Math.ceil((25 * MiB) / 3)}-${2 * Math.ceil((25 * MiB) / 3) - 2}`,
      `bytes=${2 * Math.ceil((25 * MiB) / 3) - 1}-${25 * MiB - 1}`,
    ]);
    for (const r of ranges) {
      const [a, b] = r.replace('bytes=', '').split('-').map(Number) as [number, number];
      expect(b - a + 1).toBeGreaterThanOrEqual(5 * MiB);
      expect(b - a + 1).toBeLessThanOrEqual(10 * MiB);
    }
    expect(inputOf('UploadPart').PartNumber).toBe(4);
  });

  it('uses the ETag of the completed upload as the next If-Match', async () => {
    mockBigObject();
    mock
      .on(CompleteMultipartUploadCommand)
      .resolvesOnce({ ETag: '"after-1"' })
      .resolvesOnce({ ETag: '"after-2"' });
    const s = storage();
    await s.write('a\n');
    await s.flush();
    await s.write('b\n');
    await s.flush();
    expect(inputOf('CompleteMultipartUpload', 1).IfMatch).toBe('"after-1"');
    expect(inputOf('UploadPartCopy', 1).CopySourceRange).toBe(`bytes=0-${6 * MiB + 1}`);
    expect(inputOf('UploadPartCopy', 1).CopySourceIfMatch).toBe('"after-1"');
  });
});

describe('object layout: conflicts and failures', () => {
  it('an If-Match conflict on CompleteMultipartUpload is a ConcurrentWriterError; the upload is aborted and the data kept', async () => {
    mockBigObject();
    mock.on(CompleteMultipartUploadCommand).rejects(s3Error('PreconditionFailed', 412));
    mock.on(AbortMultipartUploadCommand).resolves({});
    const s = storage();
    await s.write('mine\n');
    const e = await s.flush().catch((x: unknown) => x);
    expect(ConcurrentWriterError.isInstance(e)).toBe(true);
    expect(inputOf('AbortMultipartUpload')).toMatchObject({ UploadId: 'up-1' });
    expect(s.bufferedBytes).toBe(5);
    // The HEAD after the 412 found someone else's object: not our own write.
    expect(names().filter((n) => n === 'HeadObject').length).toBe(2);
  });

  it('409 ConditionalRequestConflict is a ConcurrentWriterError with the data kept', async () => {
    mock.on(HeadObjectCommand).rejects(s3Error('NotFound', 404));
    mock.on(PutObjectCommand).rejects(s3Error('ConditionalRequestConflict', 409));
    const s = storage();
    await s.write('mine\n');
    const e = await s.flush().catch((x: unknown) => x);
    expect(ConcurrentWriterError.isInstance(e)).toBe(true);
    expect(s.bufferedBytes).toBe(5);
  });

  it('a 412 on PutObject where another writer changed the object is a ConcurrentWriterError', async () => {
    mock
      .on(HeadObjectCommand)
      .rejectsOnce(s3Error('NotFound', 404))
      .resolves({
        ETag: `"${md5('theirs\n')}"`,
        ContentLength: 7,
      });
    mock.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));
    const s = storage();
    await s.write('mine\n');
    const e = await s.flush().catch((x: unknown) => x);
    expect(ConcurrentWriterError.isInstance(e)).toBe(true);
    expect((e as Error).message).toContain('Another writer');
    expect(s.bufferedBytes).toBe(5);
  });

  it('a 412 after a lost reply is recognised as our own write (same size, MD5 ETag and writer token)', async () => {
    mock
      .on(HeadObjectCommand)
      .rejectsOnce(s3Error('NotFound', 404))
      .callsFake(() => ({
        ETag: `"${md5('mine\n')}"`,
        ContentLength: 5,
        Metadata: inputOf('PutObject').Metadata,
      }));
    mock
      .on(PutObjectCommand)
      .rejectsOnce(s3Error('PreconditionFailed', 412))
      .resolves({ ETag: '"next"' });
    const s = storage();
    await s.write('mine\n');
    await s.flush();
    expect(s.bufferedBytes).toBe(0);
    // The next flush continues from our own write's ETag.
    await s.write('more\n');
    await s.flush();
    expect(inputOf('PutObject', 1).IfMatch).toBe(`"${md5('mine\n')}"`);
    expect(Buffer.from(inputOf('PutObject', 1).Body as Buffer).toString()).toBe('mine\nmore\n');
  });

  it("a 412 where the object has our size and ETag but another writer's token is a ConcurrentWriterError", async () => {
    mock
      .on(HeadObjectCommand)
      .rejectsOnce(s3Error('NotFound', 404))
      .resolves({
        ETag: `"${md5('mine\n')}"`,
        ContentLength: 5,
        Metadata: { 'yoink-writer': 'someone-else' },
      });
    mock.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));
    const s = storage();
    await s.write('mine\n');
    const e = await s.flush().catch((x: unknown) => x);
    expect(ConcurrentWriterError.isInstance(e)).toBe(true);
    expect(s.bufferedBytes).toBe(5);
  });

  it("every PutObject and CreateMultipartUpload carries this writer's token, different per instance", async () => {
    mockBigObject();
    mock.on(CompleteMultipartUploadCommand).resolves({ ETag: '"after"' });
    const s = storage();
    await s.write('a\n');
    await s.flush();
    const token = (inputOf('CreateMultipartUpload').Metadata as Record<string, string>)[
      'yoink-writer'
    ];
    expect(token).toMatch(/^[0-9a-f-]{36}$/);
    mock.reset();
    mock.on(HeadObjectCommand).rejects(s3Error('NotFound', 404));
    mock.on(PutObjectCommand).resolves({ ETag: '"e"' });
    const other = storage();
    await other.write('b\n');
    await other.flush();
    const otherToken = (inputOf('PutObject').Metadata as Record<string, string>)['yoink-writer'];
    expect(otherToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(otherToken).not.toBe(token);
  });

  it('a 412 whose HEAD is denied surfaces as StoragePermissionError, not as another writer', async () => {
    mock
      .on(HeadObjectCommand)
      .rejectsOnce(s3Error('NotFound', 404))
      .rejects(s3Error('AccessDenied', 403));
    mock.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));
    const s = storage();
    await s.write('mine\n');
    const e = await s.flush().catch((x: unknown) => x);
    expect(ConcurrentWriterError.isInstance(e)).toBe(false);
    expect(StoragePermissionError.isInstance(e)).toBe(true);
    expect((e as Error).message).toContain('s3:GetObject');
    expect(s.bufferedBytes).toBe(5);
  });

  it('a 412 on CompleteMultipartUpload after a lost reply is recognised by the multipart ETag', async () => {
    mockBigObject();
    const partsMd5 = createHash('md5')
      .update(Buffer.from(md5('copy-1'), 'hex'))
      .update(Buffer.from(md5('new'), 'hex'))
      .digest('hex');
    mock
      .on(HeadObjectCommand)
      .resolvesOnce({ ETag: '"big"', ContentLength: 6 * MiB })
      .callsFake(() => ({
        ETag: `"${partsMd5}-2"`,
        ContentLength: 6 * MiB + 5,
        Metadata: inputOf('CreateMultipartUpload').Metadata,
      }));
    mock.on(CompleteMultipartUploadCommand).rejects(s3Error('PreconditionFailed', 412));
    const s = storage();
    await s.write('tail\n');
    await s.flush();
    expect(s.bufferedBytes).toBe(0);
  });

  it('a failed UploadPart aborts the multipart upload and surfaces as StorageError with the data kept', async () => {
    mockBigObject();
    mock
      .on(UploadPartCommand)
      .rejects(s3Error('InternalError', 500, 'We encountered an internal error'));
    mock.on(AbortMultipartUploadCommand).resolves({});
    const s = storage();
    await s.write('tail\n');
    const e = await s.flush().catch((x: unknown) => x);
    expect(StorageError.isInstance(e)).toBe(true);
    expect(ConcurrentWriterError.isInstance(e)).toBe(false);
    expect((e as Error).message).toMatch(/UploadPart .*failed.*data is kept/s);
    expect(inputOf('AbortMultipartUpload')).toMatchObject({
      UploadId: 'up-1',
      Key: 'crawls/a.jsonl',
    });
    expect(names().at(-1)).toBe('AbortMultipartUpload');
    expect(s.bufferedBytes).toBe(5);
  });

  it('NotImplemented from UploadPartCopy aborts, then rewrites by streaming, and remembers it', async () => {
    mockBigObject();
    mock.on(UploadPartCopyCommand).rejects(s3Error('NotImplemented', 501));
    mock.on(AbortMultipartUploadCommand).resolves({});
    mock
      .on(GetObjectCommand, { Range: `bytes=${6 * MiB - 1}-${6 * MiB - 1}` })
      .resolves({ Body: body('\n'), ETag: '"big"' });
    // The object as the server has it: 6 MiB, then 6 MiB + "tail\n" after the first flush.
    const contents = [
      [Buffer.alloc(3 * MiB, 97), Buffer.alloc(3 * MiB, 98)],
      [Buffer.alloc(3 * MiB, 97), Buffer.alloc(3 * MiB, 98), Buffer.from('tail\n')],
    ];
    let gets = 0;
    mock
      .on(GetObjectCommand, { Range: undefined })
      .callsFake(() => ({ Body: Readable.from(contents[gets++] ?? []), ETag: '"big"' }));
    mock.on(CompleteMultipartUploadCommand).resolves({ ETag: '"after"' });
    const s = storage({ partSizeBytes: 5 * MiB });
    await s.write('tail\n');
    await s.flush();
    await s.write('more\n');
    await s.flush();
    expect(s.usesRewriteFallback).toBe(true);
    expect(names().filter((n) => n === 'UploadPartCopy').length).toBe(1);
    expect(inputOf('AbortMultipartUpload')).toMatchObject({ UploadId: 'up-1' });
    const parts = sent()
      .filter(([n]) => n === 'UploadPart')
      .map(([, i]) => (i.Body as Buffer).length);
    // Per flush: one 6 MiB part (two 3 MiB chunks ≥ the 5 MiB part size), then the rest with the new bytes.
    expect(parts).toEqual([6 * MiB, 5, 6 * MiB, 10]);
    expect(sent().filter(([n]) => n === 'GetObject').length).toBe(3);
  });

  it('exists() is false on a 404 from HeadObject', async () => {
    mock.on(HeadObjectCommand).rejects(s3Error('NotFound', 404));
    expect(await storage().exists()).toBe(false);
  });

  it('a 403 from HeadObject is a StoragePermissionError naming the missing s3:ListBucket permission', async () => {
    mock.on(HeadObjectCommand).rejects(s3Error('Forbidden', 403));
    const e = await storage()
      .exists()
      .catch((x: unknown) => x);
    expect(StoragePermissionError.isInstance(e)).toBe(true);
    expect((e as Error).message).toContain('s3:ListBucket');
    expect((e as Error).message).toContain('mock-bucket');
  });

  it('AccessDenied on PutObject is a StoragePermissionError naming s3:PutObject, with the data kept', async () => {
    mock.on(HeadObjectCommand).rejects(s3Error('NotFound', 404));
    mock.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403));
    const s = storage();
    await s.write('x\n');
    const e = await s.flush().catch((x: unknown) => x);
    expect(StoragePermissionError.isInstance(e)).toBe(true);
    expect((e as StoragePermissionError).retryable).toBe(false);
    expect((e as Error).message).toContain('s3:PutObject');
    expect((e as Error).message).toContain('data is kept');
    expect(s.bufferedBytes).toBe(2);
  });

  it.each(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken'])(
    '%s is a StoragePermissionError that says to check the credentials',
    async (code) => {
      mock.on(HeadObjectCommand).rejects(s3Error('NotFound', 404));
      mock.on(PutObjectCommand).rejects(s3Error(code, 403));
      const s = storage();
      await s.write('x\n');
      const e = await s.flush().catch((x: unknown) => x);
      expect(StoragePermissionError.isInstance(e)).toBe(true);
      expect((e as Error).message).toContain(code);
      expect((e as Error).message).toMatch(/credential/);
      expect(s.bufferedBytes).toBe(2);
    },
  );

  it('throttling that outlasts the SDK retries surfaces as StorageUnavailableError (retryable) with the data kept', async () => {
    mock.on(HeadObjectCommand).rejects(s3Error('NotFound', 404));
    const slow = s3Error('SlowDown', 503, 'Please reduce your request rate.');
    slow.$metadata.attempts = 3;
    mock.on(PutObjectCommand).rejects(slow);
    const s = storage();
    await s.write('x\n');
    const e = await s.flush().catch((x: unknown) => x);
    expect(StorageUnavailableError.isInstance(e)).toBe(true);
    expect((e as StorageUnavailableError).retryable).toBe(true);
    expect((e as Error).message).toMatch(/after 3 attempts.*503 SlowDown/s);
    expect(s.bufferedBytes).toBe(2);
  });

  it('a user-supplied client is not destroyed by close()', async () => {
    mock.on(HeadObjectCommand).rejects(s3Error('NotFound', 404));
    mock.on(PutObjectCommand).resolves({ ETag: '"e"' });
    const s = storage();
    await s.write('x\n');
    await s.close();
    // Still usable: the mock answers, and a new storage can use it.
    expect(await storage().exists()).toBe(false);
  });
});

describe('segments layout: commands', () => {
  it('finds the last segment in the first listing page, continues the sequence, and puts with If-None-Match: *', async () => {
    const keys = [
      'crawls/a.jsonl/000000000000.jsonl',
      'crawls/a.jsonl/000000000041.jsonl',
      'crawls/a.jsonl/notes.txt',
    ];
    mock
      .on(ListObjectsV2Command)
      .callsFake(listFrom(keys, (k) => (k.endsWith('41.jsonl') ? 4 : 3)));
    mock.on(GetObjectCommand).resolves({ Body: body('x') });
    mock.on(PutObjectCommand).resolves({ ETag: '"s"' });
    const s = new S3Storage(`${URI}?layout=segments`, { client });
    await s.write('next\n');
    await s.flush();
    expect(names().filter((n) => n === 'ListObjectsV2')).toHaveLength(1);
    expect(inputOf('ListObjectsV2', 0)).toMatchObject({
      Prefix: 'crawls/a.jsonl/',
      Delimiter: '/',
    });
    // The last segment's last byte ('x') is not "\n": the first append starts a fresh line.
    expect(inputOf('GetObject')).toMatchObject({
      Key: 'crawls/a.jsonl/000000000041.jsonl',
      Range: 'bytes=3-3',
    });
    const put = inputOf('PutObject');
    expect(put).toMatchObject({ Key: 'crawls/a.jsonl/000000000042.jsonl', IfNoneMatch: '*' });
    expect(Buffer.from(put.Body as Buffer).toString()).toBe('\nnext\n');
  });

  it('a taken segment name is a ConcurrentWriterError; a lost reply on our own segment is not', async () => {
    mock.on(ListObjectsV2Command).resolves({ IsTruncated: false, Contents: [] });
    mock.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));
    mock
      .on(HeadObjectCommand)
      .resolvesOnce({ ETag: '"someone-else"', ContentLength: 5 })
      .callsFake(() => ({
        ETag: `"${md5('mine\n')}"`,
        ContentLength: 5,
        Metadata: inputOf('PutObject').Metadata,
      }));
    const s = new S3Storage(URI, { client, layout: 'segments' });
    await s.write('mine\n');
    expect(ConcurrentWriterError.isInstance(await s.flush().catch((x: unknown) => x))).toBe(true);
    expect(s.bufferedBytes).toBe(5);
    await s.flush();
    expect(s.bufferedBytes).toBe(0);
  });
});
