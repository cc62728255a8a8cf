import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandInput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { collectLines } from '@yoink/storage-testkit';
import { type S3TestServer, startMoto, startS3rver } from '@yoink/test-servers/s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3Storage } from '../src/index.js';
import { segmentKey } from '../src/segments-layout.js';
import { listFrom } from './fake-listing.js';
import { recordCommands, storageOn } from './helpers.js';

const PREFIX = 'crawl/';
const client = new S3Client({
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const mock = mockClient(client);

beforeEach(() => {
  mock.reset();
});

/** Segment keys `0 … n-1` (or the given numbers) plus `extra` keys, sorted as S3 lists them. */
function bucket(segments: number | readonly number[], extra: readonly string[] = []): string[] {
  const seqs =
    typeof segments === 'number' ? Array.from({ length: segments }, (_, i) => i) : segments;
  return [...seqs.map((i) => segmentKey(PREFIX, i)), ...extra].sort();
}

function body(text: string): GetObjectCommandOutput['Body'] {
  return Readable.from([Buffer.from(text)]) as unknown as GetObjectCommandOutput['Body'];
}

/**
 * Serves `keys` from the mock, opens the checkpoint with a first flush, and
 * returns the requests the open cost (everything before the segment's PUT)
 * and the key that PUT wrote.
 */
async function open(
  keys: readonly string[],
  list: (input: ListObjectsV2CommandInput) => unknown = listFrom(keys, () => 10),
): Promise<{ requests: string[]; put: string }> {
  mock.on(ListObjectsV2Command).callsFake(list);
  mock.on(GetObjectCommand).callsFake(() => ({ Body: body('\n') }));
  mock.on(PutObjectCommand).resolves({ ETag: '"e"' });
  const s = new S3Storage('s3://mock-bucket/crawl?layout=segments', { client });
  await s.write('next\n');
  await s.flush();
  await s.close();
  const calls = mock.calls().map((c) => {
    const command = c.args[0] as { constructor: { name: string }; input: { Key?: string } };
    return { name: command.constructor.name.replace(/Command$/, ''), key: command.input.Key };
  });
  const put = calls.findIndex((c) => c.name === 'PutObject');
  return { requests: calls.slice(0, put).map((c) => c.name), put: calls[put]?.key ?? '' };
}

describe('opening a segments checkpoint costs O(log n) requests', () => {
  it.each([0, 1, 2, 16, 17, 18, 273, 1000, 4097, 65_536, 100_000])(
    'with %i segments: at most 40 requests, and the next flush writes the next segment',
    async (n) => {
      const { requests, put } = await open(bucket(n));
      expect(put).toBe(segmentKey(PREFIX, n));
      expect(requests.length).toBeLessThanOrEqual(40);
      // Up to 1,000 segments, the first listing page has them all: one listing.
      if (n <= 1000) expect(requests.filter((r) => r === 'ListObjectsV2')).toHaveLength(1);
      // One ranged GET of the last segment's last byte (for a torn tail), the rest listings.
      expect(requests.filter((r) => r === 'GetObject').length).toBe(n === 0 ? 0 : 1);
    },
  );

  it('100,000 segments: under 20 listings, against the 100 pages of a full listing', async () => {
    const { requests } = await open(bucket(100_000));
    expect(requests.filter((r) => r === 'ListObjectsV2').length).toBeLessThanOrEqual(20);
    const inputs = mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input);
    const [first, ...probes] = inputs;
    const last = probes.pop();
    // The first page, then single-key probes, then one page that holds the last segment.
    expect(first).toMatchObject({ Bucket: 'mock-bucket', Prefix: PREFIX });
    expect(first?.StartAfter).toBeUndefined();
    for (const input of probes) {
      expect(input).toMatchObject({ Bucket: 'mock-bucket', Prefix: PREFIX, MaxKeys: 1 });
      expect(input.StartAfter).toMatch(/^crawl\/\d{12}\.jsonl$/);
    }
    expect(last?.StartAfter).toMatch(/^crawl\/\d{12}\.jsonl$/);
    expect(last?.MaxKeys).toBeUndefined();
  });

  it('steps over other names under the prefix (files, a folder, names among the segments)', async () => {
    const junk = [
      `${PREFIX}0000-readme.txt`,
      `${PREFIX}000000000003.jsonl.bak`,
      `${PREFIX}000000000005.jsonl/nested/a`,
      `${PREFIX}000000000999.jsonl.tmp`,
      `${PREFIX}notes.txt`,
      `${PREFIX}sub/x.jsonl`,
      'crawl.jsonl',
      'crawl0',
    ];
    for (const n of [0, 6, 1000]) {
      mock.reset();
      const { requests, put } = await open(bucket(n, junk));
      expect(put).toBe(segmentKey(PREFIX, n));
      expect(requests.length).toBeLessThanOrEqual(40);
    }
  });

  it('finds the last segment even across gaps in the numbering', async () => {
    const seqs = [
      ...Array.from({ length: 10 }, (_, i) => i),
      ...Array.from({ length: 21 }, (_, i) => 500 + i),
    ];
    expect((await open(bucket(seqs))).put).toBe(segmentKey(PREFIX, 521));
    mock.reset();
    expect((await open(bucket([7, 123_456]))).put).toBe(segmentKey(PREFIX, 123_457));
  });

  it('a server that ignores StartAfter gets a full listing instead of a search that never ends', async () => {
    const keys = bucket(2_500);
    const lister = listFrom(keys, () => 10);
    const { requests, put } = await open(keys, ({ StartAfter: _ignored, MaxKeys: _max, ...rest }) =>
      lister(rest),
    );
    expect(put).toBe(segmentKey(PREFIX, 2_500));
    // The first page, the probe that shows StartAfter ignored, then 3 pages of 1,000.
    expect(requests.filter((r) => r === 'ListObjectsV2').length).toBe(5);
  });

  it('exists() is one request, whatever the number of segments', async () => {
    mock.on(ListObjectsV2Command).callsFake(listFrom(bucket(100_000), () => 10));
    const s = new S3Storage('s3://mock-bucket/crawl?layout=segments', { client });
    expect(await s.exists()).toBe(true);
    expect(mock.calls().length).toBe(1);
    mock.reset();
    mock.on(ListObjectsV2Command).callsFake(listFrom(bucket(0, [`${PREFIX}notes.txt`]), () => 10));
    expect(await s.exists()).toBe(false);
    await s.close();
  });
});

describe('on moto', () => {
  const BUCKET = 'yoink-segments-open';
  let moto: S3TestServer;

  beforeAll(async () => {
    moto = await startMoto({ buckets: [BUCKET] });
  }, 60_000);

  afterAll(async () => {
    await moto?.stop();
  });

  it('a checkpoint of 300 segments (and other names under its prefix) opens in a few requests, counted by a middleware, and continues at segment 300', {
    timeout: 60_000,
  }, async () => {
    const key = 'three-hundred';
    const direct = new S3Client(moto.clientConfig);
    const put = (k: string, body: string) =>
      direct.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: body }));
    const expected: string[] = [];
    for (let i = 0; i < 300; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) => put(segmentKey(`${key}/`, i + j), `line-${i + j}\n`)),
      );
    }
    for (let i = 0; i < 300; i++) expected.push(`line-${i}`);
    await put(`${key}/notes.txt`, 'not a segment\n');
    await put(`${key}/000000000007.jsonl.bak`, 'not a segment\n');
    await put(`${key}/sub/000000000001.jsonl`, 'not a segment\n');
    direct.destroy();

    const s = storageOn(moto, BUCKET, key, { layout: 'segments' }, { conditionalWrites: 'off' });
    const log = recordCommands(s.client);
    await s.write('line-300\n');
    await s.flush();
    const lists = log.filter((c) => c.name === 'ListObjectsV2');
    expect(lists.length).toBeGreaterThan(0);
    expect(lists.length).toBeLessThanOrEqual(20);
    expect(log.filter((c) => c.name === 'PutObject').map((c) => c.input.Key)).toEqual([
      segmentKey(`${key}/`, 300),
    ]);
    await s.close();
    expected.push('line-300');
    const reader = storageOn(moto, BUCKET, key, { layout: 'segments' });
    expect(await collectLines(reader.read())).toEqual(expected);
    expect(await reader.exists()).toBe(true);
  });
});

describe('on s3rver', () => {
  const BUCKET = 'yoink-segments-pages';
  let s3rver: S3TestServer;

  beforeAll(async () => {
    s3rver = await startS3rver({ buckets: [BUCKET] });
  }, 60_000);

  afterAll(async () => {
    await s3rver?.stop();
  });

  // s3rver encrypts continuation tokens with single DES, which Node's OpenSSL 3
  // lacks: without the fixture's fix every truncated listing is a 500.
  it('1,100 segments (two listing pages, probes that truncate) open at segment 1,100 and read back exactly', {
    timeout: 120_000,
  }, async () => {
    const key = 'eleven-hundred';
    const direct = new S3Client(s3rver.clientConfig);
    for (let i = 0; i < 1_100; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          direct.send(
            new PutObjectCommand({
              Bucket: BUCKET,
              Key: segmentKey(`${key}/`, i + j),
              Body: `line-${i + j}\n`,
            }),
          ),
        ),
      );
    }
    direct.destroy();
    const s = storageOn(s3rver, BUCKET, key, { layout: 'segments' }, { conditionalWrites: 'off' });
    const log = recordCommands(s.client);
    await s.write('line-1100\n');
    await s.close();
    expect(log.filter((c) => c.name === 'ListObjectsV2').length).toBeLessThanOrEqual(25);
    expect(log.filter((c) => c.name === 'PutObject').map((c) => c.input.Key)).toEqual([
      segmentKey(`${key}/`, 1_100),
    ]);
    const reader = storageOn(s3rver, BUCKET, key, { layout: 'segments' });
    expect(await collectLines(reader.read())).toEqual(
      Array.from({ length: 1_101 }, (_, i) => `line-${i}`),
    );
  });
});
