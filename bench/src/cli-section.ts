import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { num, timingTable } from './markdown.js';
import { type Section, sectionHead } from './section.js';
import { interleaved } from './stats.js';
import { makeLines } from './workload.js';

/** The CLI's entry point, built in the workspace. */
const CLI = fileURLToPath(new URL('../../apps/cli/dist/cli.js', import.meta.url));
const run = promisify(execFile);

/** What the CLI section measured: median seconds of each way to copy the file. */
export interface CliResult {
  lines: number;
  bytes: number;
  runs: number;
  ms: { cli: number; copyFile: number; pipe: number };
}

/** `yoink-storage cp` local → local, as a child process, against the kernel's copy and a Node stream pipe. */
export const cliSection: Section<CliResult> = {
  id: 'cli',
  group: 'cli',
  async measure({ plan, dir, log }) {
    const src = join(dir, 'cli-src.jsonl');
    await writeFile(src, makeLines(plan.cliLines).join(''));
    const bytes = (await stat(src)).size;
    let n = 0;
    const onCopy =
      (fn: (dst: string) => Promise<unknown>) => async (): Promise<() => Promise<void>> => {
        const dst = join(dir, `cli-dst-${n++}.jsonl`);
        await fn(dst);
        return async () => {
          if ((await stat(dst)).size !== bytes) throw new Error(`${dst} is not a whole copy`);
          await rm(dst, { force: true });
        };
      };
    log('cli: cp');
    try {
      const ms = await interleaved(
        { rounds: plan.runs, warmUp: true },
        {
          cli: onCopy((dst) => run(process.execPath, [CLI, 'cp', src, dst])),
          copyFile: onCopy((dst) => copyFile(src, dst)),
          pipe: onCopy((dst) => pipeline(createReadStream(src), createWriteStream(dst))),
        },
      );
      return { lines: plan.cliLines, bytes, runs: plan.runs, ms };
    } finally {
      await rm(src, { force: true });
    }
  },
  render(r, info) {
    const md = [
      ...sectionHead('## CLI (`@yoink/storage-cli`)', info),
      `\`yoink-storage cp\` of a local file of ${num(r.lines, 0)} lines (${num(r.bytes / 1e6, 1)} MB) to another local file, the real CLI run as a child process (Node start-up included); median of ${r.runs} interleaved runs after one warm-up round.`,
      '',
      timingTable('copy', r.bytes, 'MB/s', [
        { name: 'ours: `yoink-storage cp` (child process)', ms: r.ms.cli },
        { name: 'limit: `fs.copyFile` (the kernel copies)', ms: r.ms.copyFile },
        { name: 'limit: Node stream pipe, no lines', ms: r.ms.pipe },
      ]),
      '',
    ];
    return { markdown: md, charts: [], verdicts: [] };
  },
};
