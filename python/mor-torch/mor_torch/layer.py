# MoRLinear: a frozen linear layer (nn.Linear, or GPT-2's Conv1D) with a MoR branch, docs/mor-spec.md §1-§3.
# Every parameter is created in __init__ with its final shape and there are no buffers, so DDP and FSDP shard and
# broadcast the module like any other; the static gate is a plain attribute, never part of the state dict.
from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from .routing import route


def is_conv1d(module: nn.Module) -> bool:
    """GPT-2's `transformers.pytorch_utils.Conv1D` (weight `[d_in, d_out]`, `y = x W + b`), recognised by its
    class name and `nf` attribute so that transformers need not be installed."""
    return type(module).__name__ == "Conv1D" and hasattr(module, "nf") and hasattr(module, "weight")


def base_layer_sizes(module: nn.Module):
    """(d_in, d_out, fan_in_fan_out) of a linear layer MoR can wrap, or None for any other module."""
    if isinstance(module, nn.Linear):
        return module.in_features, module.out_features, False
    if is_conv1d(module):
        d_in, d_out = module.weight.shape
        return d_in, d_out, True
    return None


def static_m(omega_a: torch.Tensor, omega_b: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
    """`M = (g ⊙ omega_B)ᵀ · omega_A`, `[d_out, r]` (mor-spec §3): `M[j,k] = Σ_i g_i omega_B[i,j] omega_A[i,k]`."""
    return (gate[:, None] * omega_b).transpose(0, 1) @ omega_a


class ZeroInitLinear(nn.Linear):
    """nn.Linear whose `reset_parameters` zeros the weight: `mor_B`, which the spec starts at 0. Its own reset
    keeps deferred (meta-device) initialisation right, which calls each module's `reset_parameters`."""

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)


class MoRLinear(nn.Module):
    """A frozen `base` linear layer plus a MoR branch of `num_experts` rank experts sharing one rank-`r` pair.

    Parameters (named as the adapter file names its tensors): `mor_A` (nn.Linear, weight `[r, d_in]`), `mor_B`
    (nn.Linear, weight `[d_out, r]`), `mor_omega_A` `[N, r]`, `mor_omega_B` `[N, d_out]`, `mor_router`
    (nn.Linear, weight `[N, d_in]`, bias `[N]` when `router_bias`). The base layer is kept as `base_layer`.

    Routing: dense softmax (`top_k=None`), top-k softmax, or a fixed gate (`static_gate`, set with
    `set_static_gate`), which uses no router. Dropout (`dropout`, training only) applies to the branch input of
    `mor_A`; the router and the base layer see `x` undropped.
    """

    def __init__(
        self,
        base: nn.Module,
        r: int,
        alpha: float,
        num_experts: int,
        top_k: Optional[int] = None,
        router_bias: bool = False,
        dropout: float = 0.0,
    ):
        super().__init__()
        sizes = base_layer_sizes(base)
        if sizes is None:
            raise TypeError(f"MoRLinear wraps nn.Linear or GPT-2's Conv1D, got {type(base).__name__}")
        d_in, d_out, fan_in_fan_out = sizes
        if not (isinstance(r, int) and r >= 1 and isinstance(num_experts, int) and num_experts >= 1):
            raise ValueError(f"r and num_experts must be integers ≥ 1, got r={r!r}, num_experts={num_experts!r}")
        if top_k is not None and not 1 <= top_k <= num_experts:
            raise ValueError(f"top_k must be in [1, {num_experts}] or None, got {top_k!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must satisfy 0 ≤ p < 1, got {dropout!r}")
        self.base_layer = base
        self.in_features, self.out_features, self.fan_in_fan_out = d_in, d_out, fan_in_fan_out
        self.r, self.lora_alpha, self.num_experts = r, alpha, num_experts
        self.top_k, self.router_bias, self.dropout_p = top_k, router_bias, dropout
        self.scaling = alpha / r
        # Master copies in float32 on the base weight's device (also "meta", for deferred FSDP init).
        factory = {"device": base.weight.device, "dtype": torch.float32}
        self.mor_A = nn.Linear(d_in, r, bias=False, **factory)
        self.mor_B = ZeroInitLinear(r, d_out, bias=False, **factory)
        self.mor_omega_A = nn.Parameter(torch.empty(num_experts, r, **factory))
        self.mor_omega_B = nn.Parameter(torch.empty(num_experts, d_out, **factory))
        self.mor_router = nn.Linear(d_in, num_experts, bias=router_bias, **factory)
        self.mor_dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.static_gate: Optional[torch.Tensor] = None
        self.last_gates: Optional[torch.Tensor] = None  # gates of the last training forward, for the aux loss
        self.reset_mor_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Resets the parameters this module holds itself, the omegas (to ones): the hook deferred (meta-device)
        initialisation calls on every module, FSDP's included. `mor_A`, `mor_B` and `mor_router` reset themselves."""
        nn.init.ones_(self.mor_omega_A)
        nn.init.ones_(self.mor_omega_B)

    @torch.no_grad()
    def reset_mor_parameters(self) -> None:
        """The spec's init: A and the router weight kaiming-uniform (a = √5: nn.Linear's default, and PEFT's LoRA
        A), B zeros (the adapter starts as the identity), omegas ones, router bias uniform(±1/√d_in) (nn.Linear's
        default bias). The router must be random (mor-spec §5): with B = 0 and omega = 1 only it breaks the
        symmetry between experts. The base layer is left alone."""
        self.mor_A.reset_parameters()
        self.mor_B.reset_parameters()
        self.mor_router.reset_parameters()
        self.reset_parameters()

    def set_static_gate(self, gate: Union[None, Sequence[float], torch.Tensor]) -> None:
        """Route every token with the fixed gate `[N]` (None: back to the router)."""
        if gate is None:
            self.static_gate = None
            return
        g = torch.as_tensor(gate, dtype=torch.float64).detach().cpu()
        if g.shape != (self.num_experts,) or not torch.isfinite(g).all():
            raise ValueError(f"a gate for this layer needs {self.num_experts} finite numbers, got {g.tolist()}")
        self.static_gate = g

    def expanded_b(self) -> torch.Tensor:
        """`B_exp` `[d_out, N·r]` (mor-spec §2): column block i is `diag(omega_B[i]) · B · diag(omega_A[i])`."""
        n, r = self.num_experts, self.r
        b = self.mor_B.weight  # [d_out, r]
        blocks = self.mor_omega_B.t()[:, :, None] * b[:, None, :] * self.mor_omega_A[None, :, :]  # [d_out, N, r]
        return blocks.reshape(self.out_features, n * r)

    def static_b(self, gate: torch.Tensor) -> torch.Tensor:
        """`B_static = B ⊙ M` `[d_out, r]`: the B of the rank-r LoRA this layer equals under `gate` (§3)."""
        g = gate.to(device=self.mor_B.weight.device, dtype=self.mor_B.weight.dtype)
        return self.mor_B.weight * static_m(self.mor_omega_A, self.mor_omega_B, g)

    def mor_delta(self, x: torch.Tensor) -> torch.Tensor:
        """The MoR branch output `[..., d_out]` for `x` `[..., d_in]`, in the adapter's dtype."""
        x = x.to(self.mor_A.weight.dtype)
        u = self.mor_A(self.mor_dropout(x))  # [..., r]
        if self.static_gate is not None:
            return self.scaling * F.linear(u, self.static_b(self.static_gate))
        gates = route(self.mor_router(x), self.top_k)  # [..., N]
        if self.training:
            self.last_gates = gates
        z = (gates.unsqueeze(-1) * u.unsqueeze(-2)).flatten(-2)  # g ⊗ u, expert-major: [..., N·r]
        return self.scaling * F.linear(z, self.expanded_b())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        result = self.base_layer(x)
        return result + self.mor_delta(x).to(result.dtype)

    def __getstate__(self):
        # The recorded gates are part of an autograd graph: deepcopy/pickle (FSDP, accelerate) must not see them.
        state = self.__dict__.copy()
        state["last_gates"] = None
        return state

    def extra_repr(self) -> str:
        routing = "static" if self.static_gate is not None else ("dense" if self.top_k is None else f"top-{self.top_k}")
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, r={self.r}, "
            f"lora_alpha={self.lora_alpha}, num_experts={self.num_experts}, routing={routing}, "
            f"router_bias={self.router_bias}, dropout={self.dropout_p}"
        )
