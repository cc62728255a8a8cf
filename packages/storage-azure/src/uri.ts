import { decodeComponent, InvalidUriError, queryPairs, redactUri } from '@yoink/storage-core';

/** What an `azblob://` URI names. */
export interface ParsedAzblobUri {
  /** The container (3–63 characters: lower-case letters, digits, hyphens). */
  container: string;
  /** The blob's name inside the container, percent-decoded (`crawls/site-a.jsonl`). */
  blob: string;
}

/** Longest blob name Azure accepts. */
const MAX_BLOB_NAME = 1024;
/** Room kept for the rollover suffix `.000001`. */
const ROLLOVER_SUFFIX = 7;

/**
 * Why `name` is not a valid container name, or `undefined` when it is
 * (Azure's rules: 3–63 characters, lower-case letters, digits and hyphens,
 * starting and ending with a letter or digit, no two hyphens in a row).
 */
export function containerNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) {
    return `has ${name.length} characters; Azure needs 3 to 63`;
  }
  if (/[A-Z]/.test(name)) return 'has upper-case letters; Azure container names are lower-case';
  if (!/^[a-z0-9-]+$/.test(name)) return 'may hold only lower-case letters, digits and hyphens';
  if (name.startsWith('-') || name.endsWith('-'))
    return 'must start and end with a letter or digit';
  if (name.includes('--')) return 'has two hyphens in a row';
  return undefined;
}

/**
 * The URI with the query of its `endpoint=` parameter masked: core's
 * redaction does not look inside a parameter's own query, where a SAS token
 * would sit.
 */
export function maskEndpointQuery(uri: string): string {
  return uri.replace(/([?&]endpoint=)([^&#]*)/gi, (_all, name: string, value: string) => {
    let decoded = value;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      // Shown as written; the parser reports the bad escape.
    }
    const q = decoded.indexOf('?');
    return q === -1
      ? `${name}${value}`
      : `${name}${encodeURIComponent(`${decoded.slice(0, q)}?***`)}`;
  });
}

/**
 * Splits `azblob://<container>/<blob path>[?account=…&endpoint=…]` into its
 * container and blob name. The query is checked by the options schema, apart
 * from a SAS token inside `endpoint=`, refused here because a URI is logged.
 *
 * @throws {InvalidUriError} for another scheme, credentials in the URI, a bad
 *   container name, an empty or unusable blob name, a fragment, or a SAS in
 *   the URI's `endpoint`.
 */
export function parseAzblobUri(uri: string): ParsedAzblobUri {
  for (const [name, value] of queryPairs(maskEndpointQuery(uri))) {
    if (name === 'endpoint' && value.includes('?')) {
      const shown = maskEndpointQuery(uri);
      throw new InvalidUriError(
        `The endpoint in ${redactUri(shown)} carries a query (a SAS token?): a URI ends up in logs, so pass the SAS URL as options.endpoint, or use a connection string with SharedAccessSignature=…`,
        { uri: shown },
      );
    }
  }
  const safe = redactUri(uri);
  const m = /^azblob:\/\/([^/?#]*)(\/[^?#]*)?([?][^#]*)?(#.*)?$/i.exec(uri);
  if (!m) {
    throw new InvalidUriError(
      `${safe} is not an azblob URI: write azblob://<container>/<blob path>, as in azblob://checkpoints/crawl.jsonl`,
      { uri },
    );
  }
  const authority = m[1] as string;
  const path = m[2] ?? '';
  if (m[4] !== undefined) {
    throw new InvalidUriError(
      `${safe} has a fragment (#…), which names nothing in Azure: remove it, or write # as %23 in the blob name`,
      { uri },
    );
  }
  if (authority.includes('@')) {
    throw new InvalidUriError(
      `${safe} carries credentials: an azblob URI names the container and blob only. Pass a connection string (options.connectionString or AZURE_STORAGE_CONNECTION_STRING), options.credential, or options.client instead.`,
      { uri },
    );
  }
  if (authority === '') {
    throw new InvalidUriError(
      `${safe} names no container: write azblob://<container>/<blob path>, as in azblob://checkpoints/crawl.jsonl`,
      { uri },
    );
  }
  const problem = containerNameProblem(authority);
  if (problem !== undefined) {
    throw new InvalidUriError(`The container "${authority}" in ${safe} ${problem}.`, { uri });
  }
  const blob = decodeComponent(path.slice(1), uri, 'The blob name');
  if (blob === '') {
    throw new InvalidUriError(
      `${safe} names no blob: write azblob://${authority}/<blob path>, as in azblob://${authority}/crawl.jsonl`,
      { uri },
    );
  }
  if (blob.endsWith('/') || blob.endsWith('.')) {
    throw new InvalidUriError(
      `The blob name in ${safe} ends with "${blob.slice(-1)}", which Azure treats badly: name a blob, as in …/crawl.jsonl`,
      { uri },
    );
  }
  if (blob.length > MAX_BLOB_NAME - ROLLOVER_SUFFIX) {
    throw new InvalidUriError(
      `The blob name in ${safe} has ${blob.length} characters; at most ${MAX_BLOB_NAME - ROLLOVER_SUFFIX} are allowed (Azure's limit is ${MAX_BLOB_NAME}, less room for the rollover suffix .000001)`,
      { uri },
    );
  }
  return { container: authority, blob };
}
