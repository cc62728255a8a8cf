import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConcurrentWriterError } from '@yoink/storage-core';
import { S3Storage } from '@yoink/storage-s3';
import { FreezingProxy } from '@yoink/test-servers/proxies';
import { type S3TestServer, startMoto, startS3rver } from '@yoink/test-servers/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from './run-cli.js';
import { listObjects, putObject } from './s3-rest.js';

const BUCKET = 'yoink-compact';
let moto: S3TestServer;
let env: NodeJS.ProcessEnv;
let dir: string;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yoink-cli-compact-'));
  moto = await startMoto({ buckets: [BUCKET] });
  const { accessKeyId, secretAccessKey } = moto.clientConfig.credentials;
  env = { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey };
}, 60_000);

afterAll(async () => {
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(args, { env });
/** A fresh checkpoint key. */
const freshKey = (name: string): string => `compact/${name}-${++n}`;
/** The CLI's URI of a segments checkpoint on moto. */
const uriOf = (key: string, server: S3TestServer = moto, params = ''): string =>
  `s3://${BUCKET}/${key}?endpoint=${server.endpoint}&forcePathStyle=true&layout=segments${params}`;

/** A writer in this process (the crawler), on `key`'s segments. */
function writerOn(key: string): S3Storage {
  return new S3Storage(`s3://${BUCKET}/${key}?layout=segments`, {
    clientConfig: moto.clientConfig,
  });
}

const lineOf = (flush: number, i: number): string =>
  JSON.stringify({ flush, i, url: `https://example.com/${flush}/${i}` });

/** Writes `flushes` segments of `perFlush` lines with `writer`; returns the checkpoint's text. */
async function writeSegments(writer: S3Storage, flushes: number, perFlush = 10): Promise<string> {
  let text = '';
  for (let f = 0; f < flushes; f++) {
    for (let i = 0; i < perFlush; i++) {
      const line = `${lineOf(f, i)}\n`;
      text += line;
      await writer.write(line);
    }
    await writer.flush();
  }
  return text;
}

/** A checkpoint of `flushes` segments, written by a writer that then stopped. */
async function stoppedCheckpoint(key: string, flushes: number): Promise<string> {
  const writer = writerOn(key);
  const text = await writeSegments(writer, flushes);
  await writer.close();
  return text;
}

/** The object names under the checkpoint's prefix. */
async function objectsOf(key: string): Promise<string[]> {
  const { keys } = await listObjects(moto.endpoint, BUCKET, `${key}/`);
  return keys.map((k) => k.slice(key.length + 1));
}
const isSegment = (name: string): boolean => /^\d{12}\.jsonl$/.test(name);
const isMerged = (name: string): boolean => /^\d{12}-\d{12}\.jsonl$/.test(name);

function expectOneErrorLine(stderr: string): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^yoink-storage: /);
}

/**
 * Holds the next request named `command` that `client` sends, until
 * `release()`: the compaction stops at that step while the test acts.
 */
function holdNext(client: S3Storage['client'], command: string) {
  let reached!: () => void;
  let release!: () => void;
  const reachedP = new Promise<void>((r) => {
    reached = r;
  });
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let held = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!held && context.commandName === `${command}Command`) {
        held = true;
        reached();
        await gate;
      }
      return next(args);
    },
    { step: 'initialize', name: `yoinkTestHold${command}` },
  );
  return { reached: reachedP, release };
}

describe('yoink-storage compact on moto', () => {
  it('merges the segments into objects of the target size; cat and stat read the same lines', async () => {
    const key = freshKey('merge');
    const text = await stoppedCheckpoint(key, 30);
    const uri = uriOf(key);
    expect((await cli('cat', uri)).stdout).toBe(text);

    const run = await cli('compact', '--target-bytes', '4096', '--grace-ms', '0', '--json', uri);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      uri: expect.stringContaining(`s3://${BUCKET}/${key}?`),
      mode: 'operator',
      before: { objects: 30, chain: 30, bytes: Buffer.byteLength(text) },
      deleted: 30,
      pendingDeletion: 0,
    });
    const names = await objectsOf(key);
    // What is left: the merged objects and the operator's empty fence segment, no original.
    expect(names.length).toBe(result.after.objects);
    expect(names.filter(isSegment)).toHaveLength(1);
    expect(names.filter(isMerged).length).toBe(result.merged.length);
    // Segment count ≤ size / target + the fence (and a short last run).
    expect(names.length).toBeLessThanOrEqual(Math.ceil(Buffer.byteLength(text) / 4096) + 2);

    const after = await cli('cat', uri);
    expect(after.code).toBe(0);
    expect(after.stdout).toBe(text);
    const stat = JSON.parse((await cli('stat', '--json', uri)).stdout);
    expect(stat).toMatchObject({ lines: 300, records: 300, bytes: Buffer.byteLength(text) });
  });

  it('keeps the originals for the grace period by default and says so; a later compaction deletes them', async () => {
    const key = freshKey('grace');
    const text = await stoppedCheckpoint(key, 12);
    const uri = uriOf(key);

    const first = await cli('compact', '--target-bytes', '4096', uri);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /^compacted\s+s3:\/\/yoink-compact\/compact\/grace-\d+\?.* as an operator/m,
    );
    expect(first.stdout).toMatch(/^deleted\s+0 originals$/m);
    expect(first.stdout).toMatch(/^kept\s+12 originals, for the grace period/m);
    // Originals and merged objects side by side: a read picks one covering set, never both.
    expect((await objectsOf(key)).filter(isSegment).length).toBeGreaterThanOrEqual(12);
    expect((await cli('cat', uri)).stdout).toBe(text);

    const second = await cli('compact', '--grace-ms', '0', uri);
    expect(second.code).toBe(0);
    // It deletes the 12 originals (and whatever it merged again: the default target is 64 MiB).
    const deleted = Number(/^deleted\s+(\d+) originals$/m.exec(second.stdout)?.[1]);
    expect(deleted).toBeGreaterThanOrEqual(12);
    const originals = Array.from({ length: 12 }, (_, i) => `${String(i).padStart(12, '0')}.jsonl`);
    const left = await objectsOf(key);
    expect(originals.filter((o) => left.includes(o))).toEqual([]);
    expect((await cli('cat', uri)).stdout).toBe(text);
  });

  it('is refused with exit 1 while the writer’s own compaction runs; that one then finishes', async () => {
    const key = freshKey('busy');
    const writer = writerOn(key);
    const text = await writeSegments(writer, 20);
    const hold = holdNext(writer.client, 'CreateMultipartUpload');
    const writerCompaction = writer.compact({ targetBytes: 4096, graceMs: 0 });
    await hold.reached;

    const run = await cli('compact', uriOf(key));
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expectOneErrorLine(run.stderr);
    expect(run.stderr).toContain('another compaction holds');
    expect(run.stderr).toContain("writer's compaction");
    expect(run.stderr).toContain('--takeover');

    hold.release();
    expect((await writerCompaction).mode).toBe('writer');
    await writer.close();
    expect((await cli('cat', uriOf(key))).stdout).toBe(text);
  });

  it('takes over the lock of a crashed compaction with --takeover, and only then', async () => {
    const key = freshKey('crashed');
    const text = await stoppedCheckpoint(key, 10);
    const uri = uriOf(key);
    // What a compaction killed mid-way leaves: its lock.
    const holder = {
      token: 'dead-compactor',
      role: 'operator',
      seq: 10,
      host: 'crashed-host',
      pid: 4242,
      since: '2025-01-01T00:00:00.000Z',
    };
    await putObject(moto.endpoint, BUCKET, `${key}/yoink-compaction.json`, JSON.stringify(holder));

    const refused = await cli('compact', uri);
    expect(refused.code).toBe(1);
    expectOneErrorLine(refused.stderr);
    expect(refused.stderr).toContain('crashed-host (pid 4242)');
    expect(refused.stderr).toContain('--takeover');

    const taken = await cli(
      'compact',
      '--takeover',
      '--grace-ms',
      '0',
      '--target-bytes',
      '4096',
      uri,
    );
    expect(taken.stderr).toBe('');
    expect(taken.code).toBe(0);
    expect(await objectsOf(key)).not.toContain('yoink-compaction.json');
    expect((await cli('cat', uri)).stdout).toBe(text);
  });

  it('takes the place of an idle writer: its next flush fails with ConcurrentWriterError, nothing lost or duplicated', async () => {
    const key = freshKey('fenced');
    const writer = writerOn(key);
    const text = await writeSegments(writer, 10);

    const run = await cli('compact', '--grace-ms', '0', '--target-bytes', '4096', uriOf(key));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    await writer.write(`${lineOf(10, 0)}\n`);
    const refused = await writer.flush().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(ConcurrentWriterError.isInstance(refused)).toBe(true);
    await writer.close().catch(() => {});
    expect((await cli('cat', uriOf(key))).stdout).toBe(text);
  });

  it('stops at Ctrl-C mid-way with exit 130, releasing its lock; nothing is lost and compact finishes later', async () => {
    const key = freshKey('interrupted');
    const text = await stoppedCheckpoint(key, 10);
    // The proxy freezes when the CLI starts the merged object's multipart upload.
    const proxy = await FreezingProxy.start(
      moto.port,
      new RegExp(`POST /${BUCKET}/${key}/\\d{12}-\\d{12}\\.jsonl\\?uploads`),
    );
    try {
      const viaProxy = `s3://${BUCKET}/${key}?endpoint=http://127.0.0.1:${proxy.port}&forcePathStyle=true&layout=segments`;
      const run = spawnCli(['compact', '--grace-ms', '0', '--target-bytes', '4096', viaProxy], {
        env,
      });
      await proxy.frozen;
      run.child.kill('SIGINT');
      await run.stderrMatches(/SIGINT: stopping/);
      // Releasing the lock goes through the proxy too.
      proxy.thaw();
      const result = await run.result;
      expect(result.code).toBe(130);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(
        /^yoink-storage: interrupted by SIGINT: compaction stopped; every merged object it completed is whole and nothing was lost/m,
      );
    } finally {
      await proxy.cut();
    }
    expect(await objectsOf(key)).not.toContain('yoink-compaction.json');
    expect((await cli('cat', uriOf(key))).stdout).toBe(text);
    const again = await cli('compact', '--grace-ms', '0', '--target-bytes', '4096', uriOf(key));
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect((await cli('cat', uriOf(key))).stdout).toBe(text);
  });

  it('exits 1 for a segments checkpoint that does not exist', async () => {
    const run = await cli('compact', uriOf(freshKey('nothing')));
    expect(run.code).toBe(1);
    expectOneErrorLine(run.stderr);
    expect(run.stderr).toContain('No checkpoint at');
  });

  it('exits 2 for a checkpoint without compaction: a local file, an S3 object (layout=object)', async () => {
    const file = join(dir, 'local.jsonl');
    await writeFile(file, '{"a":1}\n');
    const local = await cli('compact', file);
    expect(local.code).toBe(2);
    expectOneErrorLine(local.stderr);
    expect(local.stderr).toContain('cannot be compacted');

    const objectUri = `s3://${BUCKET}/${freshKey('object')}.jsonl?endpoint=${moto.endpoint}&forcePathStyle=true`;
    expect((await cli('cp', file, objectUri)).code).toBe(0);
    const object = await cli('compact', objectUri);
    expect(object.code).toBe(2);
    expectOneErrorLine(object.stderr);
    expect(object.stderr).toContain('uses layout=object');
    expect(object.stderr).toContain('-o layout=segments');
  });
});

describe('yoink-storage compact on s3rver (no UploadPartCopy, no conditional writes)', () => {
  let s3rver: S3TestServer;
  beforeAll(async () => {
    s3rver = await startS3rver({ buckets: [BUCKET] });
  }, 60_000);
  afterAll(async () => {
    await s3rver?.stop();
  });

  it('falls back to downloading and re-uploading the segments with conditionalWrites=off; cat reads the same', async () => {
    const key = freshKey('s3rver');
    const writer = new S3Storage(`s3://${BUCKET}/${key}?layout=segments&conditionalWrites=off`, {
      clientConfig: s3rver.clientConfig,
    });
    const text = await writeSegments(writer, 15);
    await writer.close();
    const uri = uriOf(key, s3rver, '&conditionalWrites=off');
    const run = await runCli(
      ['compact', '--json', '--grace-ms', '0', '--target-bytes', '4096', uri],
      { env },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.copiedBytes).toBe(0);
    expect(result.downloadedBytes).toBe(Buffer.byteLength(text));
    expect(result.deleted).toBe(15);
    expect((await runCli(['cat', uri], { env })).stdout).toBe(text);
  });
});
