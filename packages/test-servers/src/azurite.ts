import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { freePort } from '@yoink/storage-testkit';
import { answersHttp } from './answers-http.js';
import { spawnServer, stopChild } from './children.js';
import { waitUntil } from './wait-until.js';

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
/** The key of {@link AZURITE_ACCOUNT}. */
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Options of {@link startAzurite}. */
export interface AzuriteOptions {
  /** Containers to create once the server answers (3–63 characters: lower-case letters, digits, hyphens). */
  containers?: readonly string[];
  /** How long to wait for the server to answer, in ms. Default 30,000. */
  startTimeoutMs?: number;
}

/** A running `azurite-blob` (Azure Blob Storage emulator) for tests and benchmarks. */
export interface AzuriteServer {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The TCP port its blob service listens on. */
  readonly port: number;
  /** The blob service URL: `http://127.0.0.1:<port>/devstoreaccount1`. */
  readonly endpoint: string;
  /** The account name (`devstoreaccount1`). */
  readonly account: string;
  /** The account key of the well-known development account. */
  readonly accountKey: string;
  /** A connection string for this server (what `AZURE_STORAGE_CONNECTION_STRING` would hold). */
  readonly connectionString: string;
  /** The folder Azurite stores its data in (removed by `stop()`). */
  readonly location: string;
  /** Creates a container (no error if it exists). */
  createContainer(name: string): Promise<void>;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** The `azurite-blob` script of the installed `azurite` package (never a global one). */
function azuriteBlobBin(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('azurite/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
    bin?: Record<string, string>;
  };
  const bin = pkg.bin?.['azurite-blob'];
  if (!bin) throw new Error(`the azurite package at ${pkgPath} has no azurite-blob binary`);
  return join(dirname(pkgPath), bin);
}

function connectionStringFor(endpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${endpoint};`;
}

/**
 * Starts Azurite's blob service as a child process
 * (`azurite-blob --blobHost 127.0.0.1 --blobPort <free port> --location <tmp>
 * --silent --skipApiVersionCheck --disableTelemetry`), resolved from the
 * installed `azurite` package, and waits until it answers. The account is
 * Azurite's well-known `devstoreaccount1`. The child is killed when this
 * process exits, and `stop()` removes its data folder.
 *
 * What Azurite does differently from Azure: it accepts append blocks up to
 * 100 MiB (Azure: 4 MiB on old service versions), and a ranged read of an
 * empty blob answers 206 with 0 bytes (Azure: 416).
 *
 * @throws an Error with Azurite's output when it exits or does not answer within `startTimeoutMs`.
 *
 * @example
 * ```ts
 * const azurite = await startAzurite({ containers: ['checkpoints'] });
 * process.env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString;
 * // …
 * await azurite.stop();
 * ```
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteServer> {
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const location = await mkdtemp(join(tmpdir(), 'yoink-azurite-'));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const args = [
    azuriteBlobBin(),
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(port),
    '--location',
    location,
    '--silent',
    '--skipApiVersionCheck',
    // Without it Azurite tries to reach a telemetry host.
    '--disableTelemetry',
  ];
  const child = spawnServer(process.execPath, args, { name: 'azurite-blob' });
  try {
    // Any answer will do: an unsigned request gets 403.
    await waitUntil(`azurite-blob on ${endpoint}`, () => answersHttp(`${endpoint}?comp=list`), {
      timeoutMs,
      intervalMs: 20,
      failed: child.failure,
    });
  } catch (e) {
    await stopChild(child.child);
    await rm(location, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\n${child.output()}`, { cause: e });
  }
  const connectionString = connectionStringFor(endpoint);
  let stopped: Promise<void> | undefined;
  const server: AzuriteServer = {
    host: '127.0.0.1',
    port,
    endpoint,
    account: AZURITE_ACCOUNT,
    accountKey: AZURITE_ACCOUNT_KEY,
    connectionString,
    location,
    async createContainer(name) {
      await BlobServiceClient.fromConnectionString(connectionString)
        .getContainerClient(name)
        .createIfNotExists();
    },
    stop() {
      stopped ??= (async () => {
        await stopChild(child.child);
        await rm(location, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
  for (const name of options.containers ?? []) await server.createContainer(name);
  return server;
}
