import { markdownTable, num, ratio } from './markdown.js';
import type { S3ReadResult } from './s3-read-bench.js';
import { MB, MiB } from './stats.js';

/** The report's "S3 reads at scale" section (docs/benchmarks.md), as lines of Markdown. */
export function renderS3Read(r: S3ReadResult): string[] {
  const out: string[] = [];
  const seg = r.segments;
  const obj = r.object;
  out.push('## S3 at scale: opening and reading (`@yoink/storage-s3`)');
  out.push('');
  out.push(
    `Reads go through a TCP proxy (\`bench/src/latency-proxy.ts\`) that holds each request ${r.latencyMs} ms before forwarding it, like the time to first byte of Amazon S3, in front of s3rver (the faster of the two test servers), both in a child process so that their work does not share the reader's thread. Each contender reads the same checkpoint with a fresh storage; times are the median of ${r.runs} run${r.runs === 1 ? '' : 's'} (one at a time: one run). The bare-client rows are the server's ceiling: the same GETs sent by an \`S3Client\` alone, keeping no order and splitting no lines.`,
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
    `Object: one object of ${num(obj.bytes / MiB, 0)} MiB (${num(obj.lines, 0)} lines), read as one stream and in ranges of ${obj.rangeBytes / MiB} MiB (\`If-Match\` on the first reply's ETag, 8 in flight within the 64 MiB read-ahead budget).`,
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
    'bare S3Client, 8 ranges at a time',
    String(obj.limit.requests),
    num(obj.limit.ms / 1000, 2),
    mbps(obj.limit.ms),
    ratio(obj.sequential.ms / obj.limit.ms, 2),
  ]);
  out.push(markdownTable(['read', 'GETs', 'seconds', 'MB/s', 'vs one stream'], rows));
  out.push('');
  out.push(
    'Requests to open a segments checkpoint for writing (everything before the first PUT of a new segment): the first listing page; past 1,000 segments, `StartAfter` probes with `MaxKeys: 1` in 16-fold steps, a binary search down to one page and a listing of that page; then one ranged GET of the last byte of the last segment. Counted with a client middleware that answers like S3 from an in-memory listing, next to the design before (one `ListObjectsV2` per 1,000 segments, plus the same GET):',
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
  out.push(
    'Up to 1,000 segments the first page is the whole listing, as before. Past it the search costs about log₁₆ n + log₂ (n / 1,000) + 3 requests: a few more than a full listing below about 15,000 segments, and far fewer above (a checkpoint flushed every few seconds for a week has hundreds of thousands). `exists()` is one request at any size.',
  );
  out.push('');
  return out;
}
