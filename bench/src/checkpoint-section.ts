import { appendFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointManager } from '@yoink/checkpoint';
import { LocalFileStorage } from '@yoink/storage-local';
import { num, timingTable } from './markdown.js';
import { type Section, sectionHead } from './section.js';
import { interleaved } from './stats.js';

/** What the CheckpointManager section measured: median ms of each contender. */
export interface CheckpointResult {
  records: number;
  runs: number;
  write: { manager: number; raw: number; seed: number };
  read: { manager: number; parse: number };
}

/** A crawler's record, as the CheckpointManager benchmark appends it. */
const record = (i: number) => ({
  url: `https://example.com/page/${i}`,
  status: 200,
  depth: i % 7,
  links: [i, i + 1],
});

/** `@yoink/checkpoint`'s CheckpointManager on a local file, against raw storage writes and the seed's appendFile. */
export const checkpointSection: Section<CheckpointResult> = {
  id: 'checkpoint',
  group: 'checkpoint',
  async measure({ plan, dir, log }) {
    const n = plan.checkpointRecords;
    let file = 0;
    const onFile =
      (fn: (path: string) => Promise<void>) => async (): Promise<() => Promise<void>> => {
        const path = join(dir, `checkpoint-${file++}.jsonl`);
        await fn(path);
        return async () => {
          await rm(path, { force: true });
          await rm(`${path}.lock`, { recursive: true, force: true });
        };
      };
    log('checkpoint: append');
    const write = await interleaved(
      { rounds: plan.runs, warmUp: true, skipWarmUp: ['seed'] },
      {
        manager: onFile(async (path) => {
          const cp = new CheckpointManager({ storage: new LocalFileStorage(path) });
          for (let i = 0; i < n; i++) await cp.append(record(i));
          await cp.close();
        }),
        raw: onFile(async (path) => {
          const s = new LocalFileStorage(path);
          for (let i = 0; i < n; i++) await s.write(`${JSON.stringify(record(i))}\n`);
          await s.close();
        }),
        seed: onFile(async (path) => {
          for (let i = 0; i < n; i++) await appendFile(path, `${JSON.stringify(record(i))}\n`);
        }),
      },
    );
    log('checkpoint: read');
    const written = join(dir, 'checkpoint-read.jsonl');
    const cp = new CheckpointManager({ storage: new LocalFileStorage(written) });
    for (let i = 0; i < n; i++) await cp.append(record(i));
    await cp.close();
    const expect = (got: number): void => {
      if (got !== n) throw new Error(`read ${got} records back, wrote ${n}`);
    };
    try {
      const read = await interleaved(
        { rounds: plan.runs, warmUp: true },
        {
          manager: async () => {
            const reader = new CheckpointManager({ storage: new LocalFileStorage(written) });
            let got = 0;
            for await (const _ of reader.records()) got++;
            await reader.close();
            expect(got);
          },
          parse: async () => {
            let got = 0;
            for await (const line of new LocalFileStorage(written).read())
              if (JSON.parse(line)) got++;
            expect(got);
          },
        },
      );
      return { records: n, runs: plan.runs, write, read };
    } finally {
      await rm(written, { force: true });
      await rm(`${written}.lock`, { recursive: true, force: true });
    }
  },
  render(r, run) {
    const md = [
      ...sectionHead('## CheckpointManager (`@yoink/checkpoint`)', run),
      `${num(r.records, 0)} JSON records (a URL, a status, a depth and two links) appended to a local file and read back; median of ${r.runs} interleaved runs after one warm-up round. The floor is the storage alone: the same lines through \`LocalFileStorage.write()\` without the manager, and \`read()\` + \`JSON.parse\` without its torn-record handling.`,
      '',
      timingTable('append', r.records, 'records/s', [
        { name: 'ours: `CheckpointManager.append()` (defaults)', ms: r.write.manager },
        { name: 'seed: one `fs.promises.appendFile` per record', ms: r.write.seed },
        { name: 'floor: `LocalFileStorage.write()` of each JSON line', ms: r.write.raw },
      ]),
      '',
      timingTable('read', r.records, 'records/s', [
        { name: 'ours: `CheckpointManager.records()`', ms: r.read.manager },
        { name: 'floor: `read()` + `JSON.parse`', ms: r.read.parse },
      ]),
      '',
    ];
    return { markdown: md, charts: [], verdicts: [] };
  },
};
