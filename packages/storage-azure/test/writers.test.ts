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
    expect((e as Error).message).toMatch(
      /changed since this writer opened it at 5 bytes \(it is now 8 bytes long, .*another writer’s token\)/,
    );
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

  it('two writers creating the same new checkpoint: the later create finds another writer’s token and is refused', async () => {
    const blob = name('create-race');
    const a = storageAt(CONTAINER, blob);
    const b = storageAt(CONTAINER, blob);
    // Both open while the blob does not exist.
    await a.write('a1\n');
    await b.write('b1\n');
    await a.flush();
    const e = await b.flush().catch((x: unknown) => x);
    expect(ConcurrentWriterError.isInstance(e), String(e)).toBe(true);
    expect((e as Error).message).toMatch(
      /was created by another writer since this one opened the checkpoint \(it holds 3 bytes\)/,
    );
    await a.close();
    await b.close().catch(() => {});
    expect(await collectLines(a.read())).toEqual(['a1']);
  });

  it('a writer that opened earlier is refused at its next flush once a later writer has opened and flushed; its data is kept', async () => {
    const blob = name('taken-over');
    const a = storageAt(CONTAINER, blob);
    await a.write('a1\n');
    await a.flush();
    // b opens after a's last flush (a crawler restarted while the old one still runs).
    const b = storageAt(CONTAINER, blob);
    await b.write('b1\n');
    await b.flush();
    await a.write('a2\n');
    const e = await a.flush().catch((x: unknown) => x);
    expect(ConcurrentWriterError.isInstance(e), String(e)).toBe(true);
    expect((e as Error).message).toMatch(/another writer has claimed it/);
    expect(a.bufferedBytes).toBe(3);
    // The later writer goes on.
    await b.write('b2\n');
    await b.close();
    await a.close().catch(() => {});
    expect(await blobText(CONTAINER, blob)).toBe('a1\nb1\nb2\n');
  });

  it('a later writer that has opened but not flushed yet does not stop the earlier one; its own first flush is refused', async () => {
    const blob = name('opened-not-flushed');
    const a = storageAt(CONTAINER, blob);
    await a.write('a1\n');
    await a.flush();
    const b = storageAt(CONTAINER, blob);
    await b.write('b1\n'); // opens: reads only
    await a.write('a2\n');
    await a.flush();
    await expect(b.flush()).rejects.toSatisfy((x) => ConcurrentWriterError.isInstance(x));
    await a.close();
    await b.close().catch(() => {});
    expect(await blobText(CONTAINER, blob)).toBe('a1\na2\n');
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
