import { InvalidOptionError, InvalidUriError } from './errors.js';
import { MAX_URI_LENGTH, queryStart, redactUri } from './redact.js';

/**
 * How one option is checked. `uri: true` lets the option also be given as a
 * URI query parameter of the same name (its text is parsed by the type's one
 * rule, the same for every backend).
 */
export type OptionSpec =
  | {
      /** `true`/`false` (URI: `true`, `false`, `1`, `0`). */
      type: 'boolean';
      uri?: boolean;
    }
  | {
      /** A finite number (URI: decimal notation). */
      type: 'number';
      uri?: boolean;
      /** Smallest allowed value. */
      min?: number;
      /** Largest allowed value. */
      max?: number;
      /** Only whole numbers. */
      integer?: boolean;
    }
  | {
      /** A non-empty string (URI: percent-decoded; `+` stays `+`). */
      type: 'string';
      uri?: boolean;
    }
  | {
      /** One of `values`. */
      type: 'enum';
      values: readonly string[];
      uri?: boolean;
    }
  | {
      /** Any object (a client, TLS options, SDK settings). Never from a URI. */
      type: 'object';
    }
  | {
      /** A function (a callback). Never from a URI. */
      type: 'function';
    };

/** The options a storage accepts, by name. */
export type OptionSchema = Readonly<Record<string, OptionSpec>>;

/**
 * The options every {@link BufferedStorage} accepts; spread them into a
 * backend's schema (`{ ...BUFFERED_OPTIONS, durability: … }`).
 */
export const BUFFERED_OPTIONS: OptionSchema = {
  maxBufferBytes: { type: 'number', min: 1 },
};

/** Optimal string alignment distance (a transposition counts as one edit). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  for (let i = 0; i < rows; i++) (d[i] as number[])[0] = i;
  for (let j = 0; j < cols; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i < rows; i++) {
    const row = d[i] as number[];
    const prev = d[i - 1] as number[];
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = v;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * The known name closest to `name` (case-insensitive match, or at most two
 * edits for names of 5+ characters, one for shorter), for "did you mean".
 */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  if (name.length > 64) return undefined;
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    if (k.toLowerCase() === lower) return k;
    const distance = editDistance(lower, k.toLowerCase());
    if (distance < bestDistance) {
      bestDistance = distance;
      best = k;
    }
  }
  const allowed = name.length >= 5 ? 2 : 1;
  return bestDistance <= allowed ? best : undefined;
}

function didYouMean(name: string, known: readonly string[]): string {
  const near = nearestName(name, known);
  return near ? ` Did you mean "${near}"?` : '';
}

function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return value === null ? 'null' : 'an object';
  return String(value);
}

function describeSpec(spec: OptionSpec): string {
  switch (spec.type) {
    case 'boolean':
      return 'true or false';
    case 'number': {
      const kind = spec.integer ? 'a whole number' : 'a number';
      if (spec.min !== undefined && spec.max !== undefined)
        return `${kind} from ${spec.min} to ${spec.max}`;
      if (spec.min !== undefined) return `${kind} of at least ${spec.min}`;
      if (spec.max !== undefined) return `${kind} of at most ${spec.max}`;
      return kind;
    }
    case 'string':
      return 'a non-empty string';
    case 'enum':
      return spec.values.map((v) => `"${v}"`).join(' or ');
    case 'object':
      return 'an object';
    case 'function':
      return 'a function';
  }
}

function validValue(spec: OptionSpec, value: unknown): boolean {
  switch (spec.type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'number':
      return (
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (!spec.integer || Number.isInteger(value)) &&
        (spec.min === undefined || value >= spec.min) &&
        (spec.max === undefined || value <= spec.max)
      );
    case 'string':
      return typeof value === 'string' && value !== '';
    case 'enum':
      return typeof value === 'string' && spec.values.includes(value);
    case 'object':
      return typeof value === 'object' && value !== null;
    case 'function':
      return typeof value === 'function';
  }
}

/** Parses a query parameter's text by its spec's one rule; `undefined` when it does not parse. */
function fromText(spec: OptionSpec, text: string): unknown {
  switch (spec.type) {
    case 'boolean':
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      return undefined;
    case 'number':
      return /^-?(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : undefined;
    default:
      return text;
  }
}

/**
 * Percent-decodes a URI component (RFC 3986: `+` stays a `+`).
 *
 * @throws {InvalidUriError} for malformed percent-encoding.
 */
export function decodeComponent(text: string, uri: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch (cause) {
    throw new InvalidUriError(
      `${what} in ${redactUri(uri)} is not valid percent-encoding: write a "%" as %25`,
      { uri, cause },
    );
  }
}

/**
 * Checks that `uri` is a string a checkpoint URI can be: non-empty, at most
 * {@link MAX_URI_LENGTH} characters.
 *
 * @throws {InvalidUriError} otherwise.
 */
export function checkUri(uri: unknown): asserts uri is string {
  if (typeof uri !== 'string' || uri.trim() === '') {
    throw new InvalidUriError(
      `A checkpoint URI must be a non-empty string, got ${typeof uri === 'string' ? '""' : typeof uri}`,
    );
  }
  if (uri.length > MAX_URI_LENGTH) {
    throw new InvalidUriError(
      `A checkpoint URI has at most ${MAX_URI_LENGTH} characters; this one has ${uri.length}. Pass long settings as options instead.`,
      { uri },
    );
  }
}

/**
 * Splits the query of `uri` (between the first `?` after any userinfo and
 * any `#`) into decoded name/value pairs, in order. Linear time.
 */
export function queryPairs(uri: string): Array<[string, string]> {
  const q = queryStart(uri);
  if (q === -1) return [];
  const hash = uri.indexOf('#', q);
  const query = hash === -1 ? uri.slice(q + 1) : uri.slice(q + 1, hash);
  if (query === '') return [];
  const out: Array<[string, string]> = [];
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(
      eq === -1 ? pair : pair.slice(0, eq),
      uri,
      'A query parameter name',
    );
    const value = eq === -1 ? '' : decodeComponent(pair.slice(eq + 1), uri, `The value of ${name}`);
    out.push([name, value]);
  }
  return out;
}

/** What {@link OptionsKit.parse} takes. */
export interface ParseOptionsInput {
  /** The storage's URI (for messages, redacted, and the cap on its length). */
  uri: string;
  /** The options object the caller passed (`undefined` for none). */
  options: unknown;
  /**
   * The URI's query parameters, decoded (see {@link queryPairs}). Parameters
   * the backend handles itself (such as Redis's `key`) are left out by the
   * caller or listed in `extraUriParams`.
   */
  query?: ReadonlyArray<readonly [string, string]>;
  /** Names of query parameters the backend reads itself, so they are not unknown. */
  extraUriParams?: readonly string[];
  /** The backend's name for messages (`'S3Storage'`). */
  backend: string;
}

/** A schema with its checker: the one way every backend validates options and query parameters. */
export interface OptionsKit<T> {
  /** The schema. */
  readonly schema: OptionSchema;
  /** Option names (for messages and the CLI). */
  readonly names: readonly string[];
  /** Names that may also be URI query parameters. */
  readonly uriNames: readonly string[];
  /**
   * Validates `options` and the URI's query against the schema and returns
   * the merged values (options and query agree or one is absent).
   *
   * @throws {InvalidOptionError} for an unknown option (with "did you mean"),
   *   a value of the wrong type, or an option that contradicts the URI.
   * @throws {InvalidUriError} for an unknown, repeated or unparsable query parameter.
   */
  parse(input: ParseOptionsInput): T;
}

/**
 * Declares the options of a backend, once, for the constructor, `fromUri` and
 * the CLI's `-o key=value`.
 *
 * @example
 * ```ts
 * const OPTIONS = defineOptions<GcsStorageOptions>({
 *   ...BUFFERED_OPTIONS,
 *   client: { type: 'object' },
 *   layout: { type: 'enum', values: ['object', 'segments'], uri: true },
 * });
 * const opts = OPTIONS.parse({ uri, options, query: queryPairs(uri), backend: 'GcsStorage' });
 * ```
 */
export function defineOptions<T>(schema: OptionSchema): OptionsKit<T> {
  const names = Object.keys(schema);
  const uriNames = names.filter((n) => {
    const spec = schema[n] as OptionSpec;
    return 'uri' in spec && spec.uri === true;
  });
  return {
    schema,
    names,
    uriNames,
    parse(input: ParseOptionsInput): T {
      const { uri, options, backend } = input;
      const safe = redactUri(uri);
      if (
        options !== undefined &&
        (typeof options !== 'object' || options === null || Array.isArray(options))
      ) {
        throw new InvalidOptionError(
          `The options of ${backend} must be an object, got ${describeValue(options)} (for ${safe})`,
          { uri },
        );
      }
      const out: Record<string, unknown> = {};
      const given = (options ?? {}) as Record<string, unknown>;
      for (const name of Object.keys(given)) {
        const value = given[name];
        if (value === undefined) continue;
        const spec = schema[name];
        if (spec === undefined) {
          throw new InvalidOptionError(
            `${backend} has no option "${name}".${didYouMean(name, names)} Its options are: ${names.join(', ')} (for ${safe}).`,
            { uri, option: name, known: names },
          );
        }
        if (!validValue(spec, value)) {
          throw new InvalidOptionError(
            `Option ${name} of ${backend} must be ${describeSpec(spec)}, got ${describeValue(value)} (for ${safe}).`,
            { uri, option: name },
          );
        }
        out[name] = value;
      }
      const seen = new Set<string>();
      const extra = input.extraUriParams ?? [];
      for (const [name, text] of input.query ?? []) {
        if (extra.includes(name)) continue;
        const spec = uriNames.includes(name) ? schema[name] : undefined;
        const allowed = [...extra, ...uriNames];
        if (spec === undefined) {
          throw new InvalidUriError(
            `Unknown query parameter "${name}" in ${safe}.${didYouMean(name, allowed)} ${backend} URIs accept: ${allowed.join(', ') || 'no parameters'}.`,
            { uri },
          );
        }
        if (seen.has(name)) {
          throw new InvalidUriError(
            `The query parameter ${name} is given twice in ${safe}: give it once.`,
            {
              uri,
            },
          );
        }
        seen.add(name);
        const value = fromText(spec, text);
        if (value === undefined || !validValue(spec, value)) {
          throw new InvalidUriError(
            `The query parameter ${name} in ${safe} must be ${describeSpec(spec)}, got ${describeValue(text)}.`,
            { uri },
          );
        }
        if (name in out && out[name] !== value) {
          throw new InvalidOptionError(
            `${name} is ${describeValue(value)} in the URI but ${describeValue(out[name])} in the options (for ${safe}): give it once.`,
            { uri, option: name },
          );
        }
        out[name] = value;
      }
      return out as T;
    },
  };
}
