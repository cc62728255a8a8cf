// A checkpoint grown flush by flush with its bytes on the wire counted: the
// S3 and Azure sections measure and show their runs the same way.
import { markdownTable, num, ratio } from './markdown.js';
import { MB, MiB } from './stats.js';

/** Bytes on the wire and requests of one flush. */
export interface WireFlush {
  /** Checkpoint size before this flush, bytes. */
  size: number;
  /** Bytes of the flush's data. */
  data: number;
  /** Request body bytes sent. */
  up: number;
  /** Response body bytes received. */
  down: number;
  requests: number;
  /** Requests by kind (an S3 command name, an Azure operation). */
  commands: Record<string, number>;
}

/** Counters a proxy or client middleware keeps; {@link growByFlushes} reads them around each flush. */
export interface WireMeter {
  up: number;
  down: number;
  requests: number;
  commands: Record<string, number>;
}

/** A fresh meter at zero. */
export function wireMeter(): WireMeter {
  return { up: 0, down: 0, requests: 0, commands: {} };
}

/** Counts one request of `kind` on `m`. */
export function countRequest(m: WireMeter, kind: string): void {
  m.requests += 1;
  m.commands[kind] = (m.commands[kind] ?? 0) + 1;
}

/** A copy of the meter's counters now, for {@link since}. */
export function snapshot(m: WireMeter): WireMeter {
  return { ...m, commands: { ...m.commands } };
}

/** What `m` counted since `before` (a {@link snapshot}). */
export function since(m: WireMeter, before: WireMeter): WireMeter {
  return {
    up: m.up - before.up,
    down: m.down - before.down,
    requests: m.requests - before.requests,
    commands: Object.fromEntries(
      Object.entries(m.commands)
        .map(([k, n]) => [k, n - (before.commands[k] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    ),
  };
}

/** One design grown to a size: its flushes, in order. */
export interface GrowthRun {
  name: string;
  flushes: WireFlush[];
  seconds: number;
}

/** A flush's worth of JSONL (`bytes` long, whole lines but the last, ending in `\n`). */
export function flushData(i: number, bytes: number): string {
  const line = `{"i":${i},"url":"https://example.com/page/${i}","pad":"${'x'.repeat(180)}"}\n`;
  return `${line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes - 1)}\n`;
}

/**
 * Appends flushes of `flushBytes` until the checkpoint holds `totalBytes`,
 * recording what `meter` counted during each.
 */
export async function growByFlushes(
  append: (data: string) => Promise<void>,
  meter: WireMeter,
  totalBytes: number,
  flushBytes: number,
): Promise<{ flushes: WireFlush[]; seconds: number }> {
  const flushes: WireFlush[] = [];
  const t0 = performance.now();
  for (let i = 0, size = 0; size < totalBytes; i++) {
    const before = snapshot(meter);
    const data = flushData(i, flushBytes);
    await append(data);
    flushes.push({ size, data: data.length, ...since(meter, before) });
    size += data.length;
  }
  return { flushes, seconds: (performance.now() - t0) / 1000 };
}

/** Totals of a run. */
export function wireTotals(run: GrowthRun): { up: number; down: number; requests: number } {
  return run.flushes.reduce(
    (t, f) => ({ up: t.up + f.up, down: t.down + f.down, requests: t.requests + f.requests }),
    { up: 0, down: 0, requests: 0 },
  );
}

/** Per flush at powers-of-two sizes up to `totalBytes`: `KiB up / KiB down / requests`. */
export function perFlushTable(
  runs: readonly GrowthRun[],
  totalBytes: number,
  flushBytes: number,
): string {
  const marks = [1, 2, 4, 5, 8, 16, 32, 64, 128]
    .map((x) => x * MiB)
    .filter((x) => x < totalBytes)
    .concat([totalBytes - flushBytes]);
  return markdownTable(
    ['design (server)', ...marks.map((x) => `@${num(x / MiB, 1)} MiB`)],
    runs.map((r) => [
      r.name,
      ...marks.map((x) => {
        const f = r.flushes.find((g) => g.size >= x) ?? r.flushes.at(-1);
        return f ? `${num(f.up / 1024, 0)} / ${num(f.down / 1024, 0)} / ${f.requests}` : '—';
      }),
    ]),
  );
}

/** Totals over each run, with the seed's wire bytes over each run's. */
export function totalsTable(runs: readonly GrowthRun[], seed: GrowthRun | undefined): string {
  const seedTotals = seed ? wireTotals(seed) : undefined;
  const seedWire = seedTotals ? seedTotals.up + seedTotals.down : 0;
  return markdownTable(
    [
      'design (server)',
      'flushes',
      'uploaded',
      'downloaded',
      'requests',
      "seed's wire bytes / this",
      'time',
    ],
    runs.map((r) => {
      const t = wireTotals(r);
      return [
        r.name,
        String(r.flushes.length),
        `${num(t.up / MB, 1)} MB`,
        `${num(t.down / MB, 1)} MB`,
        String(t.requests),
        seedWire ? ratio(seedWire / (t.up + t.down)) : '—',
        `${num(r.seconds, 1)} s`,
      ];
    }),
  );
}
