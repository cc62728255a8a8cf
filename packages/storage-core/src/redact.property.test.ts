import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidUriError, StorageError } from './errors.js';
import { MemoryStorage } from './memory-storage.js';
import { redactUri, scrubSecrets } from './redact.js';

// Passwords as users really write them: special characters included, often
// not percent-encoded, 1 character and up.
const SPECIAL = [...'!$%&()*+,;=:@/?#[]~-._ \'"\\'];
const ALNUM = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'];
// Any length from 1. The properties check exact outputs: the password is
// masked where it stands and nothing else changes (a 1-2 character password of
// letters or digits is masked where it stands alone, not inside other words).
const password = fc
  .array(fc.constantFrom(...SPECIAL, ...ALNUM), { minLength: 1, maxLength: 24 })
  .map((cs) => cs.join(''))
  .filter((p) => p.trim() === p && p !== '');
const encoded = fc.boolean();

function uriFor(scheme: string, pw: string, encode: boolean): string {
  const pass = encode ? encodeURIComponent(pw) : pw;
  switch (scheme) {
    case 'redis':
      return `redis://app:${pass}@cache.internal:6379/0?key=crawl-1`;
    case 'rediss':
      return `rediss://:${pass}@cache.internal?key=a@b`;
    case 's3':
      return `s3://bucket/crawl.jsonl?endpoint=${encodeURIComponent(`http://minio:${pw}@minio:9000`)}`;
    case 's3-raw':
      return `s3://bucket/crawl.jsonl?region=x&endpoint=http://minio:${pass}@minio:9000`;
    default:
      return `${scheme}://user:${pass}@host/path?token=${encodeURIComponent(pw)}`;
  }
}

/** What redactUri must return for `uriFor(scheme, …)`: the URI with its secrets as ***. */
function expectedRedaction(scheme: string): string {
  switch (scheme) {
    case 'redis':
      return 'redis://app:***@cache.internal:6379/0?key=crawl-1';
    case 'rediss':
      return 'rediss://:***@cache.internal?key=a@b';
    case 's3':
      return `s3://bucket/crawl.jsonl?endpoint=${encodeURIComponent('http://minio:***@minio:9000')}`;
    case 's3-raw':
      return 's3://bucket/crawl.jsonl?region=x&endpoint=http://minio:***@minio:9000';
    default:
      return `${scheme}://user:***@host/path?token=***`;
  }
}

const SCHEMES = ['redis', 'rediss', 's3', 's3-raw', 'azblob', 'gcs'];

/**
 * Schemes and passwords that make a URI. Left out, because the URI itself is
 * ambiguous: inside a query value an unencoded "&" or "#" ends the value; and
 * an unencoded password that starts with digits and a "?" (`redis://u:12?a=b@h`)
 * reads as host `u`, port 12 and a query, exactly like `redis://h:6379?key=a@b`,
 * which must keep its key; likewise one holding an "@" followed by host-like
 * text and a "?…=" (`redis://u:p@h?a=b@host` reads as host `h` and a query).
 * Both are documented in docs/design.md: percent-encode such passwords.
 */
function ambiguous(pw: string): boolean {
  return /^\d+[?#/]/.test(pw) || /@[A-Za-z0-9._\-:[\]%]+[?#/].*=/.test(pw);
}

const cases = fc
  .tuple(fc.constantFrom(...SCHEMES), password, encoded)
  .filter(([scheme, pw, enc]) => enc || scheme !== 's3-raw' || !/[&#]/.test(pw))
  .filter(([scheme, pw, enc]) => (enc && !scheme.startsWith('s3')) || !ambiguous(pw));

describe('credentials never appear (property)', () => {
  it('redactUri masks exactly the secret of every scheme, encoded or not', () => {
    fc.assert(
      fc.property(cases, ([scheme, pw, enc]) => {
        expect(redactUri(uriFor(scheme, pw, enc))).toBe(expectedRedaction(scheme));
      }),
      { numRuns: 800 },
    );
  });

  it('errors built with the URI hide it in message, uri, JSON, inspect and the cause chain', () => {
    fc.assert(
      fc.property(cases, ([scheme, pw, enc]) => {
        const uri = uriFor(scheme, pw, enc);
        const safe = expectedRedaction(scheme);
        // A client library echoing the URI and the password in its own error.
        // (⟨⟩ delimit the parts: no password is made of them.)
        const cause = new TypeError(`⟨${uri}⟩⟨${pw}⟩`);
        (cause as { input?: string }).input = uri;
        const e = new InvalidUriError(`⟨${uri}⟩`, { uri, cause });
        expect(e.message).toBe(`⟨${safe}⟩`);
        expect(e.uri).toBe(safe);
        expect(JSON.stringify(e)).toBe(
          JSON.stringify({
            code: 'ERR_YOINK_INVALID_URI',
            uri: safe,
            retryable: false,
            name: 'InvalidUriError',
          }),
        );
        expect(cause.message).toBe(`⟨${safe}⟩⟨***⟩`);
        expect((cause as { input?: string }).input).toBe(safe);
        const printed = inspect(e, { depth: 10 });
        expect(printed).not.toContain(uri);
        expect(printed).not.toContain(`⟨${pw}⟩`);
        expect(StorageError.isInstance(e)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('scrubSecrets removes the password from any text that echoes it', () => {
    fc.assert(
      fc.property(cases, ([scheme, pw, enc]) => {
        const uri = uriFor(scheme, pw, enc);
        const text = `⟨${pw}⟩⟨${encodeURIComponent(pw)}⟩⟨${uri}⟩`;
        expect(scrubSecrets(text, uri)).toBe(`⟨***⟩⟨***⟩⟨${expectedRedaction(scheme)}⟩`);
      }),
      { numRuns: 400 },
    );
  });

  it('a storage shows only the redacted URI in uri, inspect, JSON and toString', () => {
    fc.assert(
      fc.property(password, encoded, (pw, enc) => {
        fc.pre(enc || !ambiguous(pw)); // ambiguous as host:port?query (see cases)
        const s = new MemoryStorage(`memory://user:${enc ? encodeURIComponent(pw) : pw}@store`);
        const safe = 'memory://user:***@store';
        expect(s.uri).toBe(safe);
        expect(inspect(s, { depth: 10 })).toBe(`MemoryStorage { uri: "${safe}", closed: false }`);
        expect(JSON.stringify(s)).toBe(JSON.stringify({ backend: 'MemoryStorage', uri: safe }));
        expect(String(s)).toBe(`MemoryStorage(${safe})`);
      }),
      { numRuns: 300 },
    );
  });
});
