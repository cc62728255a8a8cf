import { join } from 'node:path';
import { describeConformance } from '@yoink/storage-testkit';
import { afterAll, beforeAll } from 'vitest';
import { FaultyLocalFileStorage } from './faulty-storage.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

let root = '';
beforeAll(async () => {
  root = await makeTempDir('conformance');
});
afterAll(async () => {
  await removeTempDir(root);
});

describeConformance<FaultyLocalFileStorage>('LocalFileStorage', {
  // A nested folder per test, so parent folders are created on first write.
  create: (location) => new FaultyLocalFileStorage(join(root, location, 'crawl.jsonl')),
  cleanup: (location) => removeTempDir(join(root, location)),
  failNextFlush: (storage) => storage.failNext('partial-write'),
  secondWriter: true,
  tornTail: true,
});

describeConformance<FaultyLocalFileStorage>('LocalFileStorage with durability fsync', {
  create: (location) =>
    new FaultyLocalFileStorage(join(root, `fsync-${location}`, 'crawl.jsonl'), {
      durability: 'fsync',
    }),
  cleanup: (location) => removeTempDir(join(root, `fsync-${location}`)),
  failNextFlush: (storage) => storage.failNext('before-write'),
  secondWriter: true,
  manyLines: 5_000,
  bigLineBytes: 1_000_000,
});
