import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseNonNegativeInt, parsePositiveInt, parseStorageOption } from './storage-options.js';

describe('parseStorageOption', () => {
  it('accumulates key=value pairs and converts booleans and numbers', () => {
    let opts = parseStorageOption('durability=fsync', undefined);
    opts = parseStorageOption('lock=false', opts);
    opts = parseStorageOption('maxBufferBytes=1048576', opts);
    opts = parseStorageOption('note=a=b', opts);
    expect(opts).toEqual({
      durability: 'fsync',
      lock: false,
      maxBufferBytes: 1048576,
      note: 'a=b',
    });
  });

  it.each(['novalue', '=x', '1a=b', ''])('rejects %j as a usage error', (value) => {
    expect(() => parseStorageOption(value, {})).toThrow(InvalidArgumentError);
  });
});

describe('parsePositiveInt', () => {
  it('accepts positive integers only', () => {
    expect(parsePositiveInt('42')).toBe(42);
    for (const bad of ['0', '-1', '1.5', 'x', '']) {
      expect(() => parsePositiveInt(bad)).toThrow(InvalidArgumentError);
    }
  });
});

describe('parseNonNegativeInt', () => {
  it('accepts 0 and positive integers only', () => {
    expect(parseNonNegativeInt('0')).toBe(0);
    expect(parseNonNegativeInt('600000')).toBe(600_000);
    for (const bad of ['-1', '1.5', 'x', '', '1e3']) {
      expect(() => parseNonNegativeInt(bad)).toThrow(InvalidArgumentError);
    }
  });
});
