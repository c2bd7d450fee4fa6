import { AutoModelForCausalLM } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { attachAdapter } from '../src/index.js';
import { fixture, useFixtureModels } from './helpers.js';

describe('attachAdapter on a model loaded by transformers.js alone', () => {
  it('says exactly what it needs: a recorded load, or { source } as a path (Node) or bytes (browser)', async () => {
    useFixtureModels();
    const plain = await AutoModelForCausalLM.from_pretrained('tiny-llama-kv', { dtype: 'fp32' });
    try {
      await expect(attachAdapter(plain, fixture('tiny-llama-kv/mor-adapter'))).rejects.toThrow(
        'cannot attach adapter (session "model"): transformers.js keeps neither the ONNX file nor the session ' +
          'options of a loaded model, so this one cannot be adapted as it is: load it with loadWithAdapter() or ' +
          'pipelineWithAdapter() (or inside withSessionRecording()), or pass { source } with the file the session ' +
          'was created from (in Node its path, e.g. MODEL_DIR/onnx/model.onnx for dtype fp32; in the browser its bytes)',
      );
    } finally {
      await plain.dispose();
    }
  });
});
