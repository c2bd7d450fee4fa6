# Shared test helpers: where the repository's fixtures are (read through a repo-relative path, never from outside
# the repository), golden tensors as torch tensors, the paths of the examples (the plain-PyTorch Llama lives there,
# since the torchrun example needs it too when transformers is not installed), and a stand-in for GPT-2's Conv1D
# (transformers cannot be installed here).
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
import torch.nn as nn

PACKAGE_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = PACKAGE_DIR.parents[1]
FIXTURES = REPO_DIR / "fixtures"
TINY_LLAMA = FIXTURES / "tiny-llama"
EXAMPLES = PACKAGE_DIR / "examples"

for path in (PACKAGE_DIR, EXAMPLES):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def tensor(obj) -> torch.Tensor:
    """A golden `{"shape": [...], "data": [...]}` as a float32 tensor."""
    return torch.tensor(obj["data"], dtype=torch.float32).reshape(obj["shape"])


def assert_close(actual: torch.Tensor, expected: torch.Tensor, atol: float, what: str) -> None:
    assert actual.shape == expected.shape, f"{what}: shape {list(actual.shape)} != {list(expected.shape)}"
    diff = (actual.detach().double() - expected.detach().double()).abs().max().item() if actual.numel() else 0.0
    assert diff <= atol, f"{what}: max |diff| {diff:.3g} > {atol}"


@pytest.fixture(scope="session")
def llama_golden():
    return json.loads((TINY_LLAMA / "golden.json").read_text())


class Conv1D(nn.Module):
    """GPT-2's Conv1D as transformers defines it: weight [d_in, d_out], y = x W + b."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.randn(nx, nf) * 0.1)
        self.bias = nn.Parameter(torch.randn(nf) * 0.1)

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).reshape(*x.shape[:-1], self.nf)
