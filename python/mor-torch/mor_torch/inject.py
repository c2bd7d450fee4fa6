# Puts MoR layers into a model the way PEFT puts LoRA layers in (target_modules as module-name suffixes), freezes
# everything else, and finds the layers again through DDP/FSDP/compile wrappers, so that module paths are always
# the Hugging Face paths the adapter file uses (`model.layers.0.mlp.gate_proj`).
from __future__ import annotations

import dataclasses
from typing import Dict, Iterable, List, Optional, Sequence

import torch
import torch.nn as nn

from ._json import js
from .config import MoRConfig
from .layer import MoRLinear, base_layer_sizes
from .routing import GateSpec, load_balance_loss, resolve_gate

# Path components that wrappers insert between a model and its modules (FSDP, activation checkpointing,
# torch.compile); dropped so that paths match the unwrapped model's.
_WRAPPER_PARTS = {"_fsdp_wrapped_module", "_checkpoint_wrapped_module", "_orig_mod", "_fpw_module"}


def unwrap_model(model: nn.Module) -> nn.Module:
    """The model inside DistributedDataParallel / DataParallel (their `.module`); other models as they are."""
    parallel = (nn.parallel.DistributedDataParallel, nn.DataParallel)
    while isinstance(model, parallel):
        model = model.module
    return model


def clean_path(path: str) -> str:
    """A module path without the components wrappers add (`_fsdp_wrapped_module.` …)."""
    return ".".join(p for p in path.split(".") if p not in _WRAPPER_PARTS)


def matches_targets(path: str, targets: Sequence[str]) -> bool:
    """PEFT's rule for a list of target_modules: an entry matches the whole path or its last dotted parts."""
    return any(path == t or path.endswith("." + t) for t in targets)


def mor_layers(model: nn.Module) -> Dict[str, MoRLinear]:
    """The MoR layers of `model` by their Hugging Face module path, in module order."""
    return {clean_path(p): m for p, m in unwrap_model(model).named_modules() if isinstance(m, MoRLinear)}


def inject_mor(model: nn.Module, config: MoRConfig, modules: Optional[Iterable[str]] = None) -> nn.Module:
    """Replaces every nn.Linear / Conv1D whose path matches `config.target_modules` (or exactly the paths in
    `modules`, e.g. the layers an adapter file holds) by a freshly initialised MoRLinear, freezes every other
    parameter, and records `config` as `model.mor_config`. Call it before wrapping the model in DDP/FSDP.

    Raises:
        ValueError: when the model already has MoR layers, a target is not a linear layer, or nothing matches.
    """
    model = unwrap_model(model)
    if mor_layers(model):
        raise ValueError("the model already has MoR layers (inject_mor was called on it before)")
    wanted = None if modules is None else set(modules)
    chosen: List[str] = []
    for path, module in model.named_modules():
        clean = clean_path(path)
        hit = clean in wanted if wanted is not None else matches_targets(clean, config.target_modules)
        if not hit:
            continue
        if base_layer_sizes(module) is None:
            if wanted is None and isinstance(module, (nn.ModuleList, nn.ModuleDict, nn.Sequential)):
                continue
            raise ValueError(
                f"module '{clean}' matches target_modules {js(config.target_modules)} but is a "
                f"{type(module).__name__}, not nn.Linear or Conv1D"
            )
        chosen.append(path)
    if wanted is not None:
        found = {clean_path(p) for p in chosen}
        missing = sorted(wanted - found)
        if missing:
            raise ValueError(f"module '{missing[0]}' matches no layer of the model")
    if not chosen:
        raise ValueError(f"target_modules {js(config.target_modules)} match no nn.Linear or Conv1D of the model")

    for p in model.parameters():
        p.requires_grad_(False)
    for path in chosen:
        parent_path, _, name = path.rpartition(".")
        parent = model.get_submodule(parent_path) if parent_path else model
        base = getattr(parent, name)
        layer = MoRLinear(
            base,
            r=config.r,
            alpha=config.lora_alpha,
            num_experts=config.num_experts,
            top_k=config.top_k,
            router_bias=config.router_bias,
            dropout=config.lora_dropout,
        )
        setattr(parent, name, layer)
    name_or_path = getattr(getattr(model, "config", None), "name_or_path", None)
    if config.base_model_name_or_path is None and isinstance(name_or_path, str) and name_or_path:
        config = dataclasses.replace(config, base_model_name_or_path=name_or_path)
    model.mor_config = config
    return model


def mor_parameters(model: nn.Module) -> List[nn.Parameter]:
    """The trainable MoR parameters (what the optimizer gets)."""
    return [p for layer in mor_layers(model).values() for n, p in layer.named_parameters() if n.startswith("mor_")]


def set_static_gate(model: nn.Module, gate: Optional[GateSpec]) -> None:
    """Routes every MoR layer with a fixed gate (`"uniform"`, N numbers, or a `static_gates` name); None
    restores the routers."""
    layers = mor_layers(model)
    if not layers:
        raise ValueError("the model has no MoR layers")
    if gate is None:
        for layer in layers.values():
            layer.set_static_gate(None)
        return
    first = next(iter(layers.values()))
    config = getattr(unwrap_model(model), "mor_config", None)
    g = resolve_gate(gate, first.num_experts, config.static_gates if config else None)
    for layer in layers.values():
        layer.set_static_gate(g)


def mor_aux_loss(model: nn.Module, attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The router load-balancing loss of the last training forward, averaged over the MoR layers (as `mor train`
    averages it, so the coefficient does not grow with the number of layers); padded tokens (attention_mask 0)
    do not count. Multiply by `router_aux_loss_coef` and add it to the task loss. Clears the recorded gates."""
    losses = []
    for layer in mor_layers(model).values():
        if layer.last_gates is not None:
            losses.append(load_balance_loss(layer.last_gates, attention_mask))
            layer.last_gates = None
    if not losses:
        raise ValueError("no MoR layer has routed a training forward since the last call (model.train()?)")
    return torch.stack(losses).mean()
