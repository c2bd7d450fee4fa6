// Test-only reader of the fixture adapters (safetensors: 8-byte LE header length, JSON header, F32 data).
// Kept local so @mor/onnx's tests do not depend on @mor/format (which sits above this package); the real,
// validating reader is @mor/format's loadAdapter.
import { readFileSync } from 'node:fs';
import type { LoraLayerWeights, MorLayerWeights } from '@mor/core';
import type { LoraAdapterInput, MorAdapterInput } from '../../src/index.js';

interface Tensor {
  shape: number[];
  data: Float32Array;
}

export function readSafetensors(path: string): Map<string, Tensor> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, Tensor>();
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (h.dtype !== 'F32') throw new Error(`test reader handles F32 only (${name} is ${h.dtype})`);
    const bytes = buf.subarray(8 + n + h.data_offsets[0], 8 + n + h.data_offsets[1]);
    out.set(name, { shape: h.shape, data: new Float32Array(new Uint8Array(bytes).buffer) });
  }
  return out;
}

function groups(tensors: Map<string, Tensor>, marker: RegExp): Map<string, Map<string, Tensor>> {
  const byModule = new Map<string, Map<string, Tensor>>();
  for (const [name, t] of tensors) {
    const m = marker.exec(name);
    if (!m) throw new Error(`unexpected tensor ${name}`);
    const module = m[1]!;
    if (!byModule.has(module)) byModule.set(module, new Map());
    byModule.get(module)!.set(m[2]!, t);
  }
  return byModule;
}

export function loadMorAdapter(dir: URL): MorAdapterInput {
  const cfg = JSON.parse(readFileSync(new URL('adapter_config.json', dir), 'utf8')) as Record<
    string,
    unknown
  >;
  const tensors = readSafetensors(new URL('adapter_model.safetensors', dir).pathname);
  const layers = new Map<string, MorLayerWeights>();
  for (const [module, g] of groups(
    tensors,
    /^base_model\.model\.(.+)\.(mor_[A-Za-z_]+(?:\.weight|\.bias)?)$/,
  )) {
    const A = g.get('mor_A.weight')!;
    const B = g.get('mor_B.weight')!;
    layers.set(module, {
      dIn: A.shape[1]!,
      dOut: B.shape[0]!,
      r: A.shape[0]!,
      experts: g.get('mor_omega_A')!.shape[0]!,
      A: A.data,
      B: B.data,
      omegaA: g.get('mor_omega_A')!.data,
      omegaB: g.get('mor_omega_B')!.data,
      routerWeight: g.get('mor_router.weight')!.data,
      routerBias: g.get('mor_router.bias')?.data ?? null,
    });
  }
  return {
    kind: 'mor',
    config: {
      r: cfg['r'] as number,
      alpha: cfg['lora_alpha'] as number,
      experts: cfg['num_experts'] as number,
      topK: (cfg['top_k'] as number | null) ?? null,
      routerBias: cfg['router_bias'] as boolean,
    },
    layers,
  };
}

export function loadLoraAdapter(dir: URL): LoraAdapterInput {
  const cfg = JSON.parse(readFileSync(new URL('adapter_config.json', dir), 'utf8')) as Record<
    string,
    unknown
  >;
  const tensors = readSafetensors(new URL('adapter_model.safetensors', dir).pathname);
  const r = cfg['r'] as number;
  const alpha = cfg['lora_alpha'] as number;
  const layers = new Map<string, LoraLayerWeights>();
  for (const [module, g] of groups(tensors, /^base_model\.model\.(.+)\.(lora_[AB]\.weight)$/)) {
    const A = g.get('lora_A.weight')!;
    const B = g.get('lora_B.weight')!;
    layers.set(module, { dIn: A.shape[1]!, dOut: B.shape[0]!, r: A.shape[0]!, A: A.data, B: B.data });
  }
  const scaling = cfg['use_rslora'] ? alpha / Math.sqrt(r) : alpha / r;
  return { kind: 'lora', scaling, fanInFanOut: cfg['fan_in_fan_out'] as boolean, layers };
}
