import { InvalidUriError } from '@yoink/storage-core';

/** One Redis node address. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** What a `redis://` or `rediss://` URI says, as parsed by {@link parseRedisUri}. */
export interface RedisUriParts {
  /** `true` for `rediss://` (TLS). */
  tls: boolean;
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
  /** Cluster seed nodes: the URI's host first, then those of `nodes=h:p,h:p`. */
  nodes: RedisNodeAddress[];
  /** The `leaseMs` query parameter (writer lease TTL in ms), when present. */
  leaseMs?: number | undefined;
  /** The `takeover` query parameter (`true`: take a live writer lease at once), when present. */
  takeover?: boolean | undefined;
  /** The `allowEviction` query parameter (`true`: accept an evicting server), when present. */
  allowEviction?: boolean | undefined;
}

/** Query parameters a Redis URI may carry. */
export const REDIS_URI_PARAMS: readonly string[] = [
  'key',
  'cluster',
  'nodes',
  'leaseMs',
  'takeover',
  'allowEviction',
];

const FORMAT =
  'expected redis[s]://[user][:password]@host[:port][/db]?key=<key>[&cluster=true&nodes=host2:port2,host3:port3][&leaseMs=15000][&takeover=true][&allowEviction=true]';

const DEFAULT_PORT = 6379;

function fail(uri: string, what: string): never {
  throw new InvalidUriError(`Invalid Redis URI ${uri}: ${what} (${FORMAT})`, { uri });
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

function parseBoolean(uri: string, name: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  return fail(uri, `${name} must be true or false, got "${value}"`);
}

function parseNode(uri: string, text: string): RedisNodeAddress {
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d+)$/.exec(text);
  if (!m) fail(uri, `cluster node "${text}" must be host:port`);
  const host = (m[1] as string).replace(/^\[|\]$/g, '');
  return { host, port: parsePort(uri, m[2] as string, `the port of cluster node "${text}"`) };
}

/**
 * Parses a Redis storage URI without connecting:
 * `redis[s]://[user][:password]@host[:port][/db]?key=<key>[&cluster=true&nodes=h2:p2,h3:p3][&leaseMs=15000][&takeover=true][&allowEviction=true]`.
 *
 * Query values are percent-decoded (`+` stays a plus sign), so a key with `&`,
 * `#` or `%` must be percent-encoded. The key may be missing here (it can be
 * given separately to `RedisStorage`); {@link RedisStorage} requires one.
 *
 * @throws {InvalidUriError} for another scheme, a port outside 1–65535, a db
 * index that is not a non-negative integer (or not 0 with `cluster=true`), an
 * empty, repeated or unknown query parameter, `nodes` without `cluster=true`,
 * a `leaseMs` that is not a positive whole number, a `cluster`, `takeover` or
 * `allowEviction` that is not true/false, or bad percent-encoding. The message never contains the password.
 *
 * @example
 * ```ts
 * parseRedisUri('rediss://app:secret@cache.internal:6380/2?key=crawl-1');
 * // { tls: true, host: 'cache.internal', port: 6380, username: 'app', db: 2, key: 'crawl-1', … }
 * ```
 */
export function parseRedisUri(uri: string): RedisUriParts {
  if (typeof uri !== 'string') fail(String(uri), 'the URI must be a string');
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

  let host = url.hostname.replace(/^\[|\]$/g, '');
  host = host === '' ? 'localhost' : decode(uri, host, 'the host');
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

  const params = new Map<string, string>();
  const search = url.search.startsWith('?') ? url.search.slice(1) : url.search;
  for (const pair of search === '' ? [] : search.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
    const paramName = decode(uri, rawName, 'a query parameter name');
    const value = decode(uri, rawValue, `the value of "${paramName}"`);
    if (!REDIS_URI_PARAMS.includes(paramName)) {
      fail(
        uri,
        `unknown query parameter "${paramName}" (known: ${REDIS_URI_PARAMS.join(', ')}; pass other settings as options)`,
      );
    }
    if (params.has(paramName)) fail(uri, `the query parameter "${paramName}" is repeated`);
    if (value === '') fail(uri, `the query parameter "${paramName}" is empty`);
    params.set(paramName, value);
  }

  const clusterParam = params.get('cluster');
  const cluster = clusterParam === undefined ? false : parseBoolean(uri, 'cluster', clusterParam);
  const takeoverParam = params.get('takeover');
  const takeover =
    takeoverParam === undefined ? undefined : parseBoolean(uri, 'takeover', takeoverParam);
  const allowParam = params.get('allowEviction');
  const allowEviction =
    allowParam === undefined ? undefined : parseBoolean(uri, 'allowEviction', allowParam);
  const leaseParam = params.get('leaseMs');
  let leaseMs: number | undefined;
  if (leaseParam !== undefined) {
    if (!/^\d{1,10}$/.test(leaseParam) || Number(leaseParam) < 1) {
      fail(uri, `leaseMs must be a positive whole number of milliseconds, got "${leaseParam}"`);
    }
    leaseMs = Number(leaseParam);
  }
  const nodes: RedisNodeAddress[] = [{ host, port }];
  const nodesParam = params.get('nodes');
  if (nodesParam !== undefined) {
    if (!cluster) fail(uri, 'nodes=… is only allowed with cluster=true');
    for (const n of nodesParam.split(',')) nodes.push(parseNode(uri, n.trim()));
  }
  if (cluster && db !== 0) fail(uri, `Redis Cluster has only database 0, got /${db}`);

  return {
    tls: name === 'rediss',
    host,
    port,
    username,
    password,
    db,
    key: params.get('key'),
    cluster,
    nodes,
    leaseMs,
    takeover,
    allowEviction,
  };
}
