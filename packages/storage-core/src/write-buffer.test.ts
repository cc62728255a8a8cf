import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WriteBuffer } from './write-buffer.js';

describe('WriteBuffer', () => {
  it('counts UTF-8 bytes exactly, whatever the characters', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme' })),
        fc.nat({ max: 200 }),
        (parts, limit) => {
          const b = new WriteBuffer();
          for (let i = 0; i < parts.length; i++) {
            b.push(parts[i] as string);
            const exact = Buffer.byteLength(parts.slice(0, i + 1).join(''));
            expect(b.atLeast(limit)).toBe(exact >= limit);
          }
          expect(b.bytes()).toBe(Buffer.byteLength(parts.join('')));
          expect(b.take()).toBe(parts.join(''));
          expect(b.bytes()).toBe(0);
        },
      ),
    );
  });

  it('puts data back at the front with its size', () => {
    const b = new WriteBuffer();
    b.push('later');
    b.unshift('€uro');
    b.unshift('\n', 1);
    expect(b.length).toBe(3);
    expect(b.bytes()).toBe(1 + 6 + 5);
    expect(b.take()).toBe('\n€urolater');
  });

  it('is not full while three bytes per character stay under the bound', () => {
    const b = new WriteBuffer();
    b.push('abc'); // 3 bytes, at most 9
    expect(b.atLeast(10)).toBe(false);
    expect(b.atLeast(3)).toBe(true);
    expect(b.atLeast(4)).toBe(false);
  });
});
