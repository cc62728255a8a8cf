import { type StorageError, StorageUnavailableError } from '@yoink/storage-core';
import { collectLines } from '@yoink/storage-testkit';
import { beforeEach, describe, expect, it } from 'vitest';
import { failNext, proxiedContainer } from './fault-proxy.js';
import { blobText, storageAt, withLimits } from './helpers.js';

const CONTAINER = 'faults';
const proxied = proxiedContainer(CONTAINER);
let n = 0;

beforeEach(() => {
  proxied.proxy.decide = () => 'pass';
  proxied.proxy.seen.length = 0;
});

function name(label: string): string {
  n += 1;
  return `${label}-${n}.jsonl`;
}

function count(kind: string): number {
  return proxied.proxy.seen.filter((r) => r.kind === kind).length;
}

describe('lost replies', () => {
  for (const action of ['lose-reply', 'drop-reply'] as const) {
    it(`an append Azurite applied but whose reply was lost (${action}) is retried by the SDK, refused with 412, recognised as ours, and lands once`, async () => {
      const blob = name(action);
      const s = storageAt(CONTAINER, blob, { endpoint: proxied.proxy.endpoint });
      await s.write('a\n');
      await s.flush();
      await s.write('b\n');
      failNext(proxied.proxy, 'appendblock', action);
      proxied.proxy.seen.length = 0;
      await s.flush();
      // The first attempt landed, the SDK's retry got 412 AppendPositionConditionNotMet.
      expect(count('appendblock')).toBe(2);
      await s.write('c\n');
      await s.close();
      expect(await blobText(CONTAINER, blob)).toBe('a\nb\nc\n');
    });
  }

  it('a lost reply past the SDK’s retries fails the flush (data kept); the next flush finds its bytes already there and adds them once', async () => {
    const blob = name('lost-then-busy');
    const s = storageAt(CONTAINER, blob, { endpoint: proxied.proxy.endpoint });
    await s.write('a\n');
    await s.flush();
    await s.write('b\n');
    // Attempt 1 lands but its reply is lost; attempt 2 (the SDK's last) is throttled.
    let appends = 0;
    proxied.proxy.decide = (_req, kind) => {
      if (kind !== 'appendblock') return 'pass';
      appends += 1;
      if (appends === 1) return 'lose-reply';
      if (appends === 2) return { status: 503, code: 'ServerBusy' };
      return 'pass';
    };
    const e = await s.flush().catch((x: unknown) => x);
    expect(StorageUnavailableError.isInstance(e), String(e)).toBe(true);
    expect(s.bufferedBytes).toBe(2);
    // More data joins the kept data: the next append is longer than the one that landed.
    await s.write('c\n');
    await s.flush();
    await s.close();
    expect(await blobText(CONTAINER, blob)).toBe('a\nb\nc\n');
  });

  it('a claim (SetBlobMetadata) whose reply was lost is retried by the SDK, refused with 412, recognised by the writer token, and the flush lands once', async () => {
    const blob = name('lost-claim');
    const seed = storageAt(CONTAINER, blob);
    await seed.write('seed\n');
    await seed.close();
    const s = storageAt(CONTAINER, blob, { endpoint: proxied.proxy.endpoint });
    await s.write('a\n');
    failNext(proxied.proxy, 'metadata', 'lose-reply');
    await s.flush();
    expect(count('metadata')).toBe(2);
    await s.write('b\n');
    await s.close();
    expect(await blobText(CONTAINER, blob)).toBe('seed\na\nb\n');
  });

  it('a claim whose reply was lost past the SDK’s retries fails the flush (data kept); the next flush finds the claim made and appends once', async () => {
    const blob = name('lost-claim-busy');
    const seed = storageAt(CONTAINER, blob);
    await seed.write('seed\n');
    await seed.close();
    const s = storageAt(CONTAINER, blob, { endpoint: proxied.proxy.endpoint });
    await s.write('a\n');
    let claims = 0;
    proxied.proxy.decide = (_req, kind) => {
      if (kind !== 'metadata') return 'pass';
      claims += 1;
      if (claims === 1) return 'lose-reply';
      if (claims === 2) return { status: 503, code: 'ServerBusy' };
      return 'pass';
    };
    const e = await s.flush().catch((x: unknown) => x);
    expect(StorageUnavailableError.isInstance(e), String(e)).toBe(true);
    expect(s.bufferedBytes).toBe(2);
    await s.flush();
    await s.close();
    expect(await blobText(CONTAINER, blob)).toBe('seed\na\n');
  });

  it('a create whose reply was lost is retried, refused with 409 BlobAlreadyExists, and the empty blob is used', async () => {
    const blob = name('lost-create');
    const s = storageAt(CONTAINER, blob, { endpoint: proxied.proxy.endpoint });
    failNext(proxied.proxy, 'create', 'lose-reply');
    await s.write('a\n');
    await s.flush();
    expect(count('create')).toBe(2);
    await s.close();
    expect(await blobText(CONTAINER, blob)).toBe('a\n');
  });
});

describe('transient faults', () => {
  it('throttling (503 ServerBusy) within the SDK’s retries is invisible: the flush succeeds', async () => {
    const blob = name('busy-once');
    const s = storageAt(CONTAINER, blob, { endpoint: proxied.proxy.endpoint });
    await s.write('a\n');
    await s.flush();
    await s.write('b\n');
    failNext(proxied.proxy, 'appendblock', { status: 503, code: 'ServerBusy' });
    await s.flush();
    await s.close();
    expect(await blobText(CONTAINER, blob)).toBe('a\nb\n');
  });

  it('500 InternalError past the SDK’s retries is StorageUnavailableError (retryable) with the data kept; the next flush delivers it once', async () => {
    const blob = name('internal');
    const s = storageAt(CONTAINER, blob, { endpoint: proxied.proxy.endpoint });
    await s.write('a\n');
    await s.flush();
    await s.write('b\n');
    failNext(proxied.proxy, 'appendblock', { status: 500, code: 'InternalError' }, 2);
    const e = await s.flush().catch((x: unknown) => x);
    expect(StorageUnavailableError.isInstance(e)).toBe(true);
    expect((e as StorageError).retryable).toBe(true);
    expect((e as Error).message).toMatch(/AppendBlock on azblob:\/\/faults\//);
    expect((e as Error).message).toMatch(/data of a failed flush is kept/);
    expect(s.bufferedBytes).toBe(2);
    await s.flush();
    await s.close();
    expect(await blobText(CONTAINER, blob)).toBe('a\nb\n');
  });

  it('a flush split into blocks that fails after its first block does not append that block again', async () => {
    const blob = name('split');
    const s = storageAt(
      CONTAINER,
      blob,
      withLimits({ endpoint: proxied.proxy.endpoint }, { blockBytes: 8 }),
    );
    await s.write('0123456\n');
    await s.flush();
    // 24 bytes: three 8-byte blocks. The second one is throttled past the retries.
    await s.write('aaaaaaa\nbbbbbbb\nccccccc\n');
    let appends = 0;
    proxied.proxy.decide = (_req, kind) => {
      if (kind !== 'appendblock') return 'pass';
      appends += 1;
      return appends === 2 || appends === 3 ? { status: 503, code: 'ServerBusy' } : 'pass';
    };
    const e = await s.flush().catch((x: unknown) => x);
    expect(StorageUnavailableError.isInstance(e)).toBe(true);
    // Block 1 is in; the whole flush is kept by the base class and retried.
    expect(await blobText(CONTAINER, blob)).toBe('0123456\naaaaaaa\n');
    await s.flush();
    await s.close();
    expect(await blobText(CONTAINER, blob)).toBe('0123456\naaaaaaa\nbbbbbbb\nccccccc\n');
    expect(await collectLines(s.read())).toEqual(['0123456', 'aaaaaaa', 'bbbbbbb', 'ccccccc']);
  });

  it('a flush never downloads the checkpoint: after opening, only AppendBlock requests', async () => {
    const blob = name('no-download');
    const first = storageAt(CONTAINER, blob, { endpoint: proxied.proxy.endpoint });
    await first.write(`${'x'.repeat(100_000)}\n`);
    await first.close();
    proxied.proxy.seen.length = 0;
    const s = storageAt(CONTAINER, blob, { endpoint: proxied.proxy.endpoint });
    await s.write('a\n');
    await s.flush();
    const opening = proxied.proxy.seen.map((r) => r.kind);
    // Open: a property read of the blob, one of <blob>.000001 (absent), the
    // 1-byte tail read; the first flush: the claim (SetBlobMetadata), then the append.
    expect(opening).toEqual(['properties', 'properties', 'download', 'metadata', 'appendblock']);
    expect(proxied.proxy.seen[2]?.bytesDown).toBe(1);
    proxied.proxy.seen.length = 0;
    for (let i = 0; i < 10; i++) {
      await s.write(`{"i":${i}}\n`);
      await s.flush();
    }
    expect(proxied.proxy.seen.map((r) => r.kind)).toEqual(Array(10).fill('appendblock'));
    expect(proxied.proxy.seen.reduce((sum, r) => sum + r.bytesDown, 0)).toBe(0);
    await s.close();
  });
});
