import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loraParamCount, morParamCount, totalMorParamCount, type LayerShape } from '../src/index.js';
import { fixtureUrl } from './helpers.js';

function readJson<T>(rel: string): T {
  return JSON.parse(readFileSync(fixtureUrl(rel), 'utf8')) as T;
}

/** Element count of every tensor in a safetensors file (8-byte little-endian header length, then JSON). */
function safetensorsElementCount(rel: string): number {
  const bytes = readFileSync(fixtureUrl(rel));
  const headerLen = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8')) as Record<
    string,
    { shape?: number[] }
  >;
  let total = 0;
  for (const [name, entry] of Object.entries(header)) {
    if (name !== '__metadata__') total += (entry.shape ?? []).reduce((a, b) => a * b, 1);
  }
  return total;
}

describe('parameter counts (mor-spec.md §6)', () => {
  it('one layer: r·d_in + d_out·r + N·(r + d_out) + N·d_in (+ N)', () => {
    const shape = { dIn: 10, dOut: 6 };
    expect(morParamCount(shape, { r: 2, experts: 3, routerBias: false })).toBe(20 + 12 + 3 * 8 + 30);
    expect(morParamCount(shape, { r: 2, experts: 3, routerBias: true })).toBe(20 + 12 + 3 * 8 + 30 + 3);
    expect(loraParamCount(shape, 2)).toBe(32);
  });

  it('the fixture tiny-llama MoR adapter totals 9,312, as its safetensors file holds', () => {
    const model = readJson<{ hidden_size: number; intermediate_size: number; num_hidden_layers: number }>(
      'tiny-llama/config.json',
    );
    const adapter = readJson<{
      r: number;
      num_experts: number;
      router_bias: boolean;
      target_modules: string[];
    }>('tiny-llama/mor-adapter/adapter_config.json');
    const h = model.hidden_size;
    const m = model.intermediate_size;
    const byTarget: Record<string, LayerShape> = {
      gate_proj: { dIn: h, dOut: m },
      up_proj: { dIn: h, dOut: m },
      down_proj: { dIn: m, dOut: h },
    };
    const shapes: LayerShape[] = [];
    for (let layer = 0; layer < model.num_hidden_layers; layer++) {
      for (const t of adapter.target_modules) shapes.push(byTarget[t]);
    }
    const total = totalMorParamCount(shapes, {
      r: adapter.r,
      experts: adapter.num_experts,
      routerBias: adapter.router_bias,
    });
    expect(total).toBe(9312);
    expect(safetensorsElementCount('tiny-llama/mor-adapter/adapter_model.safetensors')).toBe(total);
  });
});
