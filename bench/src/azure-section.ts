import { type AzureBenchResult, azureBench } from './azure-bench.js';
import { perFlushTable, totalsTable, wireTotals } from './growth.js';
import { AZURE_SIZES } from './implementation-constants.js';
import { num, ratio, timingTable } from './markdown.js';
import { type Section, sectionHead } from './section.js';
import { MiB } from './stats.js';
import { countsText, type TargetVerdict } from './targets.js';
import { FLUSH_EVERY, LINE_BYTES } from './workload.js';

/** The Azure targets: no download after opening, flat bytes per flush. */
function judgeAzure(a: AzureBenchResult): TargetVerdict[] {
  const ours = a.growth[0];
  if (!ours) return [];
  const down = wireTotals(ours).down;
  const ups = ours.flushes.map((f) => f.up / f.data);
  const reqs = new Set(ours.flushes.slice(1).map((f) => f.requests));
  const spread = Math.max(...ups) / Math.min(...ups);
  return [
    {
      target: 'Azure: a flush downloads nothing; opening reads 1 byte',
      measured: `${num(down, 0)} bytes downloaded over ${ours.flushes.length} flushes; a new writer on the ${num(a.reopen.size / MiB, 1)} MiB checkpoint: ${a.reopen.requests} requests, ${num(a.reopen.down, 0)} byte(s) down up to its first flush`,
      status: down === 0 && a.reopen.down <= 1 ? 'MET' : 'NOT MET',
      note: `The new writer sent ${countsText(a.reopen.commands)}.`,
    },
    {
      target: 'Azure: bytes per flush flat as the checkpoint grows',
      measured: `upload per flush / flush data: max/min ${ratio(spread, 3)}; requests per flush ${[...reqs].join(', ')}`,
      status: spread <= 1.05 && reqs.size === 1 ? 'MET' : 'NOT MET',
      note: '',
    },
  ];
}

/** `@yoink/storage-azure` on Azurite against the seed's download + append + re-upload, one raw AppendBlock and one PutBlob. */
export const azureSection: Section<AzureBenchResult> = {
  id: 'azure',
  group: 'azure',
  measure: ({ plan, log }) => azureBench(plan, log),
  render(a, run) {
    const p = run.plan;
    const verdicts = judgeAzure(a);
    const [ours, seed] = a.growth;
    const lastOurs = ours?.flushes.at(-1);
    const lastSeed = seed?.flushes.at(-1);
    const w = a.write;
    const md = [
      ...sectionHead(
        '## Azure Blob Storage (`@yoink/storage-azure`)',
        run,
        verdicts,
        `${a.azurite} on loopback, started by the runner`,
      ),
      `One checkpoint grown to ${num(p.azureTotalBytes / MiB, 0)} MiB in flushes of ${p.azureFlushBytes / 1024} KiB: ours (\`AzureBlobStorage\`, AppendBlock requests of at most ${num(AZURE_SIZES.blockBytes / MiB, 0)} MiB) and the seed's design reimplemented on Azure (download the whole blob, append, re-upload). A counting proxy in front of Azurite measures request body bytes (up), response body bytes (down) and requests by method and \`comp\` operation per flush.`,
      '',
      'Per flush at a checkpoint size: KiB up / KiB down / requests.',
      '',
      perFlushTable(a.growth, p.azureTotalBytes, p.azureFlushBytes),
      '',
      totalsTable(a.growth, seed),
      '',
      ...[
        lastOurs &&
          `- ${ours?.name}: its last flush, at ${num(lastOurs.size / MiB, 1)} MiB, sent ${countsText(lastOurs.commands)}: ${num(lastOurs.up / 1024, 0)} KiB up for ${num(lastOurs.data / 1024, 0)} KiB of data, ${num(lastOurs.down, 0)} bytes down.`,
        lastSeed &&
          `- ${seed?.name}: its last flush sent ${countsText(lastSeed.commands)}: ${num(lastSeed.up / 1024, 0)} KiB up, ${num(lastSeed.down / 1024, 0)} KiB down.`,
        `- A new writer on the grown checkpoint, up to and including its first flush: ${countsText(a.reopen.commands)}, ${num(a.reopen.down, 0)} byte(s) down.`,
      ].filter((x): x is string => typeof x === 'string'),
      '',
      `Write: ${num(w.lines, 0)} lines of ${LINE_BYTES} bytes, one \`write()\` per line and a \`flush()\` every ${num(FLUSH_EVERY, 0)} lines; median of ${p.runs} runs. Read: the same checkpoint through \`read()\` (lines, ranged downloads of ${num(AZURE_SIZES.readRangeBytes / MiB, 0)} MiB) against one raw streaming download; median of ${p.readRuns}.`,
      '',
      timingTable('write', w.bytes, 'MB/s', [
        { name: 'ours: `AzureBlobStorage`', ms: w.ours },
        {
          name: `limit: raw AppendBlock per ${num(FLUSH_EVERY, 0)} lines, no condition`,
          ms: w.appendLimit,
        },
        { name: 'limit: one PutBlob of all the bytes', ms: w.putLimit },
      ]),
      '',
      timingTable('read', a.read.bytes, 'MB/s', [
        { name: 'ours: `read()`, lines', ms: a.read.ours },
        { name: 'limit: one streaming GetBlob', ms: a.read.raw },
      ]),
      '',
    ];
    return { markdown: md, charts: [], verdicts };
  },
};
