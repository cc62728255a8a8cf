import type { TokenCredential } from '@azure/core-auth';
import type {
  AnonymousCredential,
  BlobServiceClient,
  ContainerClient,
  StoragePipelineOptions,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import {
  BUFFERED_OPTIONS,
  BufferedStorage,
  type BufferedStorageOptions,
  type Chunk,
  checkUri,
  debugLog,
  defineOptions,
  type OpenResult,
  queryPairs,
  type ReadOptions,
} from '@yoink/storage-core';
import { AppendWriter } from './append-writer.js';
import { blobProperties, type ChainContext } from './chain-context.js';
import { readChain } from './chain-reader.js';
import { connect } from './client.js';
import { limitsOf } from './limits.js';
import { parseAzblobUri } from './uri.js';

/** Options of {@link AzureBlobStorage} (and of `fromUri('azblob://…', options)`). */
export interface AzureBlobStorageOptions extends BufferedStorageOptions {
  /**
   * Your own `ContainerClient` (for the URI's container) or
   * `BlobServiceClient`. Used as is, never closed; the other connection
   * options must then be left out.
   */
  client?: ContainerClient | BlobServiceClient;
  /**
   * A storage account connection string (`DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…`,
   * or one with `SharedAccessSignature=…`). Default: the
   * `AZURE_STORAGE_CONNECTION_STRING` environment variable, read only when no
   * account, endpoint or credential is given. Never printed.
   */
  connectionString?: string;
  /**
   * Signs the requests to `account` / `endpoint`: a `TokenCredential` such as
   * `new DefaultAzureCredential()` from `@azure/identity` (install it
   * yourself: this package never imports it), or a
   * `StorageSharedKeyCredential`.
   */
  credential?: TokenCredential | StorageSharedKeyCredential | AnonymousCredential;
  /** The storage account; the endpoint is then `https://<account>.blob.core.windows.net`. Same as `?account=`. */
  account?: string;
  /**
   * The blob service URL, for emulators and sovereign clouds
   * (`http://127.0.0.1:10000/devstoreaccount1`,
   * `https://<account>.blob.core.chinacloudapi.cn`). Wins over `account`.
   * Same as `?endpoint=`; a SAS URL (`…?sv=…&sig=…`) signs the requests, and
   * is accepted only here, never in the URI.
   */
  endpoint?: string;
  /**
   * Settings for the client this storage creates (retries, proxy, keep-alive),
   * e.g. `{ retryOptions: { maxTries: 6 } }`. The SDK's defaults: 4 tries,
   * exponential back-off from 4 s.
   */
  clientOptions?: StoragePipelineOptions;
  /**
   * How long one try of a request may wait for the service, in ms: for its
   * answer (status and headers, the upload included), and, while reading,
   * between two chunks of a download. A try that times out is retried by
   * the SDK like a network error; past its tries the operation fails with
   * `StorageUnavailableError` (a flush keeps its data). Default 30,000 (a
   * 4 MiB block then needs about 1.1 Mbit/s; raise it on slower links).
   * Same as `?requestTimeoutMs=`. Applies to the clients this storage
   * creates, not to `options.client`.
   */
  requestTimeoutMs?: number;
}

const OPTIONS = defineOptions<AzureBlobStorageOptions>({
  ...BUFFERED_OPTIONS,
  client: { type: 'object' },
  connectionString: { type: 'string' },
  credential: { type: 'object' },
  account: { type: 'string', uri: true },
  endpoint: { type: 'string', uri: true },
  clientOptions: { type: 'object' },
  requestTimeoutMs: { type: 'number', min: 1, max: 2_147_483_647, integer: true, uri: true },
});

/**
 * A checkpoint in Azure Blob Storage (or Azurite), at
 * `azblob://<container>/<blob path>[?account=…&endpoint=…]`: one append blob
 * (`<blob>`, then `<blob>.000001`, … past 50,000 blocks), appended to exactly
 * once per flush.
 *
 * - Writes are buffered (core's {@link BufferedStorage}); a flush is
 *   AppendBlock requests of up to 4 MiB, each conditional on the ETag of
 *   this writer's last change (`If-Match`) and on the position it knows
 *   (`x-ms-blob-condition-appendpos`), so a flush never downloads the
 *   checkpoint.
 * - Before its first append a writer claims the blob: metadata
 *   `yoinkwriter=<random token>`, set with `If-Match` on the ETag it opened
 *   on. A retried append whose first attempt landed (a lost reply) is
 *   recognised by that token, the length and its bytes, and lands once;
 *   bytes alone never decide.
 * - Another writer's claim or append makes ours fail its conditions:
 *   `ConcurrentWriterError`, with nothing overwritten and the data kept.
 * - No request hangs: each try gets `requestTimeoutMs` (default 30 s).
 * - `read()` streams the chain in ranged downloads of 8 MiB.
 *
 * Credentials: `options.client`, `options.connectionString`, `account` or
 * `endpoint` with `options.credential`, then `AZURE_STORAGE_CONNECTION_STRING`.
 *
 * @throws {InvalidUriError} for a URI that is not `azblob://<container>/<blob>`,
 *   a bad container name, an unknown query parameter or a SAS in the URI.
 * @throws {InvalidOptionError} for an unknown option (with "did you mean"), a
 *   bad value, contradicting options (`clientOptions` or `requestTimeoutMs`
 *   with `client`), a bad connection string, or no credentials at all.
 *
 * @example
 * ```ts
 * // AZURE_STORAGE_CONNECTION_STRING is set
 * const storage = new AzureBlobStorage('azblob://checkpoints/site-a.jsonl');
 * await storage.write('{"url":"https://example.com"}\n');
 * await storage.flush();
 * for await (const line of storage.read()) console.log(line);
 * await storage.close();
 * ```
 */
export class AzureBlobStorage extends BufferedStorage {
  /** The container. */
  readonly container: string;
  /** The blob's name (the first of its chain). */
  readonly blob: string;
  /** The client this storage sends its requests with (yours, when you passed one). */
  readonly containerClient: ContainerClient;
  readonly #ctx: ChainContext;
  readonly #writer: AppendWriter;

  /**
   * @param uri `azblob://<container>/<blob path>[?account=…&endpoint=…]`.
   * @param options See {@link AzureBlobStorageOptions}.
   */
  constructor(uri: string, options?: AzureBlobStorageOptions) {
    checkUri(uri);
    const parsed = parseAzblobUri(uri);
    const checked = OPTIONS.parse({
      uri,
      options,
      query: queryPairs(uri),
      backend: 'AzureBlobStorage',
    });
    const connection = connect({
      uri,
      container: parsed.container,
      client: checked.client,
      connectionString: checked.connectionString,
      credential: checked.credential,
      account: checked.account,
      endpoint: checked.endpoint,
      clientOptions: checked.clientOptions,
      requestTimeoutMs: checked.requestTimeoutMs,
      env: process.env,
    });
    super(uri, checked);
    this.container = parsed.container;
    this.blob = parsed.blob;
    this.containerClient = connection.container;
    this.#ctx = {
      container: connection.container,
      blob: parsed.blob,
      limits: limitsOf(options),
      errors: { uri, container: parsed.container, secrets: connection.secrets },
      safeUri: this.uri,
    };
    this.#writer = new AppendWriter(this.#ctx);
    debugLog('%s: credentials from %s', this.uri, connection.source);
  }

  protected override openForAppend(): Promise<OpenResult> {
    return this.#writer.open();
  }

  protected override persist(data: string): Promise<void> {
    return this.#writer.persist(data);
  }

  protected override readChunks(options: ReadOptions): AsyncIterable<Chunk> {
    return readChain(this.#ctx, options.signal);
  }

  /**
   * `true` once anything has been persisted: one property read of the first
   * blob (it is not empty).
   *
   * @throws {StorageError} for a missing container or a refused request.
   */
  override async exists(): Promise<boolean> {
    const props = await blobProperties(this.#ctx, 0);
    return (props?.contentLength ?? 0) > 0;
  }
}
