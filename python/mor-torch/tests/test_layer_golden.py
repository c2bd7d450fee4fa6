# MoRLinear against fixtures/layer_golden.json (an independent PyTorch implementation of docs/mor-spec.md):
# y, delta, gates and every gradient within 1e-5, the static collapse, and the load-balancing loss.
from __future__ import annotations

import json

import pytest
import torch
import torch.nn as nn

from conftest import FIXTURES, assert_close, tensor
from mor_torch import MoRLinear, load_balance_loss, route

CASES = json.loads((FIXTURES / "layer_golden.json").read_text())["cases"]
TOL = 1e-5


def build(case) -> MoRLinear:
    cfg = case["config"]
    w = tensor(case["base_weight"])
    base = nn.Linear(w.shape[1], w.shape[0], bias=True)
    layer = MoRLinear(
        base, cfg["r"], cfg["lora_alpha"], cfg["num_experts"], top_k=cfg["top_k"], router_bias=cfg["router_bias"]
    )
    with torch.no_grad():
        base.weight.copy_(w)
        base.bias.copy_(tensor(case["base_bias"]))
        layer.mor_A.weight.copy_(tensor(case["A"]))
        layer.mor_B.weight.copy_(tensor(case["B"]))
        layer.mor_omega_A.copy_(tensor(case["omega_A"]))
        layer.mor_omega_B.copy_(tensor(case["omega_B"]))
        layer.mor_router.weight.copy_(tensor(case["router_weight"]))
        if cfg["router_bias"]:
            layer.mor_router.bias.copy_(tensor(case["router_bias"]))
    return layer


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_forward_and_every_gradient(case):
    layer = build(case)
    x = tensor(case["x"]).requires_grad_(True)
    y = layer(x)
    assert_close(y, tensor(case["y"]), TOL, "y")
    assert_close(layer.mor_delta(x), tensor(case["delta"]), TOL, "delta")
    assert_close(route(layer.mor_router(x), layer.top_k), tensor(case["gates"]), TOL, "gates")
    loss = (y * tensor(case["upstream"])).sum()
    assert abs(loss.item() - case["loss"]) <= TOL * max(1.0, abs(case["loss"]))
    loss.backward()
    grads = {
        "A": layer.mor_A.weight.grad,
        "B": layer.mor_B.weight.grad,
        "omega_A": layer.mor_omega_A.grad,
        "omega_B": layer.mor_omega_B.grad,
        "router_weight": layer.mor_router.weight.grad,
        "x": x.grad,
    }
    if case["config"]["router_bias"]:
        grads["router_bias"] = layer.mor_router.bias.grad
    assert set(grads) == set(case["grad"]), "the golden has gradients this test does not check"
    for name, grad in grads.items():
        assert grad is not None, f"no gradient reached {name}"
        assert_close(grad, tensor(case["grad"][name]), TOL, f"grad {name}")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_static_gate_collapses_to_the_golden_merged_weight(case):
    layer = build(case)
    gate = tensor(case["static_gate"])
    delta_w = layer.scaling * layer.static_b(gate) @ layer.mor_A.weight
    assert_close(delta_w, tensor(case["static_delta_weight"]), TOL, "static_delta_weight")
    # The static forward is that rank-r LoRA: y = base(x) + x ΔWᵀ.
    layer.set_static_gate(gate)
    x = tensor(case["x"])
    expected = layer.base_layer(x) + x @ tensor(case["static_delta_weight"]).t()
    assert_close(layer(x), expected, TOL, "static forward")
    # ... and the per-expert reading of mor-spec §1 with the gate repeated for every token.
    u = layer.mor_A(x)
    per_expert = sum(
        g * layer.mor_omega_B[i] * layer.mor_B(layer.mor_omega_A[i] * u) for i, g in enumerate(gate.tolist())
    )
    assert_close(layer.mor_delta(x), layer.scaling * per_expert, TOL, "static delta vs per-expert sum")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_load_balance_loss(case):
    assert abs(load_balance_loss(tensor(case["gates"])).item() - case["load_balance_loss"]) <= TOL
    layer = build(case).train()
    layer(tensor(case["x"]))
    assert abs(load_balance_loss(layer.last_gates).item() - case["load_balance_loss"]) <= TOL
