# The static-gate collapse of docs/mor-spec.md §3 applied to a whole model: merge_static folds every MoR layer
# into its base weight (W' = W + (alpha/r)(B ⊙ M) A), export_peft_lora writes the exact rank-r PEFT LoRA the
# adapter equals -- the same files `mor export --to peft-lora` writes (packages/format/src/export), which PEFT
# and multi-LoRA servers load as a plain LoRA.
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Optional, Union

import torch
import torch.nn as nn

from .adapter_io import tensor_name
from .atomic import write_files_atomic
from .config import ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, MoRConfig
from .inject import mor_layers, unwrap_model
from .layer import MoRLinear, static_m
from .routing import GateSpec, resolve_gate
from .safetensors_io import serialize_safetensors


def _config_and_gate(model: nn.Module, gate: GateSpec):
    layers = mor_layers(model)
    if not layers:
        raise ValueError("the model has no MoR layers")
    config: Optional[MoRConfig] = getattr(unwrap_model(model), "mor_config", None)
    n = next(iter(layers.values())).num_experts
    return layers, config, resolve_gate(gate, n, config.static_gates if config else None)


def static_lora_weights(layer: MoRLinear, gate: torch.Tensor):
    """(A, B_static) of the rank-r LoRA `layer` equals under `gate`, computed in float64 as @mor/core does."""
    a = layer.mor_A.weight.detach().double()
    b = layer.mor_B.weight.detach().double()
    m = static_m(layer.mor_omega_A.detach().double(), layer.mor_omega_B.detach().double(), gate.double().to(b.device))
    return a, b * m


@torch.no_grad()
def merge_static(model: nn.Module, gate: GateSpec) -> nn.Module:
    """Merges every MoR layer into its base weight under the fixed `gate` (`"uniform"`, N numbers, or a
    `static_gates` name) and puts the base layers back in place of the MoR layers: the result is the plain
    model, with zero inference overhead. Returns the model (changed in place)."""
    layers, _, g = _config_and_gate(model, gate)
    inner = unwrap_model(model)
    paths = {id(m): p for p, m in inner.named_modules()}
    for layer in layers.values():
        a, b_static = static_lora_weights(layer, g)
        delta = layer.scaling * (b_static @ a)  # [d_out, d_in]
        w = layer.base_layer.weight
        w.add_((delta.t() if layer.fan_in_fan_out else delta).to(device=w.device, dtype=w.dtype))
        parent_path, _, name = paths[id(layer)].rpartition(".")
        setattr(inner.get_submodule(parent_path) if parent_path else inner, name, layer.base_layer)
    if hasattr(inner, "mor_config"):
        del inner.mor_config
    return model


def _peft_lora_config(config: MoRConfig, fan_in_fan_out: bool) -> Dict[str, object]:
    """PEFT `LoraConfig` keys only every PEFT release since 0.6 knows (an older PEFT passes the whole JSON to
    `LoraConfig(**kwargs)`), in the order @mor/format writes them."""
    return {
        "base_model_name_or_path": config.base_model_name_or_path,
        "bias": "none",
        "fan_in_fan_out": fan_in_fan_out,
        "inference_mode": True,
        "init_lora_weights": True,
        "layers_pattern": None,
        "layers_to_transform": None,
        "lora_alpha": config.lora_alpha,
        "lora_dropout": config.lora_dropout,
        "modules_to_save": None,
        "peft_type": "LORA",
        "r": config.r,
        "rank_pattern": {},
        "alpha_pattern": {},
        "revision": None,
        "target_modules": list(config.target_modules),
        "task_type": config.task_type,
        "use_dora": False,
        "use_rslora": False,
    }


def export_peft_lora(model: nn.Module, out_dir: Union[str, Path], gate: GateSpec, dtype: str = "F32") -> None:
    """Writes the exact rank-r PEFT LoRA the model's MoR adapter equals under the fixed `gate` (mor-spec §3):
    every layer keeps A (`lora_A.weight`) and gets `B_static = B ⊙ M` (`lora_B.weight`); `r` and `lora_alpha`
    stay, so the scaling is the MoR scaling. `fan_in_fan_out` is true when the base layers are GPT-2 Conv1D (as
    PEFT wants it there); the LoRA tensors have the same layout either way."""
    layers, config, g = _config_and_gate(model, gate)
    if config is None:
        raise ValueError("the model has no mor_config (build it with inject_mor or load_adapter)")
    tensors = {}
    for module, layer in layers.items():
        a, b_static = static_lora_weights(layer, g)
        tensors[tensor_name(module, "lora_A.weight")] = a.float()
        tensors[tensor_name(module, "lora_B.weight")] = b_static.float()
    fan_in_fan_out = any(layer.fan_in_fan_out for layer in layers.values())
    text = json.dumps(_peft_lora_config(config, fan_in_fan_out), indent=2, ensure_ascii=False) + "\n"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = serialize_safetensors(tensors, dtype=dtype, metadata={"format": "pt"})
    write_files_atomic([(out / ADAPTER_WEIGHTS_FILE, data), (out / ADAPTER_CONFIG_FILE, text)])
