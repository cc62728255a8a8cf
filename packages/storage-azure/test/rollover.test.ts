import { collectLines } from '@yoink/storage-testkit';
import { beforeEach, describe, expect, it } from 'vitest';
import { failNext, proxiedContainer } from './fault-proxy.js';
import { blobNames, service, storageAt, withLimits } from './helpers.js';

const CONTAINER = 'rollover';
const proxied = proxiedContainer(CONTAINER);
let n = 0;

beforeEach(() => {
  proxied.proxy.seen.length = 0;
});

function name(label: string): string {
  n += 1;
  return `${label}-${n}.jsonl`;
}

function kinds(): string[] {
  return proxied.proxy.seen.map((r) => r.kind);
}

describe('blocks', () => {
  it('a flush larger than a block is split into blocks of at most 4 MiB (Azurite alone would take 100 MiB)', async () => {
    const blob = name('split-default');
    const s = storageAt(CONTAINER, blob, { endpoint: proxied.proxy.endpoint });
    const line = `${'y'.repeat(9 * 1024 * 1024)}\n`;
    await s.write(line);
    await s.close();
    const appends = proxied.proxy.seen.filter((r) => r.kind === 'appendblock');
    expect(appends.map((r) => r.bytesUp)).toEqual([
      4 * 1024 * 1024,
      4 * 1024 * 1024,
      1024 * 1024 + 1,
    ]);
    expect((await collectLines(s.read()))[0]?.length).toBe(line.length - 1);
  });

  it('with a smaller block limit, a flush is one AppendBlock per block', async () => {
    const blob = name('split-small');
    const s = storageAt(
      CONTAINER,
      blob,
      withLimits({ endpoint: proxied.proxy.endpoint }, { blockBytes: 1000 }),
    );
    await s.write('x'.repeat(4499));
    await s.write('\n');
    await s.close();
    const appends = proxied.proxy.seen.filter((r) => r.kind === 'appendblock');
    expect(appends.map((r) => r.bytesUp)).toEqual([1000, 1000, 1000, 1000, 500]);
  });
});

describe('rollover', () => {
  it('a blob holding the block limit rolls over to <blob>.000001, …; read() and exists() see one checkpoint', async () => {
    const blob = name('chain');
    const s = storageAt(CONTAINER, blob, withLimits({}, { maxBlocks: 3 }));
    const lines: string[] = [];
    for (let i = 0; i < 10; i++) {
      lines.push(`{"i":${i}}`);
      await s.write(`{"i":${i}}\n`);
      await s.flush();
    }
    await s.close();
    expect((await blobNames(CONTAINER, blob)).sort()).toEqual([
      blob,
      `${blob}.000001`,
      `${blob}.000002`,
      `${blob}.000003`,
    ]);
    expect(await collectLines(s.read())).toEqual(lines);
    expect(await s.exists()).toBe(true);
    // Every blob of the chain carries the writer's token: it created each one.
    const tokens = await Promise.all(
      [blob, `${blob}.000001`, `${blob}.000002`, `${blob}.000003`].map(
        async (b) =>
          (await service.getContainerClient(CONTAINER).getBlobClient(b).getProperties()).metadata
            ?.yoinkwriter,
      ),
    );
    expect(tokens[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(tokens).size).toBe(1);
    // Another writer, with the same limit, appends to the last blob.
    const next = storageAt(CONTAINER, blob, withLimits({}, { maxBlocks: 3 }));
    await next.write('{"i":10}\n');
    await next.close();
    expect(await collectLines(next.read())).toEqual([...lines, '{"i":10}']);
    expect(await blobNames(CONTAINER, `${blob}.00000`)).toHaveLength(3);
  });

  it('opening a chain of 40 blobs takes O(log n) property reads and one 1-byte read', async () => {
    const blob = name('long-chain');
    const s = storageAt(CONTAINER, blob, withLimits({}, { maxBlocks: 1 }));
    for (let i = 0; i < 40; i++) {
      await s.write(`${i}\n`);
      await s.flush();
    }
    await s.close();
    expect(await blobNames(CONTAINER, blob)).toHaveLength(40);
    proxied.proxy.seen.length = 0;
    const next = storageAt(
      CONTAINER,
      blob,
      withLimits({ endpoint: proxied.proxy.endpoint }, { maxBlocks: 1 }),
    );
    await next.write('40\n');
    const opening = kinds().filter((k) => k !== 'appendblock' && k !== 'create');
    // Probes 0, 1, 2, 4, 8, 16, 32, 64 (miss), then bisection in (32, 64): 5 more.
    expect(opening.filter((k) => k === 'properties').length).toBeLessThanOrEqual(
      2 * Math.ceil(Math.log2(40)) + 2,
    );
    expect(opening.filter((k) => k === 'download')).toHaveLength(1);
    await next.close();
    const all = await collectLines(next.read());
    expect(all).toEqual(Array.from({ length: 41 }, (_, i) => String(i)));
  });

  it('a new writer starts a fresh line after a torn tail, also when the next blob of the chain was created empty', async () => {
    const blob = name('torn-chain');
    const limits = { maxBlocks: 2 };
    const first = storageAt(CONTAINER, blob, withLimits({}, limits));
    await first.write('a\n');
    await first.flush();
    await first.write('{"torn":');
    await first.close();
    // A writer that created <blob>.000001 and died before its first append.
    await service.getContainerClient(CONTAINER).getAppendBlobClient(`${blob}.000001`).create();
    const next = storageAt(CONTAINER, blob, withLimits({}, limits));
    await next.write('{"ok":2}\n');
    await next.close();
    expect(await collectLines(next.read())).toEqual(['a', '{"torn":', '{"ok":2}']);
  });

  it('a rollover create whose reply was lost is recognised by the writer token, and the chain goes on', async () => {
    const blob = name('lost-rollover');
    const s = storageAt(
      CONTAINER,
      blob,
      withLimits({ endpoint: proxied.proxy.endpoint }, { maxBlocks: 1 }),
    );
    await s.write('a\n');
    await s.flush();
    failNext(proxied.proxy, 'create', 'lose-reply');
    await s.write('b\n');
    await s.flush();
    await s.write('c\n');
    await s.close();
    expect(proxied.proxy.seen.filter((r) => r.kind === 'create')).toHaveLength(4);
    expect(await collectLines(s.read())).toEqual(['a', 'b', 'c']);
  });

  it('a writer whose rolled-over blob another writer created first is refused', async () => {
    const blob = name('rollover-race');
    const limits = { maxBlocks: 1 };
    const a = storageAt(CONTAINER, blob, withLimits({}, limits));
    await a.write('a1\n');
    await a.flush();
    // Both now find <blob> full; whoever creates <blob>.000001 first goes on.
    const b = storageAt(CONTAINER, blob, withLimits({}, limits));
    await b.write('b1\n');
    await b.flush();
    await a.write('a2\n');
    await expect(a.flush()).rejects.toThrow(/\.000001 was created by another writer/);
    await b.close();
    await a.close().catch(() => {});
    expect(await collectLines(b.read())).toEqual(['a1', 'b1']);
  });

  it('a read that overlaps a rollover still returns what was appended to the full blob before the next one', async () => {
    const blob = name('read-vs-rollover');
    const limits = { maxBlocks: 2 };
    const w = storageAt(CONTAINER, blob, withLimits({}, limits));
    await w.write('a\n');
    await w.flush();
    const seen: string[] = [];
    for await (const line of storageAt(CONTAINER, blob).read()) {
      seen.push(line);
      if (line === 'a') {
        // The reader has read the first blob to its end. Now the writer fills
        // it ('b', its second block) and rolls over to <blob>.000001 ('c').
        await w.write('b\n');
        await w.flush();
        await w.write('c\n');
        await w.flush();
      }
    }
    await w.close();
    expect(seen).toEqual(['a', 'b', 'c']);
  });
});

describe('streaming reads', () => {
  it('read() streams in ranged downloads of the read range, never the whole blob at once', async () => {
    const blob = name('ranged');
    const s = storageAt(
      CONTAINER,
      blob,
      withLimits({ endpoint: proxied.proxy.endpoint }, { readRangeBytes: 4096 }),
    );
    const lines = Array.from({ length: 1000 }, (_, i) => `{"i":${i},"pad":"${'p'.repeat(20)}"}`);
    await s.write(`${lines.join('\n')}\n`);
    await s.close();
    const size = Buffer.byteLength(`${lines.join('\n')}\n`);
    proxied.proxy.seen.length = 0;
    expect(await collectLines(s.read())).toEqual(lines);
    const downloads = proxied.proxy.seen.filter((r) => r.kind === 'download');
    expect(downloads).toHaveLength(Math.ceil(size / 4096));
    expect(Math.max(...downloads.map((r) => r.bytesDown))).toBe(4096);
  });

  it('a read whose blob is deleted part-way throws instead of ending early', async () => {
    const blob = name('deleted');
    const s = storageAt(CONTAINER, blob, withLimits({}, { readRangeBytes: 64 }));
    await s.write(`${Array.from({ length: 100 }, (_, i) => `line-${i}`).join('\n')}\n`);
    await s.close();
    const seen: string[] = [];
    const e = await (async () => {
      for await (const line of s.read()) {
        seen.push(line);
        if (seen.length === 1) await service.getContainerClient(CONTAINER).deleteBlob(blob);
      }
    })().catch((x: unknown) => x);
    expect((e as Error | undefined)?.message).toMatch(/was deleted while it was being read/);
    expect(seen.length).toBeLessThan(100);
  });
});
