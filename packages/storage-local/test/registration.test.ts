import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describeRegistration } from '@yoink/storage-testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from './temp-dir.js';

const run = promisify(execFile);
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./fixtures/from-uri.mjs', import.meta.url));

let dir = '';
beforeAll(async () => {
  dir = await makeTempDir('registration');
});
afterAll(async () => {
  await removeTempDir(dir);
});

it('StorageFactory.fromUri loads this package for a plain path without an explicit import', async () => {
  const path = join(dir, 'auto', 'crawl.jsonl');
  // The working folder is the package, as an application that has it installed.
  const { stdout } = await run(process.execPath, [SCRIPT, path], { cwd: PACKAGE_DIR });
  expect(JSON.parse(stdout)).toEqual({ name: 'LocalFileStorage', lines: ['{"auto":true}'] });
});

it('StorageFactory.fromUri loads this package for a file: URL', async () => {
  const path = join(dir, 'url', 'crawl.jsonl');
  const { stdout } = await run(process.execPath, [SCRIPT, `file://${path}`], {
    cwd: PACKAGE_DIR,
  });
  expect(JSON.parse(stdout)).toEqual({ name: 'LocalFileStorage', lines: ['{"auto":true}'] });
});

describeRegistration({
  packageDir: PACKAGE_DIR,
  uri: '/tmp/yoink-two-copies/crawl.jsonl',
  scheme: 'file',
  storageClass: 'LocalFileStorage',
});
