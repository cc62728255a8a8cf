// The consumer scenario, run by `run.mjs` inside a fresh project that installed
// only the packed tarballs, under Node, Bun or Deno (plain JavaScript, no test
// runner: it must run as a user's script would). It never imports a backend:
// every scheme goes through core's auto-import.
//
// Environment (set by run.mjs):
//   YOINK_RUNTIME      JSON array: the command that runs a script under this
//                      runtime (["bun"], ["deno", "run", "-A"], ["node"]),
//                      for the child processes (CheckpointManager signals, CLI)
//   YOINK_TAG          a prefix that keeps this run's keys apart from others'
//   YOINK_REDIS_URL    redis://127.0.0.1:<port> (a running redis-server)
//   YOINK_S3_ENDPOINT  http://127.0.0.1:<port> (a running moto_server)
//   YOINK_S3_BUCKET    an existing bucket on it
//   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY: moto's test credentials
//
// Prints one line per check ("ok - …" or "not ok - …" with the reason), then
// "N passed, N failed", and exits 1 if anything failed.
import { spawn } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointManager } from '@yoink/checkpoint';
import { ConcurrentWriterError, StorageFactory } from '@yoink/storage-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const RUNTIME = JSON.parse(process.env.YOINK_RUNTIME ?? '["node"]');
const TAG = process.env.YOINK_TAG ?? `rt-${process.pid}`;
const DATA = join(HERE, 'data', TAG);
mkdirSync(DATA, { recursive: true });

/** Storage URIs per backend; `name` keeps each check's checkpoint apart. */
const BACKENDS = {
  local: { scheme: 'file', ctor: 'LocalFileStorage', uri: (name) => join(DATA, `${name}.jsonl`) },
  redis: {
    scheme: 'redis',
    ctor: 'RedisStorage',
    uri: (name) => `${process.env.YOINK_REDIS_URL}/0?key=${TAG}:${name}`,
  },
  s3: {
    scheme: 's3',
    ctor: 'S3Storage',
    uri: (name) =>
      `s3://${process.env.YOINK_S3_BUCKET}/${TAG}/${name}.jsonl?region=us-east-1` +
      `&forcePathStyle=true&endpoint=${encodeURIComponent(process.env.YOINK_S3_ENDPOINT ?? '')}`,
  },
};

let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    const detail = e?.stack ?? String(e);
    console.log(`not ok - ${name}\n  ${detail.split('\n').slice(0, 6).join('\n  ')}`);
  }
}

function assertEqual(actual, expected, what) {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) throw new Error(`${what}: expected ${b}, got ${a}`);
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

async function readAll(uri) {
  const reader = await StorageFactory.fromUri(uri);
  const lines = [];
  try {
    for await (const line of reader.read()) lines.push(line);
  } finally {
    await reader.close();
  }
  return lines;
}

/** Runs a script or the CLI under this runtime; resolves with its exit and output. */
function runChild(args, { env = {}, onStdout } = {}) {
  return new Promise((resolve, reject) => {
    const [cmd, ...pre] = RUNTIME;
    const child = spawn(cmd, [...pre, ...args], {
      cwd: HERE,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      stdout += d;
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const CLI = join(HERE, 'node_modules', '@yoink', 'storage-cli', 'dist', 'cli.js');

for (const [backend, { scheme, ctor, uri }] of Object.entries(BACKENDS)) {
  await check(`${backend}: fromUri auto-imports the backend by scheme (${ctor})`, async () => {
    assert(!StorageFactory.schemes().includes(scheme), `${scheme}: was registered before fromUri`);
    const s = await StorageFactory.fromUri(uri('auto'));
    try {
      assertEqual(s.constructor.name, ctor, 'storage class');
    } finally {
      await s.close();
    }
  });

  await check(`${backend}: write, flush, close, then read returns the lines in order`, async () => {
    const s = await StorageFactory.fromUri(uri('round-trip'));
    await s.write('{"n":1}\n');
    await s.flush();
    await s.write('{"n":2}\n{"n":3}\n');
    await s.close();
    assertEqual(await readAll(uri('round-trip')), ['{"n":1}', '{"n":2}', '{"n":3}'], 'lines');
  });

  await check(`${backend}: a second writer gets ConcurrentWriterError`, async () => {
    const loc = uri('two-writers');
    const a = await StorageFactory.fromUri(loc);
    const b = await StorageFactory.fromUri(loc);
    const persisted = [];
    const errors = [];
    for (const [s, line] of [
      [a, 'a1'],
      [b, 'b1'],
      [a, 'a2'],
      [b, 'b2'],
    ]) {
      try {
        await s.write(`${line}\n`);
        await s.flush();
        persisted.push(line);
      } catch (e) {
        errors.push(e);
      }
    }
    await Promise.allSettled([a.close(), b.close()]);
    assert(errors.length > 0, 'no writer was refused');
    for (const e of errors) {
      assert(ConcurrentWriterError.isInstance(e), `not a ConcurrentWriterError: ${e?.stack ?? e}`);
    }
    const lines = await readAll(loc);
    assertEqual(
      lines.filter((l) => persisted.includes(l)),
      persisted,
      'lines each writer was told are persisted',
    );
  });

  await check(`${backend}: a new writer starts on a fresh line after a torn tail`, async () => {
    const loc = uri('torn');
    const first = await StorageFactory.fromUri(loc);
    await first.write('{"ok":1}\n{"torn":');
    await first.close();
    const second = await StorageFactory.fromUri(loc);
    await second.write('{"ok":2}\n');
    await second.close();
    assertEqual(await readAll(loc), ['{"ok":1}', '{"torn":', '{"ok":2}'], 'lines');
  });

  await check(`${backend}: read({ signal }) stops with the signal's reason`, async () => {
    const loc = uri('abort');
    const s = await StorageFactory.fromUri(loc);
    await s.write('a\nb\nc\n');
    await s.close();
    const controller = new AbortController();
    const seen = [];
    const reader = await StorageFactory.fromUri(loc);
    let thrown;
    try {
      for await (const line of reader.read({ signal: controller.signal })) {
        seen.push(line);
        controller.abort();
      }
    } catch (e) {
      thrown = e;
    } finally {
      await reader.close();
    }
    assertEqual(seen, ['a'], 'lines before the abort');
    assert(thrown === controller.signal.reason, `threw ${thrown?.stack ?? thrown}`);
  });

  await check(
    `${backend}: the yoink:storage:flush tracing channel reports bytes and lines`,
    async () => {
      const events = [];
      const channel = diagnostics.tracingChannel('yoink:storage:flush');
      const handlers = {
        asyncEnd: (ctx) =>
          events.push({ backend: ctx.backend, bytes: ctx.bytes, lines: ctx.lines }),
      };
      channel.subscribe(handlers);
      try {
        const s = await StorageFactory.fromUri(uri('traced'));
        await s.write('{"é":1}\n');
        await s.close();
      } finally {
        channel.unsubscribe(handlers);
      }
      assertEqual(events, [{ backend: ctor, bytes: 9, lines: 1 }], 'flush events');
    },
  );

  await check(`${backend}: CheckpointManager appends, closes and resumes`, async () => {
    const loc = uri('manager');
    const writer = await CheckpointManager.fromUri(loc);
    for (let i = 0; i < 5; i++) await writer.append({ url: `https://example.com/${i}` });
    await writer.close();
    const reader = await CheckpointManager.fromUri(loc);
    const urls = [];
    for await (const record of reader.records()) urls.push(record.url);
    await reader.close();
    assertEqual(urls.length, 5, 'records');
    assertEqual(urls[4], 'https://example.com/4', 'last record');
  });

  await check(`${backend}: yoink-storage cat and stat read the checkpoint`, async () => {
    const loc = uri('cli');
    const s = await StorageFactory.fromUri(loc);
    await s.write('{"a":1}\n{"a":2}\n{"torn":');
    await s.close();
    const cat = await runChild([CLI, 'cat', loc]);
    assertEqual(
      { code: cat.code, stdout: cat.stdout },
      {
        code: 0,
        // cat copies the bytes: the torn tail stays without its newline.
        stdout: '{"a":1}\n{"a":2}\n{"torn":',
      },
      `cat (stderr: ${cat.stderr.trim()})`,
    );
    const stat = await runChild([CLI, 'stat', '--json', loc]);
    assertEqual(stat.code, 0, `stat exit code (stderr: ${stat.stderr.trim()})`);
    const stats = JSON.parse(stat.stdout);
    assertEqual(
      { records: stats.records, tornTail: stats.tornTail, tornRecords: stats.tornRecords },
      { records: 2, tornTail: true, tornRecords: 1 },
      'stat',
    );
  });
}

// CheckpointManager({ handleSignals: true }) under this runtime: SIGTERM while
// six records are unflushed must flush every one of them, release the lock, and end
// the process by the signal.
await check(
  'local: CheckpointManager flushes on SIGTERM (handleSignals) and exits by the signal',
  async () => {
    const file = join(DATA, 'signal.jsonl');
    const run = await runChild([join(HERE, 'signal-child.mjs'), file, '7'], {
      onStdout: (out, child) => {
        if (out.includes('ready\n')) child.kill('SIGTERM');
      },
    });
    assertEqual(
      run.signal ?? run.code,
      run.signal ? 'SIGTERM' : 143,
      `exit (stderr: ${run.stderr})`,
    );
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    assertEqual(lines.length, 7, 'records flushed by the signal');
    assert(!existsSync(`${file}.lock`), 'the lock was left behind');
  },
);

// A writer killed with SIGKILL cleans nothing up: the next writer must
// recognise the dead owner's lock (process.kill(pid, 0) under this runtime).
await check(
  'local: a writer killed with SIGKILL leaves a lock the next writer takes over',
  async () => {
    const file = join(DATA, 'killed.jsonl');
    const run = await runChild([join(HERE, 'signal-child.mjs'), file, '3'], {
      onStdout: (out, child) => {
        if (out.includes('ready\n')) child.kill('SIGKILL');
      },
    });
    assertEqual(run.signal ?? run.code, run.signal ? 'SIGKILL' : 137, 'exit');
    assert(existsSync(`${file}.lock`), 'no lock to take over (the test proves nothing)');
    const next = await StorageFactory.fromUri(file);
    await next.write('{"after":"kill"}\n');
    await next.close();
    assertEqual(await readAll(file), ['{"i":0}', '{"after":"kill"}'], 'lines');
  },
);

// NODE_DEBUG=yoink: opens and flushes, with sizes and timings, on stderr.
await check('NODE_DEBUG=yoink prints opens and flushes', async () => {
  const run = await runChild([join(HERE, 'debug-child.mjs'), join(DATA, 'debug.jsonl')], {
    env: { NODE_DEBUG: 'yoink' },
  });
  assertEqual(run.code, 0, `exit (stderr: ${run.stderr})`);
  for (const expected of [
    /opened for writing in [\d.]+ ms/,
    /flushed 8 bytes in [\d.]+ ms/,
    /closed/,
  ]) {
    assert(expected.test(run.stderr), `no line matching ${expected} in stderr:\n${run.stderr}`);
  }
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
