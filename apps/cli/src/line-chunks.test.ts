import { splitLines } from '@yoink/storage-core';
import { describe, expect, it } from 'vitest';
import { lineChunks } from './line-chunks.js';

async function rebuild(
  text: string,
  chunkChars?: number,
): Promise<{ text: string; lines: number }> {
  let out = '';
  let lines = 0;
  for await (const chunk of lineChunks(splitLines([text]), chunkChars)) {
    out += chunk.text;
    lines += chunk.lines;
    expect(chunk.bytes).toBe(Buffer.byteLength(chunk.text));
  }
  return { text: out, lines };
}

describe('lineChunks', () => {
  it.each([
    ['', 0],
    ['a\n', 1],
    ['a\nb\n', 2],
    ['a\n\n', 2],
    ['\n', 1],
    ['{"a":1}\n{"b":', 2],
    ['{"a":1}\n\0\0', 2],
    ['{"a":1}\n{"b":\0\0\n{"c":3}\n', 3],
  ])('reproduces %j exactly', async (text, lines) => {
    expect(await rebuild(text)).toEqual({ text, lines });
  });

  it('adds the newline a complete last record lost (read() cannot tell)', async () => {
    expect((await rebuild('{"a":1}\n{"b":2}')).text).toBe('{"a":1}\n{"b":2}\n');
  });

  it('batches lines into chunks of about the given size', async () => {
    const text = 'x'.repeat(9).concat('\n').repeat(100);
    const chunks = [];
    for await (const c of lineChunks(splitLines([text]), 100)) chunks.push(c);
    expect(chunks).toHaveLength(10);
    expect(chunks.map((c) => c.text).join('')).toBe(text);
  });
});
