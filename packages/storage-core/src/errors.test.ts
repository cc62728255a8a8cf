import { describe, expect, it } from 'vitest';
import {
  BackendLoadError,
  BackendNotInstalledError,
  ConcurrentWriterError,
  InvalidUriError,
  SchemeAlreadyRegisteredError,
  StorageClosedError,
  StorageError,
} from './errors.js';

const classes = [
  [StorageError, 'ERR_YOINK_STORAGE'],
  [InvalidUriError, 'ERR_YOINK_INVALID_URI'],
  [StorageClosedError, 'ERR_YOINK_STORAGE_CLOSED'],
  [ConcurrentWriterError, 'ERR_YOINK_CONCURRENT_WRITER'],
  [SchemeAlreadyRegisteredError, 'ERR_YOINK_SCHEME_REGISTERED'],
] as const;

describe('errors', () => {
  it('carry a stable code, a name, the redacted URI and the cause', () => {
    const cause = new Error('ECONNREFUSED');
    for (const [Cls, code] of classes) {
      const e = new Cls('failed for redis://u:pw1234@h', { uri: 'redis://u:pw1234@h', cause });
      expect(e.code).toBe(code);
      expect(Cls.code).toBe(code);
      expect(e.name).toBe(Cls.name);
      expect(e.uri).toBe('redis://u:***@h');
      expect(e.cause).toBe(cause);
      expect(e.message).not.toContain('pw1234');
      expect(e).toBeInstanceOf(Error);
      expect(e).toBeInstanceOf(StorageError);
    }
  });

  it('isInstance recognises the class and its ancestors only', () => {
    const e = new ConcurrentWriterError('x');
    expect(ConcurrentWriterError.isInstance(e)).toBe(true);
    expect(StorageError.isInstance(e)).toBe(true);
    expect(InvalidUriError.isInstance(e)).toBe(false);
    expect(StorageError.isInstance(new Error('x'))).toBe(false);
    expect(StorageError.isInstance(null)).toBe(false);
    expect(StorageError.isInstance('ERR_YOINK_STORAGE')).toBe(false);
  });

  it('isInstance works on a plain object marked by another copy of core', () => {
    // What an error from a second copy of core looks like to this copy.
    const foreign = new (class extends Error {})('x') as Error & Record<symbol, boolean>;
    foreign[Symbol.for('@yoink/storage-core:error:ERR_YOINK_CONCURRENT_WRITER')] = true;
    foreign[Symbol.for('@yoink/storage-core:error:ERR_YOINK_STORAGE')] = true;
    expect(ConcurrentWriterError.isInstance(foreign)).toBe(true);
    expect(StorageError.isInstance(foreign)).toBe(true);
  });

  it('backend errors carry the scheme, the packages and the package name', () => {
    const nf = new BackendNotInstalledError('no', {
      scheme: 'gcs',
      packages: ['@yoink/storage-gcs'],
    });
    expect(nf.code).toBe('ERR_YOINK_BACKEND_NOT_INSTALLED');
    expect(nf.scheme).toBe('gcs');
    expect(nf.packages).toEqual(['@yoink/storage-gcs']);
    const le = new BackendLoadError('broken', { packageName: 'yoink-storage-x' });
    expect(le.code).toBe('ERR_YOINK_BACKEND_LOAD');
    expect(le.packageName).toBe('yoink-storage-x');
  });
});
