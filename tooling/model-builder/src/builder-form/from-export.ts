import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { findLinearLayers, tensorToFloat32 } from '@mor/onnx';
import { ModelProtoSchema } from 'onnx-buf';
import { ModelSpecError } from '../model-graph.js';
import type { BuiltModel, LinearInfo } from '../types.js';

/**
 * A Llama/Qwen2 decoder exported elsewhere (the TorchScript exporter optimum uses: `/model/layers.0/…/MatMul`
 * nodes, `onnx::MatMul_N` weights, possibly under a leading `m.` scope) seen as a {@link BuiltModel}, so
 * {@link buildBuilderForm} can rewrite exactly its weights in onnxruntime-genai's graph form. That makes the check
 * "an adapter trained on the Hugging Face model gives PyTorch's numbers on a builder graph of the same weights"
 * possible without the builder itself (Python, the Hub). RMSNorm weights must be ones (the builder form writes
 * them so); `config` is the model's config.json.
 */
export function builtModelFromExport(onnx: Uint8Array, config: Record<string, unknown>): BuiltModel {
  const model = fromBinary(ModelProtoSchema, onnx);
  const graph = model.graph!;
  const layers = findLinearLayers(model).filter((l) => !l.part);
  const scope =
    layers.find((l) => l.modulePath.endsWith('lm_head'))?.modulePath.slice(0, -'lm_head'.length) ?? '';
  const linears: LinearInfo[] = layers.map((l) => {
    if (l.kind !== 'matmul' || l.weightLayout !== '[d_in,d_out]' || l.shared)
      throw new ModelSpecError(
        `layer ${l.modulePath} is a ${l.kind} ${l.weightLayout} weight; expected a plain MatMul`,
        {
          module: l.modulePath,
        },
      );
    const bias = l.biasAdd ? graph.node.find((n) => n.name === l.biasAdd) : undefined;
    const biasName = bias?.input.find((i) => i !== l.output);
    return {
      module: l.modulePath.slice(scope.length),
      node: l.outputNode,
      weight: l.weight,
      ...(biasName ? { bias: biasName } : {}),
      output: bias?.output[0] ?? l.output,
      dIn: l.dIn,
      dOut: l.dOut,
      form: bias ? 'matmul-add' : 'matmul',
    };
  });
  // twinWeights reads the embedding as `model.embed_tokens.weight`.
  const embedding = `${scope}model.embed_tokens.weight`;
  if (!graph.initializer.some((t) => t.name === embedding))
    throw new ModelSpecError(`the export has no embedding initializer ${embedding}`, { name: embedding });
  for (const t of graph.initializer) if (t.name === embedding) t.name = 'model.embed_tokens.weight';
  for (const n of graph.node)
    n.input = n.input.map((i) => (i === embedding ? 'model.embed_tokens.weight' : i));
  for (const t of graph.initializer)
    if (t.name.endsWith('norm.weight') && tensorToFloat32(t).some((v) => v !== 1))
      throw new ModelSpecError(`norm weight ${t.name} is not all ones (the builder form writes ones)`, {
        name: t.name,
      });
  const heads = config['num_attention_heads'] as number;
  const hidden = config['hidden_size'] as number;
  const rope = config['rope_parameters'] as { rope_theta?: number } | undefined;
  return {
    arch: String(config['model_type']),
    config: { ...config, rope_theta: config['rope_theta'] ?? rope?.rope_theta ?? 10000 },
    tokenizer: {},
    tokenizerConfig: {},
    onnx: toBinary(ModelProtoSchema, model),
    linears,
    cache: {
      layers: config['num_hidden_layers'] as number,
      kvHeads: (config['num_key_value_heads'] as number | undefined) ?? heads,
      headDim: (config['head_dim'] as number | undefined) ?? hidden / heads,
    },
    inputNames: graph.input.map((i) => i.name),
    outputNames: graph.output.map((o) => o.name),
  };
}
