/**
 * Mutual information I(T; E) in bits of a joint count table `counts[t][e]` (rows: tasks, columns: experts):
 * Σ p(t,e) log2(p(t,e) / (p(t) p(e))). 0 when the expert is independent of the task; at most
 * min(H(T), H(E)), i.e. log2(tasks) for equally sized tasks when each task has its own expert.
 */
export function mutualInformation(counts: readonly (readonly number[])[]): number {
  const total = counts.flat().reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new Error('mutual information of an empty count table');
  const cols = counts[0]?.length ?? 0;
  if (counts.some((row) => row.length !== cols)) throw new Error('count table rows differ in length');
  if (counts.flat().some((c) => !(c >= 0))) throw new Error('count table has a negative or non-number entry');
  const pt = counts.map((row) => row.reduce((a, b) => a + b, 0) / total);
  const pe = Array.from({ length: cols }, (_, e) => counts.reduce((a, row) => a + row[e]!, 0) / total);
  let mi = 0;
  counts.forEach((row, t) =>
    row.forEach((c, e) => {
      if (c > 0) mi += (c / total) * Math.log2(c / total / (pt[t]! * pe[e]!));
    }),
  );
  return Math.max(0, mi);
}

/** Entropy in bits of a count vector. */
export function entropy(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new Error('entropy of no counts');
  return -counts.reduce((h, c) => (c > 0 ? h + (c / total) * Math.log2(c / total) : h), 0);
}
