import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTruncatedJsonPrefix } from './json-prefix.js';

function isCompleteJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

// Control characters are invalid everywhere in JSON text: raw inside a string,
// and outside one (except the whitespace \t \n \r, which are left out here).
const invalidChar = fc.constantFrom('\u0000', '\u0001', '\u0007', '\u000b', '\u001f');

describe('isTruncatedJsonPrefix', () => {
  it.each([
    '{',
    '{"',
    '{"url',
    '{"url"',
    '{"url":',
    '{"url":"https://exa',
    '{"a":1,',
    '{"a":[1,2',
    '[',
    '[1,',
    '[{"a":{"b":[',
    '"abc',
    '"a\\',
    '"\\u00',
    '-',
    '1.',
    '1e',
    '1e+',
    '[1.5e',
    'tru',
    'f',
    'nul',
    '{"a":tr',
    '  {"a" : 1 ,',
    '{"a":1}'.slice(0, 6),
  ])('recognises %j as truncated', (text) => {
    expect(isTruncatedJsonPrefix(text)).toBe(true);
  });

  it.each(['{"a":1}', '[]', '{}', '"abc"', '12', '-0.5e+3', 'true', 'null', ' {"a":1} '])(
    'says complete JSON %j is not truncated',
    (text) => {
      expect(isTruncatedJsonPrefix(text)).toBe(false);
    },
  );

  it.each([
    '',
    '   ',
    '{"a":1}x',
    '{"a":1}}',
    '{a',
    "{'a':1",
    '[1,]',
    '{"a":1,}',
    '[1 2',
    '01',
    '-a',
    '1.e',
    '+1',
    '.5',
    'trux',
    '{"a"1',
    '"\\x',
    '"\\u12g',
    '"a\u0001',
    '[1]]',
    '{"a":1]',
    '\u0000\u0000',
    'hello world',
  ])('rejects %j, which no JSON text starts with', (text) => {
    expect(isTruncatedJsonPrefix(text)).toBe(false);
  });

  it('recognises every proper non-empty prefix of a serialised object or array', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })),
          fc.array(fc.jsonValue({ maxDepth: 3 })),
        ),
        (value) => {
          const text = JSON.stringify(value);
          for (let i = 1; i < text.length; i++) {
            expect(isTruncatedJsonPrefix(text.slice(0, i))).toBe(true);
          }
          expect(isTruncatedJsonPrefix(text)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('recognises every proper prefix of any JSON value unless the prefix is itself complete', () => {
    // Only a top-level number has proper prefixes that are complete ("12" of "123").
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        for (let i = 1; i < text.length; i++) {
          const prefix = text.slice(0, i);
          expect(isTruncatedJsonPrefix(prefix)).toBe(!isCompleteJson(prefix));
        }
        expect(isTruncatedJsonPrefix(text)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects text with an invalid character in the middle, truncated or not', () => {
    fc.assert(
      fc.property(fc.jsonValue(), invalidChar, fc.nat(), fc.nat(), (value, bad, at, cut) => {
        const text = JSON.stringify(value);
        const pos = 1 + (at % Math.max(1, text.length));
        const damaged = text.slice(0, pos) + bad + text.slice(pos);
        expect(isTruncatedJsonPrefix(damaged)).toBe(false);
        const end = pos + 1 + (cut % (damaged.length - pos));
        expect(isTruncatedJsonPrefix(damaged.slice(0, end))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with JSON.parse on which complete texts are valid', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 12, unit: fc.constantFrom(...'{}[]",:01e.-tn \\ua') }),
        (text) => {
          if (isCompleteJson(text)) expect(isTruncatedJsonPrefix(text)).toBe(false);
          // A truncated prefix can never parse.
          if (isTruncatedJsonPrefix(text)) expect(isCompleteJson(text)).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
