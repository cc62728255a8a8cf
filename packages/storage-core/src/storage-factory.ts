import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CheckpointStorageLike } from './checkpoint-storage.js';
import {
  BackendLoadError,
  BackendNotInstalledError,
  describeCause,
  InvalidUriError,
  SchemeAlreadyRegisteredError,
  StorageError,
} from './errors.js';
import { MemoryStorage } from './memory-storage.js';
import { redactUri } from './redact.js';
import { isValidScheme, schemeOf } from './uri.js';

/** Options passed through `fromUri` to a backend's factory (each backend documents its own). */
export type StorageOptions = Record<string, unknown>;

/**
 * Builds a storage for a URI. Registered per scheme with
 * {@link StorageFactory.register}. It should throw {@link InvalidUriError}
 * for a URI it cannot use.
 */
export type StorageFactoryFunction = (
  uri: string,
  options?: StorageOptions,
) => CheckpointStorageLike | Promise<CheckpointStorageLike>;

/** Options of {@link StorageFactory.register}. */
export interface RegisterOptions {
  /** Replace an existing registration instead of throwing. */
  override?: boolean;
}

interface Registry {
  readonly version: 1;
  readonly factories: Map<string, StorageFactoryFunction>;
  readonly loading: Map<string, Promise<void>>;
}

const REGISTRY_KEY = Symbol.for('@yoink/storage-core:registry');

function registry(): Registry {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  let r = g[REGISTRY_KEY];
  if (!r) {
    r = { version: 1, factories: new Map(), loading: new Map() };
    g[REGISTRY_KEY] = r;
  }
  return r;
}

/** Built in to core, so they need no registration (core has no side effects). */
const BUILTINS: ReadonlyMap<string, StorageFactoryFunction> = new Map([
  ['memory', (uri: string, options?: StorageOptions) => new MemoryStorage(uri, options)],
]);

/** Our own packages, by scheme. Any other scheme `x` maps to `@yoink/storage-x`. */
const OFFICIAL: Readonly<Record<string, string>> = {
  file: '@yoink/storage-local',
  s3: '@yoink/storage-s3',
  redis: '@yoink/storage-redis',
  rediss: '@yoink/storage-redis',
};

/**
 * The packages that could provide `scheme`, in the order `fromUri` tries them:
 * our package, then the third-party convention `yoink-storage-<scheme>`.
 */
export function packagesForScheme(scheme: string): string[] {
  const s = scheme.toLowerCase();
  const official = OFFICIAL[s] ?? `@yoink/storage-${s}`;
  return [official, `yoink-storage-${s}`];
}

/** Where `fromUri` looks for a backend package: the application first, then core. */
function resolutionBases(): string[] {
  const bases = [join(process.cwd(), '__yoink_resolve__.js')];
  const main = process.argv[1];
  if (main) bases.push(join(dirname(main), '__yoink_resolve__.js'));
  bases.push(import.meta.url);
  return bases;
}

interface Found {
  path: string;
  base: string;
}

/**
 * Finds `name` from `base` the way Node would, plus the case require.resolve
 * cannot handle: an ESM-only package whose exports have only `import`.
 */
function resolveFrom(name: string, base: string): Found | undefined {
  const req = createRequire(base);
  try {
    return { path: req.resolve(name), base };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') return undefined;
  }
  for (const dir of req.resolve.paths(name) ?? []) {
    const pkgDir = join(dir, name);
    let pkg: { exports?: unknown; module?: string; main?: string };
    try {
      pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    const entry = importEntry(pkg);
    if (entry) return { path: join(pkgDir, entry), base };
  }
  return undefined;
}

function importEntry(pkg: {
  exports?: unknown;
  module?: string;
  main?: string;
}): string | undefined {
  let target: unknown = pkg.exports;
  if (target && typeof target === 'object' && !Array.isArray(target) && '.' in target) {
    target = (target as Record<string, unknown>)['.'];
  }
  for (let depth = 0; depth < 5 && target && typeof target === 'object'; depth++) {
    const t = target as Record<string, unknown>;
    target = t.import ?? t.node ?? t.default;
  }
  if (typeof target === 'string') return target;
  return pkg.module ?? pkg.main;
}

async function loadBackend(scheme: string, uri: string): Promise<void> {
  const names = packagesForScheme(scheme);
  for (const name of names) {
    let found: Found | undefined;
    for (const base of resolutionBases()) {
      found = resolveFrom(name, base);
      if (found) break;
    }
    if (!found) continue;
    try {
      await import(pathToFileURL(found.path).href);
    } catch (e) {
      throw new BackendLoadError(
        `${name} is installed (${found.path}) but failed to load: ${describeCause(e)}. Reinstall it, or check that its dependencies are installed.`,
        { uri, cause: e, packageName: name },
      );
    }
    if (!registry().factories.has(scheme)) {
      throw new BackendLoadError(
        `${name} was loaded but did not register the "${scheme}:" scheme; is it a yoink storage backend of a compatible version?`,
        { uri, packageName: name },
      );
    }
    return;
  }
  const known = StorageFactory.schemes();
  const [official, thirdParty] = names as [string, string];
  throw new BackendNotInstalledError(
    `No storage backend is installed for "${scheme}:" URIs (${redactUri(uri)}). ` +
      `Install it with: npm install ${official}` +
      (OFFICIAL[scheme] ? '' : ` (or a third-party ${thirdParty})`) +
      `. Registered schemes: ${known.length ? known.join(', ') : '(none)'}.`,
    { uri, scheme, packages: names },
  );
}

/**
 * The registry of backends and the URI factory. Static, and shared by every
 * copy of `@yoink/storage-core` in the process (it lives on `globalThis`).
 *
 * @example
 * ```ts
 * const storage = await StorageFactory.fromUri('s3://my-bucket/crawls/site-a.jsonl');
 * StorageFactory.register('gcs', (uri, options) => new GcsStorage(uri, options));
 * ```
 */
export class StorageFactory {
  private constructor() {}

  /**
   * Registers `factory` for `scheme` (case-insensitive, two or more
   * characters: single letters are Windows drives). Backend packages call
   * this when imported.
   *
   * @throws {SchemeAlreadyRegisteredError} when the scheme is taken and `override` is not set.
   * @throws {InvalidUriError} when `scheme` is not a valid scheme name.
   */
  static register(
    scheme: string,
    factory: StorageFactoryFunction,
    options: RegisterOptions = {},
  ): void {
    const s = String(scheme).toLowerCase().replace(/:$/, '');
    if (!isValidScheme(s)) {
      throw new InvalidUriError(
        `"${scheme}" is not a valid URI scheme: use a letter followed by letters, digits, "+", "-" or ".", at least two characters`,
      );
    }
    if (typeof factory !== 'function') {
      throw new TypeError(`StorageFactory.register("${s}") needs a factory function`);
    }
    const factories = registry().factories;
    if (factories.has(s) && !options.override) {
      throw new SchemeAlreadyRegisteredError(
        `The "${s}:" scheme is already registered; pass { override: true } to replace it`,
      );
    }
    factories.set(s, factory);
  }

  /** Removes the registration of `scheme`. Returns whether there was one. Built-ins stay. */
  static unregister(scheme: string): boolean {
    return registry().factories.delete(String(scheme).toLowerCase().replace(/:$/, ''));
  }

  /** The schemes that `fromUri` can serve right now without importing anything, sorted. */
  static schemes(): string[] {
    return [...new Set([...BUILTINS.keys(), ...registry().factories.keys()])].sort();
  }

  /** `true` when `scheme` is registered or built in. */
  static has(scheme: string): boolean {
    const s = scheme.toLowerCase();
    return registry().factories.has(s) || BUILTINS.has(s);
  }

  /**
   * Creates the storage for `uri`. Plain paths and `file:` URLs go to the
   * local backend. When no backend is registered for the scheme, it imports
   * `@yoink/storage-<scheme>` and then `yoink-storage-<scheme>`, resolving
   * from the working folder, the main module's folder and core itself.
   *
   * @throws {InvalidUriError} for a URI the backend cannot use.
   * @throws {BackendNotInstalledError} when no package for the scheme is installed.
   * @throws {BackendLoadError} when the package is installed but fails to load.
   */
  static async fromUri(uri: string, options?: StorageOptions): Promise<CheckpointStorageLike> {
    const scheme = schemeOf(uri);
    let factory = registry().factories.get(scheme) ?? BUILTINS.get(scheme);
    if (!factory) {
      const r = registry();
      let loading = r.loading.get(scheme);
      if (!loading) {
        loading = loadBackend(scheme, uri);
        r.loading.set(scheme, loading);
        // Forget the attempt either way: a later install, or a later register(), should be seen.
        loading.then(
          () => r.loading.delete(scheme),
          () => r.loading.delete(scheme),
        );
      }
      await loading;
      factory = r.factories.get(scheme);
      if (!factory) {
        throw new BackendLoadError(`The "${scheme}:" backend was unregistered while loading`, {
          uri,
          packageName: packagesForScheme(scheme)[0] as string,
        });
      }
    }
    try {
      return await factory(uri, options);
    } catch (e) {
      if (StorageError.isInstance(e)) throw e;
      throw new InvalidUriError(
        `Cannot create a storage for ${redactUri(uri)}: ${describeCause(e)}`,
        {
          uri,
          cause: e,
        },
      );
    }
  }
}
