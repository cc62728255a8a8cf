import { S3Client } from '@aws-sdk/client-s3';
import {
  InvalidOptionError,
  InvalidUriError,
  StorageClosedError,
  StorageError,
  StorageFactory,
} from '@yoink/storage-core';
import { type S3TestServer, startS3rver } from '@yoink/test-servers/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Storage } from '../src/index.js';
import { failure, storageOn } from './helpers.js';

const BUCKET = 'yoink-errors';
let s3rver: S3TestServer;

beforeAll(async () => {
  s3rver = await startS3rver({ buckets: [BUCKET] });
}, 60_000);

afterAll(async () => {
  await s3rver?.stop();
});

describe('a missing bucket', () => {
  for (const layout of ['object', 'segments'] as const) {
    it(`layout=${layout}: write, exists and read fail with a StorageError naming the bucket`, async () => {
      const s = storageOn(s3rver, 'no-such-bucket', 'a.jsonl', {
        layout,
        conditionalWrites: 'off',
      });
      // A HEAD cannot tell a missing bucket from a missing object, so the
      // error comes with the first request that has a reply body.
      const w = await failure(s.write('x\n').then(() => s.flush()));
      expect(StorageError.isInstance(w)).toBe(true);
      // Object layout: the write was accepted and stays buffered; segments: the
      // listing at open already failed, so the write itself was refused.
      expect(s.bufferedBytes).toBe(layout === 'object' ? 2 : 0);
      expect((w as Error).message).toContain('"no-such-bucket" does not exist');
      expect((w as Error).message).toMatch(/[Cc]reate it/);
      const e = await failure(s.exists());
      expect((e as Error).message).toContain('"no-such-bucket" does not exist');
      const r = await failure(
        (async () => {
          for await (const _ of s.read()) {
            // nothing
          }
        })(),
      );
      expect((r as Error).message).toContain('"no-such-bucket" does not exist');
      await failure(s.close());
    });
  }
});

describe('bad URIs and options', () => {
  it.each([
    ['s3://Bad_Bucket/key', 'not a valid S3 bucket name'],
    ['s3://bucket', 'no key'],
    ['s3://bucket/key?unknown=1', '"unknown"'],
    ['s3://bucket/dir/', 'ends with "/"'],
  ])('new S3Storage(%s) throws InvalidUriError', (uri, text) => {
    let caught: unknown;
    try {
      new S3Storage(uri);
    } catch (e) {
      caught = e;
    }
    expect(InvalidUriError.isInstance(caught)).toBe(true);
    expect((caught as Error).message).toContain(text);
  });

  it('StorageFactory.fromUri routes s3: here and rejects a bad URI at creation', async () => {
    const s = await StorageFactory.fromUri('s3://good-bucket/key.jsonl?region=eu-west-1');
    expect(s).toBeInstanceOf(S3Storage);
    await s.close();
    const e = await failure(StorageFactory.fromUri('s3://x/key'));
    expect(InvalidUriError.isInstance(e)).toBe(true);
  });

  it('a passed-in client with connection settings in the URI is an InvalidOptionError', () => {
    const client = new S3Client({ region: 'us-east-1' });
    for (const make of [
      () => new S3Storage('s3://bucket/k?region=eu-west-1', { client }),
      () => new S3Storage('s3://bucket/k', { client, clientConfig: {} }),
    ]) {
      let caught: unknown;
      try {
        make();
      } catch (e) {
        caught = e;
      }
      expect(InvalidOptionError.isInstance(caught)).toBe(true);
      expect((caught as Error).message).toMatch(/cannot apply to a client you pass in/);
    }
    client.destroy();
  });

  it('rejects part sizes outside S3 limits with InvalidOptionError', () => {
    for (const options of [
      { partSizeBytes: 1024 },
      { copyPartSizeBytes: 6 * 1024 * 1024 },
      { maxAttempts: 0 },
    ]) {
      const name = Object.keys(options)[0] as string;
      expect(() => new S3Storage('s3://bucket/k', options)).toThrow(name);
      expect(() => new S3Storage('s3://bucket/k', options)).toThrow(InvalidOptionError);
    }
  });

  it('StorageFactory.fromUri checks options like the constructor (unknown option, did you mean)', async () => {
    const e = await failure(
      StorageFactory.fromUri('s3://good-bucket/key.jsonl', { layuot: 'segments' } as never),
    );
    expect(InvalidOptionError.isInstance(e)).toBe(true);
    expect((e as Error).message).toContain('Did you mean "layout"?');
  });
});

describe('after close()', () => {
  it('write() and flush() reject with StorageClosedError and nothing more is persisted', async () => {
    const s = storageOn(s3rver, BUCKET, 'closed.jsonl', { conditionalWrites: 'off' });
    await s.write('a\n');
    await s.close();
    expect(StorageClosedError.isInstance(await failure(s.write('b\n')))).toBe(true);
    expect(StorageClosedError.isInstance(await failure(s.flush()))).toBe(true);
    const reader = storageOn(s3rver, BUCKET, 'closed.jsonl');
    const lines: string[] = [];
    for await (const l of reader.read()) lines.push(l);
    expect(lines).toEqual(['a']);
    await reader.close();
  });
});
