import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, inject } from 'vitest';
import { node } from './run.js';

/**
 * The body of a user's program, shared by the ESM and the CommonJS consumer.
 * It never imports a backend: every scheme goes through core's auto-import.
 * It prints one JSON object: per scheme, what `fromUri` gave or threw.
 */
const PROBE_BODY = `
async function probe(tag) {
  const out = {};
  async function attempt(key, fn) {
    try { out[key] = await fn(); }
    catch (e) { out[key] = { error: e && e.code, message: String(e && e.message) }; }
  }
  async function roundTrip(uri) {
    const w = await StorageFactory.fromUri(uri);
    await w.write('{"from":"' + tag + '"}\\n');
    await w.close();
    const r = await StorageFactory.fromUri(uri);
    const lines = [];
    for await (const line of r.read()) lines.push(line);
    await r.close();
    return { ctor: w.constructor.name, lines };
  }
  await attempt('local', () => roundTrip('./x-' + tag + '.jsonl'));
  await attempt('s3', async () => {
    // No server: constructing the storage is enough to show the package was found.
    const s = await StorageFactory.fromUri('s3://bucket/key.jsonl?endpoint=http://127.0.0.1:1&region=us-east-1');
    const ctor = s.constructor.name;
    await s.close();
    return { ctor };
  });
  await attempt('redis', async () => {
    const s = await StorageFactory.fromUri('redis://127.0.0.1:1/0?key=e2e');
    return { ctor: s.constructor.name };
  });
  await attempt('azblob', async () => {
    // No server: constructing the storage, with credentials from the environment
    // (Azurite's development connection string), shows the package was found.
    process.env.AZURE_STORAGE_CONNECTION_STRING =
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
      'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
      'BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;';
    const s = await StorageFactory.fromUri('azblob://checkpoints/e2e.jsonl');
    return { ctor: s.constructor.name };
  });
  await attempt('gzfile', () => roundTrip('gzfile:./x-' + tag + '.jsonl.gz'));
  return out;
}
`;

const ESM = `import { StorageFactory } from '@yoink/storage-core';
${PROBE_BODY}
console.log(JSON.stringify(await probe(process.argv[2])));
`;

const CJS = `'use strict';
const { StorageFactory } = require('@yoink/storage-core');
${PROBE_BODY}
probe(process.argv[2]).then(
  (out) => console.log(JSON.stringify(out)),
  (e) => { console.error(e); process.exit(1); },
);
`;

/** What {@link runProbes} reports for one scheme. */
/** The packed tarball of `name` (packed once by the global setup). */
export function tgz(name: string): string {
  const path = inject('tarballs')[name];
  if (!path) throw new Error(`${name} was not packed`);
  return path;
}

/** `true` for the package name of an S3, Redis or Azure client (what core + local must not pull in). */
export function isClient(name: string): boolean {
  return (
    name === 'ioredis' ||
    name.startsWith('@aws-sdk/') ||
    name === 'redis' ||
    name.startsWith('@azure/')
  );
}

export interface SchemeResult {
  ctor?: string;
  lines?: string[];
  error?: string;
  message?: string;
}
export type ProbeResult = Record<'local' | 's3' | 'redis' | 'azblob' | 'gzfile', SchemeResult>;

/** A fresh folder outside the repository (so nothing of the workspace is visible). */
export function outsideRepo(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `yoink-e2e-${label}-`));
}

/** Writes a consumer app's package.json and its two programs (esm.mjs, cjs.cjs). */
export async function writeApp(
  dir: string,
  name: string,
  dependencies: Record<string, string>,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'package.json'),
    `${JSON.stringify({ name, version: '1.0.0', private: true, dependencies }, null, 2)}\n`,
  );
  await writeFile(join(dir, 'esm.mjs'), ESM);
  await writeFile(join(dir, 'cjs.cjs'), CJS);
}

/** Runs both consumers in `app` and returns what each saw, by module system. */
export async function runProbes(
  app: string,
  stage: string,
): Promise<{ esm: ProbeResult; cjs: ProbeResult }> {
  const results: Partial<Record<'esm' | 'cjs', ProbeResult>> = {};
  for (const kind of ['esm', 'cjs'] as const) {
    const file = kind === 'esm' ? 'esm.mjs' : 'cjs.cjs';
    const run = await node(['--no-warnings', file, `${stage}-${kind}`], app);
    expect(run.code, `${file} failed:\n${run.stderr}`).toBe(0);
    results[kind] = JSON.parse(run.stdout) as ProbeResult;
  }
  return results as { esm: ProbeResult; cjs: ProbeResult };
}

/** The local backend was auto-imported and round-tripped a line. */
export function expectLocalWorks(result: ProbeResult, tag: string): void {
  expect(result.local).toEqual({ ctor: 'LocalFileStorage', lines: [`{"from":"${tag}"}`] });
}

/** `scheme`'s package is absent: fromUri throws BackendNotInstalledError naming the install command. */
export function expectMissing(result: SchemeResult, packageName: string): void {
  expect(result.error).toBe('ERR_YOINK_BACKEND_NOT_INSTALLED');
  expect(result.message).toContain(`npm install ${packageName}`);
}

/** Names of the installed packages under a flat node_modules, or under pnpm's virtual store. */
export async function installedNames(nodeModules: string): Promise<string[]> {
  const names: string[] = [];
  const store = join(nodeModules, '.pnpm');
  if (existsSync(store)) {
    // pnpm: .pnpm/<name with / as +>@<version>…/node_modules/<name>
    for (const entry of await readdir(store)) {
      const at = entry.indexOf('@', 1);
      if (at > 0) names.push(entry.slice(0, at).replace('+', '/'));
    }
    return names;
  }
  for (const entry of await readdir(nodeModules)) {
    if (entry.startsWith('@')) {
      for (const sub of await readdir(join(nodeModules, entry))) names.push(`${entry}/${sub}`);
    } else if (!entry.startsWith('.')) {
      names.push(entry);
    }
  }
  return names;
}
