import { describe, expect, it } from 'vitest';
import { classifyLine, isTornLine, parseLine, previewLine } from './classify-line.js';

describe('classifyLine', () => {
  it.each([
    ['{"url":"a"}', 'record'],
    ['42', 'record'],
    ['"text"', 'record'],
    ['{"a":1}\r', 'record'],
    ['', 'blank'],
    ['   \t', 'blank'],
    ['{"url":"a', 'torn'],
    ['[1,2', 'torn'],
    ['\0', 'torn'],
    ['\0\0\0\0\0\0', 'torn'],
    ['{"url":"a\0\0\0', 'torn'],
    ['{"url":\0\0', 'torn'],
    ['{"a":1}garbage', 'invalid'],
    ['not json', 'invalid'],
    ['{"a":1}\0\0', 'invalid'],
    ['\0{"a":1}', 'invalid'],
    ['{"a":1}}', 'invalid'],
  ] as const)('classifies %j as %s', (line, kind) => {
    expect(classifyLine(line)).toBe(kind);
  });

  it('parses a record once and returns its value', () => {
    expect(parseLine('{"url":"a","n":[1,2]}')).toEqual({
      kind: 'record',
      value: { url: 'a', n: [1, 2] },
    });
  });

  it('treats only lines that do not parse as torn candidates', () => {
    expect(isTornLine('{"a":')).toBe(true);
    expect(isTornLine('oops')).toBe(false);
  });
});

describe('previewLine', () => {
  it('escapes NUL bytes and cuts long lines', () => {
    expect(previewLine('\0\0')).toBe('\\u0000\\u0000');
    expect(previewLine('x'.repeat(100), 10)).toBe(`${'x'.repeat(10)}…`);
  });
});
