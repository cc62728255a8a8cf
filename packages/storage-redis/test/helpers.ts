import { expect } from 'vitest';

/** The rejection of `p`; fails the test when `p` resolves. */
export async function failureOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

/** Polls `check` (every 5 ms) until it returns true; fails after `timeoutMs`. */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Asserts that `err` is an error with this `code`, and returns its message. */
export function expectCode(err: unknown, code: string): string {
  expect(err).toBeInstanceOf(Error);
  expect({ code: (err as { code?: unknown }).code, message: (err as Error).message }).toMatchObject(
    {
      code,
    },
  );
  return (err as Error).message;
}

/** `n` JSON lines `{"<tag>":i}`. */
export const jsonLines = (n: number, tag = 'l', from = 0): string[] =>
  Array.from({ length: n }, (_, i) => `{"${tag}":${from + i}}`);
