import { decodeModel, type NodeProto } from '@mor/onnx';
import { describe, expect, it } from 'vitest';
import { inReadyOrder, readyOrder } from '../../src/train/ready-order.js';
import { tinyLlamaBytes } from './helpers.js';

const node = (name: string, input: string[], output: string[], subgraph = false) =>
  ({
    name,
    input,
    output,
    attribute: subgraph ? [{ name: 'then_branch', g: {}, graphs: [] }] : [],
  }) as unknown as NodeProto;

/** Every input a node of `nodes` produces comes from an earlier node. */
function topological(nodes: readonly NodeProto[]): boolean {
  const made = new Set<string>();
  const all = new Set(nodes.flatMap((n) => n.output));
  for (const n of nodes) {
    if (n.input.some((x) => all.has(x) && !made.has(x))) return false;
    for (const o of n.output) made.add(o);
  }
  return true;
}

describe('readyOrder', () => {
  it('places each node right after its inputs are produced, first ready first', () => {
    // `late` needs only the graph input x but sits at the end of the file, as the backward's transposes of
    // forward activations do.
    const nodes = [
      node('a', ['x'], ['a']),
      node('b', ['a'], ['b']),
      node('c', ['b', 't'], ['c']),
      node('late', ['x'], ['t']),
    ];
    expect(readyOrder(nodes)?.map((n) => n.name)).toEqual(['a', 'late', 'b', 'c']);
  });

  it('keeps the order of a graph with subgraphs or a cycle', () => {
    expect(readyOrder([node('if', ['x'], ['y'], true)])).toBeNull();
    expect(readyOrder([node('p', ['q'], ['p']), node('q', ['p'], ['q'])])).toBeNull();
  });

  it('orders a real graph topologically, every node once', async () => {
    const nodes = (await decodeModel(tinyLlamaBytes())).graph!.node;
    // Move the first node that reads only graph inputs / initializers to the end: still valid, and put back early.
    const produced = new Set(nodes.flatMap((n) => n.output));
    const i = nodes.findIndex((n, k) => k > 0 && n.input.every((x) => !produced.has(x)));
    expect(i).toBeGreaterThan(0);
    const shuffled = [...nodes.slice(0, i), ...nodes.slice(i + 1), nodes[i]!];
    const ordered = readyOrder(shuffled)!;
    expect(new Set(ordered)).toEqual(new Set(nodes));
    expect(ordered).toHaveLength(nodes.length);
    expect(topological(ordered)).toBe(true);
    expect(ordered.indexOf(nodes[i]!)).toBeLessThan(shuffled.length - 1);
  });
});

describe('inReadyOrder', () => {
  it('encodes with the nodes in ready order and puts the original order back, also on a throw', async () => {
    const model = await decodeModel(tinyLlamaBytes());
    const original = [...model.graph!.node];
    const seen = inReadyOrder(model, () => [...model.graph!.node]);
    expect(topological(seen)).toBe(true);
    expect(model.graph!.node).toEqual(original);
    expect(() =>
      inReadyOrder(model, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(model.graph!.node).toEqual(original);
  });
});
