# MoRConfig: the keys of a MoR adapter's adapter_config.json (docs/adapter-format.md), validated the way
# @mor/format validates them (same rules, same wording, the file named), with unknown keys kept on round trip.
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from ._json import as_integer, is_finite_number, js, read_json_file
from .errors import AdapterFormatError

ADAPTER_CONFIG_FILE = "adapter_config.json"
ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors"
MOR_FORMAT_VERSION = 1

# The keys this package knows, in the order docs/adapter-format.md lists them (and @mor/format writes them).
_KNOWN_KEYS = (
    "peft_type", "format_version", "task_type", "base_model_name_or_path", "r", "lora_alpha", "num_experts",
    "top_k", "router_bias", "lora_dropout", "target_modules", "router_aux_loss_coef", "static_gates",
)  # fmt: skip


@dataclass
class MoRConfig:
    """A MoR adapter configuration; field names are the adapter_config.json keys.

    `lora_alpha` defaults to `2 * r`. `extra` holds keys this package does not know, written back unchanged.
    Construction validates every field and raises AdapterFormatError naming the first bad key.
    """

    r: int = 8
    lora_alpha: Optional[float] = None
    num_experts: int = 4
    top_k: Optional[int] = None
    router_bias: bool = False
    lora_dropout: float = 0.0
    target_modules: List[str] = field(default_factory=list)
    router_aux_loss_coef: float = 0.0
    static_gates: Dict[str, List[float]] = field(default_factory=dict)
    task_type: Optional[str] = "CAUSAL_LM"
    base_model_name_or_path: Optional[str] = None
    format_version: int = MOR_FORMAT_VERSION
    extra: Dict[str, Any] = field(default_factory=dict)
    # Key order of the file this config was read from (a round trip keeps it); None for a config built in code.
    key_order: Optional[List[str]] = field(default=None, repr=False, compare=False)
    # File named in error messages.
    file_name: Optional[str] = field(default=None, repr=False, compare=False)

    peft_type = "MOR"

    def __post_init__(self) -> None:
        def fail(key: str, detail: str):
            raise AdapterFormatError(f"invalid MoR config: {key}: {detail}", self.file_name)

        def positive_int(key: str, value: Any) -> int:
            n = as_integer(value)
            if n is None or n < 1:
                fail(key, f"expected an integer ≥ 1, got {js(value)}")
            return n

        def finite(key: str, value: Any) -> float:
            if not is_finite_number(value):
                fail(key, f"expected a finite number, got {js(value)}")
            return value

        self.r = positive_int("r", self.r)
        self.num_experts = positive_int("num_experts", self.num_experts)
        self.lora_alpha = 2 * self.r if self.lora_alpha is None else finite("lora_alpha", self.lora_alpha)
        if self.lora_alpha == 0:
            fail("lora_alpha", "must not be 0 (the adapter would do nothing)")
        if self.top_k is not None:
            self.top_k = positive_int("top_k", self.top_k)
            if self.top_k > self.num_experts:
                fail("top_k", f"{self.top_k} is larger than the number of experts ({self.num_experts})")
        if not isinstance(self.router_bias, bool):
            fail("router_bias", f"expected true or false, got {js(self.router_bias)}")
        self.lora_dropout = finite("lora_dropout", self.lora_dropout)
        if not 0 <= self.lora_dropout < 1:
            fail("lora_dropout", f"expected 0 ≤ p < 1, got {js(self.lora_dropout)}")
        self.router_aux_loss_coef = finite("router_aux_loss_coef", self.router_aux_loss_coef)
        if self.router_aux_loss_coef < 0:
            fail("router_aux_loss_coef", f"must be ≥ 0, got {js(self.router_aux_loss_coef)}")
        targets = self.target_modules
        if isinstance(targets, (list, tuple)) and len(targets) > 0:
            for t in targets:
                if not isinstance(t, str) or t.strip() == "":
                    fail("target_modules", f"every target must be a non-empty string, got {js(t)}")
            self.target_modules = list(targets)
        else:
            fail("target_modules", "expected a non-empty list of module names")
        for key in ("task_type", "base_model_name_or_path"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, str):
                raise AdapterFormatError(f"{key}: expected a string or null, got {js(value)}", self.file_name)
        self.static_gates = self._checked_gates(self.static_gates)

    def _checked_gates(self, value: Any) -> Dict[str, List[float]]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise AdapterFormatError('static_gates: expected an object {"name": [g_0, …]}', self.file_name)
        gates = {}
        for name, gate in value.items():
            if not (
                isinstance(gate, (list, tuple))
                and len(gate) == self.num_experts
                and all(is_finite_number(g) for g in gate)
            ):
                raise AdapterFormatError(
                    f"static_gates.{name}: expected {self.num_experts} finite numbers (num_experts), got {js(gate)}",
                    self.file_name,
                )
            gates[name] = [float(g) for g in gate]
        return gates

    @property
    def scaling(self) -> float:
        """`lora_alpha / r`, the factor on every branch output."""
        return self.lora_alpha / self.r

    @classmethod
    def from_dict(cls, raw: Dict[str, Any], file_name: Optional[str] = None) -> "MoRConfig":
        """Reads an adapter_config.json object; refuses a `peft_type` other than MOR and a newer format_version."""

        def fail(detail: str):
            raise AdapterFormatError(detail, file_name)

        if not isinstance(raw, dict):
            fail("not a JSON object")
        peft_type = raw.get("peft_type")
        if peft_type == "LORA":
            fail('peft_type "LORA" is a plain PEFT LoRA adapter: load it with peft (mor_torch reads "MOR" adapters)')
        if peft_type != "MOR":
            fail(f'unknown peft_type {js(peft_type)} (this reader knows "MOR" and "LORA")')
        version = raw.get("format_version", MOR_FORMAT_VERSION)
        if as_integer(version) is None or as_integer(version) < 1:
            fail(f"format_version: expected a positive integer, got {js(version)}")
        if as_integer(version) > MOR_FORMAT_VERSION:
            fail(
                f"format_version {as_integer(version)} is newer than this reader (it knows up to {MOR_FORMAT_VERSION}); update mor_torch"
            )
        if "lora_alpha" in raw and raw["lora_alpha"] is None:
            fail("invalid MoR config: lora_alpha: expected a finite number, got null")
        known = {k: raw[k] for k in _KNOWN_KEYS if k in raw and k != "peft_type"}
        known.setdefault("task_type", None)
        known["format_version"] = as_integer(version)
        if known.get("router_bias", False) is None:  # as @mor/format: null router_bias means no bias
            known["router_bias"] = False
        extra = {k: v for k, v in raw.items() if k not in _KNOWN_KEYS}
        if "r" not in known or "num_experts" not in known:
            missing = "r" if "r" not in known else "num_experts"
            fail(f"invalid MoR config: {missing}: expected an integer ≥ 1, got undefined")
        if "target_modules" not in known:
            known["target_modules"] = []
        return cls(**known, extra=extra, key_order=list(raw.keys()), file_name=file_name)

    @classmethod
    def from_pretrained(cls, adapter_dir: Union[str, Path]) -> "MoRConfig":
        """Reads `adapter_dir/adapter_config.json`."""
        path = Path(adapter_dir) / ADAPTER_CONFIG_FILE
        hint = " (an adapter directory needs adapter_config.json and adapter_model.safetensors)"
        return cls.from_dict(read_json_file(path, hint), str(path))

    def to_dict(self) -> Dict[str, Any]:
        """The adapter_config.json object: keys in the order of the file read (new keys after, in the format's
        order), unknown keys unchanged; the optional keys only when they carry something or were there."""
        values: Dict[str, Any] = {
            "peft_type": "MOR",
            "format_version": MOR_FORMAT_VERSION,
            "task_type": self.task_type,
            "base_model_name_or_path": self.base_model_name_or_path,
            "r": self.r,
            "lora_alpha": self.lora_alpha,
            "num_experts": self.num_experts,
            "top_k": self.top_k,
            "router_bias": self.router_bias,
            "lora_dropout": self.lora_dropout,
            "target_modules": list(self.target_modules),
        }
        order = self.key_order or []
        if self.router_aux_loss_coef != 0 or "router_aux_loss_coef" in order:
            values["router_aux_loss_coef"] = self.router_aux_loss_coef
        if self.static_gates or "static_gates" in order:
            values["static_gates"] = {k: list(v) for k, v in self.static_gates.items()}
        out: Dict[str, Any] = {}
        for key in order:
            if key in values:
                out[key] = values[key]
            elif key in self.extra:
                out[key] = self.extra[key]
        for key, value in list(values.items()) + list(self.extra.items()):
            out.setdefault(key, value)
        return out

    def to_json(self) -> str:
        """The text of adapter_config.json (2-space indent, final newline, as @mor/format writes it)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
