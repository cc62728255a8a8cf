import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { expect, it } from 'vitest';
import { failNext, proxiedContainer } from './fault-proxy.js';
import { azurite, blobText } from './helpers.js';

const run = promisify(execFile);
const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const FIXTURE = fileURLToPath(new URL('./fixtures/retry-log.mjs', import.meta.url));
const CONTAINER = 'debuglog';
const proxied = proxiedContainer(CONTAINER);

it('NODE_DEBUG=yoink prints the SDK’s retries (what failed, which try), with the SAS signature masked', async () => {
  const blob = 'retried.jsonl';
  const sas = generateBlobSASQueryParameters(
    {
      containerName: CONTAINER,
      permissions: ContainerSASPermissions.parse('racw'),
      expiresOn: new Date(Date.now() + 3_600_000),
    },
    new StorageSharedKeyCredential(azurite.account, azurite.accountKey),
  );
  const sig = sas.signature;
  // The first append is throttled once; the SDK's second try lands.
  failNext(proxied.proxy, 'appendblock', { status: 503, code: 'ServerBusy' });
  const { stdout, stderr } = await run(
    process.execPath,
    [FIXTURE, `azblob://${CONTAINER}/${blob}`],
    {
      env: {
        ...process.env,
        NODE_DEBUG: 'yoink',
        YOINK_TEST_SAS_ENDPOINT: `${proxied.proxy.endpoint}?${sas.toString()}`,
      },
    },
  );
  expect(stdout).toBe('done\n');
  const lines = stderr.split('\n');
  // PUT <the blob's URL, with the SAS's sig masked>, as sent on that try.
  const append = `PUT ${literal(`${proxied.proxy.endpoint}/${CONTAINER}/${blob}`)}\\?[^ ]*comp=appendblock`;
  const prefix = `^YOINK \\d+: ${literal(`azblob://${CONTAINER}/${blob}`)}: `;
  const failed = new RegExp(`${prefix}${append} answered 503 ServerBusy \\(try 1\\)$`);
  const retried = new RegExp(`${prefix}retrying ${append} \\(try 2\\)$`);
  expect(
    lines.filter((l) => failed.test(l)),
    stderr,
  ).toHaveLength(1);
  expect(
    lines.filter((l) => retried.test(l)),
    stderr,
  ).toHaveLength(1);
  expect(lines.find((l) => retried.test(l))).toContain('sig=***');
  // The signature appears nowhere, encoded or not; nor does the account key.
  expect(stderr).not.toContain(sig);
  expect(stderr).not.toContain(encodeURIComponent(sig));
  expect(stderr).not.toContain(azurite.accountKey);
  expect(await blobText(CONTAINER, blob)).toBe('{"retried":true}\n');
});
