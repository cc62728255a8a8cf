// Redaction of credentials in URIs and in text that may echo them.
//
// Everything here runs in linear time (character scans, no regular
// expression that can backtrack over the input), because URIs may come from
// untrusted input and every error message is redacted.

const MASK = '***';

/**
 * The longest URI a checkpoint can have (characters). Longer input is refused
 * by `StorageFactory.fromUri` and the backends with `InvalidUriError`, and
 * {@link redactUri} does not print it at all.
 */
export const MAX_URI_LENGTH = 8192;

/** Query parameter names whose value is a secret (`key` names a Redis key in our URIs, not a secret). */
function isSecretParam(name: string): boolean {
  const n = name.toLowerCase();
  if (n === 'key') return false;
  return (
    n.includes('pass') ||
    n.includes('secret') ||
    n.includes('token') ||
    n.includes('credential') ||
    n.includes('signature') ||
    n.endsWith('sig') ||
    n.includes('apikey') ||
    n.includes('api_key') ||
    n.includes('auth') ||
    n.includes('accesskey') ||
    n.includes('access_key') ||
    n.includes('connectionstring') ||
    n.includes('sas')
  );
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isSchemeChar(c: number): boolean {
  return isAlpha(c) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e;
}

/** Letters, digits, `.`, `-`, `_`, `:`, `[`, `]`, `%`: what a host[:port] (or an IPv6 literal) is made of. */
function isHostChar(c: number): boolean {
  return (
    isAlnum(c) ||
    c === 0x2e ||
    c === 0x2d ||
    c === 0x5f ||
    c === 0x3a ||
    c === 0x5b ||
    c === 0x5d ||
    c === 0x25
  );
}

function isAlnum(c: number): boolean {
  return isAlpha(c) || (c >= 0x30 && c <= 0x39);
}

/** Where the parts of a URI with an authority (`scheme://…`) are. */
interface UriParts {
  /** Index just after `scheme://`. */
  start: number;
  /** Index of the `@` that ends the userinfo, or -1. */
  at: number;
  /** Index of the first `:` inside the userinfo, or -1. */
  colon: number;
}

/** Length of `scheme://` at the start of `uri` (scheme of 2+ characters), or 0. */
function authorityStart(uri: string): number {
  if (uri.length < 4 || !isAlpha(uri.charCodeAt(0))) return 0;
  let i = 1;
  while (i < uri.length && isSchemeChar(uri.charCodeAt(i))) i++;
  // A single letter before ":" is a Windows drive, not a scheme.
  if (i < 2 || uri.charCodeAt(i) !== 0x3a) return 0;
  if (uri.charCodeAt(i + 1) !== 0x2f || uri.charCodeAt(i + 2) !== 0x2f) return 0;
  return i + 3;
}

/**
 * Finds the userinfo of `scheme://userinfo@host…`, also when the password
 * holds characters that should have been percent-encoded (`/`, `?`, `#`, `@`),
 * which end the authority early for a strict parser and would otherwise leak.
 *
 * The userinfo ends at the last `@` whose preceding text is plausible as
 * userinfo: it is not query-like (no `?` followed by `=`, as in
 * `redis://h:6379/0?key=a@b`), and a `/` may appear only after a `:` (the
 * password), never in the user name or in a lone token (so that
 * `s3://bucket/a@b.jsonl` keeps its key). One pass over the string.
 */
function findUserinfo(uri: string): UriParts | undefined {
  const start = authorityStart(uri);
  if (start === 0) return undefined;
  let at = -1;
  let colon = -1;
  let slashBeforeColon = false;
  let anySlash = false;
  let question = false;
  // After the first ":", digits up to the first "/", "?" or "#": a port, so
  // the text is host:port and a later "?…=" is a query.
  let portDigits = 0;
  let portEnded = false;
  // Characters of a host after the last plausible @, before any "/", "?" or "#":
  // an @ followed by no host cannot have ended the userinfo.
  let hostAfterAt = 0;
  let hostEnded = false;
  for (let i = start; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (colon !== -1 && !portEnded) {
      if (c >= 0x30 && c <= 0x39) portDigits++;
      else if (c === 0x2f || c === 0x3f || c === 0x23) portEnded = true;
      else portDigits = -1; // not a port: a password
      if (portDigits === -1) portEnded = true;
    }
    if (at !== -1 && !hostEnded) {
      if (c === 0x2f || c === 0x3f || c === 0x23) hostEnded = true;
      else if (hostAfterAt >= 0 && isHostChar(c)) hostAfterAt++;
      else hostAfterAt = -1; // not a host name: that @ did not end the userinfo
    }
    if (c === 0x40 /* @ */) {
      const plausible = colon === -1 ? !anySlash : !slashBeforeColon;
      if (plausible) {
        at = i;
        hostAfterAt = 0;
        hostEnded = false;
        // A "?" before this @ was inside the userinfo, not a query.
        question = false;
      }
    } else if (c === 0x3a /* : */) {
      if (colon === -1) colon = i;
    } else if (c === 0x2f /* / */) {
      anySlash = true;
      if (colon === -1) slashBeforeColon = true;
    } else if (c === 0x3f /* ? */) {
      question = true;
    } else if (
      c === 0x3d /* = */ &&
      question &&
      (colon === -1 || portDigits > 0 || (at !== -1 && hostAfterAt > 0))
    ) {
      // host[:port]…?name=, or a userinfo already ended by an @: a query from
      // here on, so no later @ ends a userinfo.
      break;
    }
  }
  if (at === -1) return undefined;
  return { start, at, colon: colon !== -1 && colon < at ? colon : -1 };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Masks secret query parameters, and userinfo inside parameter values (`endpoint=http://u:p@h`). */
function redactQuery(query: string): string {
  if (query === '') return query;
  const out: string[] = [];
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq === -1) {
      out.push(pair);
      continue;
    }
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (value !== '' && isSecretParam(safeDecode(name))) {
      out.push(`${name}=${MASK}`);
      continue;
    }
    // A URL inside the value (an endpoint, a SAS URL): its userinfo and its
    // own secret parameters are masked where they are written (raw), or,
    // when the value is percent-encoded as a whole, decoded, masked and
    // encoded again.
    if (authorityStart(value) > 0) {
      const inner = redactNested(value);
      if (inner !== value) {
        out.push(`${name}=${inner}`);
        continue;
      }
    }
    const decoded = safeDecode(value);
    if (decoded !== value && authorityStart(decoded) > 0) {
      const inner = redactNested(decoded);
      if (inner !== decoded) {
        out.push(`${name}=${encodeURIComponent(inner)}`);
        continue;
      }
    }
    out.push(pair);
  }
  return out.join('&');
}

/** A URL inside a parameter value: its userinfo and secret parameters, one level deep. */
function redactNested(url: string): string {
  const masked = redactAuthority(url);
  const parts = findUserinfo(masked);
  const q = masked.indexOf('?', parts ? parts.at + 1 : 0);
  if (q === -1) return masked;
  const hash = masked.indexOf('#', q);
  const query = hash === -1 ? masked.slice(q + 1) : masked.slice(q + 1, hash);
  const masks = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1 || eq === pair.length - 1) return pair;
      return isSecretParam(safeDecode(pair.slice(0, eq))) ? `${pair.slice(0, eq)}=${MASK}` : pair;
    })
    .join('&');
  return `${masked.slice(0, q + 1)}${masks}${hash === -1 ? '' : masked.slice(hash)}`;
}

/** Masks the userinfo only (no query handling): for nested URIs in parameters. */
function redactAuthority(uri: string): string {
  const parts = findUserinfo(uri);
  if (!parts) return uri;
  const { start, at, colon } = parts;
  const user = colon === -1 ? '' : `${uri.slice(start, colon)}:`;
  return `${uri.slice(0, start)}${user}${MASK}${uri.slice(at)}`;
}

/**
 * Returns `uri` with every credential replaced by `***`, so it can go into an
 * error message or a log line.
 *
 * - `scheme://user:password@host` keeps the user name and masks the password,
 *   also when the password holds unencoded `/`, `?`, `#` or `@`.
 * - `scheme://token@host` (userinfo without a colon) is masked whole, since a
 *   lone userinfo is often a token.
 * - Query parameters whose name looks secret (`password`, `secret`, `token`,
 *   `X-Amz-Signature`, `accessKeyId`, `sas`…) are masked, and so is userinfo
 *   inside a parameter's value (`?endpoint=http://user:pass@host`).
 * - A string longer than {@link MAX_URI_LENGTH} is not shown at all.
 *
 * Plain paths (`./crawl.jsonl`, `C:\crawl.jsonl`) come back unchanged. Works on
 * strings that are not valid URLs, too. Linear time.
 *
 * @example
 * ```ts
 * redactUri('redis://app:hunter2@cache:6379/0?key=crawl');
 * // 'redis://app:***@cache:6379/0?key=crawl'
 * ```
 */
export function redactUri(uri: string): string {
  if (typeof uri !== 'string') return String(uri);
  if (uri.length > MAX_URI_LENGTH) {
    const start = authorityStart(uri);
    return `${start > 0 ? uri.slice(0, start) : ''}… (a ${uri.length}-character URI, not shown)`;
  }
  const parts = findUserinfo(uri);
  let head: string;
  let rest: string;
  if (parts) {
    const { start, at, colon } = parts;
    const user = colon === -1 ? '' : `${uri.slice(start, colon)}:`;
    head = `${uri.slice(0, start)}${user}${MASK}@`;
    rest = uri.slice(at + 1);
  } else {
    head = '';
    rest = uri;
  }
  const q = rest.indexOf('?');
  if (q === -1) return head + rest;
  const hash = rest.indexOf('#', q);
  const query = hash === -1 ? rest.slice(q + 1) : rest.slice(q + 1, hash);
  const fragment = hash === -1 ? '' : rest.slice(hash);
  return `${head}${rest.slice(0, q + 1)}${redactQuery(query)}${fragment}`;
}

/** The secrets `uri` carries: its password or token, secret query values, userinfo in parameters. */
function secretsOf(uri: string, nested = false): string[] {
  const found = new Set<string>();
  const add = (s: string): void => {
    if (s === '') return;
    const decoded = safeDecode(s);
    found.add(s);
    found.add(decoded);
    found.add(encodeURIComponent(decoded));
    found.add(encodeURIComponent(s));
  };
  const parts = findUserinfo(uri);
  let rest = uri;
  if (parts) {
    add(uri.slice(parts.colon === -1 ? parts.start : parts.colon + 1, parts.at));
    rest = uri.slice(parts.at + 1);
  }
  const q = rest.indexOf('?');
  if (q !== -1) {
    const hash = rest.indexOf('#', q);
    const query = hash === -1 ? rest.slice(q + 1) : rest.slice(q + 1, hash);
    for (const pair of query.split('&')) {
      const eq = pair.indexOf('=');
      if (eq === -1) continue;
      const value = pair.slice(eq + 1);
      if (isSecretParam(safeDecode(pair.slice(0, eq)))) {
        add(value);
        continue;
      }
      // A URL inside the value: its own secrets, one level deep.
      if (nested) continue;
      for (const form of [value, safeDecode(value)]) {
        if (authorityStart(form) > 0) for (const secret of secretsOf(form, true)) add(secret);
      }
    }
  }
  found.delete('');
  // Longest first, so a secret that contains another is replaced whole.
  return [...found].sort((a, b) => b.length - a.length);
}

/**
 * Replaces `secret` in `text`. A short secret made only of letters and digits
 * (1–2 characters) is replaced only where it stands alone (not inside a word),
 * so that a password `ab` does not turn "unreachable" into "unre***le"; any
 * other secret is replaced wherever it appears.
 */
function replaceSecret(text: string, secret: string): string {
  if (secret.length >= 3 || !isAlnumString(secret)) return text.split(secret).join(MASK);
  let out = '';
  let from = 0;
  let i = text.indexOf(secret);
  while (i !== -1) {
    const before = i > 0 ? text.charCodeAt(i - 1) : 0x20;
    const after = i + secret.length < text.length ? text.charCodeAt(i + secret.length) : 0x20;
    if (!isAlnum(before) && !isAlnum(after)) {
      out += text.slice(from, i) + MASK;
      from = i + secret.length;
    }
    i = text.indexOf(secret, i + secret.length);
  }
  return out + text.slice(from);
}

function isAlnumString(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isAlnum(s.charCodeAt(i))) return false;
  return true;
}

/**
 * Removes the secrets found in `uri` (its password or token, secret query
 * values, userinfo inside parameters) from `text`: first every copy of the URI
 * itself (replaced by its redacted form), then every occurrence of each
 * secret, encoded or not, of any length. Used on messages of client
 * libraries, which sometimes echo the connection string. Linear in the sizes
 * of `text` and `uri`.
 */
export function scrubSecrets(text: string, uri: string | undefined): string {
  if (!uri || !text || typeof text !== 'string') return text;
  const redacted = redactUri(uri);
  const secrets = secretsOf(uri);
  // Copies of the URI become its redacted form, which is then left alone (a
  // short secret such as "0" must not mask the "/0" of a Redis URI).
  return text
    .split(uri)
    .map((piece) =>
      piece
        .split(redacted)
        .map((part) => {
          let out = part;
          for (const secret of secrets) if (out.includes(secret)) out = replaceSecret(out, secret);
          return out;
        })
        .join(redacted),
    )
    .join(redacted);
}

/**
 * Index of the `?` that starts the query of `uri`, or -1: the first `?` after
 * the userinfo (a password may hold an unencoded `?`). Linear time.
 */
export function queryStart(uri: string): number {
  const parts = findUserinfo(uri);
  return uri.indexOf('?', parts ? parts.at + 1 : 0);
}
