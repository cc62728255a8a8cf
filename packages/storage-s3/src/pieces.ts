/**
 * The objects of a segments checkpoint and how a reader chooses among them.
 *
 * Under `<key>/` a checkpoint holds *pieces*, each covering a range of
 * sequence numbers:
 *
 * - a segment `000000000042.jsonl` covers `[42, 42]` (one flush);
 * - a merged object `000000000000-000000000099.jsonl` covers `[0, 99]`: the
 *   exact bytes of the pieces it was built from, concatenated.
 *
 * With 12 zero-padded digits, `-` sorting before `.`, a listing returns the
 * pieces by their first sequence number and, for one first number, the
 * merged objects from the narrowest to the widest, then the segment. The
 * *chain* is what a reader reads: from the first piece, at each sequence
 * number the widest piece that starts there, then the piece that starts right
 * after it. A piece that starts inside the chain's last piece is skipped
 * whole (covered, or overlapping it: never mixed). A missing number is a gap.
 */

/** Digits of a sequence number in a piece's name: lexical order equals write order up to 10^12 flushes. */
const SEGMENT_DIGITS = 12;
/** The largest sequence number a segment can have. */
export const MAX_SEQ: number = 10 ** SEGMENT_DIGITS - 1;

const SEGMENT_NAME = /^(\d{12})\.jsonl$/;
const MERGED_NAME = /^(\d{12})-(\d{12})\.jsonl$/;

const pad = (seq: number): string => seq.toString().padStart(SEGMENT_DIGITS, '0');

/** The key of segment `seq` under `prefix` (which ends in `/`): `<prefix>000000000042.jsonl`. */
export function segmentKey(prefix: string, seq: number): string {
  return `${prefix}${pad(seq)}.jsonl`;
}

/** The key of the merged object of `[first, last]` under `prefix`: `<prefix>000000000000-000000000099.jsonl`. */
export function mergedKey(prefix: string, first: number, last: number): string {
  return `${prefix}${pad(first)}-${pad(last)}.jsonl`;
}

/** One object of a segments checkpoint: a segment, or a merged object. */
export interface Piece {
  readonly key: string;
  /** The first sequence number it covers. */
  readonly first: number;
  /** The last sequence number it covers (`first` for a segment). */
  readonly last: number;
  /** `true` for a merged object. */
  readonly merged: boolean;
  readonly size: number;
  /** The ETag the listing gave (quoted as S3 sends it). */
  readonly etag?: string | undefined;
  /** When the object was written, as the listing gave it. */
  readonly lastModified?: Date | undefined;
}

/** A listed object, as ListObjectsV2 returns it. */
export interface ListedObject {
  Key?: string | undefined;
  Size?: number | undefined;
  ETag?: string | undefined;
  LastModified?: Date | undefined;
}

/** The piece a listed object is, or `undefined` for any other name under `prefix`. */
export function pieceOf(prefix: string, o: ListedObject): Piece | undefined {
  const key = o.Key;
  if (key === undefined || !key.startsWith(prefix)) return undefined;
  const name = key.slice(prefix.length);
  const info = { key, size: o.Size ?? 0, etag: o.ETag, lastModified: o.LastModified };
  const s = SEGMENT_NAME.exec(name);
  if (s) {
    const seq = Number(s[1]);
    return { ...info, first: seq, last: seq, merged: false };
  }
  const m = MERGED_NAME.exec(name);
  if (m) {
    const first = Number(m[1]);
    const last = Number(m[2]);
    if (last > first) return { ...info, first, last, merged: true };
  }
  return undefined;
}

/** The chain has a hole: no piece starts at `expected`, the next one starts at `found.first`. */
export class ChainGap extends Error {
  readonly expected: number;
  readonly found: Piece;

  constructor(expected: number, found: Piece) {
    super(`no piece starts at sequence ${expected}; the next one is ${found.key}`);
    this.expected = expected;
    this.found = found;
  }
}

/**
 * Picks the chain out of pieces fed in listing order, one at a time, so a
 * reader can follow a listing page by page. {@link ChainWalker.push} returns
 * the chain piece it can decide on (the widest of the previous first number),
 * {@link ChainWalker.end} the last one.
 */
export class ChainWalker {
  #group: Piece | undefined;
  #expected: number | undefined;

  /**
   * @returns the next chain piece, or `undefined` when none is decided yet
   *   or the previous group was skipped.
   * @throws {ChainGap} when the previous group starts after the chain's next number.
   */
  push(piece: Piece): Piece | undefined {
    const group = this.#group;
    if (group !== undefined && piece.first === group.first) {
      if (piece.last > group.last) this.#group = piece;
      return undefined;
    }
    this.#group = piece;
    return group === undefined ? undefined : this.#decide(group);
  }

  /** Decides the last group. @throws {ChainGap} like {@link ChainWalker.push}. */
  end(): Piece | undefined {
    const group = this.#group;
    this.#group = undefined;
    return group === undefined ? undefined : this.#decide(group);
  }

  /** The first sequence number not covered yet (`undefined` before the first piece). */
  get expected(): number | undefined {
    return this.#expected;
  }

  #decide(group: Piece): Piece | undefined {
    const expected = this.#expected ?? group.first;
    if (group.first < expected) return undefined;
    if (group.first > expected) throw new ChainGap(expected, group);
    this.#expected = group.last + 1;
    return group;
  }
}

/** A listing split into the chain and everything else. */
export interface Chain {
  /** The pieces a reader reads, in order, contiguous. */
  readonly chain: readonly Piece[];
  /** Pieces not in the chain: covered by it (originals, narrower merges) or overlapping it. */
  readonly others: readonly Piece[];
}

/**
 * The chain of `pieces` (in listing order) and the rest.
 *
 * @throws {ChainGap} when the pieces leave a hole.
 */
export function chainOf(pieces: Iterable<Piece>): Chain {
  const walker = new ChainWalker();
  const all: Piece[] = [];
  const chain: Piece[] = [];
  for (const p of pieces) {
    all.push(p);
    const decided = walker.push(p);
    if (decided) chain.push(decided);
  }
  const last = walker.end();
  if (last) chain.push(last);
  const inChain = new Set(chain.map((p) => p.key));
  return { chain, others: all.filter((p) => !inChain.has(p.key)) };
}

/** Bytes of `pieces`. */
export function bytesOf(pieces: readonly Piece[]): number {
  let n = 0;
  for (const p of pieces) n += p.size;
  return n;
}

/**
 * Runs of chain pieces worth merging into one object each, for a target
 * size: consecutive pieces smaller than `targetBytes` are gathered until
 * their bytes reach it. A run that reaches the target is merged when it has
 * two pieces or more; a run cut short (by a piece of the target size or
 * more, or by the end) only when it holds two non-empty pieces or more, so a
 * compaction with nothing new to merge writes nothing. The chain's last piece
 * is never merged: it is the one a writer's open looks at, and the newest
 * segment may still be growing a run.
 */
export function planMerges(chain: readonly Piece[], targetBytes: number): Piece[][] {
  const runs: Piece[][] = [];
  let run: Piece[] = [];
  let runBytes = 0;
  const close = (reachedTarget: boolean): void => {
    const worth = reachedTarget ? run.length >= 2 : run.filter((p) => p.size > 0).length >= 2;
    if (worth) runs.push(run);
    run = [];
    runBytes = 0;
  };
  for (const piece of chain.slice(0, -1)) {
    if (piece.size >= targetBytes) {
      close(false);
      continue;
    }
    run.push(piece);
    runBytes += piece.size;
    if (runBytes >= targetBytes) close(true);
  }
  close(false);
  return runs;
}

/**
 * The pieces of `others` that may be deleted: those whose whole range is
 * covered by chain pieces all older than `graceMs` at `now` (a reader that
 * listed within the grace period already saw those chain pieces, so it does
 * not read the piece). Chain pieces are never deleted.
 */
export function deletable(
  chain: readonly Piece[],
  others: readonly Piece[],
  graceMs: number,
  now: number,
): Piece[] {
  const out: Piece[] = [];
  for (const p of others) {
    let i = firstOverlapping(chain, p.first);
    let covered = i < chain.length && (chain[i] as Piece).first <= p.first;
    let next = p.first;
    for (; covered && i < chain.length && next <= p.last; i++) {
      const q = chain[i] as Piece;
      const age = now - (q.lastModified?.getTime() ?? now);
      if (q.first > next || (graceMs > 0 && age < graceMs)) covered = false;
      next = q.last + 1;
    }
    if (covered && next > p.last) out.push(p);
  }
  return out;
}

/** Index of the first chain piece whose range ends at or after `seq` (binary search). */
function firstOverlapping(chain: readonly Piece[], seq: number): number {
  let lo = 0;
  let hi = chain.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((chain[mid] as Piece).last < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
