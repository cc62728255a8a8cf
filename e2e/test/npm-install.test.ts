import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectLocalWorks,
  expectMissing,
  installedNames,
  isClient,
  outsideRepo,
  runProbes,
  tgz,
  writeApp,
} from './consumer-app.js';
import { npm } from './run.js';

// A user's npm project (flat node_modules), outside the repository, installing
// the packed tarballs exactly as it would install them from the registry.

let app = '';
beforeAll(async () => {
  app = await outsideRepo('npm');
});
afterAll(async () => {
  await rm(app, { recursive: true, force: true });
});

describe('npm project with flat node_modules', () => {
  it('installs only core and local: no S3 or Redis client, plain paths work, absent schemes name their package (ESM and CommonJS)', async () => {
    await writeApp(app, 'npm-app', {
      '@yoink/storage-core': `file:${tgz('@yoink/storage-core')}`,
      '@yoink/storage-local': `file:${tgz('@yoink/storage-local')}`,
    });
    await npm(['install'], app);

    const names = await installedNames(join(app, 'node_modules'));
    expect(names).toContain('@yoink/storage-local');
    expect(names).toContain('proper-lockfile');
    expect(names.filter(isClient)).toEqual([]);
    expect(names).not.toContain('@yoink/storage-s3');

    const { esm, cjs } = await runProbes(app, 'core-local');
    for (const [tag, result] of [
      ['core-local-esm', esm],
      ['core-local-cjs', cjs],
    ] as const) {
      expectLocalWorks(result, tag);
      expectMissing(result.s3, '@yoink/storage-s3');
      expectMissing(result.redis, '@yoink/storage-redis');
      expectMissing(result.azblob, '@yoink/storage-azure');
      expectMissing(result.gzfile, 'yoink-storage-gzfile');
    }
  });

  it('after adding the S3, Azure and third-party gzfile tarballs, fromUri finds each by scheme with no import; Redis still names its package', async () => {
    await npm(
      [
        'install',
        tgz('@yoink/storage-s3'),
        tgz('@yoink/storage-azure'),
        tgz('yoink-storage-gzfile'),
      ],
      app,
    );

    const names = await installedNames(join(app, 'node_modules'));
    expect(names).toContain('@aws-sdk/client-s3');
    expect(names).toContain('@azure/storage-blob');
    // @azure/identity is an optional peer: installed only by users who pass a credential.
    expect(names).not.toContain('@azure/identity');
    expect(names).not.toContain('ioredis');

    const { esm, cjs } = await runProbes(app, 'with-s3');
    for (const [tag, result] of [
      ['with-s3-esm', esm],
      ['with-s3-cjs', cjs],
    ] as const) {
      expectLocalWorks(result, tag);
      expect(result.s3).toEqual({ ctor: 'S3Storage' });
      expect(result.azblob).toEqual({ ctor: 'AzureBlobStorage' });
      expect(result.gzfile).toEqual({ ctor: 'GzipFileStorage', lines: [`{"from":"${tag}"}`] });
      expectMissing(result.redis, '@yoink/storage-redis');
    }
  });
});
