import { describe, expect, it } from 'vitest';
import {
  loadBalanceLoss,
  morBackward,
  morForward,
  staticDeltaWeight,
  validateMorConfig,
  routingFromConfig,
  type MorLayerWeights,
  type MorForwardOptions,
} from '../src/index.js';
import { expectClose, f32, loadGoldenCases, type GoldenCase } from './helpers.js';

// Tolerance against the PyTorch float32 goldens: |ours − torch| ≤ 1e-5 · max(1, |torch|), i.e. absolute 1e-5
// for values below 1 in magnitude and relative 1e-5 above (a few gradients reach tens).
const TOL = 1e-5;

function inputsOf(c: GoldenCase): MorForwardOptions {
  const dIn = c.A.shape[1];
  const dOut = c.B.shape[0];
  const config = validateMorConfig({
    r: c.config.r,
    alpha: c.config.lora_alpha,
    experts: c.config.num_experts,
    topK: c.config.top_k,
    routerBias: c.config.router_bias,
    targets: ['golden'],
  });
  const weights: MorLayerWeights = {
    dIn,
    dOut,
    r: config.r,
    experts: config.experts,
    A: f32(c.A),
    B: f32(c.B),
    omegaA: f32(c.omega_A),
    omegaB: f32(c.omega_B),
    routerWeight: f32(c.router_weight),
    routerBias: c.router_bias ? f32(c.router_bias) : null,
  };
  return {
    x: f32(c.x),
    baseWeight: f32(c.base_weight),
    baseBias: c.base_bias ? f32(c.base_bias) : null,
    weights,
    config,
    routing: routingFromConfig(config),
  };
}

const cases = loadGoldenCases();

describe('golden layers (independent PyTorch implementation, fixtures/layer_golden.json)', () => {
  it('has the four documented cases', () => {
    expect(cases.map((c) => c.name)).toEqual([
      'soft_small',
      'soft_batched_bias',
      'top2_of_6',
      'single_expert',
    ]);
  });

  for (const c of cases) {
    describe(c.name, () => {
      const inputs = inputsOf(c);

      it('forward: gates, delta, y and the loss', () => {
        const out = morForward(inputs);
        expect(out.tokens).toBe(c.x.shape.slice(0, -1).reduce((a, b) => a * b, 1));
        expectClose(out.gates, c.gates.data, TOL, 'gates');
        expectClose(out.delta, c.delta.data, TOL, 'delta');
        expectClose(out.y, c.y.data, TOL, 'y');
        let loss = 0;
        for (let i = 0; i < out.y.length; i++) loss += out.y[i] * c.upstream.data[i];
        expectClose([loss], [c.loss], TOL, 'loss');
      });

      it('backward: every gradient', () => {
        const g = morBackward({ ...inputs, upstream: f32(c.upstream) });
        expectClose(g.A, c.grad.A.data, TOL, 'dA');
        expectClose(g.B, c.grad.B.data, TOL, 'dB');
        expectClose(g.omegaA, c.grad.omega_A.data, TOL, 'dOmegaA');
        expectClose(g.omegaB, c.grad.omega_B.data, TOL, 'dOmegaB');
        expectClose(g.routerWeight!, c.grad.router_weight.data, TOL, 'dRouterWeight');
        expectClose(g.x, c.grad.x.data, TOL, 'dx');
        if (c.grad.router_bias) expectClose(g.routerBias!, c.grad.router_bias.data, TOL, 'dRouterBias');
        else expect(g.routerBias).toBeNull();
      });

      it('static gate: merged delta weight', () => {
        const dw = staticDeltaWeight({
          weights: inputs.weights,
          gate: f32(c.static_gate),
          config: inputs.config,
        });
        expectClose(dw, c.static_delta_weight.data, TOL, 'static_delta_weight');
      });

      it('load-balancing loss of the gates', () => {
        const out = morForward(inputs);
        const lb = loadBalanceLoss({ gates: out.gates, experts: inputs.weights.experts });
        expectClose([lb.loss], [c.load_balance_loss], TOL, 'load_balance_loss');
      });
    });
  }
});
