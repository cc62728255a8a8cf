import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { StorageFactory } from '@yoink/storage-core';
import { collectLines, describeRegistration } from '@yoink/storage-testkit';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { AzureBlobStorage } from '../src/index.js';
import { azurite, createContainer } from './helpers.js';

const run = promisify(execFile);
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const CORE_DIR = dirname(fileURLToPath(import.meta.resolve('@yoink/storage-core/package.json')));
const CONTAINER = 'registration';

let app = '';
beforeAll(async () => {
  await createContainer(CONTAINER);
  // An application with only @yoink/storage-core and @yoink/storage-azure
  // installed (copies of the built packages, outside this workspace), and the
  // Azure SDK they depend on.
  app = await mkdtemp(join(tmpdir(), 'yoink-azure-app-'));
  const nm = join(app, 'node_modules');
  for (const [dir, name] of [
    [CORE_DIR, 'storage-core'],
    [PACKAGE_DIR, 'storage-azure'],
  ] as const) {
    await mkdir(join(nm, '@yoink', name), { recursive: true });
    await cp(join(dir, 'dist'), join(nm, '@yoink', name, 'dist'), { recursive: true });
    await cp(join(dir, 'package.json'), join(nm, '@yoink', name, 'package.json'));
  }
  await mkdir(join(nm, '@azure'), { recursive: true });
  const sdk = await realpath(join(PACKAGE_DIR, 'node_modules', '@azure', 'storage-blob'));
  await symlink(sdk, join(nm, '@azure', 'storage-blob'), 'dir');
  await writeFile(join(app, 'package.json'), '{ "type": "module" }\n');
  await cp(join(PACKAGE_DIR, 'test', 'fixtures', 'from-uri.mjs'), join(app, 'probe.mjs'));
});
afterAll(async () => {
  if (app) await rm(app, { recursive: true, force: true });
});

const saved = process.env.AZURE_STORAGE_CONNECTION_STRING;
afterEach(() => {
  if (saved === undefined) delete process.env.AZURE_STORAGE_CONNECTION_STRING;
  else process.env.AZURE_STORAGE_CONNECTION_STRING = saved;
});

it('an application with only core and this package, and AZURE_STORAGE_CONNECTION_STRING set, gets an AzureBlobStorage from fromUri("azblob://…"): write, close, read back; a second writer is refused', async () => {
  const { stdout } = await run(
    process.execPath,
    ['probe.mjs', `azblob://${CONTAINER}/auto.jsonl`],
    {
      cwd: app,
      env: { PATH: process.env.PATH, AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString },
    },
  );
  expect(JSON.parse(stdout)).toEqual({
    name: 'AzureBlobStorage',
    lines: ['{"auto":true}'],
    refused: true,
  });
});

it('fromUri in this process reads the credentials from AZURE_STORAGE_CONNECTION_STRING, and new AzureBlobStorage is the same thing', async () => {
  process.env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString;
  const s = await StorageFactory.fromUri(`azblob://${CONTAINER}/in-process.jsonl`);
  expect(s).toBeInstanceOf(AzureBlobStorage);
  await s.write('a\n');
  await s.close();
  const t = new AzureBlobStorage(`azblob://${CONTAINER}/in-process.jsonl`);
  expect(await collectLines(t.read())).toEqual(['a']);
});

describeRegistration({
  packageDir: PACKAGE_DIR,
  uri: 'azblob://copies/crawl.jsonl',
  scheme: 'azblob',
  storageClass: 'AzureBlobStorage',
  // Azurite's published development account; nothing is sent (construction only).
  env: {
    AZURE_STORAGE_CONNECTION_STRING:
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;',
  },
});
