import { describe, expect, it } from 'vitest';
import { InvalidOptionError, InvalidUriError } from './errors.js';
import { MemoryStorage } from './memory-storage.js';
import { BUFFERED_OPTIONS, checkUri, defineOptions, nearestName, queryPairs } from './options.js';
import { MAX_URI_LENGTH } from './redact.js';

interface DemoOptions {
  maxBufferBytes?: number;
  durability?: 'none' | 'fsync';
  lock?: boolean;
  leaseMs?: number;
  region?: string;
  client?: object;
}

const KIT = defineOptions<DemoOptions>({
  ...BUFFERED_OPTIONS,
  durability: { type: 'enum', values: ['none', 'fsync'], uri: true },
  lock: { type: 'boolean', uri: true },
  leaseMs: { type: 'number', min: 1000, integer: true, uri: true },
  region: { type: 'string', uri: true },
  client: { type: 'object' },
});

function parse(uri: string, options?: unknown): DemoOptions {
  return KIT.parse({ uri, options, query: queryPairs(uri), backend: 'DemoStorage' });
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('defineOptions', () => {
  it('accepts known options and returns them merged with the URI query', () => {
    expect(parse('demo://x?lock=false&leaseMs=2000', { durability: 'fsync' })).toEqual({
      durability: 'fsync',
      lock: false,
      leaseMs: 2000,
    });
  });

  it('refuses an unknown option with InvalidOptionError, listing the known ones and the nearest', () => {
    for (const [typo, near] of [
      ['durabilty', 'durability'],
      ['leaseMS', 'leaseMs'],
      ['lok', 'lock'],
      ['clinet', 'client'],
    ] as const) {
      const e = errorOf(() => parse('demo://x', { [typo]: 1 }));
      expect(InvalidOptionError.isInstance(e), typo).toBe(true);
      expect(e.message).toContain(`no option "${typo}"`);
      expect(e.message).toContain(`Did you mean "${near}"?`);
      expect(e.message).toContain('maxBufferBytes, durability, lock, leaseMs, region, client');
    }
    expect(errorOf(() => parse('demo://x', { zzzzzzzz: 1 })).message).not.toContain('Did you mean');
  });

  it('checks types and ranges with InvalidOptionError', () => {
    for (const bad of [
      { durability: 'always' },
      { lock: 'yes' },
      { leaseMs: 10 },
      { leaseMs: 1500.5 },
      { maxBufferBytes: 0 },
      { region: '' },
      { client: 'not-an-object' },
    ]) {
      expect(
        InvalidOptionError.isInstance(errorOf(() => parse('demo://x', bad))),
        JSON.stringify(bad),
      ).toBe(true);
    }
    expect(InvalidOptionError.isInstance(errorOf(() => parse('demo://x', 42)))).toBe(true);
  });

  it('ignores options set to undefined', () => {
    expect(parse('demo://x', { lock: undefined })).toEqual({});
  });

  it('parses query parameters by one rule: booleans, numbers, enums, percent-decoding with + kept', () => {
    expect(parse('demo://x?lock=1&region=eu%2Dwest+1')).toEqual({
      lock: true,
      region: 'eu-west+1',
    });
    expect(parse('demo://x?lock=0')).toEqual({ lock: false });
    for (const bad of [
      'lock=yes',
      'lock=',
      'leaseMs=abc',
      'durability=sometimes',
      'region=%E0%A4%A',
    ]) {
      const e = errorOf(() => parse(`demo://x?${bad}`));
      expect(InvalidUriError.isInstance(e), bad).toBe(true);
    }
  });

  it('refuses an unknown or repeated query parameter with InvalidUriError', () => {
    const unknown = errorOf(() => parse('demo://x?durabilty=fsync'));
    expect(InvalidUriError.isInstance(unknown)).toBe(true);
    expect(unknown.message).toContain('Did you mean "durability"?');
    expect(unknown.message).toContain('accept: durability, lock, leaseMs, region');
    // client is an option but never a URI parameter.
    expect(InvalidUriError.isInstance(errorOf(() => parse('demo://x?client=x')))).toBe(true);
    expect(errorOf(() => parse('demo://x?lock=true&lock=false')).message).toContain('given twice');
  });

  it('refuses an option given in the URI and in options with different values', () => {
    const e = errorOf(() => parse('demo://x?lock=true', { lock: false }));
    expect(InvalidOptionError.isInstance(e)).toBe(true);
    expect(e.message).toContain('give it once');
    expect(parse('demo://x?lock=true', { lock: true })).toEqual({ lock: true });
  });

  it('lets a backend read parameters of its own (extraUriParams)', () => {
    const out = KIT.parse({
      uri: 'demo://x?key=abc&lock=true',
      options: {},
      query: queryPairs('demo://x?key=abc&lock=true'),
      extraUriParams: ['key'],
      backend: 'DemoStorage',
    });
    expect(out).toEqual({ lock: true });
  });

  it('never prints a password from the URI', () => {
    const e = errorOf(() => parse('demo://u:pa/ss@h?lokc=1'));
    expect(e.message).not.toContain('pa/ss');
    expect((e as InvalidUriError).uri).not.toContain('pa/ss');
  });
});

describe('nearestName', () => {
  it('finds case slips, one typo in short names and two in long ones', () => {
    expect(nearestName('LAYOUT', ['layout'])).toBe('layout');
    expect(nearestName('layuot', ['layout', 'lock'])).toBe('layout');
    expect(nearestName('lck', ['lock'])).toBe('lock');
    expect(nearestName('xyz', ['lock'])).toBeUndefined();
  });
});

describe('checkUri', () => {
  it('refuses empty, non-string and over-long URIs', () => {
    for (const bad of ['', '  ', 42, undefined, `memory://${'x'.repeat(MAX_URI_LENGTH)}`]) {
      expect(InvalidUriError.isInstance(errorOf(() => checkUri(bad)))).toBe(true);
    }
  });
});

describe('MemoryStorage options', () => {
  it('uses the kit: unknown options and query parameters are refused', () => {
    expect(
      InvalidOptionError.isInstance(
        errorOf(() => new MemoryStorage('memory://m', { maxBufferByte: 1 } as never)),
      ),
    ).toBe(true);
    expect(InvalidUriError.isInstance(errorOf(() => new MemoryStorage('memory://m?x=1')))).toBe(
      true,
    );
    expect(new MemoryStorage('memory://m', { maxBufferBytes: 10 }).name).toBe('m');
  });
});
