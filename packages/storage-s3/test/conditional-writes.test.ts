import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ConditionalWritesUnsupportedError, InvalidOptionError } from '@yoink/storage-core';
import { collectLines } from '@yoink/storage-testkit';
import { type S3TestServer, startMoto, startS3rver } from '@yoink/test-servers/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Storage } from '../src/index.js';
import { failure, recordCommands, storageOn } from './helpers.js';

const BUCKET = 'yoink-conditions';
let s3rver: S3TestServer;
let moto: S3TestServer;
let n = 0;

beforeAll(async () => {
  [s3rver, moto] = await Promise.all([
    startS3rver({ buckets: [BUCKET] }),
    startMoto({ buckets: [BUCKET] }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([s3rver?.stop(), moto?.stop()]);
});

/** Every key in `bucket` on `server`. */
async function keysIn(server: S3TestServer, bucket: string): Promise<string[]> {
  const client = new S3Client(server.clientConfig);
  try {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    return (out.Contents ?? []).map((o) => o.Key ?? '');
  } finally {
    client.destroy();
  }
}

/** Writes `line` and flushes it; returns the error, or undefined once it is persisted. */
async function writeAndFlush(s: S3Storage, line: string): Promise<unknown> {
  return failure(s.write(`${line}\n`).then(() => s.flush()));
}

for (const layout of ['object', 'segments'] as const) {
  describe(`two writers on s3rver, which ignores conditional headers (layout=${layout})`, () => {
    it('no acknowledged line is lost: by default both writers are refused with ConditionalWritesUnsupportedError', async () => {
      const key = `two-${layout}-${++n}${layout === 'object' ? '.jsonl' : ''}`;
      const a = storageOn(s3rver, BUCKET, key, { layout });
      const b = storageOn(s3rver, BUCKET, key, { layout });
      const acknowledged: string[] = [];
      const errors: unknown[] = [];
      for (const [s, line] of [
        [a, 'a1'],
        [b, 'b1'],
        [a, 'a2'],
      ] as const) {
        const e = await writeAndFlush(s, line);
        if (e === undefined) acknowledged.push(line);
        else errors.push(e);
      }
      const lines = await collectLines(storageOn(s3rver, BUCKET, key, { layout }).read());
      // Every line a writer was told is persisted is still there.
      expect(lines.filter((l) => acknowledged.includes(l))).toEqual(acknowledged);
      expect(errors.length).toBeGreaterThan(0);
      for (const e of errors) expect(ConditionalWritesUnsupportedError.isInstance(e)).toBe(true);
    });
  });
}

describe('the conditional-write check (probe)', () => {
  it('refuses s3rver with an error naming the endpoint and the opt-out, and writes nothing', async () => {
    const bucket = `refused-${++n}`;
    await s3rver.createBucket(bucket);
    const s = storageOn(s3rver, bucket, 'crawl.jsonl');
    const e = await writeAndFlush(s, 'x');
    expect(ConditionalWritesUnsupportedError.isInstance(e)).toBe(true);
    const message = (e as Error).message;
    expect(message).toContain(s3rver.endpoint);
    expect(message).toContain('conditionalWrites=off');
    expect(message).toContain("conditionalWrites: 'off'");
    expect(message).toMatch(/If-None-Match/);
    // No checkpoint object, and the probe cleaned up after itself.
    expect(await keysIn(s3rver, bucket)).toEqual([]);
    expect(await s.exists()).toBe(false);
    // The refused write was not taken, so close() has nothing to flush.
    expect(s.bufferedBytes).toBe(0);
    await s.close();
  });

  it('with ?conditionalWrites=off in the URI, a writer runs on s3rver', async () => {
    const key = `off-uri-${++n}.jsonl`;
    const s = storageOn(s3rver, BUCKET, key, {}, { conditionalWrites: 'off' });
    await s.write('a\n');
    await s.close();
    expect(
      await collectLines(storageOn(s3rver, BUCKET, key, { conditionalWrites: 'off' }).read()),
    ).toEqual(['a']);
  });

  it("with the option conditionalWrites: 'off', a writer runs on s3rver and sends no conditional header", async () => {
    for (const layout of ['object', 'segments'] as const) {
      const key = `off-option-${layout}-${++n}`;
      const s = storageOn(s3rver, BUCKET, key, { layout, conditionalWrites: 'off' });
      const log = recordCommands(s.client);
      await s.write('a\n');
      await s.flush();
      await s.write('b\n');
      await s.close();
      expect(await collectLines(storageOn(s3rver, BUCKET, key, { layout }).read())).toEqual([
        'a',
        'b',
      ]);
      for (const c of log) {
        expect(c.input.IfMatch).toBeUndefined();
        expect(c.input.IfNoneMatch).toBeUndefined();
        expect(c.input.CopySourceIfMatch).toBeUndefined();
      }
      expect(log.some((c) => String(c.input.Key).includes('yoink-probe'))).toBe(false);
    }
  });

  it('rejects a conditionalWrites value other than on or off', () => {
    expect(() =>
      storageOn(s3rver, BUCKET, 'k.jsonl', {
        conditionalWrites: 'no' as unknown as 'off',
      }),
    ).toThrow(/conditionalWrites/);
    try {
      storageOn(s3rver, BUCKET, 'k.jsonl', { conditionalWrites: 'no' as unknown as 'off' });
    } catch (e) {
      expect(InvalidOptionError.isInstance(e)).toBe(true);
    }
    expect(() => storageOn(s3rver, BUCKET, 'k.jsonl', {}, { conditionalWrites: 'maybe' })).toThrow(
      /conditionalWrites/,
    );
  });

  it('an option that contradicts the URI is an InvalidOptionError', () => {
    let caught: unknown;
    try {
      storageOn(
        s3rver,
        BUCKET,
        'k.jsonl',
        { conditionalWrites: 'on' },
        { conditionalWrites: 'off' },
      );
    } catch (e) {
      caught = e;
    }
    expect(InvalidOptionError.isInstance(caught)).toBe(true);
  });

  for (const layout of ['object', 'segments'] as const) {
    it(`passes on moto (layout=${layout}) and leaves no probe object behind`, async () => {
      const bucket = `moto-pass-${layout}-${++n}`;
      await moto.createBucket(bucket);
      const key = layout === 'object' ? 'crawl.jsonl' : 'crawl';
      const s = storageOn(moto, bucket, key, { layout });
      await s.write('a\n');
      await s.close();
      expect(await collectLines(storageOn(moto, bucket, key, { layout }).read())).toEqual(['a']);
      expect((await keysIn(moto, bucket)).filter((k) => k.includes('yoink-probe'))).toEqual([]);
    });
  }

  it('runs once per endpoint and bucket, and concurrent opens share it', async () => {
    const bucket = `once-${++n}`;
    await moto.createBucket(bucket);
    const probes = (log: { input: Record<string, unknown> }[]) =>
      log.filter((c) => String(c.input.Key ?? '').includes('.yoink-probe-')).length;
    // Two writers opening at the same time.
    const a = storageOn(moto, bucket, 'a.jsonl');
    const b = storageOn(moto, bucket, 'b.jsonl');
    const logA = recordCommands(a.client);
    const logB = recordCommands(b.client);
    await Promise.all([a.write('a\n'), b.write('b\n')]);
    const first = probes(logA) + probes(logB);
    expect(first).toBeGreaterThan(0);
    // Only one of the two sent the probe's requests.
    expect(Math.min(probes(logA), probes(logB))).toBe(0);
    // A later writer on the same endpoint and bucket sends none, whatever its layout.
    const c = storageOn(moto, bucket, 'c', { layout: 'segments' });
    const logC = recordCommands(c.client);
    await c.write('c\n');
    await Promise.all([a.close(), b.close(), c.close()]);
    expect(probes(logC)).toBe(0);
    // Another bucket on the same endpoint is checked again.
    const other = `once-other-${++n}`;
    await moto.createBucket(other);
    const d = storageOn(moto, other, 'd.jsonl');
    const logD = recordCommands(d.client);
    await d.write('d\n');
    await d.close();
    expect(probes(logD)).toBeGreaterThan(0);
  });
});
