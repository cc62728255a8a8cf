import type { CheckpointStorageLike } from './checkpoint-storage.js';
import {
  BackendLoadError,
  BackendNotInstalledError,
  describeCause,
  InvalidUriError,
  SchemeAlreadyRegisteredError,
  StorageError,
} from './errors.js';
import { MemoryStorage, type MemoryStorageOptions } from './memory-storage.js';
import { checkUri } from './options.js';
import { redactUri } from './redact.js';
import {
  candidatePackages,
  declaresScheme,
  type FoundPackage,
  findPackage,
  importPackage,
  OFFICIAL_PACKAGES,
  resolutionBases,
} from './resolve-backend.js';
import { isValidScheme, schemeOf } from './uri.js';

/** Options passed through `fromUri` to a backend whose options are not typed (a third-party scheme). */
export type StorageOptions = Record<string, unknown>;

/**
 * The options each scheme takes, by scheme: a backend package adds its own
 * by declaration merging, so that `StorageFactory.fromUri('s3://…', options)`
 * checks `options` against `S3StorageOptions` once `@yoink/storage-s3` is
 * imported (or only its types: `import type {} from '@yoink/storage-s3'`).
 *
 * @example
 * ```ts
 * declare module '@yoink/storage-core' {
 *   interface StorageSchemes {
 *     gcs: GcsStorageOptions;
 *   }
 * }
 * ```
 */
export interface StorageSchemes {
  memory: MemoryStorageOptions;
}

/**
 * The scheme `fromUri` routes a URI type to, lower-cased: `'s3'` for
 * `'S3://b/k'`; `'file'` for plain paths and Windows drives; `string` when the
 * URI is not a literal type.
 */
export type SchemeOf<U extends string> = string extends U
  ? string
  : U extends `${infer S}:${string}`
    ? S extends `${string}${'/' | '\\' | ' ' | '?' | '#'}${string}`
      ? 'file'
      : S extends `${infer _First}${infer Rest}`
        ? Rest extends ''
          ? 'file'
          : Lowercase<S>
        : 'file'
    : 'file';

/** The options type of scheme `S`: typed for schemes in {@link StorageSchemes}, loose otherwise. */
export type OptionsForScheme<S extends string> = S extends keyof StorageSchemes
  ? StorageSchemes[S]
  : StorageOptions;

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
  /**
   * The registering backend's identity, usually its package name. A second
   * registration of a scheme by the same backend (another copy of the same
   * package in one process) is a no-op instead of an error.
   */
  backend?: string;
}

/** Settings of {@link StorageFactory.configure}. */
export interface StorageFactoryConfig {
  /**
   * Import a backend package when `fromUri` meets a scheme nobody registered.
   * Default `true`. Turn it off in applications that take URIs from untrusted
   * input, and import the backends they allow explicitly
   * (`import '@yoink/storage-s3'`).
   */
  autoImport?: boolean;
  /**
   * A folder (path or `file:` URL) to resolve backend packages from before
   * the application's main module folder: for a library that calls `fromUri`
   * on behalf of its users (`import.meta.dirname`).
   */
  resolveFrom?: string | URL | undefined;
}

interface Registry {
  readonly version: 1;
  readonly factories: Map<string, StorageFactoryFunction>;
  readonly loading: Map<string, Promise<void>>;
  /** The backend identity of each registration that gave one. */
  backends?: Map<string, string>;
  config?: { autoImport: boolean; resolveFrom: string | undefined };
}

const REGISTRY_KEY = Symbol.for('@yoink/storage-core:registry');

function registry(): Registry & Required<Pick<Registry, 'backends' | 'config'>> {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  let r = g[REGISTRY_KEY];
  if (!r) {
    r = { version: 1, factories: new Map(), loading: new Map() };
    g[REGISTRY_KEY] = r;
  }
  // Added fields are created lazily, so a registry made by another copy of core works too.
  r.backends ??= new Map();
  r.config ??= { autoImport: true, resolveFrom: undefined };
  return r as Registry & Required<Pick<Registry, 'backends' | 'config'>>;
}

/** Built in to core, so they need no registration (core has no side effects). */
const BUILTINS: ReadonlyMap<string, StorageFactoryFunction> = new Map([
  ['memory', (uri: string, options?: StorageOptions) => new MemoryStorage(uri, options)],
]);

function installAdvice(scheme: string, official: string | undefined): string {
  const pkg = official ?? `yoink-storage-${scheme}`;
  const alternative = official ? '' : ', or another package that declares the scheme';
  // Deno keeps npm packages in its own cache, where they cannot be found by
  // name at run time (unless "nodeModulesDir" is set): add and import it.
  if (typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined') {
    return (
      `Add it (deno add npm:${pkg}${alternative}) and import it once in your application (import '${pkg}'): ` +
      "under Deno, packages in Deno's cache cannot be loaded by name, and a bundled application must import it explicitly too."
    );
  }
  return (
    `Install it (npm install ${pkg}${alternative}) ` +
    `and import it once in your application (import '${pkg}'): a bundled application must import it explicitly, ` +
    'since a bundle cannot load packages by name.'
  );
}

async function loadBackend(scheme: string, uri: string): Promise<void> {
  const r = registry();
  const official = OFFICIAL_PACKAGES[scheme];
  const known = StorageFactory.schemes();
  const registered = `Registered schemes: ${known.length ? known.join(', ') : '(none)'}.`;
  const names = candidatePackages(scheme);
  if (!r.config.autoImport) {
    throw new BackendNotInstalledError(
      `No storage backend is registered for "${scheme}:" URIs (${redactUri(uri)}), and auto-import is turned off ` +
        `(StorageFactory.configure({ autoImport: false })). Import the backend in your application first ` +
        `(import '${official ?? `yoink-storage-${scheme}`}'). ${registered}`,
      { uri, scheme, packages: names },
    );
  }
  const refused: FoundPackage[] = [];
  for (const name of names) {
    let found: FoundPackage | undefined;
    for (const base of resolutionBases(r.config.resolveFrom)) {
      found = findPackage(name, base);
      if (found) break;
    }
    if (!found) continue;
    // Only a package that says it is a backend for this scheme is imported: a
    // URI must not be able to make the application run any installed package.
    if (!declaresScheme(found.manifest, scheme)) {
      refused.push(found);
      continue;
    }
    try {
      await importPackage(found);
    } catch (e) {
      throw new BackendLoadError(
        `${name} is installed (${found.dir}) but failed to load: ${describeCause(e)}. Reinstall it, or check that its dependencies are installed.`,
        { uri, cause: e, packageName: name },
      );
    }
    if (!r.factories.has(scheme)) {
      throw new BackendLoadError(
        `${name} was loaded but did not register the "${scheme}:" scheme; is it a yoink storage backend of a compatible version?`,
        { uri, packageName: name },
      );
    }
    return;
  }
  const first = refused[0];
  if (first) {
    throw new BackendLoadError(
      `${first.name} is installed (${first.dir}) but was not imported: its package.json does not declare it a yoink storage backend ` +
        `for "${scheme}:" (it needs "yoink": { "storage": { "schemes": ["${scheme}"] } }). ` +
        `No other package provides "${scheme}:" URIs (${redactUri(uri)}). ${registered}`,
      { uri, packageName: first.name },
    );
  }
  throw new BackendNotInstalledError(
    `No storage backend is installed for "${scheme}:" URIs (${redactUri(uri)}). ${installAdvice(scheme, official)} ${registered}`,
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
   * this when imported (through `registerBackend`, which sets `backend`).
   *
   * @throws {SchemeAlreadyRegisteredError} when the scheme is taken by another
   *   backend and `override` is not set. The same `backend` registering again
   *   (two copies of one package) is a no-op.
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
    const r = registry();
    if (r.factories.has(s) && !options.override) {
      const holder = r.backends.get(s);
      if (options.backend !== undefined && holder === options.backend) return;
      throw new SchemeAlreadyRegisteredError(
        `The "${s}:" scheme is already registered${holder ? ` by ${holder}` : ''}` +
          `${options.backend ? `; ${options.backend} cannot take it` : ''}. Pass { override: true } to replace it.`,
      );
    }
    r.factories.set(s, factory);
    if (options.backend !== undefined) r.backends.set(s, options.backend);
    else r.backends.delete(s);
  }

  /** Removes the registration of `scheme`. Returns whether there was one. Built-ins stay. */
  static unregister(scheme: string): boolean {
    const s = String(scheme).toLowerCase().replace(/:$/, '');
    const r = registry();
    r.backends.delete(s);
    return r.factories.delete(s);
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
   * Changes how `fromUri` finds backends, for the whole process (every copy
   * of core). Only the settings given change.
   *
   * @example
   * ```ts
   * // URIs come from untrusted input: only the backends imported here may be used.
   * import '@yoink/storage-s3';
   * StorageFactory.configure({ autoImport: false });
   * ```
   */
  static configure(config: StorageFactoryConfig): void {
    const current = registry().config;
    if (config.autoImport !== undefined) {
      if (typeof config.autoImport !== 'boolean') {
        throw new TypeError('StorageFactory.configure: autoImport must be true or false');
      }
      current.autoImport = config.autoImport;
    }
    if ('resolveFrom' in config) {
      const from = config.resolveFrom;
      current.resolveFrom = from === undefined ? undefined : String(from);
    }
  }

  /**
   * Creates the storage for `uri`: `fromUri(uri, options)` is
   * `new XStorage(uri, options)` for the backend of the URI's scheme. Plain
   * paths and `file:` URLs go to the local backend.
   *
   * When no backend is registered for the scheme, it imports one (unless
   * `configure({ autoImport: false })`): for our schemes (`file`, `s3`,
   * `redis`, `rediss`, `azblob`) only our `@yoink/*` package; for others
   * `@yoink/storage-<scheme>` or `yoink-storage-<scheme>`; in every case only
   * a package whose package.json declares the scheme. Packages are resolved
   * from the application's main module folder (never the working folder when
   * there is a main module), then from core.
   *
   * `options` are typed per scheme once the backend's types are imported
   * (see {@link StorageSchemes}).
   *
   * @throws {InvalidUriError} for a URI the backend cannot use.
   * @throws {InvalidOptionError} for an unknown or invalid option.
   * @throws {BackendNotInstalledError} when no package for the scheme is installed (or auto-import is off).
   * @throws {BackendLoadError} when a package is installed but fails to load or does not declare the scheme.
   */
  static async fromUri<U extends string>(
    uri: U,
    options?: OptionsForScheme<SchemeOf<U>>,
  ): Promise<CheckpointStorageLike> {
    checkUri(uri);
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
          packageName: candidatePackages(scheme)[0] as string,
        });
      }
    }
    try {
      return await factory(uri, options as StorageOptions | undefined);
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
