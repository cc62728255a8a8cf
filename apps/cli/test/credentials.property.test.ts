import '@yoink/storage-azure';
import '@yoink/storage-local';
import '@yoink/storage-redis';
import '@yoink/storage-s3';
import { inspect } from 'node:util';
import { type CheckpointStorageLike, StorageFactory } from '@yoink/storage-core';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { formatError } from '../src/index.js';

// Issue 13: for every scheme, random passwords (special characters included,
// often not percent-encoded) never appear in an error's message, uri, JSON,
// inspect output or CLI rendering, nor in a storage's uri, inspect, JSON or
// toString. The storages are built with the real backends; nothing connects.
const SPECIAL = [...'!$%&()*+,;=:@/?#[]~-._\'"'];
const ALNUM = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'];
const password = fc
  .array(fc.constantFrom(...SPECIAL, ...ALNUM), { minLength: 4, maxLength: 20 })
  .map((cs) => cs.join(''))
  // Distinctive enough to search for in any output (a password of a few plain
  // letters would match ordinary words); the ambiguous written forms are
  // documented in docs/design.md.
  .filter(
    (p) =>
      /[^A-Za-z0-9]/.test(p) &&
      /[A-Za-z0-9]{2}/.test(p) &&
      !/^\d+[?#/]/.test(p) &&
      !/@[A-Za-z0-9._\-:[\]%]+[?#/].*=/.test(p),
  );

type Case = { uri: string; options?: Record<string, unknown> };

/** Good and bad URIs of every scheme carrying the password (raw or encoded). */
function cases(pw: string, encode: boolean): Case[] {
  const p = encode ? encodeURIComponent(pw) : pw;
  const inQuery = encodeURIComponent(pw); // "&" and "#" cannot stand raw in a query value
  return [
    { uri: `redis://app:${p}@127.0.0.1:1/0?key=crawl` },
    { uri: `rediss://app:${p}@127.0.0.1:1/0?key=crawl`, options: { leaseMS: 1000 } },
    { uri: `redis://app:${p}@127.0.0.1:99999/0?key=crawl` },
    { uri: `redis://app:${p}@127.0.0.1:1/zz?key=crawl` },
    { uri: `redis://app:${p}@127.0.0.1:1/0` },
    { uri: `redis://app:${p}@127.0.0.1:1/0?key=crawl&kye=x` },
    {
      uri: `s3://bucket/crawl.jsonl?endpoint=${encodeURIComponent(`http://minio:${pw}@127.0.0.1:1`)}`,
    },
    { uri: `s3://bucket/crawl.jsonl?endpoint=http://minio:${inQuery}@127.0.0.1:1&layuot=x` },
    { uri: `s3://B/crawl.jsonl?endpoint=http://minio:${inQuery}@127.0.0.1:1` },
    { uri: `s3://bucket/crawl.jsonl?token=${inQuery}` },
    {
      uri: `azblob://checkpoints/crawl.jsonl?endpoint=${encodeURIComponent(`http://127.0.0.1:1/acct?sv=1&sig=${pw}`)}`,
    },
    {
      uri: `azblob://AB/crawl.jsonl?endpoint=${encodeURIComponent(`http://127.0.0.1:1/acct?sig=${pw}`)}`,
    },
    {
      uri: 'azblob://checkpoints/crawl.jsonl',
      options: {
        connectionString: `DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=${pw};BlobEndpoint=http://127.0.0.1:1/acct;`,
        clinet: 1,
      },
    },
  ];
}

function leaks(text: string, pw: string): boolean {
  const printed = text
    .split('\n')
    .filter((l) => !/^\s+at /.test(l))
    .join('\n');
  return printed.includes(pw) || printed.includes(encodeURIComponent(pw));
}

function outputsOf(value: unknown): string[] {
  if (value instanceof Error) {
    return [
      value.message,
      String((value as { uri?: unknown }).uri ?? ''),
      JSON.stringify(value),
      inspect(value, { depth: 10 }),
      formatError(value, [], true),
    ];
  }
  const s = value as CheckpointStorageLike & { uri?: string };
  return [String(s.uri ?? ''), inspect(s, { depth: 10 }), JSON.stringify(s), String(s)];
}

describe('credentials never appear, with every real backend (property)', () => {
  it('in errors and storages built from URIs with random passwords, good and bad', async () => {
    await fc.assert(
      fc.asyncProperty(password, fc.boolean(), async (pw, encode) => {
        for (const c of cases(pw, encode)) {
          let built: unknown;
          try {
            built = await StorageFactory.fromUri(c.uri, c.options as never);
          } catch (e) {
            built = e;
          }
          for (const out of outputsOf(built)) {
            if (leaks(out, pw)) {
              throw new Error(
                `password ${JSON.stringify(pw)} leaked for ${JSON.stringify(c)}: ${out}`,
              );
            }
          }
          if (!(built instanceof Error)) await (built as CheckpointStorageLike).close();
        }
      }),
      { numRuns: 120 },
    );
  });
});
