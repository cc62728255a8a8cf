import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

/** Options of {@link describeRegistration}. */
export interface RegistrationOptions {
  /** The backend package's folder (its built `dist/index.js` is imported). */
  packageDir: string;
  /** A URI of the backend's scheme that can be constructed without I/O. */
  uri: string;
  /** The scheme that URI routes to. */
  scheme: string;
  /** The storage class name `fromUri(uri)` must build. */
  storageClass: string;
  /** Extra environment variables for the child process (credentials a constructor needs). */
  env?: Record<string, string>;
}

// Run in a child process: two module instances of the built entry (distinct
// URLs), as two copies of the package in node_modules would be.
const SCRIPT = `
const [entry, uri, scheme] = process.argv.slice(1);
const { StorageFactory, registerBackend, MemoryStorage } = await import('@yoink/storage-core');
const out = {};
await import(entry + '?copy=1');
try { await import(entry + '?copy=2'); out.secondImport = 'ok'; } catch (e) { out.secondImport = e.code ?? String(e); }
out.routed = (await StorageFactory.fromUri(uri)).constructor.name;
try {
  registerBackend({ name: 'yoink-storage-impostor', schemes: [scheme], create: () => new MemoryStorage('memory://x') });
  out.otherBackend = 'accepted';
} catch (e) { out.otherBackend = e.code; }
console.log(JSON.stringify(out));
`;

/**
 * Registers a vitest test that imports two copies of the built backend in one
 * process: the second import must not throw, the scheme must still route to
 * the backend, and a different backend claiming the scheme must fail with
 * `SchemeAlreadyRegisteredError`. (A CLI and an application depending on two
 * patch versions of a backend load two copies.) Build the package first.
 *
 * @example
 * ```ts
 * describeRegistration({ packageDir, uri: 'gzfile:///tmp/a.gz', scheme: 'gzfile', storageClass: 'GzipFileStorage' });
 * ```
 */
export function describeRegistration(options: RegistrationOptions): void {
  it(`importing two copies of the package registers "${options.scheme}:" once, and another backend cannot take it`, {
    timeout: 60_000,
  }, async () => {
    const entry = pathToFileURL(join(options.packageDir, 'dist', 'index.js')).href;
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', SCRIPT, entry, options.uri, options.scheme],
      { cwd: options.packageDir, env: { ...process.env, ...options.env } },
    );
    expect(JSON.parse(stdout)).toEqual({
      secondImport: 'ok',
      routed: options.storageClass,
      otherBackend: 'ERR_YOINK_SCHEME_REGISTERED',
    });
  });
}
