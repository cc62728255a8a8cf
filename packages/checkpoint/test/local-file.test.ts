import '@yoink/storage-local';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointCorruptError } from '../src/checkpoint-corrupt-error.js';
import { CheckpointManager, type CheckpointWarning } from '../src/checkpoint-manager.js';
import { collect } from './helpers.js';

let dir: string;
let n = 0;
const path = (): string => join(dir, `crawl-${n++}.jsonl`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'yoink-checkpoint-local-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Page {
  url: string;
}

describe('CheckpointManager on local files', () => {
  it('resumes after a crash that tore the last record: skips it, warns, continues on a fresh line', async () => {
    const file = path();
    const first = await CheckpointManager.fromUri<Page>(file);
    for (const url of ['a', 'b', 'c']) await first.append({ url });
    await first.close();
    // The crash: half a record reached the file, the process died.
    await appendFile(file, '{"url":"d","sta');

    const warnings: CheckpointWarning[] = [];
    const resumed = await CheckpointManager.fromUri<Page>(file, {
      onWarning: (w) => warnings.push(w),
    });
    const done = new Set((await collect(resumed.records())).map((r) => r.url));
    expect([...done]).toEqual(['a', 'b', 'c']);
    expect(warnings).toEqual([
      { kind: 'torn-record', line: 4, preview: '{\\"url\\":\\"d\\",\\"sta', uri: file },
    ]);
    for (const url of ['d', 'e']) if (!done.has(url)) await resumed.append({ url });
    await resumed.close();

    expect(await readFile(file, 'utf8')).toBe(
      '{"url":"a"}\n{"url":"b"}\n{"url":"c"}\n{"url":"d","sta\n{"url":"d"}\n{"url":"e"}\n',
    );
    warnings.length = 0;
    const reader = await CheckpointManager.fromUri<Page>(file, {
      onWarning: (w) => warnings.push(w),
    });
    expect((await collect(reader.records())).map((r) => r.url)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(warnings.map((w) => (w.kind === 'torn-record' ? w.line : 0))).toEqual([4]);
    await reader.close();
  });

  it('skips a NUL-filled tail left by the file system', async () => {
    const file = path();
    await writeFile(file, '{"url":"a"}\n\0\0\0\0\0\0\0\0');
    const warnings: CheckpointWarning[] = [];
    const cp = await CheckpointManager.fromUri<Page>(file, { onWarning: (w) => warnings.push(w) });
    expect(await collect(cp.records())).toEqual([{ url: 'a' }]);
    expect(warnings).toHaveLength(1);
    await cp.close();
  });

  it('throws CheckpointCorruptError for a corrupt middle line of a file', async () => {
    const file = path();
    await writeFile(file, '{"url":"a"}\n<html>oops</html>\n{"url":"b"}\n');
    const cp = await CheckpointManager.fromUri<Page>(file);
    await expect(collect(cp.records())).rejects.toSatisfy(
      (e) =>
        CheckpointCorruptError.isInstance(e) && e.lineNumber === 2 && e.message.includes('Line 2'),
    );
    await cp.close();
  });

  it('flushes by count to the file', async () => {
    const file = path();
    const cp = await CheckpointManager.fromUri<Page>(file, { flushEvery: 2, flushIntervalMs: 0 });
    await cp.append({ url: 'a' });
    await expect(readFile(file, 'utf8')).rejects.toThrow();
    await cp.append({ url: 'b' });
    expect(await readFile(file, 'utf8')).toBe('{"url":"a"}\n{"url":"b"}\n');
    await cp.close();
  });
});
