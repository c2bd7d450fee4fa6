/**
 * A byte-level BPE trainer, written by hand: the npm `tokenizers` binding exposes no trainer options (no vocab
 * size), so it cannot train the 4096-token vocabulary we need. Standard BPE (Sennrich et al.; GPT-2's byte-level
 * variant): pre-tokenize with GPT-2's regex, count each distinct piece once (a word-frequency table), start from
 * the 256 byte symbols, and repeatedly merge the most frequent adjacent pair. Pair counts are kept incrementally
 * (only the words containing the merged pair are updated), and the best pair comes from a lazy max-heap, so a
 * merge costs time proportional to the words it touches, not to the corpus. Ties break by the pair's strings, so
 * training is deterministic.
 */
import { BYTE_TO_UNICODE, preTokenize, toByteChars } from './byte-level.js';

/** Options of {@link trainBpe}. */
export interface TrainBpeOptions {
  /** Final vocabulary size, special tokens included. */
  vocabSize: number;
  /** Special tokens, given the first ids in this order. */
  specialTokens: readonly string[];
  /** Pairs seen fewer times than this are never merged (default 2). */
  minFrequency?: number;
}

/** A trained byte-level BPE model: `vocab` (token → id) and `merges` in rank order. */
export interface BpeModel {
  vocab: Map<string, number>;
  merges: [string, string][];
}

interface HeapItem {
  count: number;
  a: number;
  b: number;
}

/** Trains byte-level BPE on `texts`. */
export function trainBpe(texts: Iterable<string>, opts: TrainBpeOptions): BpeModel {
  const minFrequency = opts.minFrequency ?? 2;
  // Word-frequency table over byte-level pieces.
  const freq = new Map<string, number>();
  for (const text of texts)
    for (const piece of preTokenize(text)) freq.set(piece, (freq.get(piece) ?? 0) + 1);

  const symbols: string[] = [...opts.specialTokens, ...BYTE_TO_UNICODE];
  const symbolId = new Map(symbols.map((s, i) => [s, i]));
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [piece, n] of freq) {
    words.push(toByteChars(piece).map((c) => symbolId.get(c)!));
    counts.push(n);
  }

  const pairKey = (a: number, b: number) => a * 65536 + b;
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPair = (a: number, b: number, w: number, n: number) => {
    const k = pairKey(a, b);
    pairCount.set(k, (pairCount.get(k) ?? 0) + n);
    if (n > 0) {
      let set = pairWords.get(k);
      if (!set) pairWords.set(k, (set = new Set()));
      set.add(w);
    }
  };
  words.forEach((word, w) => {
    for (let i = 0; i + 1 < word.length; i++) addPair(word[i]!, word[i + 1]!, w, counts[w]!);
  });

  const heap: HeapItem[] = [];
  const better = (x: HeapItem, y: HeapItem) => {
    if (x.count !== y.count) return x.count > y.count;
    const xa = symbols[x.a]!,
      ya = symbols[y.a]!;
    if (xa !== ya) return xa < ya;
    return symbols[x.b]! < symbols[y.b]!;
  };
  const push = (item: HeapItem) => {
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!better(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const pop = (): HeapItem | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        if (l < heap.length && better(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && better(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  };
  for (const [k, c] of pairCount) push({ count: c, a: Math.floor(k / 65536), b: k % 65536 });

  const merges: [string, string][] = [];
  while (symbols.length < opts.vocabSize) {
    const top = pop();
    if (!top) break;
    const k = pairKey(top.a, top.b);
    const current = pairCount.get(k) ?? 0;
    if (current !== top.count) continue; // stale heap entry
    if (current < minFrequency) break;
    const merged = symbols.length;
    symbols.push(symbols[top.a]! + symbols[top.b]!);
    merges.push([symbols[top.a]!, symbols[top.b]!]);
    const touched = new Set<number>();
    for (const w of pairWords.get(k) ?? []) {
      const word = words[w]!;
      const n = counts[w]!;
      for (let i = 0; i + 1 < word.length; i++) {
        addPair(word[i]!, word[i + 1]!, w, -n);
        touched.add(pairKey(word[i]!, word[i + 1]!));
      }
      const out: number[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i + 1 < word.length && word[i] === top.a && word[i + 1] === top.b) {
          out.push(merged);
          i++;
        } else out.push(word[i]!);
      }
      words[w] = out;
      for (let i = 0; i + 1 < out.length; i++) {
        addPair(out[i]!, out[i + 1]!, w, n);
        touched.add(pairKey(out[i]!, out[i + 1]!));
      }
    }
    pairCount.delete(k);
    pairWords.delete(k);
    touched.delete(k);
    for (const t of touched) push({ count: pairCount.get(t)!, a: Math.floor(t / 65536), b: t % 65536 });
  }
  return { vocab: new Map(symbols.map((s, i) => [s, i])), merges };
}
