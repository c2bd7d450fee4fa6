import type { GraphProto } from 'onnx-buf';

/** Hands out names that clash with no node, value or initializer already in the graph. */
export class UniqueNames {
  private readonly used = new Set<string>();
  /** First suffix worth trying per base (every lower one is taken): keeps `take` linear over a whole graph. */
  private readonly next = new Map<string, number>();

  constructor(graph: GraphProto) {
    for (const t of graph.initializer) this.used.add(t.name);
    for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) this.used.add(v.name);
    for (const n of graph.node) {
      this.used.add(n.name);
      for (const v of [...n.input, ...n.output]) this.used.add(v);
    }
  }

  /** `base` itself when free, else `base_1`, `base_2`, …; the name is reserved. */
  take(base: string): string {
    let name = base;
    let i = this.next.get(base) ?? 1;
    while (this.used.has(name)) name = `${base}_${i++}`;
    this.next.set(base, i);
    this.used.add(name);
    return name;
  }

  /** Reserves `name` as it is (an explicit output name such as `grad.<param>`); returns it. */
  claim(name: string): string {
    this.used.add(name);
    return name;
  }

  has(name: string): boolean {
    return this.used.has(name);
  }
}
