// Builders for small synthetic graphs and a per-expert reference of mor-spec.md §1 (independent of the
// rank-expanded form the pass emits).
import { create } from '@bufbuild/protobuf';
import type { MorLayerWeights } from '@mor/core';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { attribute, type AttributeValue } from '../../src/index.js';

export function node(
  opType: string,
  input: string[],
  output: string[],
  name: string,
  attrs: Record<string, AttributeValue> = {},
  domain = '',
): NodeProto {
  const attribute_ = Object.entries(attrs).map(([k, v]) => attribute(k, v));
  return create(NodeProtoSchema, { opType, input, output, name, domain, attribute: attribute_ });
}

export function model(
  nodes: NodeProto[],
  initializer: TensorProto[],
  input: ValueInfoProto[],
  output: ValueInfoProto[],
  opsets: Record<string, number> = { '': 17 },
): ModelProto {
  return create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'mor-onnx-test',
    opsetImport: Object.entries(opsets).map(([domain, v]) =>
      create(OperatorSetIdProtoSchema, { domain, version: BigInt(v) }),
    ),
    graph: create(GraphProtoSchema, { name: 'g', node: nodes, initializer, input, output }),
  });
}

/** Deterministic uniform values in [-scale, scale). */
export function rand(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

export function randomMor(
  dIn: number,
  dOut: number,
  r: number,
  n: number,
  bias: boolean,
  seed: number,
): MorLayerWeights {
  return {
    dIn,
    dOut,
    r,
    experts: n,
    A: rand(r * dIn, seed, 0.5),
    B: rand(dOut * r, seed + 1, 0.5),
    omegaA: rand(n * r, seed + 2, 1).map((v) => 1 + v / 2),
    omegaB: rand(n * dOut, seed + 3, 1).map((v) => 1 + v / 2),
    routerWeight: rand(n * dIn, seed + 4, 1),
    routerBias: bias ? rand(n, seed + 5, 0.5) : null,
  };
}

/** Gates of one token: dense softmax, or softmax over the k largest (ties to the lower index). */
export function referenceGates(logits: number[], topK: number | null): number[] {
  const chosen =
    topK === null
      ? logits.map((_, i) => i)
      : logits
          .map((v, i) => [v, i] as const)
          .sort((a, b) => b[0] - a[0] || a[1] - b[1])
          .slice(0, topK)
          .map(([, i]) => i);
  const m = Math.max(...chosen.map((i) => logits[i]!));
  const e = logits.map((v, i) => (chosen.includes(i) ? Math.exp(v - m) : 0));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** delta for each row of x `[T, d_in]`, by the per-expert loop of mor-spec.md §1. */
export function referenceMorDelta(
  x: Float32Array,
  w: MorLayerWeights,
  scaling: number,
  routing: { topK: number | null } | { gate: number[] },
): Float32Array {
  const { dIn, dOut, r, experts: n } = w;
  const tokens = x.length / dIn;
  const out = new Float32Array(tokens * dOut);
  for (let t = 0; t < tokens; t++) {
    const xt = x.subarray(t * dIn, (t + 1) * dIn);
    const dot = (m: Float32Array, row: number) => xt.reduce((a, v, c) => a + v * m[row * dIn + c]!, 0);
    const u = Array.from({ length: r }, (_, k) => dot(w.A, k));
    let gate: number[];
    if ('gate' in routing) gate = routing.gate;
    else
      gate = referenceGates(
        Array.from({ length: n }, (_, i) => dot(w.routerWeight, i) + (w.routerBias?.[i] ?? 0)),
        routing.topK,
      );
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < dOut; j++) {
        let bu = 0;
        for (let k = 0; k < r; k++) bu += w.B[j * r + k]! * w.omegaA[i * r + k]! * u[k]!;
        out[t * dOut + j] += scaling * gate[i]! * w.omegaB[i * dOut + j]! * bu;
      }
    }
  }
  return out;
}
