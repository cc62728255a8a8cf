import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { S3Storage } from '@yoink/storage-s3';
import { type S3TestServer, startMoto } from '@yoink/test-servers/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { listObjects, putObject } from './s3-rest.js';

const run = promisify(execFile);
const WORKER = fileURLToPath(new URL('./fixtures/s3-worker.mjs', import.meta.url));
const BUCKET = 'yoink-many';
const WORKERS = 8;
const LINES = 1_000;

let moto: S3TestServer;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  moto = await startMoto({ buckets: [BUCKET] });
  const { accessKeyId, secretAccessKey } = moto.clientConfig.credentials;
  env = { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey };
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

const ids = Array.from({ length: WORKERS }, (_, i) => `w${i}`);
const lineOf = (id: string, i: number): string =>
  JSON.stringify({ worker: id, i, url: `https://example.com/${id}/${i}` });

/** The 8 workers' checkpoints under one prefix, one layout each. */
const layouts = [
  {
    name: 'one object per worker (crawl-7/worker-<id>.jsonl)',
    prefix: 'crawl-7/',
    key: (id: string) => `crawl-7/worker-${id}.jsonl`,
    params: '',
  },
  {
    name: 'segments per worker (crawl-7s/worker-<id>/), compacting in the background',
    prefix: 'crawl-7s/',
    key: (id: string) => `crawl-7s/worker-${id}`,
    // Every 4 flushes the writer merges its segments (~7 KiB each) into ~24 KiB objects and
    // deletes the originals at once: the workers compact while the others write.
    params: '&layout=segments&compactAfterSegments=4&compactTargetBytes=24576&compactGraceMs=0',
  },
];

describe.each(layouts)('one crawl on many machines on S3 (moto): $name', (layout) => {
  const uriOf = (id: string): string =>
    `s3://${BUCKET}/${layout.key(id)}?endpoint=${moto.endpoint}&forcePathStyle=true${layout.params}`;

  /** Runs the 8 worker processes at once; resolves with what each printed. */
  async function runWorkers(): Promise<string[]> {
    const template = uriOf('{id}');
    const out = await Promise.all(
      ids.map((id) =>
        run(process.execPath, [WORKER, template, id, String(LINES)], {
          env: { ...process.env, ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        }),
      ),
    );
    for (const o of out) expect(o.stderr).toBe('');
    return out.map((o) => o.stdout.trim());
  }

  it('8 writer processes at once, each its own checkpoint, then restarted: every line exactly once, in order; read back through the CLI', {
    timeout: 180_000,
  }, async () => {
    expect(await runWorkers()).toEqual(ids.map((id) => `done ${id} 0 ${LINES - 1}`));
    // Every worker restarts, finds its own checkpoint by its worker id and resumes after its last line.
    expect(await runWorkers()).toEqual(ids.map((id) => `done ${id} ${LINES} ${2 * LINES - 1}`));
    const expected = (id: string): string[] =>
      Array.from({ length: 2 * LINES }, (_, i) => lineOf(id, i));

    // Each checkpoint on its own, through the library.
    for (const id of ids) {
      const s = new S3Storage(
        `s3://${BUCKET}/${layout.key(id)}${layout.params.replace('&', '?')}`,
        {
          clientConfig: moto.clientConfig,
        },
      );
      const lines: string[] = [];
      for await (const line of s.read()) lines.push(line);
      await s.close();
      expect(lines).toEqual(expected(id));
    }

    // Listing the crawl's prefix finds the 8 workers' checkpoints (the guide's recipe).
    const listed = await listObjects(moto.endpoint, BUCKET, layout.prefix, '/');
    const names = layout.params.includes('segments')
      ? listed.prefixes.map((p) => p.replace(/\/$/, ''))
      : listed.keys;
    expect(names.sort()).toEqual(ids.map(layout.key).sort());

    // All 8 through the CLI: cat streams them in the order given, stat counts each and the total.
    const uris = ids.map(uriOf);
    const cat = await runCli(['cat', ...uris], { env });
    expect(cat.stderr).toBe('');
    expect(cat.code).toBe(0);
    expect(cat.stdout).toBe(`${ids.flatMap(expected).join('\n')}\n`);
    const stat = await runCli(['stat', '--json', ...uris], { env });
    expect(stat.stderr).toBe('');
    expect(stat.code).toBe(0);
    const out = JSON.parse(stat.stdout);
    expect(out.checkpoints.map((c: { uri: string }) => c.uri)).toEqual(uris);
    for (const [i, c] of (out.checkpoints as { lines: number; lastRecord: unknown }[]).entries()) {
      expect(c.lines).toBe(2 * LINES);
      expect(c.lastRecord).toEqual(JSON.parse(lineOf(ids[i] as string, 2 * LINES - 1)));
    }
    expect(out.total).toMatchObject({
      checkpoints: WORKERS,
      lines: WORKERS * 2 * LINES,
      records: WORKERS * 2 * LINES,
      invalidJson: 0,
      tornTails: 0,
      bytes: Buffer.byteLength(cat.stdout),
    });

    if (!layout.params.includes('segments')) return;
    // The writers compacted as they went: each checkpoint holds merged objects, not 20 segments.
    const isMerged = (key: string): boolean => /\/\d{12}-\d{12}\.jsonl$/.test(key);
    for (const id of ids) {
      const { keys } = await listObjects(moto.endpoint, BUCKET, `${layout.key(id)}/`);
      expect(keys.some(isMerged)).toBe(true);
      expect(keys.length).toBeLessThan(20);
    }
    // An operator compacts every worker's checkpoint with the workers stopped; the crawl reads the same.
    for (const uri of uris) {
      const compact = await runCli(['compact', '--grace-ms', '0', '--json', uri], { env });
      expect(compact.stderr).toBe('');
      expect(compact.code).toBe(0);
      expect(JSON.parse(compact.stdout)).toMatchObject({ mode: 'operator' });
    }
    const again = await runCli(['cat', ...uris], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(cat.stdout);
  });
});

describe('yoink-storage cat of several S3 checkpoints (moto)', () => {
  const uriOf = (key: string, params = ''): string =>
    `s3://${BUCKET}/${key}?endpoint=${moto.endpoint}&forcePathStyle=true${params}`;

  it('stops at the first checkpoint that fails mid-way, names it and says what stdout holds', async () => {
    const good = uriOf('multi/good.jsonl');
    const goodText = '{"a":1}\n{"a":2}\n';
    await putObject(moto.endpoint, BUCKET, 'multi/good.jsonl', goodText);
    // A segments checkpoint with a hole (segment 1 missing): it exists, and a read yields
    // segment 0's lines, then fails with the retryable SegmentsChangedError.
    await putObject(moto.endpoint, BUCKET, 'multi/holed/000000000000.jsonl', '{"s":0}\n');
    await putObject(moto.endpoint, BUCKET, 'multi/holed/000000000002.jsonl', '{"s":2}\n');
    const holed = uriOf('multi/holed', '&layout=segments');
    const run = await runCli(['cat', good, holed, good], { env });
    expect(run.code).toBe(1);
    expect(run.stdout.startsWith(goodText)).toBe(true);
    expect(run.stdout).not.toContain('{"s":2}');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^yoink-storage: cat stopped at checkpoint 2 of 3 \(s3:\/\/yoink-many\/multi\/holed\?/,
    );
    expect(lines[0]).toContain('no object for sequence 1');
    expect(lines[0]).toContain(
      'stdout holds every line of the 1 checkpoint before it (s3://yoink-many/multi/good.jsonl?',
    );
    // What it says of this one matches what was printed of it.
    const ofHoled = run.stdout.slice(goodText.length);
    const count = ofHoled === '' ? 0 : ofHoled.trimEnd().split('\n').length;
    expect(lines[0]).toContain(`then ${count === 0 ? 'none' : `the first ${count}`} of this one`);
  });
});
