/**
 * Packs documents into fixed-length rows: `<s> doc </s> <s> doc </s> …` as one stream, cut every `seqLength`
 * tokens (the last partial row is dropped). Every position is a label: the model learns where documents end.
 */
export function packRows(
  docs: Iterable<number[]>,
  seqLength: number,
  bos: number,
  eos: number,
): Int32Array[] {
  const rows: Int32Array[] = [];
  let row = new Int32Array(seqLength);
  let fill = 0;
  const put = (id: number) => {
    row[fill++] = id;
    if (fill === seqLength) {
      rows.push(row);
      row = new Int32Array(seqLength);
      fill = 0;
    }
  };
  for (const doc of docs) {
    put(bos);
    for (const id of doc) put(id);
    put(eos);
  }
  return rows;
}

/** A `[rows.length, seqLength]` causal-LM batch of packed rows (mask all 1, labels = ids). */
export function packedBatch(rows: readonly Int32Array[]): {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  labels: BigInt64Array;
  batchSize: number;
  seqLength: number;
} {
  const seqLength = rows[0]!.length;
  const inputIds = new BigInt64Array(rows.length * seqLength);
  rows.forEach((r, i) => r.forEach((id, j) => (inputIds[i * seqLength + j] = BigInt(id))));
  return {
    inputIds,
    attentionMask: new BigInt64Array(inputIds.length).fill(1n),
    labels: inputIds.slice(),
    batchSize: rows.length,
    seqLength,
  };
}

/** Learning rate at `step` (0-based): linear warm-up to `peak`, then cosine decay to `peak * minRatio`. */
export function lrAt(step: number, total: number, peak: number, warmup: number, minRatio = 0.1): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const t = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return peak * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * t)));
}
