# save_adapter / load_adapter / read_adapter: the MoR adapter directory of docs/adapter-format.md
# (adapter_config.json + adapter_model.safetensors, tensors `base_model.model.MODULE.mor_*`), validated the way
# @mor/format's parseAdapter and validateAdapterAgainstModel validate it, with the same wording.
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Mapping, Optional, Union

import torch
import torch.distributed as dist
import torch.nn as nn

from ._json import js
from .atomic import write_files_atomic
from .config import ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, MoRConfig
from .errors import AdapterFormatError
from .inject import clean_path, inject_mor, matches_targets, mor_layers, unwrap_model
from .layer import MoRLinear, base_layer_sizes
from .safetensors_io import read_safetensors, serialize_safetensors

PEFT_PREFIX = "base_model.model."
# Tensor-name suffix of each MoR parameter, keyed by the MoRLinear parameter it holds.
MOR_SUFFIXES = {
    "mor_A.weight": "mor_A.weight",
    "mor_B.weight": "mor_B.weight",
    "mor_omega_A": "mor_omega_A",
    "mor_omega_B": "mor_omega_B",
    "mor_router.weight": "mor_router.weight",
    "mor_router.bias": "mor_router.bias",
}
LORA_SUFFIXES = ("lora_A.weight", "lora_B.weight")
_ADAPTER_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
_ALL_DTYPE_NAMES = {
    torch.float64: "F64", torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL", **_ADAPTER_DTYPES,
}  # fmt: skip


def tensor_name(module: str, suffix: str) -> str:
    """The full name of a module's tensor, as PEFT writes it."""
    return f"{PEFT_PREFIX}{module}.{suffix}"


@dataclass
class AdapterFiles:
    """A validated MoR adapter read from disk: the config and, per module path, its tensors by suffix (float32)."""

    config: MoRConfig
    layers: Dict[str, Dict[str, torch.Tensor]]
    dtype: str  # storage dtype of the file (F32 when it mixes dtypes)


def _finite(t: torch.Tensor, file_name: Optional[str], name: str) -> None:
    bad = (~torch.isfinite(t)).reshape(-1).nonzero()
    if bad.numel():
        i = int(bad[0])
        v = float(t.reshape(-1)[i])
        text = "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
        raise AdapterFormatError(f"non-finite value {text} at element {i} (NaN and ±Inf are refused)", file_name, name)


def _expect_shape(shape, expected, file_name: str, name: str) -> None:
    """Refuses a shape that is not `expected` ([(size, label)]), naming the first disagreeing dimension."""
    text = js(list(shape))
    if len(shape) != len(expected):
        labels = ", ".join(label for _, label in expected)
        raise AdapterFormatError(f"shape {text} should have {len(expected)} dimensions [{labels}]", file_name, name)
    for have, (size, label) in zip(shape, expected):
        if have != size:
            raise AdapterFormatError(f"shape {text} disagrees with {label} {size}", file_name, name)


def read_adapter(adapter_dir: Union[str, Path]) -> AdapterFiles:
    """Reads and validates a MoR adapter directory without a model: the safetensors header, the config, tensor
    names, complete tensor groups, shapes against `r` / `num_experts` / `router_bias`, dtypes, finite values.

    Raises:
        AdapterFormatError, SafetensorsError: naming the file and, where one is at fault, the tensor.
    """
    config = MoRConfig.from_pretrained(adapter_dir)
    weights = Path(adapter_dir) / ADAPTER_WEIGHTS_FILE
    fname = str(weights)
    if not weights.is_file():
        raise AdapterFormatError(
            "not found (an adapter directory needs adapter_config.json and adapter_model.safetensors)", fname
        )
    tensors, _ = read_safetensors(weights)
    for name, t in tensors.items():
        if t.dtype not in _ADAPTER_DTYPES:
            dtype = _ALL_DTYPE_NAMES.get(t.dtype, str(t.dtype))
            raise AdapterFormatError(f"dtype {dtype} is not an adapter dtype (F32, F16 or BF16)", fname, name)
    dtypes = {_ADAPTER_DTYPES[t.dtype] for t in tensors.values()}
    groups = _group(tensors, fname)
    layers = {}
    for module, group in groups.items():
        if not matches_targets(module, config.target_modules):
            raise AdapterFormatError(
                f"module '{module}' is not covered by target_modules {js(config.target_modules)}",
                fname,
                tensor_name(module, "mor_A.weight"),
            )
        layers[module] = _check_group(module, group, config, fname)
    return AdapterFiles(config, layers, dtypes.pop() if len(dtypes) == 1 else "F32")


def _group(tensors: Mapping[str, torch.Tensor], fname: str) -> Dict[str, Dict[str, torch.Tensor]]:
    groups: Dict[str, Dict[str, torch.Tensor]] = {}
    for name, t in tensors.items():
        suffix = next((s for s in MOR_SUFFIXES if name.endswith("." + s)), None)
        if suffix is None:
            if any(name.endswith("." + s) for s in LORA_SUFFIXES):
                raise AdapterFormatError(
                    "a LoRA tensor in a MOR adapter (see peft_type in adapter_config.json)", fname, name
                )
            raise AdapterFormatError(
                f"unknown tensor name: expected MODULE.{{{','.join(MOR_SUFFIXES)}}} (neither a MoR mor_* nor a LoRA lora_* tensor)",
                fname,
                name,
            )
        path = name[: -len(suffix) - 1]
        if not path.startswith(PEFT_PREFIX):
            raise AdapterFormatError(f"expected a name starting with '{PEFT_PREFIX}' (PEFT's prefix)", fname, name)
        module = path[len(PEFT_PREFIX) :]
        if module == "":
            raise AdapterFormatError("the module path is empty", fname, name)
        groups.setdefault(module, {})[suffix] = t
    return groups


def _check_group(module: str, group: Dict[str, torch.Tensor], config: MoRConfig, fname: str):
    r, n = config.r, config.num_experts
    required = ["mor_A.weight", "mor_B.weight", "mor_omega_A", "mor_omega_B", "mor_router.weight"]
    why = ""
    if config.router_bias:
        required.append("mor_router.bias")
    missing = [s for s in required if s not in group]
    if missing:
        if missing == ["mor_router.bias"]:
            why = " (router_bias is true)"
        raise AdapterFormatError(
            f"missing: module '{module}' has an incomplete tensor group (has {', '.join(group)}; lacks {', '.join(missing)}){why}",
            fname,
            tensor_name(module, missing[0]),
        )
    if not config.router_bias and "mor_router.bias" in group:
        raise AdapterFormatError(
            "present, but router_bias is false in adapter_config.json", fname, tensor_name(module, "mor_router.bias")
        )
    shape = {s: list(t.shape) for s, t in group.items()}
    name = {s: tensor_name(module, s) for s in group}
    a = shape["mor_A.weight"]
    _expect_shape(a, [(r, "r"), (a[1] if len(a) > 1 else 0, "d_in")], fname, name["mor_A.weight"])
    b = shape["mor_B.weight"]
    _expect_shape(b, [(b[0] if b else 0, "d_out"), (r, "r")], fname, name["mor_B.weight"])
    d_in, d_out = a[1], b[0]
    _expect_shape(shape["mor_omega_A"], [(n, "num_experts"), (r, "r")], fname, name["mor_omega_A"])
    _expect_shape(
        shape["mor_omega_B"], [(n, "num_experts"), (d_out, "d_out (rows of mor_B.weight)")], fname, name["mor_omega_B"]
    )
    _expect_shape(
        shape["mor_router.weight"],
        [(n, "num_experts"), (d_in, "d_in (columns of mor_A.weight)")],
        fname,
        name["mor_router.weight"],
    )
    if "mor_router.bias" in group:
        _expect_shape(shape["mor_router.bias"], [(n, "num_experts")], fname, name["mor_router.bias"])
    out = {}
    for s in MOR_SUFFIXES:  # in MOR_SUFFIXES order, as @mor/format reads them
        if s in group:
            t = group[s].float()
            _finite(t, fname, name[s])
            out[s] = t
    return out


def load_adapter(model: nn.Module, adapter_dir: Union[str, Path]) -> nn.Module:
    """Loads a MoR adapter into `model`: a model without MoR layers gets exactly the layers the file holds
    (`inject_mor`, everything else frozen); a model that has them must have the same layers and settings. The
    file is validated in full, and against the model (every module exists, `d_in`/`d_out` fit), before any
    weight changes. Load before wrapping the model in DDP/FSDP. Returns the model.

    Raises:
        AdapterFormatError, SafetensorsError: naming the file and the tensor at fault.
    """
    files = read_adapter(adapter_dir)
    config = files.config
    fname = str(Path(adapter_dir) / ADAPTER_WEIGHTS_FILE)
    inner = unwrap_model(model)
    existing = mor_layers(inner)
    if existing:
        sizes = {p: (m.in_features, m.out_features) for p, m in existing.items()}
    else:
        sizes = {}
        for p, m in inner.named_modules():
            s = base_layer_sizes(m)
            if s is not None:
                sizes[clean_path(p)] = s[:2]
    for module, group in files.layers.items():
        a_name, b_name = tensor_name(module, "mor_A.weight"), tensor_name(module, "mor_B.weight")
        if module not in sizes:
            what = "MoR layer" if existing else "layer"
            raise AdapterFormatError(f"module '{module}' matches no {what} of the base model", fname, a_name)
        d_in, d_out = sizes[module]
        a, b = group["mor_A.weight"], group["mor_B.weight"]
        if a.shape[1] != d_in:
            raise AdapterFormatError(
                f"shape {js(list(a.shape))} disagrees with the base layer: d_in {a.shape[1]}, the model's '{module}' takes {d_in}",
                fname,
                a_name,
            )
        if b.shape[0] != d_out:
            raise AdapterFormatError(
                f"shape {js(list(b.shape))} disagrees with the base layer: d_out {b.shape[0]}, the model's '{module}' gives {d_out}",
                fname,
                b_name,
            )
    if existing:
        _check_existing(existing, files, fname)
        inner.mor_config = config
    else:
        inject_mor(inner, config, modules=files.layers.keys())
    layers = mor_layers(inner)
    with torch.no_grad():
        for module, group in files.layers.items():
            params = dict(layers[module].named_parameters())
            for suffix, value in group.items():
                params[suffix].copy_(value)
    return model


def _check_existing(existing: Dict[str, MoRLinear], files: AdapterFiles, fname: str) -> None:
    c = files.config
    for module, layer in existing.items():
        if module not in files.layers:
            raise AdapterFormatError(
                f"the model has a MoR layer at '{module}' but the adapter has no tensors for it", fname
            )
        have = (layer.r, layer.lora_alpha, layer.num_experts, layer.top_k, layer.router_bias)
        want = (c.r, c.lora_alpha, c.num_experts, c.top_k, c.router_bias)
        if have != want:
            raise AdapterFormatError(
                f"the model's MoR layer '{module}' has r {have[0]}, lora_alpha {have[1]}, num_experts {have[2]}, "
                f"top_k {js(have[3])}, router_bias {js(have[4])}; the adapter has r {want[0]}, lora_alpha {want[1]}, "
                f"num_experts {want[2]}, top_k {js(want[3])}, router_bias {js(want[4])}",
                fname,
                tensor_name(module, "mor_A.weight"),
            )


def adapter_tensors(
    model: nn.Module, state_dict: Optional[Mapping[str, torch.Tensor]] = None
) -> Dict[str, torch.Tensor]:
    """The adapter's tensors by file name (`base_model.model.MODULE.mor_*`), from the model's MoR layers or,
    when given, from a full `state_dict` of it (what FSDP's FULL_STATE_DICT gives; wrapper path parts such as
    `_fsdp_wrapped_module.` and DDP's leading `module.` are ignored)."""
    layers = mor_layers(model)
    if not layers:
        raise ValueError("the model has no MoR layers (inject_mor or load_adapter first)")
    cleaned = None
    if state_dict is not None:
        cleaned = {}
        for key, value in state_dict.items():
            key = clean_path(key)
            cleaned[key] = value
            if key.startswith("module."):
                cleaned.setdefault(key[len("module.") :], value)
    out = {}
    for module, layer in layers.items():
        for suffix, param in layer.named_parameters():
            if suffix not in MOR_SUFFIXES:
                continue
            if cleaned is not None:
                key = f"{module}.{suffix}"
                if key not in cleaned:
                    raise ValueError(f"state_dict has no '{key}' (is it the full state dict of this model?)")
                param = cleaned[key]
            out[tensor_name(module, suffix)] = param.detach()
    return out


def save_adapter(
    model: nn.Module,
    adapter_dir: Union[str, Path],
    config: Optional[MoRConfig] = None,
    state_dict: Optional[Mapping[str, torch.Tensor]] = None,
    dtype: str = "F32",
    rank0_only: bool = True,
) -> None:
    """Writes the model's MoR adapter to `adapter_dir` (created if needed): adapter_model.safetensors (stored as
    `dtype`: F32, F16 or BF16) and adapter_config.json (`config`, default `model.mor_config`). Everything is
    serialized and checked (shapes against the config, finite values) before a byte is written; both files are
    written in full before either replaces its old copy, the weights renamed first. Under torch.distributed only
    rank 0 checks and writes (`rank0_only`); other ranks return at once, so it is safe to call everywhere. With
    FSDP, gather first (every rank) and pass the full `state_dict`.

    Raises:
        AdapterFormatError: for a NaN/±Inf value or layers that disagree with the config.
        FileWriteError: naming the file that could not be written.
    """
    if rank0_only and dist.is_available() and dist.is_initialized() and dist.get_rank() != 0:
        return  # FSDP gathers (rank0_only) leave other ranks an empty state dict: they have nothing to check
    inner = unwrap_model(model)
    config = config or getattr(inner, "mor_config", None)
    if config is None:
        raise ValueError("no MoRConfig: pass config= or build the model with inject_mor/load_adapter")
    tensors = adapter_tensors(inner, state_dict)
    for module, layer in mor_layers(inner).items():
        if (layer.r, layer.num_experts, layer.router_bias) != (config.r, config.num_experts, config.router_bias):
            raise AdapterFormatError(
                f"layer has r {layer.r}, {layer.num_experts} experts, router bias {js(layer.router_bias)}; the config "
                f"says r {config.r}, num_experts {config.num_experts}, router_bias {js(config.router_bias)}",
                ADAPTER_WEIGHTS_FILE,
                tensor_name(module, "mor_A.weight"),
            )
        if not matches_targets(module, config.target_modules):
            raise AdapterFormatError(
                f"module '{module}' is not covered by target_modules {js(config.target_modules)}",
                ADAPTER_WEIGHTS_FILE,
                tensor_name(module, "mor_A.weight"),
            )
    for name, t in tensors.items():
        _finite(t.float(), ADAPTER_WEIGHTS_FILE, name)
    data = serialize_safetensors(tensors, dtype=dtype, metadata={"format": "pt"})
    out = Path(adapter_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_files_atomic([(out / ADAPTER_WEIGHTS_FILE, data), (out / ADAPTER_CONFIG_FILE, config.to_json())])
