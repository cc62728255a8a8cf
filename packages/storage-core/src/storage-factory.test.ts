import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckpointStorageLike } from './checkpoint-storage.js';
import {
  BackendNotInstalledError,
  InvalidUriError,
  SchemeAlreadyRegisteredError,
  StorageError,
} from './errors.js';
import { MemoryStorage } from './memory-storage.js';
import { packagesForScheme, StorageFactory } from './storage-factory.js';

const registered: string[] = [];
function register(
  scheme: string,
  factory: (uri: string) => CheckpointStorageLike,
  override = false,
): void {
  StorageFactory.register(scheme, factory, { override });
  registered.push(scheme);
}
afterEach(() => {
  for (const s of registered.splice(0)) StorageFactory.unregister(s);
});

const fake = (uri: string): CheckpointStorageLike =>
  new MemoryStorage(`memory://${uri.replace(/\W/g, '-')}`);

describe('StorageFactory', () => {
  it('creates a registered backend from its URI, case-insensitively', async () => {
    register('unit-a', fake);
    expect(StorageFactory.schemes()).toContain('unit-a');
    expect(StorageFactory.has('UNIT-A')).toBe(true);
    const s = await StorageFactory.fromUri('UNIT-A://x');
    expect(s).toBeInstanceOf(MemoryStorage);
  });

  it('passes the URI and options to the factory', async () => {
    const seen: unknown[] = [];
    StorageFactory.register('unit-opts', (uri, options) => {
      seen.push(uri, options);
      return fake(uri);
    });
    registered.push('unit-opts');
    await StorageFactory.fromUri('unit-opts://x', { depth: 2 });
    expect(seen).toEqual(['unit-opts://x', { depth: 2 }]);
  });

  it('serves memory:// without any registration', async () => {
    expect(StorageFactory.schemes()).toContain('memory');
    const s = await StorageFactory.fromUri('memory://factory-test');
    expect(s).toBeInstanceOf(MemoryStorage);
  });

  it('refuses a second registration of a scheme', () => {
    register('unit-b', fake);
    expect(() => StorageFactory.register('unit-b', fake)).toThrow(SchemeAlreadyRegisteredError);
    expect(() => StorageFactory.register('UNIT-B', fake)).toThrow(/already registered.*override/);
  });

  it('replaces a registration with { override: true }', async () => {
    register('unit-c', () => {
      throw new InvalidUriError('first');
    });
    register('unit-c', fake, true);
    await expect(StorageFactory.fromUri('unit-c://x')).resolves.toBeInstanceOf(MemoryStorage);
  });

  it('unregister removes a scheme and reports whether it was there', () => {
    register('unit-d', fake);
    expect(StorageFactory.unregister('unit-d')).toBe(true);
    expect(StorageFactory.unregister('unit-d')).toBe(false);
    expect(StorageFactory.schemes()).not.toContain('unit-d');
  });

  it('rejects invalid scheme names, including single letters (Windows drives)', () => {
    for (const bad of ['c', '1abc', 'a b', '', 'ü']) {
      expect(() => StorageFactory.register(bad, fake), bad).toThrow(InvalidUriError);
    }
  });

  it('names the package and the install command when no backend is installed', async () => {
    const e = await StorageFactory.fromUri('nopezz://bucket/x').catch((x: unknown) => x);
    expect(BackendNotInstalledError.isInstance(e)).toBe(true);
    const err = e as BackendNotInstalledError;
    expect(err.code).toBe('ERR_YOINK_BACKEND_NOT_INSTALLED');
    expect(err.scheme).toBe('nopezz');
    expect(err.packages).toEqual(['@yoink/storage-nopezz', 'yoink-storage-nopezz']);
    expect(err.message).toContain('npm install @yoink/storage-nopezz');
    expect(err.message).toContain('yoink-storage-nopezz');
    expect(err.message).toMatch(/Registered schemes: .*memory/);
  });

  it('lists the schemes that are registered in the not-installed error', async () => {
    register('unit-listed', fake);
    const e = (await StorageFactory.fromUri('nopezz://x').catch((x: unknown) => x)) as Error;
    expect(e.message).toContain('unit-listed');
  });

  it('maps our schemes to our package names', () => {
    expect(packagesForScheme('file')[0]).toBe('@yoink/storage-local');
    expect(packagesForScheme('s3')[0]).toBe('@yoink/storage-s3');
    expect(packagesForScheme('redis')[0]).toBe('@yoink/storage-redis');
    expect(packagesForScheme('rediss')[0]).toBe('@yoink/storage-redis');
    expect(packagesForScheme('GCS')).toEqual(['@yoink/storage-gcs', 'yoink-storage-gcs']);
  });

  it('wraps a factory that throws a plain error in InvalidUriError', async () => {
    register('unit-throws', () => {
      throw new TypeError('bad bucket');
    });
    const e = await StorageFactory.fromUri('unit-throws://x').catch((x: unknown) => x);
    expect(InvalidUriError.isInstance(e)).toBe(true);
    expect((e as Error).message).toContain('bad bucket');
    expect((e as Error).cause).toBeInstanceOf(TypeError);
  });

  it('never puts credentials in an error message or its uri', async () => {
    const secret = 'hunter2secret';
    register('unit-leaky', (uri) => {
      throw new TypeError(`cannot connect to ${uri}`);
    });
    const uris = [
      `nopezz://user:${secret}@host/x`,
      `unit-leaky://user:${secret}@host/x`,
      `nopezz://host/x?password=${secret}`,
      `nopezz://${secret}@host/x`,
    ];
    for (const uri of uris) {
      const e = (await StorageFactory.fromUri(uri).catch((x: unknown) => x)) as StorageError;
      expect(StorageError.isInstance(e), uri).toBe(true);
      expect(e.message, uri).not.toContain(secret);
      expect(e.uri ?? '', uri).not.toContain(secret);
      expect(String(e.stack), uri).not.toContain(secret);
      expect(JSON.stringify({ ...e, message: e.message }), uri).not.toContain(secret);
      // What console.error(e) prints, the cause chain included.
      expect(inspect(e, { depth: 5 }), uri).not.toContain(secret);
    }
  });

  it('rejects an empty URI with InvalidUriError', async () => {
    await expect(StorageFactory.fromUri('')).rejects.toBeInstanceOf(InvalidUriError);
  });
});
