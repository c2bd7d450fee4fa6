import { loadAdapter } from '@mor/format/node';
import { GraphBuilder, decodeModel, encodeModel, floatTensor, int64Tensor } from '@mor/onnx';
import { describe, expect, it } from 'vitest';
import { TrainSession } from '../../src/train/index.js';
import { fixture, golden, goldenRows, lmBatch, maxAdapterDiff, tinyLlamaBytes } from './helpers.js';

// A train graph past protobuf's 2 GiB limit: the tiny Llama with its embedding table grown to 1.1 GiB (rows the
// tokens never reach) and a second 1.1 GiB table of zeros whose row 0 is added to the embeddings (so it is live
// but changes nothing): the loss and the gradients are those of the tiny model. Real models past 2 GiB are many
// tensors under 2 GiB each, like this (onnxruntime refuses any single tensor past 2 GiB, even as external data).
// The graphs cannot be encoded inline, so TrainSession hands the weights to onnxruntime as in-memory external
// data (session-model.ts). Costs ~7 GiB of memory for a few seconds.
const EMBEDDING = 'm.model.embed_tokens.weight';
const TABLE_BYTES = 2 ** 30 + 2 ** 27;

async function grownTinyLlama(): Promise<{ model: Uint8Array; files: Map<string, Uint8Array> }> {
  const model = await decodeModel(tinyLlamaBytes());
  const graph = model.graph!;
  const table = graph.initializer.find((t) => t.name === EMBEDDING)!;
  const hidden = Number(table.dims[1]);
  const rows = Math.ceil(TABLE_BYTES / 4 / hidden);
  const grown = new Uint8Array(rows * hidden * 4); // untouched pages past the real rows cost no memory yet
  grown.set(table.rawData);
  table.rawData = grown;
  table.dims = [BigInt(rows), BigInt(hidden)];
  const lookup = graph.node.find((n) => n.opType === 'Gather' && n.input[0] === EMBEDDING)!;
  const embeds = lookup.output[0]!;
  lookup.output[0] = `${embeds}.before_zero_row`;
  const b = new GraphBuilder(graph, { scope: '/zero_row', opset: 17, place: { after: lookup } });
  const zeros = b.initializer('table', (n) =>
    floatTensor(n, [rows, hidden], new Float32Array(rows * hidden)),
  );
  const row = b.op1('Gather', [zeros, b.initializer('row', (n) => int64Tensor(n, [1], [0]))]);
  b.op1('Add', [lookup.output[0], row], {}, embeds);
  const encoded = encodeModel(model, { externalDataThreshold: 1 << 20, maxExternalFileBytes: 0 });
  expect(encoded.externalData.filter((f) => f.byteLength >= TABLE_BYTES)).toHaveLength(2);
  return {
    model: encoded.model,
    files: new Map(encoded.externalData.map((f) => [f.location, f.chunks[0]!])),
  };
}

describe('training a model whose graph passes 2 GiB', () => {
  it('one SGD step through in-memory external data equals the tiny Llama golden', async () => {
    const { model, files } = await grownTinyLlama();
    const session = await TrainSession.create({
      model,
      externalData: (name) => files.get(name)!,
      task: 'causal-lm',
      method: 'mor',
      adapter: await loadAdapter(fixture('tiny-llama/mor-adapter')),
      optimizer: { kind: 'sgd', lr: 0.05 },
    });
    try {
      const batch = lmBatch(goldenRows());
      const before = await session.step(batch, { lr: 0.05 });
      const after = await session.evaluate(batch);
      expect(Math.abs(before.loss - golden().loss_mor)).toBeLessThan(1e-5);
      expect(Math.abs(after.loss - golden().loss_after_sgd1)).toBeLessThan(1e-5);
      const expected = await loadAdapter(fixture('tiny-llama/mor-adapter-sgd1'));
      expect(maxAdapterDiff(await session.getAdapter(), expected)).toBeLessThan(1e-5);
    } finally {
      await session.dispose();
    }
  }, 300_000);
});
