import { S3_SIZES } from './implementation-constants.js';
import { markdownTable, num, ratio } from './markdown.js';
import { type S3ReadResult, s3ReadBench } from './s3-read-bench.js';
import { judgeS3Read } from './s3-read-targets.js';
import { type RunInfo, type Section, type SectionOutput, sectionHead } from './section.js';
import { BUCKET } from './servers.js';
import { MB, MiB } from './stats.js';

/** The delay the latency proxy adds before each request, ms (about Amazon S3's time to first byte). */
const LATENCY_MS = 20;

/** Where opening costs more requests than listing every page, and from where fewer: from the counts. */
function openSummary(r: S3ReadResult): string {
  const more = r.open.filter((p) => p.requests > p.fullListing).map((p) => num(p.segments, 0));
  const fewer = r.open.filter((p) => p.requests < p.fullListing);
  const first = fewer[0];
  const last = fewer.at(-1);
  return [
    more.length === 0
      ? 'Opening never cost more requests than listing every page in this run.'
      : `Opening cost more requests than listing every page at ${more.join(', ')} segments.`,
    first && last
      ? `It cost fewer from ${num(first.segments, 0)} segments on: ${last.requests} instead of ${last.fullListing} at ${num(last.segments, 0)}.`
      : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/** S3 reads through a latency proxy (parallel versus one at a time) and the requests of opening a segments checkpoint. */
export const s3ReadSection: Section<S3ReadResult> = {
  id: 's3-read',
  group: 's3',
  measure: ({ plan, log }) =>
    s3ReadBench(
      BUCKET,
      {
        segments: plan.s3ReadSegments,
        objectBytes: plan.s3ReadObjectBytes,
        openCounts: plan.s3OpenCounts,
        runs: plan.readRuns,
        latencyMs: LATENCY_MS,
      },
      log,
    ),
  render: renderS3Read,
};

/** The report's "S3 at scale" section. */
function renderS3Read(r: S3ReadResult, run: RunInfo): SectionOutput {
  const verdicts = judgeS3Read(r);
  const out: string[] = [];
  const seg = r.segments;
  const obj = r.object;
  out.push(
    ...sectionHead(
      '## S3 at scale: opening and reading (`@yoink/storage-s3`)',
      run,
      verdicts,
      's3rver and moto_server on loopback',
    ),
  );
  out.push(
    `Reads go through a TCP proxy (\`startLatencyProxy\` of \`@yoink/test-servers/proxies\`) that holds each request ${r.latencyMs} ms before forwarding it, like the time to first byte of Amazon S3, in front of s3rver, both in a child process so that their work does not share the reader's thread. Each contender reads the same checkpoint with a fresh storage; times are the median of ${r.runs} run${r.runs === 1 ? '' : 's'} (one at a time: one run). The bare-client rows are the server's ceiling: the same GETs sent by an \`S3Client\` alone, keeping no order and splitting no lines.`,
  );
  out.push('');
  const perSegment = (ms: number): string => num(ms / seg.count, 1);
  out.push(
    `Segments: ${num(seg.count, 0)} segments of ${num(seg.bytes / seg.count, 0)} bytes (${num(seg.lines, 0)} lines).`,
  );
  out.push('');
  out.push(
    markdownTable(
      ['read', 'GETs', 'seconds', 'ms per segment', 'vs one at a time'],
      [
        [
          'S3Storage, one GET at a time (`readConcurrency: 1`)',
          String(seg.sequential.requests),
          num(seg.sequential.ms / 1000, 2),
          perSegment(seg.sequential.ms),
          '1.0×',
        ],
        [
          `S3Storage, defaults (${seg.concurrency} segments fetched ahead, in order)`,
          String(seg.parallel.requests),
          num(seg.parallel.ms / 1000, 2),
          perSegment(seg.parallel.ms),
          ratio(seg.sequential.ms / seg.parallel.ms),
        ],
        [
          `ceiling: bare S3Client, ${seg.concurrency} GETs at a time, no order`,
          String(seg.limit.requests),
          num(seg.limit.ms / 1000, 2),
          perSegment(seg.limit.ms),
          ratio(seg.sequential.ms / seg.limit.ms),
        ],
      ],
    ),
  );
  out.push('');
  const mbps = (ms: number): string => num(obj.bytes / MB / (ms / 1000), 0);
  out.push(
    `Object: one object of ${num(obj.bytes / MiB, 0)} MiB (${num(obj.lines, 0)} lines), read as one stream and in ranges of ${obj.rangeBytes / MiB} MiB (${obj.concurrency} in flight within the ${num(S3_SIZES.readAheadBytes / MiB, 0)} MiB read-ahead budget, \`readAheadBytes\`'s default).`,
  );
  out.push('');
  const rows: string[][] = [
    [
      'S3Storage, one stream',
      String(obj.sequential.requests),
      num(obj.sequential.ms / 1000, 2),
      mbps(obj.sequential.ms),
      '1.0×',
    ],
    [
      'S3Storage, parallel ranges (defaults)',
      String(obj.parallel.requests),
      num(obj.parallel.ms / 1000, 2),
      mbps(obj.parallel.ms),
      ratio(obj.sequential.ms / obj.parallel.ms, 2),
    ],
  ];
  if (obj.rawSingle) {
    rows.push([
      'bare S3Client, one stream',
      String(obj.rawSingle.requests),
      num(obj.rawSingle.ms / 1000, 2),
      mbps(obj.rawSingle.ms),
      ratio(obj.sequential.ms / obj.rawSingle.ms, 2),
    ]);
  }
  rows.push([
    `bare S3Client, ${obj.concurrency} ranges at a time`,
    String(obj.limit.requests),
    num(obj.limit.ms / 1000, 2),
    mbps(obj.limit.ms),
    ratio(obj.sequential.ms / obj.limit.ms, 2),
  ]);
  out.push(markdownTable(['read', 'GETs', 'seconds', 'MB/s', 'vs one stream'], rows));
  out.push('');
  out.push(
    'Requests to open a segments checkpoint for writing (everything before the first PUT of a new segment), counted with a client middleware that answers `ListObjectsV2` like S3 from an in-memory listing, next to listing every page (one `ListObjectsV2` per 1,000 keys, plus the same last-byte GET):',
  );
  out.push('');
  out.push(
    markdownTable(
      ['segments', 'requests to open', 'listing every page', 'ratio'],
      [...r.open, r.openOnMoto].map((p, i) => [
        `${num(p.segments, 0)}${i === r.open.length ? ' (moto: counted on the wire; the listing column is its page count + 1)' : ''}`,
        String(p.requests),
        String(p.fullListing),
        p.requests === 0 ? '—' : ratio(p.fullListing / p.requests, 2),
      ]),
    ),
  );
  out.push('');
  out.push(openSummary(r));
  out.push('');
  return { markdown: out, charts: [], verdicts };
}
