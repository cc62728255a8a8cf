import { fileURLToPath } from 'node:url';

/** The built package; child-process fixtures import it. */
export const DIST_INDEX: string = fileURLToPath(new URL('../dist/index.js', import.meta.url));

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
