import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@yoink/storage-testkit';
import { type ServerChild, spawnServer, stopChild } from './children.js';
import { type RedisReply, type RedisTarget, redisCommand } from './redis-command.js';
import { makeCertificates } from './tls-certs.js';
import { waitUntil } from './wait-until.js';

/** An ACL user created when the server starts (`ACL SETUSER name on >password ~* &* +@all`). */
export interface RedisAclUser {
  name: string;
  password: string;
  /** ACL rules; default `['~*', '&*', '+@all']` (everything). */
  rules?: readonly string[];
}

/** Options of {@link startRedis}. */
export interface RedisServerOptions {
  /** Turn the append-only file on (`--appendonly yes`), so data survives {@link RedisTestServer.restart}. Default `false`. */
  appendonly?: boolean;
  /**
   * RDB save points (`--save`). Default `'3600 1'`: like a production server,
   * the server counts as persistent (RedisStorage does not warn), and no
   * snapshot is taken during a test run. `''` turns RDB snapshots off, so
   * that (without `appendonly`) a restart loses every key.
   */
  save?: string;
  /** Password of the `default` user (`--requirepass`). */
  password?: string;
  /** Extra ACL users. */
  aclUsers?: readonly RedisAclUser[];
  /** Serve TLS only (the same as {@link startRedisTls}). Default `false`. */
  tls?: boolean;
  /** Working directory (AOF, logs, certificates). Default: a new temp dir, removed by `stop()`. */
  dir?: string;
  /** Extra `redis-server` arguments, e.g. `['--maxmemory', '10mb']`. */
  args?: readonly string[];
  /** How long to wait for the server to answer, in ms. Default 15,000. */
  startTimeoutMs?: number;
}

/** A running `redis-server` for tests and benchmarks. */
export interface RedisTestServer {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The TCP port it listens on (TLS port when `tls`). */
  readonly port: number;
  /** `redis://127.0.0.1:<port>` (`rediss://` with TLS); no credentials, no query. */
  readonly url: string;
  /** The working directory (AOF, log, certificates). */
  readonly dir: string;
  /** PEM of the CA that signed the server certificate (TLS servers only). */
  readonly ca?: string;
  /** `url` + `?key=<key>`: a storage URI for this server. */
  keyUri(key: string): string;
  /**
   * Stops the server and removes its temp dir: SIGKILL when the dir is its
   * own (nothing in it is kept, so no snapshot is written), else SIGTERM,
   * then SIGKILL. Safe to call twice.
   */
  stop(): Promise<void>;
  /**
   * Stops the server (SIGTERM: the AOF is written, and an RDB snapshot when
   * it has save points) if running, then starts it again on the same port
   * and dir. With `save: ''` and no `appendonly`, every key is gone after it.
   */
  restart(): Promise<void>;
  /** Kills the server with SIGKILL and leaves it down (until `restart()`). Its dir is kept. */
  kill(): Promise<void>;
  /**
   * Sends one command (as the `default` user, over TLS when the server is
   * TLS-only) on a connection of its own, and resolves with ioredis's RESP2
   * reply: `'string'` for `TYPE`, a number for `XLEN`, a flat array for
   * `HGETALL`. For test set-up and inspection only.
   */
  command(...args: [string, ...string[]]): Promise<RedisReply>;
}

/** How to install redis-server and redis-cli, said when either is missing. */
export const REDIS_INSTALL_HINT =
  'install it with `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis`, so that redis-server and redis-cli are on PATH';

async function logTail(logfile: string): Promise<string> {
  try {
    const text = await readFile(logfile, 'utf8');
    return text.split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The `redis-server` arguments of `options` (TLS files already made when `certs` is given). */
function serverArgs(
  options: RedisServerOptions,
  dir: string,
  port: number,
  certs: { ca: string; cert: string; key: string } | undefined,
): string[] {
  const args: string[] = [
    '--bind',
    '127.0.0.1',
    '--save',
    options.save ?? '3600 1',
    '--dir',
    dir,
    '--logfile',
    join(dir, 'redis.log'),
    '--daemonize',
    'no',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
  ];
  if (certs) {
    args.push(
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--tls-cert-file',
      certs.cert,
      '--tls-key-file',
      certs.key,
      '--tls-ca-cert-file',
      certs.ca,
      '--tls-auth-clients',
      'no',
    );
  } else {
    args.push('--port', String(port));
  }
  if (options.password !== undefined) args.push('--requirepass', options.password);
  for (const u of options.aclUsers ?? []) {
    args.push('--user', u.name, 'on', `>${u.password}`, ...(u.rules ?? ['~*', '&*', '+@all']));
  }
  args.push(...(options.args ?? []));
  return args;
}

/**
 * Starts a `redis-server` on a free port of 127.0.0.1 in a temp dir (RDB
 * save point `3600 1` unless `save` says otherwise, no AOF unless
 * `appendonly`), and waits (bounded) until it answers PING.
 *
 * @throws Error when `redis-server` is not installed (the message says how to
 * install it), exits early, or does not answer in time (the message holds the
 * tail of its log).
 *
 * @example
 * ```ts
 * const redis = await startRedis({ appendonly: true });
 * const storage = new RedisStorage(redis.keyUri('crawl-1'));
 * await redis.restart(); // same port and dir: the AOF is replayed
 * await redis.stop();
 * ```
 */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisTestServer> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'yoink-redis-')));
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const certs = options.tls ? await makeCertificates(dir) : undefined;
  const ca = certs ? await readFile(certs.ca, 'utf8') : undefined;
  const args = serverArgs(options, dir, port, certs);
  const target: RedisTarget = { port, password: options.password, ca };
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  let running: ServerChild | undefined;
  let stopped = false;

  const start = async (): Promise<void> => {
    const server = spawnServer('redis-server', args, { installHint: REDIS_INSTALL_HINT });
    running = server;
    try {
      await waitUntil(
        `redis-server on port ${port}`,
        async () => (await redisCommand(target, ['PING'])) === 'PONG',
        { timeoutMs, failed: server.failure },
      );
    } catch (e) {
      server.child.kill('SIGKILL');
      const log = await logTail(join(dir, 'redis.log'));
      throw new Error(
        `${(e as Error).message}\nredis-server ${args.join(' ')}\nlog:\n${log}\nIf redis-server is missing, ${REDIS_INSTALL_HINT}.`,
        { cause: e },
      );
    }
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const server = running;
    running = undefined;
    if (server) await stopChild(server.child, { signal, graceMs: 10_000 });
  };

  await start();
  const url = `${options.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`;
  return {
    host: '127.0.0.1',
    port,
    url,
    dir,
    ...(ca === undefined ? {} : { ca }),
    keyUri: (key) => `${url}?key=${encodeURIComponent(key)}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt(ownDir ? 'SIGKILL' : 'SIGTERM');
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      if (stopped) throw new Error('restart() after stop()');
      await halt('SIGTERM');
      await start();
    },
    async kill() {
      await halt('SIGKILL');
    },
    command: (...cmd) => redisCommand(target, cmd, 10_000),
  };
}

/**
 * Starts a TLS-only `redis-server`: a self-signed CA and a server certificate
 * for `localhost`/`127.0.0.1` are generated with `openssl` in its temp dir,
 * and the CA's PEM is exposed as `ca` (pass it as `tls: { ca }`).
 *
 * @example
 * ```ts
 * const redis = await startRedisTls();
 * const storage = new RedisStorage(redis.keyUri('k'), { tls: { ca: redis.ca } });
 * ```
 */
export function startRedisTls(
  options: Omit<RedisServerOptions, 'tls'> = {},
): Promise<RedisTestServer & { readonly ca: string }> {
  return startRedis({ ...options, tls: true }) as Promise<
    RedisTestServer & { readonly ca: string }
  >;
}
