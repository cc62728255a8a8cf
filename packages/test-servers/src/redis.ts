import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { freePort } from './free-port.js';

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
  /** Sends one command (inline RESP) and returns the raw reply text. For test set-up only. */
  command(...args: string[]): Promise<string>;
}

/** A running 3-node (by default) Redis Cluster for tests and benchmarks. */
export interface RedisTestCluster {
  /** The masters, all on 127.0.0.1. */
  readonly nodes: readonly { host: string; port: number }[];
  /** `redis://127.0.0.1:<p1>?cluster=true&nodes=127.0.0.1:<p2>,…`: append `&key=…`. */
  readonly url: string;
  /** `url` + `&key=<key>`. */
  keyUri(key: string): string;
  /** Stops every node and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

const INSTALL_HINT =
  'install it with `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis`, so that redis-server and redis-cli are on PATH';

function encodeCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return out;
}

interface ProbeOptions {
  port: number;
  tls?: { ca: string } | undefined;
  auth?: readonly string[] | undefined;
}

/**
 * Sends `commands` on one connection and resolves with everything received once
 * one reply per command has arrived (simple parse: counts top-level replies of
 * the types we use: +, -, :, $).
 */
function rawCommands(
  probe: ProbeOptions,
  commands: readonly (readonly string[])[],
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let socket: Socket;
    const payload = commands.map(encodeCommand).join('');
    const onConnect = (): void => {
      socket.write(payload);
    };
    if (probe.tls) {
      socket = tlsConnect(
        { host: '127.0.0.1', port: probe.port, ca: probe.tls.ca, servername: 'localhost' },
        onConnect,
      );
    } else {
      socket = tcpConnect({ host: '127.0.0.1', port: probe.port }, onConnect);
    }
    let buf = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      buf += d;
      if (countReplies(buf) >= commands.length) {
        clearTimeout(timer);
        socket.destroy();
        resolve(buf);
      }
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`connection closed after ${JSON.stringify(buf.slice(0, 200))}`));
    });
  });
}

function countReplies(buf: string): number {
  let i = 0;
  let n = 0;
  while (i < buf.length) {
    const eol = buf.indexOf('\r\n', i);
    if (eol === -1) return n;
    const type = buf[i];
    if (type === '$') {
      const len = Number(buf.slice(i + 1, eol));
      if (len < 0) {
        i = eol + 2;
      } else {
        // Bulk lengths are bytes; the probes only read ASCII replies.
        if (buf.length < eol + 2 + len + 2) return n;
        i = eol + 2 + len + 2;
      }
    } else {
      i = eol + 2;
    }
    n += 1;
  }
  return n;
}

function authArgs(options: RedisServerOptions): readonly string[] | undefined {
  if (options.password !== undefined) return ['AUTH', options.password];
  return undefined;
}

async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  attempt: () => Promise<T | undefined>,
  failed: () => string | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let delay = 10;
  while (Date.now() < deadline) {
    const reason = failed();
    if (reason !== undefined) throw new Error(`${what}: ${reason}`);
    try {
      const v = await attempt();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
  const reason = failed();
  throw new Error(
    `${what}: not ready within ${timeoutMs} ms${reason ? ` (${reason})` : ''}${
      last instanceof Error ? ` (last error: ${last.message})` : ''
    }`,
  );
}

const children = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Never leave a redis-server behind when a test run dies.
    process.once('exit', () => {
      for (const c of children) c.kill('SIGKILL');
    });
  }
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function logTail(logfile: string): Promise<string> {
  try {
    const text = await readFile(logfile, 'utf8');
    return text.split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

function run(cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const hint = code === 'ENOENT' ? ` (${cmd} is not installed: ${INSTALL_HINT})` : '';
        reject(
          new Error(`${cmd} ${args.join(' ')} failed${hint}: ${err.message}\n${stdout}${stderr}`),
        );
        return;
      }
      resolve(stdout);
    });
  });
}

async function makeCertificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const p = (f: string): string => join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=yoink test CA',
  ]);
  await run('openssl', [
    'req',
    ...ec,
    '-keyout',
    p('server.key'),
    '-out',
    p('server.csr'),
    '-subj',
    '/CN=localhost',
  ]);
  await writeFile(p('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca.crt'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-out',
    p('server.crt'),
    '-days',
    '2',
    '-extfile',
    p('server.ext'),
  ]);
  return { ca: p('ca.crt'), cert: p('server.crt'), key: p('server.key') };
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
  const logfile = join(dir, 'redis.log');
  const args: string[] = [
    '--bind',
    '127.0.0.1',
    '--save',
    options.save ?? '3600 1',
    '--dir',
    dir,
    '--logfile',
    logfile,
    '--daemonize',
    'no',
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
  ];
  let ca: string | undefined;
  if (options.tls) {
    const certs = await makeCertificates(dir);
    ca = await readFile(certs.ca, 'utf8');
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
  const probe: ProbeOptions = {
    port,
    tls: ca === undefined ? undefined : { ca },
    auth: authArgs(options),
  };
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  let child: ChildProcess | undefined;
  let stopped = false;

  const start = async (): Promise<void> => {
    const c = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    track(c);
    let output = '';
    c.stdout?.on('data', (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    });
    c.stderr?.on('data', (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    });
    let spawnError: Error | undefined;
    c.once('error', (e) => {
      spawnError = e;
    });
    const failed = (): string | undefined => {
      if (spawnError) {
        const code = (spawnError as NodeJS.ErrnoException).code;
        return code === 'ENOENT'
          ? `redis-server is not installed: ${INSTALL_HINT}`
          : `could not run redis-server: ${spawnError.message}`;
      }
      if (c.exitCode !== null || c.signalCode !== null) {
        return `redis-server exited (${c.exitCode ?? c.signalCode}) ${output}`;
      }
      return undefined;
    };
    try {
      await waitUntil(
        `redis-server on port ${port}`,
        timeoutMs,
        async () => {
          const cmds = probe.auth ? [probe.auth, ['PING']] : [['PING']];
          const reply = await rawCommands(probe, cmds, 2_000);
          return reply.includes('+PONG') ? true : undefined;
        },
        failed,
      );
    } catch (e) {
      c.kill('SIGKILL');
      const log = await logTail(logfile);
      throw new Error(
        `${(e as Error).message}\nredis-server ${args.join(' ')}\nlog:\n${log}\nIf redis-server is missing, ${INSTALL_HINT}.`,
        { cause: e },
      );
    }
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (!c) return;
    child = undefined;
    if (c.exitCode === null && c.signalCode === null) {
      c.kill(signal);
      await waitExit(c, 10_000);
    }
  };

  await start();
  const url = `${options.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`;
  const server: RedisTestServer = {
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
    command: (...cmd) => {
      const cmds = probe.auth ? [probe.auth, cmd] : [cmd];
      return rawCommands(probe, cmds, 10_000);
    },
  };
  return server;
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

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** Number of masters (no replicas). Default 3, minimum 3. */
  nodes?: number;
  /** How long to wait for `cluster_state:ok`, in ms. Default 30,000. */
  startTimeoutMs?: number;
}

/**
 * Starts a Redis Cluster of `nodes` masters on free ports (each with
 * `--cluster-enabled yes` and its own cluster-bus port), joins them with
 * `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`, and waits
 * until every node reports `cluster_state:ok`.
 *
 * @throws Error when redis-server or redis-cli is missing or the cluster does not form in time.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster({ nodes: 3 });
 * const storage = new RedisStorage(cluster.keyUri('crawl-1'));
 * await cluster.stop();
 * ```
 */
export async function startRedisCluster(
  options: RedisClusterOptions = {},
): Promise<RedisTestCluster> {
  const count = Math.max(3, options.nodes ?? 3);
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const root = await mkdtemp(join(tmpdir(), 'yoink-redis-cluster-'));
  const servers: RedisTestServer[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(root, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      const busPort = await freePort();
      servers.push(
        await startRedis({
          dir: join(root, `node-${i}`),
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(root, `node-${i}`, 'nodes.conf'),
            '--cluster-node-timeout',
            '5000',
            '--cluster-port',
            String(busPort),
          ],
          startTimeoutMs: timeoutMs,
        }),
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...servers.map((s) => `127.0.0.1:${s.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const s of servers) {
      await waitUntil(
        `cluster node ${s.port}`,
        timeoutMs,
        async () => {
          const info = await s.command('CLUSTER', 'INFO');
          return info.includes('cluster_state:ok') ? true : undefined;
        },
        () => undefined,
      );
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  const nodes = servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  const [first, ...rest] = nodes;
  const url = `redis://127.0.0.1:${first?.port}?cluster=true&nodes=${rest
    .map((n) => `${n.host}:${n.port}`)
    .join(',')}`;
  let stopped = false;
  return {
    nodes,
    url,
    keyUri: (key) => `${url}&key=${encodeURIComponent(key)}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
    },
  };
}
