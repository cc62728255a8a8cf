import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { registerBackend } from './backend-kit.js';
import type { CheckpointStorageLike } from './checkpoint-storage.js';
import {
  BackendNotInstalledError,
  InvalidUriError,
  SchemeAlreadyRegisteredError,
  StorageError,
} from './errors.js';
import { MemoryStorage } from './memory-storage.js';
import { MAX_URI_LENGTH } from './redact.js';
import { candidatePackages } from './resolve-backend.js';
import { StorageFactory } from './storage-factory.js';

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
    await StorageFactory.fromUri('unit-opts://x' as string, { depth: 2 });
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

  it('a second copy of the same backend registering again is a no-op; another backend still fails', () => {
    const first = (uri: string) => fake(uri);
    registerBackend({
      name: 'yoink-storage-unit-e',
      schemes: ['unit-e', 'unit-e2'],
      create: first,
    });
    registered.push('unit-e', 'unit-e2');
    // The same package, loaded twice (another copy in node_modules): no throw.
    registerBackend({ name: 'yoink-storage-unit-e', schemes: ['unit-e', 'unit-e2'], create: fake });
    const e = (() => {
      try {
        registerBackend({ name: 'yoink-storage-other', schemes: ['unit-e'], create: fake });
      } catch (x) {
        return x;
      }
    })();
    expect(SchemeAlreadyRegisteredError.isInstance(e)).toBe(true);
    expect((e as Error).message).toContain('by yoink-storage-unit-e');
    expect((e as Error).message).toContain('yoink-storage-other cannot take it');
    // A plain register() without a backend identity on a taken scheme fails too.
    expect(() => StorageFactory.register('unit-e', fake)).toThrow(SchemeAlreadyRegisteredError);
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
    expect(err.message).toContain('npm install yoink-storage-nopezz');
    expect(err.message).toContain("import 'yoink-storage-nopezz'");
    expect(err.message).toContain('bundled application must import it explicitly');
    expect(err.message).toMatch(/Registered schemes: .*memory/);
  });

  it('under Deno, says to add the package with deno add and import it', async () => {
    const g = globalThis as { Deno?: unknown };
    g.Deno = { version: { deno: '2.9.0' } };
    try {
      const e = (await StorageFactory.fromUri('nopezz://bucket/key').catch(
        (x: unknown) => x,
      )) as Error;
      expect(BackendNotInstalledError.isInstance(e)).toBe(true);
      expect(e.message).toContain('deno add npm:yoink-storage-nopezz');
      expect(e.message).toContain(
        "import it once in your application (import 'yoink-storage-nopezz')",
      );
    } finally {
      delete g.Deno;
    }
  });

  it('lists the schemes that are registered in the not-installed error', async () => {
    register('unit-listed', fake);
    const e = (await StorageFactory.fromUri('nopezz://x').catch((x: unknown) => x)) as Error;
    expect(e.message).toContain('unit-listed');
  });

  it('maps our schemes to our packages only, never to an unscoped name', () => {
    expect(candidatePackages('file')).toEqual(['@yoink/storage-local']);
    expect(candidatePackages('s3')).toEqual(['@yoink/storage-s3']);
    expect(candidatePackages('redis')).toEqual(['@yoink/storage-redis']);
    expect(candidatePackages('rediss')).toEqual(['@yoink/storage-redis']);
    expect(candidatePackages('azblob')).toEqual(['@yoink/storage-azure']);
    expect(candidatePackages('GCS')).toEqual(['@yoink/storage-gcs', 'yoink-storage-gcs']);
  });

  it('refuses a URI longer than MAX_URI_LENGTH before doing anything with it', async () => {
    const uri = `memory://${'x'.repeat(MAX_URI_LENGTH)}`;
    const e = await StorageFactory.fromUri(uri).catch((x: unknown) => x);
    expect(InvalidUriError.isInstance(e)).toBe(true);
    expect((e as Error).message).toContain(`at most ${MAX_URI_LENGTH} characters`);
    expect((e as Error).message).not.toContain('xxxx');
  });

  it('with auto-import turned off, says so and what to import', async () => {
    StorageFactory.configure({ autoImport: false });
    try {
      const e = (await StorageFactory.fromUri('nopezz://bucket/key').catch(
        (x: unknown) => x,
      )) as Error;
      expect(BackendNotInstalledError.isInstance(e)).toBe(true);
      expect(e.message).toContain('auto-import is turned off');
      expect(e.message).toContain("import 'yoink-storage-nopezz'");
      // Registered schemes keep working.
      await expect(StorageFactory.fromUri('memory://still-fine')).resolves.toBeInstanceOf(
        MemoryStorage,
      );
    } finally {
      StorageFactory.configure({ autoImport: true });
    }
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
