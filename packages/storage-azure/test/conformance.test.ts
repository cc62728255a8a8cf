import { describeConformance, freePort } from '@yoink/storage-testkit';
import type { AzureBlobStorage } from '../src/index.js';
import { failNext, proxiedContainer } from './fault-proxy.js';
import { azurite, storageAt, withLimits } from './helpers.js';

const CONTAINER = 'conformance';
const proxied = proxiedContainer(CONTAINER);

/** The next flush of `storage` is throttled (503 ServerBusy) past the SDK's two tries. */
function throttleNextFlush(storage: AzureBlobStorage): void {
  failNext(proxied.proxy, 'appendblock', { status: 503, code: 'ServerBusy' }, 2, (url) =>
    url.includes(`/${storage.blob}`),
  );
}

/** A storage on a port nothing listens on. */
async function unreachable(location: string): Promise<AzureBlobStorage> {
  const port = await freePort();
  return storageAt(CONTAINER, `${location}.jsonl`, {
    endpoint: `http://127.0.0.1:${port}/${azurite.account}`,
  });
}

describeConformance<AzureBlobStorage>('AzureBlobStorage', {
  create: (location) =>
    storageAt(CONTAINER, `${location}.jsonl`, { endpoint: proxied.proxy.endpoint }),
  failNextFlush: throttleNextFlush,
  unreachable,
  secondWriter: true,
  tornTail: true,
});

// The same rules when every flush is split into small blocks and the blob
// rolls over to <blob>.000001, … every 4 blocks: splits and chains everywhere.
describeConformance<AzureBlobStorage>('AzureBlobStorage with 64 KiB blocks, 4 blocks per blob', {
  create: (location) =>
    storageAt(
      CONTAINER,
      `small/${location}.jsonl`,
      withLimits(
        { endpoint: proxied.proxy.endpoint },
        { blockBytes: 64 * 1024, maxBlocks: 4, readRangeBytes: 100_000 },
      ),
    ),
  failNextFlush: throttleNextFlush,
  secondWriter: true,
  tornTail: true,
  bigLineBytes: 1_000_000,
  manyLines: 5_000,
});
