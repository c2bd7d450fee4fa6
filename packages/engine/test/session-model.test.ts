import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeModel } from '@mor/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeForSession, openSessionModel } from '../src/session-model.js';
import { fixture, tinyLlamaBytes } from './train/helpers.js';

// The three ways a patched or train graph reaches onnxruntime give the same model: inline bytes, bytes with
// in-memory external data (the browser), and a temporary model directory onnxruntime maps (Node).
describe('encodeForSession / openSessionModel', () => {
  const feeds = () => {
    const ids = BigInt64Array.from([1n, 5n, 9n, 2n]);
    return {
      input_ids: new ort.Tensor('int64', ids, [1, 4]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(4).fill(1n), [1, 4]),
    };
  };
  const logits = async (s: ort.InferenceSession) =>
    Float32Array.from((await s.run(feeds()))['logits']!.data as Float32Array);

  it('inline, in-memory external data and a temporary directory give the same logits', async () => {
    expect(existsSync(fixture('tiny-llama/onnx/model.onnx'))).toBe(true);
    const model = await decodeModel(tinyLlamaBytes());
    const create = (source: string | Uint8Array, options: Record<string, unknown>) =>
      ort.InferenceSession.create(source as string, options);

    const inline = encodeForSession(model, Infinity);
    expect(inline.externalData).toHaveLength(0);
    const external = encodeForSession(model, 256);
    expect(external.externalData.length).toBeGreaterThan(10);
    // one entry per tensor, viewing the tensor's own bytes
    const embed = model.graph!.initializer.find((t) => t.name === 'm.model.embed_tokens.weight')!;
    expect(external.externalData.some((f) => f.data === embed.rawData)).toBe(true);

    const reference = await logits(await openSessionModel(inline, create, {}, false));
    const inMemory = await logits(await openSessionModel(external, create, {}, false));
    let path = '';
    const viaFiles = await openSessionModel(
      external,
      (source, options) => {
        path = source as string;
        return create(source, options);
      },
      {},
      true,
    );
    expect(path.endsWith('model.onnx')).toBe(true);
    expect(existsSync(dirname(path))).toBe(false); // removed once the session is open
    expect(inMemory).toEqual(reference);
    expect(await logits(viaFiles)).toEqual(reference);
  });
});
