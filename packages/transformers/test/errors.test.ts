import { existsSync } from 'node:fs';
import { AutoModelForCausalLM, type PreTrainedModel } from '@huggingface/transformers';
import { loadAdapter } from '@mor/format/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterAttachError, attachAdapter, forwardLogits, loadWithAdapter } from '../src/index.js';
import {
  AdapterLoadError,
  BackendUnavailableError,
  MorInputError,
  UnsupportedDeviceError,
  checkDevice,
} from '@mor/engine';
import { fixture, useFixtureModels } from './helpers.js';

describe('clear errors for bad inputs', () => {
  let model: PreTrainedModel;
  beforeAll(async () => {
    useFixtureModels();
    model = await loadWithAdapter(AutoModelForCausalLM, 'tiny-llama', { dtype: 'fp32' });
  });
  afterAll(() => model?.dispose());

  it('names a missing adapter directory', async () => {
    const missing = fixture('tiny-llama/no-such-adapter');
    const err = await loadWithAdapter(AutoModelForCausalLM, 'tiny-llama', { adapter: missing }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AdapterLoadError);
    expect((err as Error).message).toContain(missing);
  });

  it('names an adapter target that the model does not have', async () => {
    const adapter = await loadAdapter(fixture('tiny-llama/mor-adapter'));
    if (adapter.kind !== 'mor') throw new Error('fixture mor-adapter is not a MoR adapter');
    const [path, weights] = [...adapter.layers][0]!;
    const moved = { ...adapter, layers: new Map([[path.replace('layers.0', 'layers.7'), weights]]) };
    const err = await attachAdapter(model, moved).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdapterAttachError);
    expect((err as Error).message).toContain(path.replace('layers.0', 'layers.7'));
    expect((err as Error).message).toContain('tiny-llama/onnx/model.onnx');
    // The failed attach left the model untouched: a real adapter still goes on.
    await attachAdapter(model, adapter);
  });

  it('lists the valid devices for an unknown one', async () => {
    await expect(checkDevice('tpu')).rejects.toThrow(UnsupportedDeviceError);
    await expect(
      loadWithAdapter(AutoModelForCausalLM, 'tiny-llama', { device: 'tpu' as 'cpu' }),
    ).rejects.toThrow(/unsupported device "tpu": expected one of cpu, webgpu, cuda, wasm/);
    await expect(checkDevice('wasm')).rejects.toThrow(BackendUnavailableError);
  });

  it('says how to install the CUDA provider when it is missing', async (ctx) => {
    const lib = fixture(
      '../node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so',
    );
    if (existsSync(lib)) ctx.skip('the CUDA provider is installed here');
    const err = await checkDevice('cuda').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toMatch(
      /libonnxruntime_providers_cuda\.so.*ONNXRUNTIME_NODE_INSTALL=cuda12/s,
    );
  });

  it('asks for the model source when the model was loaded outside loadWithAdapter', async () => {
    const plain = await AutoModelForCausalLM.from_pretrained('tiny-llama', { dtype: 'fp32' });
    await expect(attachAdapter(plain, fixture('tiny-llama/mor-adapter'))).rejects.toThrow(
      /pass \{ source \}/,
    );
    await attachAdapter(plain, fixture('tiny-llama/mor-adapter'), {
      source: fixture('tiny-llama/onnx/model.onnx'),
    });
    await plain.dispose();
  });

  it('refuses a gate of the wrong length, an unknown gate name, and a gate on a LoRA', async () => {
    const fresh = await loadWithAdapter(AutoModelForCausalLM, 'tiny-llama', { dtype: 'fp32' });
    await expect(attachAdapter(fresh, fixture('tiny-llama/mor-adapter'), { gate: [1, 0] })).rejects.toThrow(
      MorInputError,
    );
    await expect(attachAdapter(fresh, fixture('tiny-llama/mor-adapter'), { gate: 'sports' })).rejects.toThrow(
      /unknown gate "sports".*uniform/,
    );
    await expect(attachAdapter(fresh, fixture('tiny-llama/peft-lora'), { gate: 'uniform' })).rejects.toThrow(
      /MoR adapters only/,
    );
    await fresh.dispose();
  });

  it('refuses ragged token rows', async () => {
    await expect(
      forwardLogits(model, [
        [1, 2, 3],
        [1, 2],
      ]),
    ).rejects.toThrow(/equal lengths/);
  });
});
