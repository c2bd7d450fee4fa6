import { fromByteChars, preTokenize, toByteChars } from './byte-level.js';
import type { BpeModel } from './train-bpe.js';

/**
 * Our own byte-level BPE encoder for a {@link BpeModel}: GPT-2 pieces, then the lowest-rank merge first until
 * none applies — what tokenizers' (and transformers.js') BPE model does. Special tokens are not parsed from the
 * text. Used to pack the pretraining corpus (fast, cached per piece) and to check transformers.js' ids.
 */
export class BpeEncoder {
  private readonly ranks = new Map<string, number>();
  private readonly idToToken: string[] = [];
  private readonly cache = new Map<string, number[]>();

  constructor(readonly model: BpeModel) {
    model.merges.forEach(([a, b], r) => this.ranks.set(`${a} ${b}`, r));
    for (const [t, id] of model.vocab) this.idToToken[id] = t;
  }

  /** Token ids of `text` (no special tokens added). */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const piece of preTokenize(text)) ids.push(...this.encodePiece(piece));
    return ids;
  }

  /** Text of `ids` (special tokens skipped when `skipSpecial`). */
  decode(ids: readonly number[], skipSpecial = true, specialIds: ReadonlySet<number> = new Set()): string {
    const tokens = ids
      .filter((id) => !(skipSpecial && specialIds.has(id)))
      .map((id) => this.idToToken[id] ?? '');
    return fromByteChars(tokens);
  }

  private encodePiece(piece: string): number[] {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    let parts = toByteChars(piece);
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = this.ranks.get(`${parts[i]} ${parts[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      // Merge every occurrence of the best pair, left to right (what tokenizers' BPE does).
      const [a, b] = [parts[best]!, parts[best + 1]!];
      const out: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i + 1 < parts.length && parts[i] === a && parts[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(parts[i]!);
      }
      parts = out;
    }
    const ids = parts.map((p) => this.model.vocab.get(p)!);
    if (this.cache.size < 1_000_000) this.cache.set(piece, ids);
    return ids;
  }
}
