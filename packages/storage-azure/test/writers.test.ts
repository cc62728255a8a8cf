import { ConcurrentWriterError } from '@yoink/storage-core';
import { collectLines } from '@yoink/storage-testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { blobText, createContainer, service, storageAt, withLimits } from './helpers.js';

const CONTAINER = 'writers';
let n = 0;

beforeAll(async () => {
  await createContainer(CONTAINER);
});

function name(label: string): string {
  n += 1;
  return `${label}-${n}.jsonl`;
}

describe('two writers on one checkpoint', () => {
  it('the second writer to append gets ConcurrentWriterError at its first flush; nothing of it is written and its data is kept', async () => {
    const blob = name('two');
    const seed = storageAt(CONTAINER, blob);
    await seed.write('seed\n');
    await seed.close();
    // Both open the checkpoint (the first write opens it) and learn its length.
    const a = storageAt(CONTAINER, blob);
    const b = storageAt(CONTAINER, blob);
    await a.write('a1\n');
    await b.write('b1\n');
    await a.flush();
    const e = await b.flush().catch((x: unknown) => x);
    expect(ConcurrentWriterError.isInstance(e), String(e)).toBe(true);
    expect((e as Error).message).toMatch(/no longer ends at byte 5, where this writer appends/);
    expect(b.bufferedBytes).toBe(3);
    // The first writer goes on; the second stays refused.
    await a.write('a2\n');
    await a.flush();
    await b.write('b2\n');
    await expect(b.flush()).rejects.toSatisfy((x) => ConcurrentWriterError.isInstance(x));
    await a.close();
    // Closing the refused writer reports what it could not persist.
    await expect(b.close()).rejects.toThrow(/without persisting its last 6 buffered bytes/);
    expect(await blobText(CONTAINER, blob)).toBe('seed\na1\na2\n');
  });

  it('two writers creating the same new checkpoint: the later create finds the blob written and is refused', async () => {
    const blob = name('create-race');
    const a = storageAt(CONTAINER, blob);
    const b = storageAt(CONTAINER, blob);
    // Both open while the blob does not exist.
    await a.write('a1\n');
    await b.write('b1\n');
    await a.flush();
    const e = await b.flush().catch((x: unknown) => x);
    expect(ConcurrentWriterError.isInstance(e), String(e)).toBe(true);
    expect((e as Error).message).toMatch(/was created and written \(3 bytes\) by another writer/);
    await a.close();
    await b.close().catch(() => {});
    expect(await collectLines(a.read())).toEqual(['a1']);
  });

  it('a writer whose blob another writer filled and rolled over is refused, not appended after it', async () => {
    const blob = name('rolled');
    const limits = { maxBlocks: 2 };
    const a = storageAt(CONTAINER, blob, withLimits({}, limits));
    await a.write('a1\n');
    await a.flush();
    const b = storageAt(CONTAINER, blob, withLimits({}, limits));
    await b.write('b1\n');
    // a fills the first blob (2 blocks) and goes on in <blob>.000001.
    await a.write('a2\n');
    await a.flush();
    await a.write('a3\n');
    await a.flush();
    const e = await b.flush().catch((x: unknown) => x);
    expect(ConcurrentWriterError.isInstance(e), String(e)).toBe(true);
    await a.close();
    expect(await collectLines(a.read())).toEqual(['a1', 'a2', 'a3']);
  });
});

describe('two writers flushing identical bytes', () => {
  // Both open the same checkpoint (an existing one, or an empty append blob
  // left by a writer that crashed before its first append) and flush the
  // same line at the same position. Only one of them may be told its line is
  // persisted: the line is there once, and the other writer must learn that
  // it is not alone.
  for (const seed of ['seed\n', ''] as const) {
    for (const first of ['a', 'b'] as const) {
      it(`${seed === '' ? 'on an empty blob' : 'on an existing checkpoint'}, when ${first} flushes first, the other writer gets ConcurrentWriterError and keeps its data`, async () => {
        const blob = name(`identical-${first}-${seed === '' ? 'empty' : 'seeded'}`);
        const client = service.getContainerClient(CONTAINER).getAppendBlobClient(blob);
        await client.create();
        if (seed !== '') await client.appendBlock(seed, seed.length);
        const a = storageAt(CONTAINER, blob);
        const b = storageAt(CONTAINER, blob);
        await a.write('same\n');
        await b.write('same\n');
        const [winner, loser] = first === 'a' ? [a, b] : [b, a];
        await winner.flush();
        const e = await loser.flush().catch((x: unknown) => x);
        expect(ConcurrentWriterError.isInstance(e), String(e)).toBe(true);
        expect(loser.bufferedBytes).toBe(5);
        await winner.close();
        await loser.close().catch(() => {});
        expect(await blobText(CONTAINER, blob)).toBe(`${seed}same\n`);
      });
    }
  }
});
