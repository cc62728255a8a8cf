import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '@yoink/storage-core';
import { collectLines } from '@yoink/storage-testkit';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LocalFileStorage } from '../src/index.js';
import { FaultyLocalFileStorage } from './faulty-storage.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

let dir = '';
beforeEach(async () => {
  dir = await makeTempDir('faults');
});
afterEach(async () => {
  await removeTempDir(dir);
});

it('a flush that fails after a short write leaves no partial append on disk', async () => {
  const path = join(dir, 'crawl.jsonl');
  const s = new FaultyLocalFileStorage(path);
  await s.write('first\n');
  await s.flush();
  const size = (await stat(path)).size;
  await s.write('second line, long enough to be cut in half\n');
  s.failNext('partial-write');
  const error = await s.flush().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(StorageError.isInstance(error)).toBe(true);
  expect((error as Error).message).toContain(path);
  // The half that reached the file was cut off again.
  expect((await stat(path)).size).toBe(size);
  expect(await readFile(path, 'utf8')).toBe('first\n');
  await s.close();
  expect(await collectLines(new LocalFileStorage(path).read())).toEqual([
    'first',
    'second line, long enough to be cut in half',
  ]);
});

it('a short write is completed by the next write call, multi-byte characters intact', async () => {
  const path = join(dir, 'crawl.jsonl');
  const s = new FaultyLocalFileStorage(path);
  const line = '{"t":"日本語 — héllo 🎉🎉🎉"}';
  await s.write(`${line}\n${line}\n`);
  s.failNext('short-write');
  await s.flush();
  await s.close();
  expect(await collectLines(s.read())).toEqual([line, line]);
});

it('coalesces all writes between two flushes into one write call', async () => {
  const path = join(dir, 'crawl.jsonl');
  let calls = 0;
  class Counting extends LocalFileStorage {
    protected override writeSome(
      ...args: Parameters<LocalFileStorage['writeSome']>
    ): Promise<number> {
      calls += 1;
      return super.writeSome(...args);
    }
  }
  const s = new Counting(path);
  for (let i = 0; i < 1000; i++) await s.write(`{"i":${i}}\n`);
  await s.flush();
  expect(calls).toBe(1);
  await s.close();
  expect((await collectLines(s.read())).length).toBe(1000);
});

it('a full buffer is written out without waiting for flush()', async () => {
  const path = join(dir, 'crawl.jsonl');
  const s = new LocalFileStorage(path, { maxBufferBytes: 1024 });
  for (let i = 0; i < 100; i++) await s.write(`${'x'.repeat(60)} ${i}\n`);
  // Nothing flushed explicitly, yet most of it is on disk already.
  expect((await stat(path)).size).toBeGreaterThan(4096);
  expect(s.bufferedBytes).toBeLessThanOrEqual(1024 + 70);
  await s.close();
  expect((await collectLines(s.read())).length).toBe(100);
});

it('a tail of NUL bytes (ext4 after a crash) counts as torn: the next writer starts a new line', async () => {
  const path = join(dir, 'crawl.jsonl');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, Buffer.concat([Buffer.from('{"ok":1}\n'), Buffer.alloc(16)]));
  const s = new LocalFileStorage(path);
  await s.write('{"ok":2}\n');
  await s.close();
  const lines = await collectLines(s.read());
  expect(lines).toEqual(['{"ok":1}', '\u0000'.repeat(16), '{"ok":2}']);
});

it("durability 'fsync' writes and reads back, creating the parent folders", async () => {
  const path = join(dir, 'a', 'b', 'crawl.jsonl');
  const s = new LocalFileStorage(path, { durability: 'fsync' });
  await s.write('one\n');
  await s.flush();
  expect(await s.exists()).toBe(true);
  await s.write('two\n');
  await s.close();
  expect(await collectLines(s.read())).toEqual(['one', 'two']);
});

it('reads a checkpoint while another instance appends to it', async () => {
  const path = join(dir, 'crawl.jsonl');
  const writer = new LocalFileStorage(path);
  for (let i = 0; i < 100; i++) await writer.write(`${i}\n`);
  await writer.flush();
  const reader = new LocalFileStorage(path);
  const seen: string[] = [];
  for await (const line of reader.read()) {
    seen.push(line);
    if (seen.length === 10) {
      await writer.write('late\n');
      await writer.flush();
    }
  }
  // Everything flushed before read() started is there, in order.
  expect(seen.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
  await writer.close();
});
