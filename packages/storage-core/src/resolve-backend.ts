import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Our own packages, by scheme. These schemes never load any other package. */
export const OFFICIAL_PACKAGES: Readonly<Record<string, string>> = {
  file: '@yoink/storage-local',
  s3: '@yoink/storage-s3',
  redis: '@yoink/storage-redis',
  rediss: '@yoink/storage-redis',
  azblob: '@yoink/storage-azure',
};

/**
 * The packages that may provide `scheme`, in the order they are tried: for an
 * official scheme only its `@yoink/*` package (never an unscoped name anyone
 * could publish); for any other scheme `@yoink/storage-<scheme>` (a scope only
 * we publish to) and then the third-party convention `yoink-storage-<scheme>`.
 * Each is imported only if its package.json declares the scheme (see
 * {@link declaresScheme}).
 */
export function candidatePackages(scheme: string): string[] {
  const s = scheme.toLowerCase();
  const official = OFFICIAL_PACKAGES[s];
  return official ? [official] : [`@yoink/storage-${s}`, `yoink-storage-${s}`];
}

/** What a backend package's package.json says about itself. */
export interface BackendManifest {
  name?: string;
  exports?: unknown;
  module?: string;
  main?: string;
  yoink?: { storage?: { schemes?: unknown } };
}

/**
 * `true` when the package declares itself a yoink storage backend for
 * `scheme`: `"yoink": { "storage": { "schemes": ["<scheme>", …] } }`.
 */
export function declaresScheme(manifest: BackendManifest, scheme: string): boolean {
  const schemes = manifest.yoink?.storage?.schemes;
  return (
    Array.isArray(schemes) &&
    schemes.some((s) => typeof s === 'string' && s.toLowerCase() === scheme)
  );
}

/** A candidate package as found from one base. */
export interface FoundPackage {
  name: string;
  /** The package folder. */
  dir: string;
  manifest: BackendManifest;
  /** The file `import()` loads. */
  entry: string;
}

function realFile(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Where backends are resolved from, in order:
 *
 * 1. the folder given to `StorageFactory.configure({ resolveFrom })`, if any;
 * 2. the application's own folder: the folder of its main module (the real
 *    path of `process.argv[1]`, so a CLI started through a `.bin` link resolves
 *    from its own installation) — or, only when there is no main module (a
 *    REPL, `node -e`), the working folder;
 * 3. core's own folder.
 *
 * The working folder is never used when there is a main module: starting an
 * application inside an untrusted folder must not run that folder's code.
 */
export function resolutionBases(resolveFrom: string | undefined): string[] {
  const bases: string[] = [];
  if (resolveFrom) {
    const path = resolveFrom.startsWith('file:') ? fileURLToPath(resolveFrom) : resolveFrom;
    bases.push(join(path, '__yoink_resolve__.js'));
  }
  const main = process.argv[1];
  if (main && existsSync(main)) {
    bases.push(join(dirname(realFile(main)), '__yoink_resolve__.js'));
  } else {
    bases.push(join(process.cwd(), '__yoink_resolve__.js'));
  }
  bases.push(import.meta.url);
  return bases;
}

function entryOf(manifest: BackendManifest): string | undefined {
  let target: unknown = manifest.exports;
  if (typeof target === 'string') return target;
  if (target && typeof target === 'object' && !Array.isArray(target) && '.' in target) {
    target = (target as Record<string, unknown>)['.'];
  }
  for (let depth = 0; depth < 5 && target && typeof target === 'object'; depth++) {
    const t = target as Record<string, unknown>;
    target = t.import ?? t.node ?? t.default ?? t.require;
  }
  if (typeof target === 'string') return target;
  return manifest.module ?? manifest.main ?? 'index.js';
}

/**
 * Finds `name` from `base` the way Node would (the first `node_modules`
 * holding it, walking up from `base`), without loading any of its code.
 */
export function findPackage(name: string, base: string): FoundPackage | undefined {
  const req = createRequire(base);
  for (const dir of req.resolve.paths(name) ?? []) {
    const pkgDir = join(dir, name);
    let manifest: BackendManifest;
    try {
      manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as BackendManifest;
    } catch {
      continue;
    }
    let entry = join(pkgDir, entryOf(manifest) ?? 'index.js');
    try {
      const resolved = req.resolve(name);
      // Node walks the same folders, so this is the same package; check anyway.
      if (realFile(resolved).startsWith(realFile(pkgDir))) entry = resolved;
    } catch {
      // An ESM-only package whose exports have only "import": use entryOf().
    }
    return { name, dir: pkgDir, manifest, entry };
  }
  return undefined;
}

/** Imports a package's entry file. */
export async function importPackage(found: FoundPackage): Promise<void> {
  await import(pathToFileURL(found.entry).href);
}
