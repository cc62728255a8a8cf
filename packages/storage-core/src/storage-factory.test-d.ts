import { describe, expectTypeOf, it } from 'vitest';
import type { MemoryStorageOptions } from './memory-storage.js';
import {
  type OptionsForScheme,
  type SchemeOf,
  StorageFactory,
  type StorageOptions,
} from './storage-factory.js';

interface DemoOptions {
  client?: { send(): void };
  layout?: 'object' | 'segments';
}

// What a backend package does in its own source (never in a hand-written .d.ts).
declare module './storage-factory.js' {
  interface StorageSchemes {
    demo: DemoOptions;
  }
}

describe('SchemeOf', () => {
  it('lower-cases the scheme and routes paths and drives to file', () => {
    expectTypeOf<SchemeOf<'s3://b/k'>>().toEqualTypeOf<'s3'>();
    expectTypeOf<SchemeOf<'S3://b/k'>>().toEqualTypeOf<'s3'>();
    expectTypeOf<SchemeOf<'redis://h?key=a:b'>>().toEqualTypeOf<'redis'>();
    expectTypeOf<SchemeOf<'memory:x'>>().toEqualTypeOf<'memory'>();
    expectTypeOf<SchemeOf<'./crawl.jsonl'>>().toEqualTypeOf<'file'>();
    expectTypeOf<SchemeOf<'/srv/a:b.jsonl'>>().toEqualTypeOf<'file'>();
    expectTypeOf<SchemeOf<'C:\\crawl.jsonl'>>().toEqualTypeOf<'file'>();
    expectTypeOf<SchemeOf<'file:///srv/crawl.jsonl'>>().toEqualTypeOf<'file'>();
    expectTypeOf<SchemeOf<string>>().toEqualTypeOf<string>();
  });
});

describe('fromUri options', () => {
  it('types the options of a known scheme, whatever the case of the URI', () => {
    expectTypeOf<OptionsForScheme<'demo'>>().toEqualTypeOf<DemoOptions>();
    expectTypeOf<OptionsForScheme<'memory'>>().toEqualTypeOf<MemoryStorageOptions>();
    void StorageFactory.fromUri('demo://x', { layout: 'segments' });
    void StorageFactory.fromUri('DEMO://x', { layout: 'object', client: { send() {} } });
    void StorageFactory.fromUri('memory://x', { maxBufferBytes: 1024 });
  });

  it('refuses a misspelled option of a known scheme', () => {
    // @ts-expect-error: "clinet" is not an option of demo:
    void StorageFactory.fromUri('demo://x', { clinet: { send() {} } });
    // @ts-expect-error: a misspelled key next to a valid one is refused too
    void StorageFactory.fromUri('demo://x', { layout: 'object', layuot: 'segments' });
    // @ts-expect-error: a wrong value type
    void StorageFactory.fromUri('demo://x', { layout: 'rows' });
    // @ts-expect-error: memory:// takes maxBufferBytes only
    void StorageFactory.fromUri('memory://x', { maxBufferByte: 1 });
  });

  it('keeps options loose for unknown schemes and non-literal URIs', () => {
    expectTypeOf<OptionsForScheme<'gcs'>>().toEqualTypeOf<StorageOptions>();
    void StorageFactory.fromUri('gcs://bucket/key', { anything: 1 });
    const uri: string = process.env.CHECKPOINT ?? './x.jsonl';
    void StorageFactory.fromUri(uri, { whatever: true });
  });
});
