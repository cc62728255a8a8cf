import { InvalidUriError, queryPairs, redactUri } from '@yoink/storage-core';

/** One Redis node address. */
interface RedisNodeAddress {
  host: string;
  port: number;
}

/** What the authority, path and Redis-specific query parameters of a URI say (see {@link parseRedisUri}). */
export interface RedisUriParts {
  /** `true` for `rediss://` (TLS). */
  tls: boolean;
  /** `true` when the URI names a host (`redis://?key=k` does not). */
  hasHost: boolean;
  /** Host name or IP (IPv6 without brackets). Default `localhost`. */
  host: string;
  /** Port. Default 6379. */
  port: number;
  /** ACL user name, when the URI has one. */
  username: string | undefined;
  /** Password, when the URI has one. */
  password: string | undefined;
  /** Database index from the path (`/2`). Default 0; always 0 for a cluster. */
  db: number;
  /** The `key` query parameter, when present. */
  key: string | undefined;
  /** `true` with `cluster=true`. */
  cluster: boolean;
  /** `true` when the URI has `nodes=`. */
  hasNodes: boolean;
  /** Cluster seed nodes: the URI's host first, then those of `nodes=h:p,h:p`. */
  nodes: RedisNodeAddress[];
}

/** The query parameters this file reads; the others are options, checked by core's kit. */
export const OWN_URI_PARAMS: readonly string[] = ['key', 'cluster', 'nodes'];

const FORMAT =
  'expected redis[s]://[user][:password]@host[:port][/db]?key=<key>[&cluster=true&nodes=host2:port2,host3:port3][&leaseMs=15000][&takeover=true][&allowEviction=true]';

const DEFAULT_PORT = 6379;

function fail(uri: string, what: string): never {
  throw new InvalidUriError(`Invalid Redis URI ${redactUri(uri)}: ${what} (${FORMAT})`, { uri });
}

function decode(uri: string, text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return fail(uri, `${what} is not valid percent-encoding`);
  }
}

function parsePort(uri: string, text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text)) fail(uri, `${what} must be a number from 1 to 65535`);
  const port = Number(text);
  if (port < 1 || port > 65_535) fail(uri, `${what} must be a number from 1 to 65535`);
  return port;
}

function parseNode(uri: string, text: string): RedisNodeAddress {
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d+)$/.exec(text);
  if (!m) fail(uri, `cluster node "${text}" must be host:port`);
  const host = (m[1] as string).replace(/^\[|\]$/g, '');
  return { host, port: parsePort(uri, m[2] as string, `the port of cluster node "${text}"`) };
}

/**
 * Parses the parts of a Redis storage URI that are not options, without
 * connecting: the scheme, the authority (`[user][:password]@host[:port]`),
 * the database index, and the query parameters `key`, `cluster` and `nodes`.
 * Every other query parameter is an option (`leaseMs`, `takeover`,
 * `allowEviction`), checked by core's `defineOptions` kit in the constructor.
 *
 * Query values are percent-decoded (`+` stays a plus sign), so a key with
 * `&`, `#` or `%` must be percent-encoded. `cluster` takes core's booleans
 * (`true`, `false`, `1`, `0`).
 *
 * @throws {InvalidUriError} for another scheme, a port outside 1–65535, a db
 * index that is not a non-negative integer (or not 0 with `cluster=true`), an
 * empty or repeated `key`/`cluster`/`nodes`, `nodes` without `cluster=true`, a
 * `cluster` that is not a boolean, or bad percent-encoding. The message never
 * contains the password.
 *
 * @example
 * ```ts
 * parseRedisUri('rediss://app:secret@cache.internal:6380/2?key=crawl-1');
 * // { tls: true, host: 'cache.internal', port: 6380, username: 'app', db: 2, key: 'crawl-1', … }
 * ```
 */
export function parseRedisUri(uri: string): RedisUriParts {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(uri);
  const name = scheme?.[1]?.toLowerCase();
  if (name !== 'redis' && name !== 'rediss') fail(uri, 'the scheme must be redis:// or rediss://');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return fail(uri, 'it is not a well-formed URL (check the port and the characters in the host)');
  }
  if (url.hash) fail(uri, 'a fragment (#…) is not allowed; percent-encode # in the key as %23');

  const rawHost = url.hostname.replace(/^\[|\]$/g, '');
  const host = rawHost === '' ? 'localhost' : decode(uri, rawHost, 'the host');
  const port = url.port === '' ? DEFAULT_PORT : parsePort(uri, url.port, 'the port');
  const username = url.username === '' ? undefined : decode(uri, url.username, 'the user name');
  const password = url.password === '' ? undefined : decode(uri, url.password, 'the password');

  let db = 0;
  const path = url.pathname;
  if (path !== '' && path !== '/') {
    const m = /^\/(\d{1,9})\/?$/.exec(path);
    if (!m) fail(uri, `the path "${path}" must be a database index such as /0`);
    db = Number(m[1]);
  }

  const own = new Map<string, string>();
  for (const [param, value] of queryPairs(uri)) {
    if (!OWN_URI_PARAMS.includes(param)) continue;
    if (own.has(param)) fail(uri, `the query parameter "${param}" is repeated`);
    if (value === '') fail(uri, `the query parameter "${param}" is empty`);
    own.set(param, value);
  }

  const clusterParam = own.get('cluster');
  let cluster = false;
  if (clusterParam !== undefined) {
    // Core's one rule for booleans in a URI.
    if (clusterParam === 'true' || clusterParam === '1') cluster = true;
    else if (clusterParam !== 'false' && clusterParam !== '0') {
      fail(uri, `cluster must be true or false (or 1, 0), got "${clusterParam}"`);
    }
  }
  const nodes: RedisNodeAddress[] = [{ host, port }];
  const nodesParam = own.get('nodes');
  if (nodesParam !== undefined) {
    if (!cluster) fail(uri, 'nodes=… is only allowed with cluster=true');
    for (const n of nodesParam.split(',')) nodes.push(parseNode(uri, n.trim()));
  }
  if (cluster && db !== 0) fail(uri, `Redis Cluster has only database 0, got /${db}`);

  return {
    tls: name === 'rediss',
    hasHost: rawHost !== '',
    host,
    port,
    username,
    password,
    db,
    key: own.get('key'),
    cluster,
    hasNodes: nodesParam !== undefined,
    nodes,
  };
}
