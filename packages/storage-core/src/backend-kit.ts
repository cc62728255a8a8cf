import type { CheckpointStorageLike } from './checkpoint-storage.js';
import { StorageFactory, type StorageOptions } from './storage-factory.js';

/** What {@link registerBackend} needs to know about a backend package. */
export interface BackendRegistration<O = StorageOptions> {
  /**
   * The package name (`'@yoink/storage-s3'`, `'yoink-storage-gzfile'`). It
   * identifies the backend: a second copy of the same package registering the
   * same schemes is a no-op, while another backend claiming them fails loudly.
   */
  name: string;
  /** The URI schemes it serves, lower-case (`['redis', 'rediss']`). */
  schemes: readonly string[];
  /** Builds a storage: `new XStorage(uri, options)`. */
  create(uri: string, options?: O): CheckpointStorageLike;
}

/**
 * Registers a backend's schemes: the one side effect of a backend package's
 * entry file. Importing a second copy of the same package (two versions in one
 * `node_modules`, a CLI next to an application) does nothing; a different
 * backend on a taken scheme throws `SchemeAlreadyRegisteredError`.
 *
 * The package's `package.json` must also declare the schemes, so that
 * `fromUri` may import it by name: `"yoink": { "storage": { "schemes": ["gcs"] } }`,
 * and list the entry file in `sideEffects`.
 *
 * @example
 * ```ts
 * // src/index.ts of yoink-storage-gcs
 * registerBackend({
 *   name: 'yoink-storage-gcs',
 *   schemes: ['gcs'],
 *   create: (uri, options) => new GcsStorage(uri, options),
 * });
 * ```
 */
export function registerBackend<O>(backend: BackendRegistration<O>): void {
  for (const scheme of backend.schemes) {
    StorageFactory.register(scheme, (uri, options) => backend.create(uri, options as O), {
      backend: backend.name,
    });
  }
}
