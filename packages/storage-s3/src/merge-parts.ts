import { copyRanges } from './multipart-append.js';
import type { Piece } from './pieces.js';

/** A byte range of a piece, inclusive. */
export interface PieceRange {
  readonly piece: Piece;
  readonly start: number;
  readonly end: number;
}

/** One part of a merged object's multipart upload. */
export type MergePart =
  /** UploadPartCopy of one range of one piece: server-side, nothing travels. */
  | { readonly kind: 'copy'; readonly range: PieceRange; readonly bytes: number }
  /** UploadPart of ranges downloaded and joined. */
  | { readonly kind: 'upload'; readonly ranges: readonly PieceRange[]; readonly bytes: number };

/** Sizes that shape the parts. */
export interface PartSizes {
  /** S3's minimum size of every part but the last (5 MiB). */
  readonly minPartBytes: number;
  /** Size of a part built from downloaded bytes (at least `minPartBytes`). */
  readonly partBytes: number;
  /** Largest range one UploadPartCopy copies (at least twice `minPartBytes`). */
  readonly copyPartBytes: number;
  /** `false` when the server lacks UploadPartCopy: every byte is downloaded. */
  readonly canCopy: boolean;
}

/**
 * The parts of the merged object of `sources` (in order), so that every part
 * but the last has at least `minPartBytes`:
 *
 * - a source with `minPartBytes` or more left, met with nothing waiting, is
 *   copied server-side (in ranges of at most `copyPartBytes`, each at least
 *   `minPartBytes`);
 * - smaller sources are downloaded and joined into parts of `partBytes`; when
 *   bytes are waiting and a large source comes, its head fills the part up,
 *   and the rest of it is copied (or joined, if less than a part is left).
 */
export function planParts(sources: readonly Piece[], sizes: PartSizes): MergePart[] {
  const parts: MergePart[] = [];
  let ranges: PieceRange[] = [];
  let waiting = 0;
  const flush = (): void => {
    if (waiting === 0) return;
    parts.push({ kind: 'upload', ranges, bytes: waiting });
    ranges = [];
    waiting = 0;
  };
  for (const piece of sources) {
    let offset = 0;
    while (offset < piece.size) {
      const left = piece.size - offset;
      if (waiting === 0 && sizes.canCopy && left >= sizes.minPartBytes) {
        for (const [start, end] of copyRanges(left, sizes.copyPartBytes)) {
          parts.push({
            kind: 'copy',
            range: { piece, start: offset + start, end: offset + end },
            bytes: end - start + 1,
          });
        }
        offset = piece.size;
        continue;
      }
      const take = Math.min(left, sizes.partBytes - waiting);
      ranges.push({ piece, start: offset, end: offset + take - 1 });
      waiting += take;
      offset += take;
      if (waiting >= sizes.partBytes) flush();
    }
  }
  flush();
  return parts;
}
