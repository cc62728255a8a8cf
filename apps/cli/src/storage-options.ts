import { InvalidArgumentError } from 'commander';

/** Options passed to `StorageFactory.fromUri`, from repeated `--option key=value`. */
export type CliStorageOptions = Record<string, string | number | boolean>;

function parseValue(raw: string): string | number | boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(raw) && Number.isFinite(Number(raw))) return Number(raw);
  return raw;
}

/**
 * Commander argument parser for `-o, --option <key=value>`: adds one entry to
 * the options object. `true`/`false` become booleans and decimal numbers
 * become numbers; anything else stays a string.
 *
 * @throws {InvalidArgumentError} (a usage error) when the value is not `key=value`.
 *
 * @example
 * ```ts
 * parseStorageOption('durability=fsync', {}); // { durability: 'fsync' }
 * ```
 */
export function parseStorageOption(
  value: string,
  previous: CliStorageOptions | undefined,
): CliStorageOptions {
  const eq = value.indexOf('=');
  const key = eq === -1 ? '' : value.slice(0, eq).trim();
  if (!/^[A-Za-z_][\w.-]*$/.test(key)) {
    throw new InvalidArgumentError(`expected key=value, got "${value}"`);
  }
  return { ...previous, [key]: parseValue(value.slice(eq + 1)) };
}

/** Commander argument parser for a positive integer option. */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  }
  return n;
}

/** Commander argument parser for a non-negative integer option (0 allowed). */
export function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`expected an integer of 0 or more, got "${value}"`);
  }
  return n;
}
