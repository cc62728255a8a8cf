import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeConformance } from '@yoink/storage-testkit';
import { afterAll, beforeAll } from 'vitest';
import { FaultyGzipFileStorage } from './faulty-storage.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

let root = '';
beforeAll(async () => {
  root = await makeTempDir('conformance');
});
afterAll(async () => {
  await removeTempDir(root);
});

// The whole contract, checked by the same suite as the official backends.
describeConformance<FaultyGzipFileStorage>('GzipFileStorage', {
  // A nested folder per test, so parent folders are created on the first write.
  create: (location) =>
    new FaultyGzipFileStorage(
      `gz${pathToFileURL(join(root, location, 'crawl.jsonl.gz')).href}`, // gzfile:///…
      { level: 1 },
    ),
  cleanup: (location) => removeTempDir(join(root, location)),
  failNextFlush: (storage) => storage.failNext(),
  tornTail: true,
  // One writer per checkpoint is the caller's job here: no second-writer check.
  secondWriter: false,
});
