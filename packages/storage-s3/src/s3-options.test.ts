import { S3Client } from '@aws-sdk/client-s3';
import { InvalidOptionError, InvalidUriError } from '@yoink/storage-core';
import { describe, expect, it } from 'vitest';
import { resolveOptions, type S3StorageOptions } from './s3-options.js';
import { parseS3Uri } from './uri.js';

function resolve(uri: string, options?: S3StorageOptions) {
  return resolveOptions(uri, parseS3Uri(uri), options);
}

function thrown(uri: string, options?: S3StorageOptions): unknown {
  try {
    resolve(uri, options);
  } catch (e) {
    return e;
  }
  throw new Error(`${uri} was accepted`);
}

describe('options and URI parameters (one schema)', () => {
  it('takes region, endpoint, forcePathStyle, layout and conditionalWrites from the URI or the options', () => {
    const uri =
      's3://b12/k?region=eu-west-1&endpoint=http%3A%2F%2F127.0.0.1%3A9000&forcePathStyle=true&layout=segments&conditionalWrites=off';
    const fromUri = resolve(uri);
    const fromOptions = resolve('s3://b12/k', {
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      layout: 'segments',
      conditionalWrites: 'off',
    });
    for (const r of [fromUri, fromOptions]) {
      expect(r.layout).toBe('segments');
      expect(r.conditionalWrites).toBe('off');
      expect(r.clientConfig).toMatchObject({
        region: 'eu-west-1',
        endpoint: 'http://127.0.0.1:9000',
        forcePathStyle: true,
      });
    }
  });

  it('accepts the same value twice; different values are an InvalidOptionError naming the option', () => {
    expect(resolve('s3://b12/k?layout=segments', { layout: 'segments' }).layout).toBe('segments');
    const e = thrown('s3://b12/k?layout=segments', { layout: 'object' });
    expect(InvalidOptionError.isInstance(e)).toBe(true);
    expect((e as InvalidOptionError).option).toBe('layout');
    const c = thrown('s3://b12/k?conditionalWrites=off', { conditionalWrites: 'on' });
    expect((c as InvalidOptionError).option).toBe('conditionalWrites');
  });

  it('an unknown option is an InvalidOptionError with "did you mean" and the known names', () => {
    const e = thrown('s3://b12/k', { layuot: 'segments' } as S3StorageOptions);
    expect(InvalidOptionError.isInstance(e)).toBe(true);
    expect((e as Error).message).toContain('Did you mean "layout"?');
    expect((e as InvalidOptionError).known).toContain('requestTimeoutMs');
  });

  it('an unknown, repeated or unparsable query parameter is an InvalidUriError', () => {
    const unknown = thrown('s3://b12/k?regoin=x');
    expect(InvalidUriError.isInstance(unknown)).toBe(true);
    expect((unknown as Error).message).toContain('Did you mean "region"?');
    expect((thrown('s3://b12/k?region=a&region=b') as Error).message).toContain('twice');
    for (const bad of ['layout=files', 'conditionalWrites=no', 'forcePathStyle=yes', 'region=']) {
      expect(InvalidUriError.isInstance(thrown(`s3://b12/k?${bad}`)), bad).toBe(true);
    }
    // Options-only settings are not URI parameters.
    expect(InvalidUriError.isInstance(thrown('s3://b12/k?maxAttempts=3'))).toBe(true);
  });

  it("S3's own value rules: InvalidUriError for URI text, InvalidOptionError for an option", () => {
    const uriEndpoint = thrown('s3://b12/k?endpoint=ftp%3A%2F%2Fx');
    expect(InvalidUriError.isInstance(uriEndpoint)).toBe(true);
    expect((uriEndpoint as Error).message).toContain('http');
    expect(InvalidUriError.isInstance(thrown('s3://b12/k?endpoint=notaurl'))).toBe(true);
    expect(InvalidUriError.isInstance(thrown('s3://b12/k?region=EU_West'))).toBe(true);
    const optEndpoint = thrown('s3://b12/k', { endpoint: 'ftp://x' });
    expect(InvalidOptionError.isInstance(optEndpoint)).toBe(true);
    expect((optEndpoint as InvalidOptionError).option).toBe('endpoint');
    expect(InvalidOptionError.isInstance(thrown('s3://b12/k', { region: 'EU_West' }))).toBe(true);
  });

  it('part sizes, attempts, timeouts and read settings outside their limits are InvalidOptionError', () => {
    for (const options of [
      { partSizeBytes: 1024 },
      { copyPartSizeBytes: 6 * 1024 * 1024 },
      { maxAttempts: 0 },
      { requestTimeoutMs: 0 },
      { connectionTimeoutMs: 1.5 },
      { readConcurrency: 0 },
      { readRangeBytes: 1024 },
      { readAheadBytes: -1 },
    ] satisfies S3StorageOptions[]) {
      const e = thrown('s3://b12/k', options);
      expect(InvalidOptionError.isInstance(e), JSON.stringify(options)).toBe(true);
      expect((e as InvalidOptionError).option).toBe(Object.keys(options)[0]);
    }
  });

  it('compaction settings: out of range or on the object layout is an InvalidOptionError, a bad URI value an InvalidUriError', () => {
    for (const options of [
      { compactAfterSegments: 1 },
      { compactAfterSegments: 2.5 },
      { compactTargetBytes: 1000 },
      { compactTargetBytes: 6 * 1024 ** 3 },
      { compactGraceMs: -1 },
    ] satisfies S3StorageOptions[]) {
      const e = thrown('s3://b12/k', { layout: 'segments', ...options });
      expect(InvalidOptionError.isInstance(e), JSON.stringify(options)).toBe(true);
      expect((e as InvalidOptionError).option).toBe(Object.keys(options)[0]);
    }
    const objectLayout = thrown('s3://b12/k.jsonl', { compactAfterSegments: 100 });
    expect(InvalidOptionError.isInstance(objectLayout)).toBe(true);
    expect((objectLayout as Error).message).toContain('layout=segments');
    for (const bad of ['compactAfterSegments=0', 'compactTargetBytes=lots', 'compactGraceMs=-5']) {
      const e = thrown(`s3://b12/k?layout=segments&${bad}`);
      expect(InvalidUriError.isInstance(e), bad).toBe(true);
    }
    const r = resolve(
      's3://b12/k?layout=segments&compactAfterSegments=50&compactTargetBytes=1048576&compactGraceMs=0',
    );
    expect(r.compaction).toEqual({ afterSegments: 50, targetBytes: 1048576, graceMs: 0 });
    expect(resolve('s3://b12/k', { layout: 'segments' }).compaction).toEqual({
      afterSegments: undefined,
      targetBytes: 64 * 1024 * 1024,
      graceMs: 600_000,
    });
  });

  it('connection settings next to an injected client are an InvalidOptionError', () => {
    const client = new S3Client({ region: 'us-east-1' });
    for (const [uri, options] of [
      ['s3://b12/k?region=eu-west-1', {}],
      ['s3://b12/k', { clientConfig: {} }],
      ['s3://b12/k', { requestTimeoutMs: 1000 }],
    ] as const) {
      const e = thrown(uri, { client, ...options });
      expect(InvalidOptionError.isInstance(e)).toBe(true);
      expect((e as Error).message).toContain('cannot apply to a client you pass in');
    }
    client.destroy();
  });

  it('an object key ending in "/" is an InvalidUriError, a segments prefix may end in "/"', () => {
    expect(InvalidUriError.isInstance(thrown('s3://b12/dir/'))).toBe(true);
    expect(resolve('s3://b12/dir/', { layout: 'segments' }).key).toBe('dir');
  });
});
