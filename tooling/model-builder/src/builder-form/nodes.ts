import { int64Tensor } from '@mor/onnx';
import type { AttributeValue } from '@mor/onnx';
import type { ModelGraph } from '../model-graph.js';

/**
 * Node emission in onnxruntime-genai's model-builder naming (`src/python/py/models/builders/base.py`): every node
 * is named by its module scope and op (`/model/layers.0/attn/q_proj/MatMul`), its outputs are `${name}/output_i`,
 * and small constants are shared `Constant` nodes `/model/constant_nodes/INT64/[1]` whose output is
 * `/model/constants/INT64/[1]` (the value is spelled in the name, Python list syntax).
 */
export class BuilderNodes {
  constructor(readonly g: ModelGraph) {}

  /** Emit `op` named `name`; returns its outputs (`${name}/output_0` unless `outputs` is given). */
  node(
    op: string,
    name: string,
    inputs: readonly string[],
    attrs: Record<string, AttributeValue> = {},
    opts: { domain?: string; outputs?: readonly string[] } = {},
  ): string[] {
    const outputs = opts.outputs ?? [`${name}/output_0`];
    return this.g.at('').op(op, inputs, attrs, outputs, { name, domain: opts.domain ?? '' });
  }

  /** Single-output {@link node}. */
  node1(
    op: string,
    name: string,
    inputs: readonly string[],
    attrs: Record<string, AttributeValue> = {},
    opts: { domain?: string; output?: string } = {},
  ): string {
    const outputs = opts.output ? [opts.output] : undefined;
    return this.node(op, name, inputs, attrs, { domain: opts.domain, outputs })[0]!;
  }

  /** The shared int64 constant `/model/constants/INT64/<value>` (a list for an array, else a scalar). */
  int64(value: number | readonly number[]): string {
    const spelled = typeof value === 'number' ? String(value) : `[${value.join(', ')}]`;
    const out = `/model/constants/INT64/${spelled}`;
    return this.g.once(`builder-const:${out}`, () => {
      const dims = typeof value === 'number' ? [] : [value.length];
      const values = typeof value === 'number' ? [value] : [...value];
      return this.node1(
        'Constant',
        `/model/constant_nodes/INT64/${spelled}`,
        [],
        { value: { tensor: int64Tensor('', dims, values) } },
        { output: out },
      );
    });
  }
}
