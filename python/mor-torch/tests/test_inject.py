# inject_mor and MoRLinear as modules: names, shapes, init and parameter count per docs/mor-spec.md, freezing,
# GPT-2 Conv1D, top-k ties, dropout on the branch input only, the averaged aux loss, and what DDP/FSDP need
# (no buffers, nothing created lazily, wrapper prefixes ignored when saving).
from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.distributed as dist
import torch.nn as nn

from conftest import TINY_LLAMA, Conv1D, assert_close
from mor_torch import (
    MoRConfig, MoRLinear, adapter_tensors, inject_mor, load_balance_loss, mor_aux_loss, mor_layers, mor_parameters,
    read_adapter, route, save_adapter,
)  # fmt: skip
from plain_llama import LlamaForCausalLM


def test_parameters_are_named_shaped_and_initialised_as_the_spec_says():
    torch.manual_seed(0)
    d_in, d_out, r, n = 256, 96, 8, 5
    layer = MoRLinear(nn.Linear(d_in, d_out), r=r, alpha=16, num_experts=n, router_bias=True)
    shapes = {k: list(v.shape) for k, v in layer.state_dict().items()}
    assert shapes == {
        "base_layer.weight": [d_out, d_in], "base_layer.bias": [d_out],
        "mor_A.weight": [r, d_in], "mor_B.weight": [d_out, r], "mor_omega_A": [n, r], "mor_omega_B": [n, d_out],
        "mor_router.weight": [n, d_in], "mor_router.bias": [n],
    }  # fmt: skip
    assert list(layer.buffers()) == []
    mor = sum(p.numel() for name, p in layer.named_parameters() if name.startswith("mor_"))
    assert mor == r * d_in + d_out * r + n * (r + d_out) + n * d_in + n  # mor-spec §6
    bound = 1 / math.sqrt(d_in)  # kaiming-uniform with a = √5
    for w in (layer.mor_A.weight, layer.mor_router.weight):  # uniform(±bound): std bound/√3
        assert w.abs().max() <= bound and w.abs().max() > 0.95 * bound and abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    assert layer.mor_router.bias.abs().max() <= bound and layer.mor_router.bias.abs().min() > 0
    assert torch.equal(layer.mor_B.weight, torch.zeros(d_out, r))
    assert torch.equal(layer.mor_omega_A, torch.ones(n, r)) and torch.equal(layer.mor_omega_B, torch.ones(n, d_out))
    x = torch.randn(3, d_in)
    assert torch.equal(layer(x), layer.base_layer(x)), "B = 0: the adapter starts as the identity"


def test_inject_freezes_the_base_and_creates_nothing_later():
    model = LlamaForCausalLM.from_pretrained(TINY_LLAMA)
    inject_mor(model, MoRConfig(r=4, num_experts=2, target_modules=["q_proj", "down_proj"]))
    assert sorted(mor_layers(model)) == [f"model.layers.{i}.{m}" for i in (0, 1) for m in ("mlp.down_proj", "self_attn.q_proj")]
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(".mor_" in n for n in trainable)
    assert {id(p) for p in mor_parameters(model)} == {id(p) for p in model.parameters() if p.requires_grad}
    before = {k: v.shape for k, v in model.state_dict().items()}
    model.train()(torch.tensor([[1, 2, 3]])).logits.sum().backward()
    assert {k: v.shape for k, v in model.state_dict().items()} == before
    assert list(model.buffers()) == []
    copy.deepcopy(model)  # FSDP/accelerate deep-copy and re-materialise modules


def test_inject_refuses_what_it_cannot_adapt():
    model = LlamaForCausalLM.from_pretrained(TINY_LLAMA)
    with pytest.raises(ValueError, match=r'target_modules \["nope"\] match no nn.Linear'):
        inject_mor(model, MoRConfig(r=2, num_experts=2, target_modules=["nope"]))
    with pytest.raises(ValueError, match="'model.layers.0.input_layernorm' .* is a RMSNorm"):
        inject_mor(model, MoRConfig(r=2, num_experts=2, target_modules=["input_layernorm"]))
    inject_mor(model, MoRConfig(r=2, num_experts=2, target_modules=["q_proj"]))
    with pytest.raises(ValueError, match="already has MoR layers"):
        inject_mor(model, MoRConfig(r=2, num_experts=2, target_modules=["q_proj"]))


def test_conv1d_gives_what_the_equivalent_linear_gives():
    torch.manual_seed(1)
    conv = Conv1D(nf=12, nx=10)
    linear = nn.Linear(10, 12)
    with torch.no_grad():
        linear.weight.copy_(conv.weight.t())
        linear.bias.copy_(conv.bias)
    a = MoRLinear(conv, r=3, alpha=6, num_experts=2, top_k=1)
    b = MoRLinear(linear, r=3, alpha=6, num_experts=2, top_k=1)
    assert a.fan_in_fan_out and not b.fan_in_fan_out and (a.in_features, a.out_features) == (10, 12)
    b.load_state_dict({k: v for k, v in a.state_dict().items() if k.startswith("mor_")}, strict=False)
    with torch.no_grad():
        a.mor_B.weight.normal_()
        b.mor_B.weight.copy_(a.mor_B.weight)
    x = torch.randn(2, 5, 10)
    assert_close(a(x), b(x), 1e-6, "Conv1D vs Linear")


def test_top_k_ties_go_to_the_lower_index_and_gradients_only_to_chosen_logits():
    logits = torch.tensor([[0.5, 2.0, 2.0, 2.0, -1.0]], requires_grad=True)
    gates = route(logits, 2)
    assert gates[0, 1] > 0 and gates[0, 2] > 0 and gates[0, 3] == 0
    (gates * torch.tensor([[1.0, 3.0, -2.0, 5.0, 7.0]])).sum().backward()
    assert logits.grad[0, 0] == 0 and logits.grad[0, 3] == 0 and logits.grad[0, 4] == 0 and logits.grad[0, 1] != 0


def test_dropout_applies_to_the_branch_input_only():
    torch.manual_seed(2)
    layer = MoRLinear(nn.Linear(16, 8), r=4, alpha=8, num_experts=3, dropout=0.5)
    with torch.no_grad():
        layer.mor_B.weight.normal_()
    x = torch.randn(6, 16)
    layer.train()
    delta_train = layer.mor_delta(x)
    assert_close(layer.last_gates, route(layer.mor_router(x)), 0, "the router sees x undropped")
    layer.eval()
    delta_eval = layer.mor_delta(x)
    assert not torch.allclose(delta_train, delta_eval)
    assert torch.equal(layer.mor_delta(x), delta_eval), "no dropout outside training"


def test_aux_loss_is_the_mean_over_layers_of_the_masked_load_balance_loss():
    model = LlamaForCausalLM.from_pretrained(TINY_LLAMA)
    inject_mor(model, MoRConfig(r=2, num_experts=3, target_modules=["v_proj", "up_proj"], router_aux_loss_coef=0.1))
    model.train()
    ids, mask = torch.tensor([[1, 5, 9, 0], [1, 7, 3, 4]]), torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])
    model(ids, attention_mask=mask)
    gates = [layer.last_gates for layer in mor_layers(model).values()]
    expected = sum(load_balance_loss(g[mask.bool()]) for g in gates) / len(gates)
    assert abs(mor_aux_loss(model, mask).item() - expected.item()) < 1e-6
    with pytest.raises(ValueError, match="no MoR layer has routed"):
        mor_aux_loss(model, mask)


def test_ddp_and_fsdp_style_wrappers_do_not_change_the_saved_names(tmp_path):
    model = LlamaForCausalLM.from_pretrained(TINY_LLAMA)
    inject_mor(model, MoRConfig(r=2, num_experts=2, target_modules=["k_proj"]))
    plain = adapter_tensors(model)
    # An FSDP FULL_STATE_DICT keeps module paths; older releases and nested wrappers leave wrapper parts in them.
    fsdp_like = {k.replace("model.layers.", "_fsdp_wrapped_module.model.layers._fsdp_wrapped_module."): v for k, v in model.state_dict().items()}
    assert {k: v.data_ptr() for k, v in adapter_tensors(model, fsdp_like).items()} == {k: v.data_ptr() for k, v in plain.items()}
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        ddp = nn.parallel.DistributedDataParallel(model)
        ddp(torch.tensor([[1, 2, 3]])).logits.sum().backward()
        save_adapter(ddp, tmp_path / "a", state_dict=ddp.state_dict())
    finally:
        dist.destroy_process_group()
    assert sorted(read_adapter(tmp_path / "a").layers) == ["model.layers.0.self_attn.k_proj", "model.layers.1.self_attn.k_proj"]


def test_deferred_meta_device_init_gives_the_spec_init():
    # What FSDP does with a model built on the meta device: allocate, then call reset_parameters module by module.
    layer = MoRLinear(nn.Linear(32, 16, device="meta"), r=4, alpha=8, num_experts=3, router_bias=True)
    assert layer.mor_A.weight.is_meta and layer.mor_omega_A.is_meta
    layer.to_empty(device="cpu")
    with torch.no_grad():
        for p in layer.parameters():
            p.fill_(float("nan"))  # what uninitialised memory may hold
    for module in layer.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    assert torch.equal(layer.mor_B.weight, torch.zeros(16, 4)) and torch.equal(layer.mor_omega_B, torch.ones(3, 16))
    assert torch.equal(layer.mor_omega_A, torch.ones(3, 4))
    bound = 1 / math.sqrt(32)
    for w in (layer.mor_A.weight, layer.mor_router.weight, layer.mor_router.bias):
        assert torch.isfinite(w).all() and w.abs().max() <= bound and w.abs().max() > 0
