# The static-gate collapse on a whole model (mor-spec §3): the merged model and the exported PEFT LoRA give the
# logits of the statically routed MoR model; gate specs resolve as `mor --gate` resolves them.
from __future__ import annotations

import copy
import json

import pytest
import torch
import torch.nn as nn

from conftest import TINY_LLAMA, Conv1D, assert_close
from mor_torch import (
    AdapterFormatError, MoRLinear, export_peft_lora, load_adapter, merge_static, read_safetensors, set_static_gate,
)  # fmt: skip
from plain_llama import LlamaForCausalLM

IDS = torch.tensor([[1, 54, 74, 71, 371, 223, 268, 70], [1, 54, 333, 259, 79, 305, 78, 260]])
GATE = [0.1, 0.2, 0.3, 0.4]


def mor_model():
    return load_adapter(LlamaForCausalLM.from_pretrained(TINY_LLAMA), TINY_LLAMA / "mor-adapter")


@torch.no_grad()
def logits(model):
    return model(IDS).logits


def test_merged_model_equals_the_statically_routed_one():
    model = mor_model()
    set_static_gate(model, GATE)
    static = logits(model)
    set_static_gate(model, None)
    assert not torch.allclose(static, logits(model), atol=1e-4), "static and dynamic routing should differ here"
    merged = merge_static(copy.deepcopy(model), GATE)
    assert not [m for m in merged.modules() if isinstance(m, MoRLinear)]
    assert type(merged.model.layers[0].mlp.gate_proj) is nn.Linear
    assert_close(logits(merged), static, 1e-5, "merged vs static logits")


def test_exported_peft_lora_is_the_static_adapter(tmp_path):
    model = mor_model()
    export_peft_lora(model, tmp_path / "lora", "uniform")
    config = json.loads((tmp_path / "lora" / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["r"] == 4 and config["lora_alpha"] == 8
    assert config["target_modules"] == ["gate_proj", "up_proj", "down_proj"] and config["fan_in_fan_out"] is False
    tensors, meta = read_safetensors(tmp_path / "lora" / "adapter_model.safetensors")
    assert meta == {"format": "pt"} and len(tensors) == 2 * 3 * 2
    # Apply it the way PEFT does (W x + (alpha/r) B A x) to a fresh base model.
    base = LlamaForCausalLM.from_pretrained(TINY_LLAMA)
    with torch.no_grad():
        for name, module in base.named_modules():
            a = tensors.get(f"base_model.model.{name}.lora_A.weight")
            if a is not None:
                module.weight += config["lora_alpha"] / config["r"] * tensors[f"base_model.model.{name}.lora_B.weight"] @ a
    set_static_gate(model, "uniform")
    assert_close(logits(base), logits(model), 1e-5, "PEFT LoRA vs static MoR logits")


def test_conv1d_layers_merge_through_the_transposed_weight():
    torch.manual_seed(3)
    layer = MoRLinear(Conv1D(nf=6, nx=5), r=2, alpha=4, num_experts=3)
    with torch.no_grad():
        layer.mor_B.weight.normal_()
        layer.mor_omega_B.uniform_(0.5, 1.5)
    holder = nn.Sequential(layer)
    x = torch.randn(4, 5)
    layer.set_static_gate([0.5, 0.3, 0.2])
    expected = layer(x)
    merge_static(holder, [0.5, 0.3, 0.2])
    assert isinstance(holder[0], Conv1D)
    assert_close(holder(x), expected, 1e-6, "Conv1D merged vs static")


def test_gate_specs():
    model = mor_model()
    model.mor_config.static_gates["task"] = GATE
    set_static_gate(model, "task")
    assert model.model.layers[0].mlp.up_proj.static_gate.tolist() == GATE
    with pytest.raises(AdapterFormatError, match=r'unknown gate "other": expected "uniform", "task", or a list of 4'):
        set_static_gate(model, "other")
    with pytest.raises(AdapterFormatError, match=r"needs 4 finite numbers \(one per expert\), got \[1,null\]"):
        set_static_gate(model, [1, float("nan")])
