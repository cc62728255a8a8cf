// Segment count before and after compaction of an S3 segments checkpoint, measured on moto
// (the test server with UploadPartCopy and conditional writes, so compaction's real path runs):
// the report's "S3 segments: compaction" section (group `s3`).
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type CompactionResult, S3Storage, type S3StorageOptions } from '@yoink/storage-s3';
import type { S3TestServer } from '@yoink/test-servers/s3';
import { S3_SIZES } from './implementation-constants.js';
import { markdownTable, num, ratio } from './markdown.js';
import { countRequests } from './s3-read-bench.js';
import { type RunInfo, type Section, type SectionOutput, sectionHead } from './section.js';
import { BUCKET } from './servers.js';
import { MB, MiB, timeMs } from './stats.js';
import type { TargetVerdict } from './targets.js';

/** What the compaction benchmark is asked to do. */
interface S3CompactionPlan {
  /** Small segments of the checkpoint an operator compacts (one flush each). */
  segments: number;
  /** Lines of ~300 bytes per small segment. */
  linesPerSegment: number;
  /** `compactTargetBytes` of every compaction here (scaled down from the 64 MiB default, so several merged objects show at this size). */
  targetBytes: number;
  /** Segments of `largeSegmentBytes` each (≥ 5 MiB: copied server-side with UploadPartCopy); 0 to skip. */
  largeSegments: number;
  largeSegmentBytes: number;
  /** Flushes of a writer that compacts itself (`compactAfterSegments`). */
  writerFlushes: number;
  compactAfterSegments: number;
}

/** The full benchmark. */
const S3_COMPACTION_FULL: S3CompactionPlan = {
  segments: 2_000,
  linesPerSegment: 10,
  targetBytes: MiB,
  largeSegments: 6,
  largeSegmentBytes: 6 * MiB,
  writerFlushes: 1_000,
  compactAfterSegments: 100,
};

/** `pnpm bench --quick`. */
const S3_COMPACTION_QUICK: S3CompactionPlan = {
  segments: 300,
  linesPerSegment: 10,
  targetBytes: 256 * 1024,
  largeSegments: 2,
  largeSegmentBytes: 6 * MiB,
  writerFlushes: 200,
  compactAfterSegments: 50,
};

/** One full read of a checkpoint: time, GETs and listing requests. */
interface CompactionRead {
  ms: number;
  gets: number;
  lists: number;
}

/** An operator's compaction of one checkpoint, with reads before and after. */
interface CompactionRun {
  segments: number;
  bytes: number;
  lines: number;
  targetBytes: number;
  /** Objects under the prefix before and after, and the chain (what a read reads) after. */
  objectsBefore: number;
  objectsAfter: number;
  chainAfter: number;
  /** The bound of the target: ⌈bytes / target⌉ merged objects + 1 recent flush (the operator's empty fence). */
  bound: number;
  compaction: {
    ms: number;
    requests: number;
    merged: number;
    deleted: number;
    copiedBytes: number;
    uploadedBytes: number;
    downloadedBytes: number;
  };
  readBefore: CompactionRead;
  readAfter: CompactionRead;
}

/** A writer flushing in a tight loop with `compactAfterSegments`. */
interface WriterCompactionRun {
  flushes: number;
  bytes: number;
  compactAfterSegments: number;
  targetBytes: number;
  /** Background compactions that ran. */
  compactions: number;
  /** Flushes after the last background compaction started: segments it could not merge yet. */
  recentFlushes: number;
  /** Objects under the prefix once the writer closed. */
  objects: number;
  /** ⌈bytes / target⌉ + recent flushes + 1 (the last, shorter merged object). */
  bound: number;
}

/** Everything the compaction benchmark measured. */
export interface S3CompactionResult {
  server: string;
  small: CompactionRun;
  /** Large segments (≥ 5 MiB), merged by server-side copy; absent when the plan has none. */
  large?: CompactionRun;
  writer: WriterCompactionRun;
}

/** A JSONL line of ~300 bytes, numbered. */
function line(i: number): string {
  const head = `{"i":${i},"url":"https://example.com/page/${i}","pad":"`;
  return `${head}${'x'.repeat(297 - head.length)}"}\n`;
}

const segmentName = (prefix: string, seq: number): string =>
  `${prefix}/${String(seq).padStart(12, '0')}.jsonl`;

function storageOn(
  server: S3TestServer,
  bucket: string,
  key: string,
  options: S3StorageOptions = {},
): S3Storage {
  return new S3Storage(
    `s3://${bucket}/${key}?endpoint=${encodeURIComponent(server.endpoint)}&forcePathStyle=true`,
    {
      layout: 'segments',
      ...options,
      clientConfig: { credentials: server.clientConfig.credentials },
    },
  );
}

/** Puts `bodies` as segments 0… of `prefix`, 16 at a time. */
async function putBodies(
  client: S3Client,
  bucket: string,
  prefix: string,
  count: number,
  body: (seq: number) => string,
): Promise<void> {
  for (let i = 0; i < count; i += 16) {
    await Promise.all(
      Array.from({ length: Math.min(16, count - i) }, (_, k) =>
        client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: segmentName(prefix, i + k),
            Body: body(i + k),
          }),
        ),
      ),
    );
  }
}

async function countObjects(client: S3Client, bucket: string, prefix: string): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }),
    );
    n += page.KeyCount ?? page.Contents?.length ?? 0;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return n;
}

/** Reads every line once with a fresh storage; checks the count. */
async function readAll(
  server: S3TestServer,
  bucket: string,
  key: string,
  lines: number,
): Promise<CompactionRead> {
  const s = storageOn(server, bucket, key);
  const counts = countRequests(s.client, 'yoinkBenchCompactionCount');
  let seen = 0;
  const ms = await timeMs(async () => {
    for await (const _ of s.read()) seen += 1;
  });
  await s.close();
  if (seen !== lines)
    throw new Error(`s3 compaction: read ${seen} lines of ${key}, expected ${lines}`);
  return { ms, gets: counts.get('GetObject') ?? 0, lists: counts.get('ListObjectsV2') ?? 0 };
}

/** An operator's compaction (the writer stopped, no grace period) of the checkpoint at `key`. */
async function compactOnce(
  server: S3TestServer,
  bucket: string,
  key: string,
  shape: { segments: number; bytes: number; lines: number; targetBytes: number },
  client: S3Client,
): Promise<CompactionRun> {
  const objectsBefore = await countObjects(client, bucket, key);
  const readBefore = await readAll(server, bucket, key, shape.lines);
  const s = storageOn(server, bucket, key);
  let r: CompactionResult | undefined;
  const ms = await timeMs(async () => {
    r = await s.compact({ targetBytes: shape.targetBytes, graceMs: 0 });
  });
  await s.close();
  if (r === undefined) throw new Error('s3 compaction: compact() returned nothing');
  const done: CompactionResult = r;
  const readAfter = await readAll(server, bucket, key, shape.lines);
  return {
    ...shape,
    objectsBefore,
    objectsAfter: await countObjects(client, bucket, key),
    chainAfter: done.after.chain,
    bound: Math.ceil(shape.bytes / shape.targetBytes) + 1,
    compaction: {
      ms,
      requests: done.requests,
      merged: done.merged.length,
      deleted: done.deleted,
      copiedBytes: done.copiedBytes,
      uploadedBytes: done.uploadedBytes,
      downloadedBytes: done.downloadedBytes,
    },
    readBefore,
    readAfter,
  };
}

/** A writer flushing `flushes` times in a row, compacting itself every `compactAfterSegments`. */
async function writerRun(
  server: S3TestServer,
  bucket: string,
  key: string,
  plan: S3CompactionPlan,
  client: S3Client,
): Promise<WriterCompactionRun> {
  const w = storageOn(server, bucket, key, {
    compactAfterSegments: plan.compactAfterSegments,
    compactTargetBytes: plan.targetBytes,
    compactGraceMs: 0,
  });
  let flushes = 0;
  let lastStart = 0;
  let compactions = 0;
  // A background compaction starts by putting its lock: note how many flushes came before.
  w.client.middlewareStack.add(
    (next, context) => async (args) => {
      const k = String((args.input as { Key?: string }).Key);
      if (context.commandName === 'PutObjectCommand' && k.endsWith('/yoink-compaction.json')) {
        compactions += 1;
        lastStart = flushes;
      }
      return next(args);
    },
    { step: 'initialize', name: 'yoinkBenchCompactionStarts' },
  );
  let bytes = 0;
  for (let f = 0; f < plan.writerFlushes; f++) {
    for (let j = 0; j < plan.linesPerSegment; j++) {
      const l = line(f * plan.linesPerSegment + j);
      bytes += l.length;
      await w.write(l);
    }
    await w.flush();
    flushes += 1;
  }
  await w.close();
  const recentFlushes = plan.writerFlushes - lastStart;
  const lines = plan.writerFlushes * plan.linesPerSegment;
  await readAll(server, bucket, key, lines);
  return {
    flushes: plan.writerFlushes,
    bytes,
    compactAfterSegments: plan.compactAfterSegments,
    targetBytes: plan.targetBytes,
    compactions,
    recentFlushes,
    objects: await countObjects(client, bucket, key),
    bound: Math.ceil(bytes / plan.targetBytes) + recentFlushes + 1,
  };
}

/**
 * Measures compaction on `server` (moto: UploadPartCopy and conditional
 * writes, so the real path runs) in one run, side by side:
 *
 * - a checkpoint of `plan.segments` small segments, compacted by an operator
 *   (the writer stopped, no grace period): objects before and after, the
 *   compaction's time, requests and bytes moved, and a full read before and after;
 * - `plan.largeSegments` segments of 5 MiB or more, merged by server-side copy;
 * - a writer flushing `plan.writerFlushes` times in a row with
 *   `compactAfterSegments`: the objects left when it closes.
 *
 * Every read is checked to yield every line.
 */
async function s3CompactionBench(
  server: S3TestServer,
  bucket: string,
  plan: S3CompactionPlan,
  log: (message: string) => void,
): Promise<S3CompactionResult> {
  const stamp = Date.now();
  const client = new S3Client(server.clientConfig);
  try {
    const smallKey = `bench-compaction-small-${stamp}`;
    log(`s3 compaction: putting ${plan.segments} segments of ${plan.linesPerSegment} lines`);
    const body = (seq: number): string =>
      Array.from({ length: plan.linesPerSegment }, (_, j) =>
        line(seq * plan.linesPerSegment + j),
      ).join('');
    await putBodies(client, bucket, smallKey, plan.segments, body);
    let bytes = 0;
    for (let i = 0; i < plan.segments; i++) bytes += Buffer.byteLength(body(i));
    log('s3 compaction: reading, compacting (operator), reading again');
    const small = await compactOnce(
      server,
      bucket,
      smallKey,
      {
        segments: plan.segments,
        bytes,
        lines: plan.segments * plan.linesPerSegment,
        targetBytes: plan.targetBytes,
      },
      client,
    );
    let large: CompactionRun | undefined;
    if (plan.largeSegments > 0) {
      const largeKey = `bench-compaction-large-${stamp}`;
      const big = (seq: number): string =>
        `${String(seq).padStart(8, '0')}${'y'.repeat(plan.largeSegmentBytes - 9)}\n`;
      log(
        `s3 compaction: ${plan.largeSegments} segments of ${num(plan.largeSegmentBytes / MiB, 0)} MiB (server-side copy)`,
      );
      await putBodies(client, bucket, largeKey, plan.largeSegments, big);
      const largeTarget = 64 * MiB;
      large = await compactOnce(
        server,
        bucket,
        largeKey,
        {
          segments: plan.largeSegments,
          bytes: plan.largeSegments * plan.largeSegmentBytes,
          lines: plan.largeSegments,
          targetBytes: largeTarget,
        },
        client,
      );
    }
    log(
      `s3 compaction: a writer flushing ${plan.writerFlushes} times with compactAfterSegments=${plan.compactAfterSegments}`,
    );
    const writer = await writerRun(
      server,
      bucket,
      `bench-compaction-writer-${stamp}`,
      plan,
      client,
    );
    return { server: server.kind, small, ...(large ? { large } : {}), writer };
  } finally {
    client.destroy();
  }
}

/**
 * Judges issue 17's compaction target on one run's figures (pure): the
 * segment count after compaction stays ≤ ⌈size / target⌉ + recent flushes.
 */
export function judgeS3Compaction(r: S3CompactionResult): TargetVerdict[] {
  const s = r.small;
  const w = r.writer;
  const status = (ok: boolean): TargetVerdict['status'] => (ok ? 'MET' : 'NOT MET');
  return [
    {
      target:
        'S3 segments: after compaction, objects ≤ ⌈size / compactTargetBytes⌉ + recent flushes (operator compaction)',
      measured: `${num(s.objectsBefore, 0)} → ${num(s.objectsAfter, 0)} objects (${num(s.bytes / MB, 1)} MB, target ${num(s.targetBytes / MiB, 2)} MiB: bound ${s.bound}, the operator's empty fence counted as the one recent flush)`,
      status: status(s.objectsAfter <= s.bound),
      note: '',
    },
    {
      target:
        'S3 segments: a writer with compactAfterSegments keeps objects ≤ ⌈size / compactTargetBytes⌉ + recent flushes',
      measured: `${num(w.objects, 0)} objects after ${num(w.flushes, 0)} flushes (${num(w.bytes / MB, 1)} MB, ${w.compactions} background compactions, ${w.recentFlushes} flushes since the last one started: bound ${w.bound})`,
      status: status(w.objects <= w.bound),
      note:
        w.recentFlushes > w.compactAfterSegments
          ? `The writer flushed in a tight loop, faster than a compaction runs: ${w.recentFlushes} flushes landed after the last compaction started (compactAfterSegments is ${w.compactAfterSegments}); the next one merges them.`
          : '',
    },
  ];
}

/** The report's "S3 segments: compaction" section. */
function renderS3CompactionSection(r: S3CompactionResult, run: RunInfo): SectionOutput {
  const verdicts = judgeS3Compaction(r);
  const out: string[] = [];
  const s = r.small;
  out.push(
    ...sectionHead('## S3 segments: compaction (`@yoink/storage-s3`)', run, verdicts, r.server),
  );
  out.push(
    `On ${r.server}, which has \`UploadPartCopy\` and conditional writes, so compaction runs its real path: pieces of ${num(S3_SIZES.minPartBytes / MiB, 0)} MiB or more (S3's minimum part size) are copied server-side, smaller ones downloaded and joined into parts of a multipart upload completed with \`If-None-Match: *\`. An operator compacts (the writer stopped, \`graceMs: 0\`: the originals are deleted in the same run); a full read with a fresh storage (${S3_SIZES.readConcurrency} objects fetched ahead, the default) is timed before and after. \`compactTargetBytes\` is ${num(s.targetBytes / MiB, 2)} MiB here (${num(S3_SIZES.compactTargetBytes / MiB, 0)} MiB by default) so that a checkpoint of this size gives several merged objects.`,
  );
  out.push('');
  const readRow = (label: string, objects: number, read: CompactionRead): string[] => [
    label,
    num(objects, 0),
    num(read.gets, 0),
    num(read.lists, 0),
    num(read.ms / 1000, 2),
  ];
  const rows = [
    readRow(`before: ${num(s.segments, 0)} segments`, s.objectsBefore, s.readBefore),
    readRow(`after: ${s.compaction.merged} merged object(s) + fence`, s.objectsAfter, s.readAfter),
  ];
  out.push(
    markdownTable(
      ['checkpoint', 'objects', 'GETs to read', 'listings to read', 'read seconds'],
      rows,
    ),
  );
  out.push('');
  out.push(
    `The same ${num(s.bytes / MB, 1)} MB (${num(s.lines, 0)} lines) read ${ratio(s.readBefore.ms / s.readAfter.ms, 1)} faster after compaction: one GET per merged object instead of one per segment.`,
  );
  out.push('');
  const compRow = (label: string, c: CompactionRun): string[] => [
    label,
    num(c.compaction.ms / 1000, 2),
    num(c.compaction.requests, 0),
    num(c.compaction.merged, 0),
    num(c.compaction.deleted, 0),
    num(c.compaction.downloadedBytes / MB, 1),
    num(c.compaction.uploadedBytes / MB, 1),
    num(c.compaction.copiedBytes / MB, 1),
  ];
  const compRows = [compRow(`${num(s.segments, 0)} small segments`, s)];
  if (r.large) {
    compRows.push(
      compRow(
        `${r.large.segments} segments of ${num(r.large.bytes / r.large.segments / MiB, 0)} MiB`,
        r.large,
      ),
    );
  }
  out.push(
    markdownTable(
      [
        'compaction of',
        'seconds',
        'requests',
        'merged',
        'deleted',
        'MB downloaded',
        'MB uploaded',
        'MB copied server-side',
      ],
      compRows,
    ),
  );
  out.push('');
  const w = r.writer;
  out.push(
    `A writer that compacts itself (\`compactAfterSegments: ${w.compactAfterSegments}\`, \`compactTargetBytes\` ${num(w.targetBytes / MiB, 2)} MiB, \`compactGraceMs: 0\`), flushing ${num(w.flushes, 0)} times in a row: ${w.compactions} background compactions, ${num(w.objects, 0)} objects when it closed (without compaction: ${num(w.flushes, 0)}); ${w.recentFlushes} flushes came after the last compaction started.`,
  );
  out.push('');
  return { markdown: out, charts: [], verdicts };
}

/** Segment count before and after compaction, its cost, and a writer that compacts itself (moto). */
export const s3CompactionSection: Section<S3CompactionResult> = {
  id: 's3-compaction',
  group: 's3',
  measure: async ({ plan, servers, log }) =>
    s3CompactionBench(
      await servers.moto(),
      BUCKET,
      plan.mode === 'full' ? S3_COMPACTION_FULL : S3_COMPACTION_QUICK,
      log,
    ),
  render: renderS3CompactionSection,
};
