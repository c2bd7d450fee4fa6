# Router gates and the load-balancing loss of docs/mor-spec.md §1, in torch ops, so autograd gives the gradients
# the spec describes (top-k: only through the selected logits; aux loss: through the mean gate only).
from __future__ import annotations

from typing import Mapping, Optional, Sequence, Union

import torch
import torch.nn.functional as F

from ._json import is_finite_number, js
from .errors import AdapterFormatError

GateSpec = Union[str, Sequence[float], torch.Tensor]


def route(logits: torch.Tensor, top_k: Optional[int] = None) -> torch.Tensor:
    """Gates `[..., N]` from router logits `[..., N]`: softmax over all experts (dense), or over the `top_k`
    largest logits with 0 for the rest. Ties go to the lower expert index: a stable descending sort keeps equal
    logits in index order (`torch.topk` promises no order among ties). The mask is a constant, so the gradient
    reaches only the selected logits."""
    n = logits.shape[-1]
    if top_k is None or top_k >= n:
        return torch.softmax(logits, dim=-1)
    chosen = torch.sort(logits.detach(), dim=-1, descending=True, stable=True).indices[..., :top_k]
    keep = torch.zeros_like(logits, dtype=torch.bool).scatter_(-1, chosen, True)
    return torch.softmax(logits.masked_fill(~keep, float("-inf")), dim=-1)


def load_balance_loss(gates: torch.Tensor, attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """`N · Σ_i f_i · P_i` over the tokens of `gates` `[..., N]` (f_i: share of tokens whose arg-max gate is i,
    ties to the lower index; P_i: mean gate of i). `attention_mask` `[...]` (the leading dims of `gates`) drops
    padded tokens, as `mor train` does. f is a count, so the gradient flows through P only."""
    n = gates.shape[-1]
    g = gates.reshape(-1, n)
    if attention_mask is None:
        w = torch.ones(g.shape[0], 1, dtype=g.dtype, device=g.device)
    else:
        w = attention_mask.reshape(-1, 1).to(dtype=g.dtype, device=g.device)
    count = w.sum().clamp(min=1)
    best = g.detach().argmax(dim=-1)  # the first maximum: ties to the lower index
    share = (F.one_hot(best, n).to(g.dtype) * w).sum(0) / count
    mean_gate = (g * w).sum(0) / count
    return n * (share * mean_gate).sum()


def resolve_gate(
    spec: GateSpec, num_experts: int, static_gates: Optional[Mapping[str, Sequence[float]]] = None
) -> torch.Tensor:
    """A fixed gate `[N]` (float64) from a gate spec as `mor --gate` takes it: `"uniform"`, N numbers, or the
    name of an entry in the adapter's `static_gates`."""
    static_gates = static_gates or {}
    if isinstance(spec, str):
        if spec == "uniform":
            return torch.full((num_experts,), 1.0 / num_experts, dtype=torch.float64)
        if spec in static_gates:
            spec = static_gates[spec]
        else:
            names = ", ".join(['"uniform"'] + [js(k) for k in static_gates])
            raise AdapterFormatError(
                f"unknown gate {js(spec)}: expected {names}, or a list of {num_experts} numbers"
            )
    values = spec.tolist() if isinstance(spec, torch.Tensor) else list(spec)
    if len(values) != num_experts or not all(is_finite_number(g) for g in values):
        raise AdapterFormatError(
            f"a gate for this adapter needs {num_experts} finite numbers (one per expert), got {js(values)}"
        )
    return torch.tensor(values, dtype=torch.float64)
