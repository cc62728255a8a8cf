import type { TokenCredential } from '@azure/core-auth';
import {
  type AnonymousCredential,
  BlobServiceClient,
  type ContainerClient,
  type StoragePipelineOptions,
  type StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { InvalidOptionError, redactUri } from '@yoink/storage-core';
import {
  type AdditionalPolicy,
  DEFAULT_REQUEST_TIMEOUT_MS,
  requestTimeoutPolicy,
  retryLogPolicy,
} from './request-policies.js';

/** The environment variable read when nothing else names an account. */
const CONNECTION_STRING_ENV = 'AZURE_STORAGE_CONNECTION_STRING';

/** What {@link connect} needs: the checked options and the URI's container. */
export interface ConnectionSettings {
  /** The URI as given (for messages; core redacts it). */
  uri: string;
  container: string;
  client?: ContainerClient | BlobServiceClient | undefined;
  connectionString?: string | undefined;
  credential?: StorageSharedKeyCredential | AnonymousCredential | TokenCredential | undefined;
  account?: string | undefined;
  endpoint?: string | undefined;
  clientOptions?: StoragePipelineOptions | undefined;
  /** Per-try timeout of the clients we create (default {@link DEFAULT_REQUEST_TIMEOUT_MS}). */
  requestTimeoutMs?: number | undefined;
  /** `process.env` (a parameter, for tests). */
  env: NodeJS.ProcessEnv;
}

/** Where the credentials came from (for `debugLog` and messages; never the credentials themselves). */
type CredentialSource =
  | 'client'
  | 'connectionString'
  | 'environment'
  | 'credential'
  | 'sas-endpoint';

/** A container client and the secrets that must never be printed. */
export interface Connection {
  container: ContainerClient;
  /** The client is the caller's (`options.client`): never ours to close. */
  injected: boolean;
  source: CredentialSource;
  /** Account key, SAS, connection string: masked in every message and cause. */
  secrets: string[];
}

const HOW_TO_AUTHENTICATE =
  `set ${CONNECTION_STRING_ENV} (or pass options.connectionString), ` +
  'give ?account=<name> with options.credential (for example new DefaultAzureCredential() from @azure/identity, or a StorageSharedKeyCredential), ' +
  'pass a SAS URL as options.endpoint, or pass options.client (a ContainerClient or BlobServiceClient)';

function isContainerClient(x: unknown): x is ContainerClient {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as ContainerClient).getAppendBlobClient === 'function' &&
    typeof (x as ContainerClient).containerName === 'string'
  );
}

function isBlobServiceClient(x: unknown): x is BlobServiceClient {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as BlobServiceClient).getContainerClient === 'function'
  );
}

/** The secret parts of a connection string: the whole string, its key, its SAS and signature. */
export function connectionStringSecrets(cs: string): string[] {
  const out = [cs.trim()];
  for (const part of cs.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim();
    if (name === 'accountkey' || name === 'sharedaccesssignature') {
      out.push(value, encodeURIComponent(value));
      for (const sig of value.matchAll(/(?:^|[?&])sig=([^&]+)/g)) out.push(sig[1] as string);
    }
  }
  return out.filter((s) => s.length >= 4);
}

/** The SAS in an endpoint URL's query (`?sv=…&sig=…`), or `undefined`. */
function sasOf(endpoint: string): string | undefined {
  const q = endpoint.indexOf('?');
  if (q === -1) return undefined;
  const query = endpoint.slice(q + 1);
  return /(^|&)sig=/.test(query) ? query : undefined;
}

function checkEndpoint(uri: string, endpoint: string): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new InvalidOptionError(
      `endpoint must be the blob service's URL, as in https://<account>.blob.core.windows.net or http://127.0.0.1:10000/devstoreaccount1 (for ${redactUri(uri)})`,
      { uri },
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidOptionError(
      `endpoint must be an http: or https: URL, got ${url.protocol} (for ${redactUri(uri)})`,
      { uri },
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidOptionError(
      `endpoint must not carry a user name or password (for ${redactUri(uri)}): pass options.credential, or a SAS in the endpoint's query`,
      { uri },
    );
  }
}

/** Client options with the core pipeline's `additionalPolicies` (which `StoragePipelineOptions` does not declare). */
type OptionsWithPolicies = StoragePipelineOptions & { additionalPolicies?: AdditionalPolicy[] };

/**
 * The options of a client we create: the user's `clientOptions`, plus two
 * policies run once per try (`perRetry`): the per-try timeout and the retry
 * log of `NODE_DEBUG=yoink`. A new object, which {@link addedOnce} edits.
 */
function pipelineOptions(s: ConnectionSettings): OptionsWithPolicies {
  const given: OptionsWithPolicies = s.clientOptions ?? {};
  const ours: AdditionalPolicy[] = [
    { policy: retryLogPolicy(redactUri(s.uri)), position: 'perRetry' },
    {
      policy: requestTimeoutPolicy(s.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
      position: 'perRetry',
    },
  ];
  return { ...given, additionalPolicies: [...(given.additionalPolicies ?? []), ...ours] };
}

/**
 * Creates a service client with `options`, policies included, once.
 *
 * `@azure/storage-blob` keeps the `options` object in the client's pipeline
 * and adds its `additionalPolicies` to the HTTP pipeline it shares between
 * the service client and every container and blob client made from it, once
 * per client: the second client would fail with "Duplicate policy names not
 * allowed in pipeline". Once the service client has added them, they are
 * taken out of `options`, so the clients made from it use the shared
 * pipeline as it is, policies included. (Every test of this package makes
 * blob clients from the service client, so a change of that behaviour fails
 * loudly.)
 */
function addedOnce(
  create: (options: OptionsWithPolicies) => BlobServiceClient,
  options: OptionsWithPolicies,
): BlobServiceClient {
  const service = create(options);
  delete options.additionalPolicies;
  return service;
}

function fromConnectionString(
  s: ConnectionSettings,
  cs: string,
  where: string,
  source: CredentialSource,
): Connection {
  const secrets = connectionStringSecrets(cs);
  let service: BlobServiceClient;
  try {
    service = addedOnce(
      (options) => BlobServiceClient.fromConnectionString(cs, options),
      pipelineOptions(s),
    );
  } catch {
    // The SDK's error may quote the string (a TypeError's `input`): leave it out.
    throw new InvalidOptionError(
      `${where} is not a valid Azure Storage connection string (for ${redactUri(s.uri)}). Copy it from the storage account's "Access keys" page (DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=core.windows.net), or for Azurite use its development connection string with BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1.`,
      { uri: s.uri },
    );
  }
  return { container: service.getContainerClient(s.container), injected: false, source, secrets };
}

/**
 * Builds the container client from the settings, in the order a user
 * expects:
 *
 * 1. `client` (a `ContainerClient` for the URI's container, or a
 *    `BlobServiceClient`), used as is and never closed by us;
 * 2. `connectionString`;
 * 3. `account` / `endpoint` (URI or options) with `credential`, or an
 *    `endpoint` holding a SAS;
 * 4. the `AZURE_STORAGE_CONNECTION_STRING` environment variable, read only
 *    when nothing above names an account, so an explicit setting always wins.
 *
 * @throws {InvalidOptionError} for settings that contradict each other, a bad
 *   connection string or endpoint, or no credentials at all (the message
 *   lists the ways to give them). Never quotes a secret.
 */
export function connect(s: ConnectionSettings): Connection {
  const safe = redactUri(s.uri);
  const given = (names: Array<[string, unknown]>): string[] =>
    names.filter(([, v]) => v !== undefined).map(([n]) => n);
  if (s.client !== undefined) {
    const conflicting = given([
      ['connectionString', s.connectionString],
      ['credential', s.credential],
      ['account', s.account],
      ['endpoint', s.endpoint],
      ['clientOptions', s.clientOptions],
      ['requestTimeoutMs', s.requestTimeoutMs],
    ]);
    if (conflicting.length > 0) {
      throw new InvalidOptionError(
        `${conflicting.join(', ')} cannot apply to a client you pass in (for ${safe}): configure your client instead, or leave out client`,
        { uri: s.uri },
      );
    }
    if (isContainerClient(s.client)) {
      if (s.client.containerName !== s.container) {
        throw new InvalidOptionError(
          `options.client is a ContainerClient for "${s.client.containerName}", but ${safe} names the container "${s.container}": pass a client for that container, or a BlobServiceClient`,
          { uri: s.uri },
        );
      }
      return { container: s.client, injected: true, source: 'client', secrets: [] };
    }
    if (isBlobServiceClient(s.client)) {
      return {
        container: s.client.getContainerClient(s.container),
        injected: true,
        source: 'client',
        secrets: [],
      };
    }
    throw new InvalidOptionError(
      `options.client must be a ContainerClient or a BlobServiceClient from @azure/storage-blob (for ${safe})`,
      { uri: s.uri },
    );
  }
  if (s.connectionString !== undefined) {
    const conflicting = given([
      ['credential', s.credential],
      ['account', s.account],
      ['endpoint', s.endpoint],
    ]);
    if (conflicting.length > 0) {
      throw new InvalidOptionError(
        `${conflicting.join(', ')} cannot be combined with connectionString (for ${safe}): the connection string names the account, its endpoint and its key; give one or the other`,
        { uri: s.uri },
      );
    }
    return fromConnectionString(
      s,
      s.connectionString,
      'options.connectionString',
      'connectionString',
    );
  }
  if (s.account !== undefined || s.endpoint !== undefined || s.credential !== undefined) {
    if (s.account !== undefined && !/^[a-z0-9]{3,24}$/.test(s.account)) {
      throw new InvalidOptionError(
        `account must be a storage account name (3–24 lower-case letters and digits), got ${JSON.stringify(s.account.slice(0, 40))} (for ${safe})`,
        { uri: s.uri },
      );
    }
    if (s.account === undefined && s.endpoint === undefined) {
      throw new InvalidOptionError(
        `credential needs an account to talk to (for ${safe}): add ?account=<name> to the URI, or an endpoint`,
        { uri: s.uri },
      );
    }
    const endpoint = s.endpoint ?? `https://${s.account}.blob.core.windows.net`;
    checkEndpoint(s.uri, endpoint);
    const sas = sasOf(endpoint);
    const secrets =
      sas === undefined
        ? []
        : [sas, ...[...sas.matchAll(/(?:^|&)sig=([^&]+)/g)].map((m) => m[1] as string)];
    if (s.credential === undefined && sas === undefined) {
      throw new InvalidOptionError(
        `No credentials for ${safe}: ${endpoint.replace(/\?.*$/, '')} is named, but nothing signs the requests. Pass options.credential (new DefaultAzureCredential() from @azure/identity, or a StorageSharedKeyCredential), a SAS URL as options.endpoint, or a connection string.`,
        { uri: s.uri },
      );
    }
    const service = addedOnce(
      (options) => new BlobServiceClient(endpoint, s.credential, options),
      pipelineOptions(s),
    );
    return {
      container: service.getContainerClient(s.container),
      injected: false,
      source: s.credential === undefined ? 'sas-endpoint' : 'credential',
      secrets,
    };
  }
  const fromEnv = s.env[CONNECTION_STRING_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    return fromConnectionString(
      s,
      fromEnv,
      `The environment variable ${CONNECTION_STRING_ENV}`,
      'environment',
    );
  }
  throw new InvalidOptionError(`No credentials for ${safe}: ${HOW_TO_AUTHENTICATE}.`, {
    uri: s.uri,
  });
}
