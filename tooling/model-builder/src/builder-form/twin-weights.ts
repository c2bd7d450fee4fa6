import { fromBinary } from '@bufbuild/protobuf';
import { tensorToFloat32 } from '@mor/onnx';
import { ModelProtoSchema, type TensorProto } from 'onnx-buf';
import { ModelSpecError } from '../model-graph.js';
import type { BuiltModel, LinearInfo } from '../types.js';

/** One linear layer's float weight `[dIn, dOut]` (and bias) read out of a TorchScript-form model. */
export interface TwinLinear {
  info: LinearInfo;
  weight: Float32Array;
  bias?: Float32Array;
}

/** The weights of a TorchScript-form rotary decoder, by module path (what the builder form is built from). */
export interface TwinWeights {
  embedding: Float32Array;
  linears: Map<string, TwinLinear>;
}

/**
 * Reads the float weights of an fp32 TorchScript-form model built here (its `linears` say which initializer holds
 * which module's weight), so a second graph form can be built from exactly the same numbers.
 */
export function twinWeights(twin: BuiltModel): TwinWeights {
  const graph = fromBinary(ModelProtoSchema, twin.onnx).graph!;
  const inits = new Map(graph.initializer.map((t) => [t.name, t]));
  const read = (name: string): Float32Array => {
    const t: TensorProto | undefined = inits.get(name);
    if (!t) throw new ModelSpecError(`twin model has no initializer ${name}`, { name });
    return tensorToFloat32(t);
  };
  const linears = new Map<string, TwinLinear>();
  for (const info of twin.linears) {
    if (info.form !== 'matmul' && info.form !== 'matmul-add')
      throw new ModelSpecError(`twin linear ${info.module} is ${info.form}, expected a float MatMul`, {
        module: info.module,
      });
    linears.set(info.module, {
      info,
      weight: read(info.weight),
      ...(info.bias ? { bias: read(info.bias) } : {}),
    });
  }
  return { embedding: read('model.embed_tokens.weight'), linears };
}
