#!/usr/bin/env python3
"""PyTorch CPU baseline of bench/train.mjs: the same Llama shapes (random weights; throughput only needs the same
architecture), MoR in the rank-expansion form of mor-spec.md section 2 or a plain LoRA on the 7 projections,
AdamW on the adapter parameters only. Prints `RESULT {json}` with the median step time and the peak RSS.

  python3 bench/torch_train.py --method mor|lora [--hidden 256 --layers 4 ... as bench/train.mjs]
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class MoRLinear(nn.Module):
    """y = W x + (alpha/r) * B_exp (g (x) u), u = A x, g = softmax(W_g x): mor-spec.md sections 1-2.
    With top_k > 0 the softmax runs over the k largest logits, 0 elsewhere (mor-spec.md "Routing modes")."""

    def __init__(self, base: nn.Linear, r: int, n: int, alpha: float, top_k: int = 0):
        super().__init__()
        self.base, self.r, self.n, self.scaling, self.top_k = base, r, n, alpha / r, top_k
        d_in, d_out = base.in_features, base.out_features
        self.A = nn.Parameter(torch.empty(r, d_in))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
        self.B = nn.Parameter(torch.zeros(d_out, r))
        self.omega_A = nn.Parameter(torch.ones(n, r))
        self.omega_B = nn.Parameter(torch.ones(n, d_out))
        self.router = nn.Linear(d_in, n, bias=False)

    def forward(self, x):
        u = x @ self.A.t()  # [..., r]
        logits = self.router(x)
        if self.top_k:
            values, indices = logits.topk(self.top_k, dim=-1)
            g = torch.zeros_like(logits).scatter(-1, indices, torch.softmax(values, dim=-1))  # [..., N]
        else:
            g = torch.softmax(logits, dim=-1)  # [..., N]
        z = (g.unsqueeze(-1) * u.unsqueeze(-2)).flatten(-2)  # [..., N*r], expert-major
        # B_exp [d_out, N*r]: formed once per step from the parameters.
        b_exp = (self.omega_B.unsqueeze(2) * self.B.unsqueeze(0) * self.omega_A.unsqueeze(1))  # [N, d_out, r]
        b_exp = b_exp.permute(1, 0, 2).reshape(self.B.shape[0], self.n * self.r)
        return self.base(x) + self.scaling * (z @ b_exp.t())


class LoRALinear(nn.Module):
    def __init__(self, base: nn.Linear, r: int, alpha: float):
        super().__init__()
        self.base, self.scaling = base, alpha / r
        self.A = nn.Parameter(torch.empty(r, base.in_features))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
        self.B = nn.Parameter(torch.zeros(base.out_features, r))

    def forward(self, x):
        return self.base(x) + self.scaling * ((x @ self.A.t()) @ self.B.t())


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(d)), eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def attention(q, k, v):
    # Causal softmax attention (torch 1.13, Debian's, has no scaled_dot_product_attention).
    t = q.shape[-2]
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    mask = torch.full((t, t), float("-inf")).triu(1)
    return torch.softmax(scores + mask, dim=-1) @ v


class Block(nn.Module):
    def __init__(self, a):
        super().__init__()
        h, hd = a.hidden, a.hidden // a.heads
        self.heads, self.kv_heads, self.hd = a.heads, a.kv_heads, hd
        self.input_layernorm, self.post_attention_layernorm = RMSNorm(h), RMSNorm(h)
        self.q_proj = nn.Linear(h, a.heads * hd, bias=False)
        self.k_proj = nn.Linear(h, a.kv_heads * hd, bias=False)
        self.v_proj = nn.Linear(h, a.kv_heads * hd, bias=False)
        self.o_proj = nn.Linear(a.heads * hd, h, bias=False)
        self.gate_proj = nn.Linear(h, a.intermediate, bias=False)
        self.up_proj = nn.Linear(h, a.intermediate, bias=False)
        self.down_proj = nn.Linear(a.intermediate, h, bias=False)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        y = self.input_layernorm(x)
        q = self.q_proj(y).view(b, t, self.heads, self.hd).transpose(1, 2)
        k = self.k_proj(y).view(b, t, self.kv_heads, self.hd).transpose(1, 2)
        v = self.v_proj(y).view(b, t, self.kv_heads, self.hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        rep = self.heads // self.kv_heads
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        att = attention(q, k, v)
        x = x + self.o_proj(att.transpose(1, 2).reshape(b, t, -1))
        y = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(y)) * self.up_proj(y))


class Llama(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.embed_tokens = nn.Embedding(a.vocab, a.hidden)
        self.layers = nn.ModuleList(Block(a) for _ in range(a.layers))
        self.norm = RMSNorm(a.hidden)
        self.lm_head = nn.Linear(a.hidden, a.vocab, bias=False)
        hd = a.hidden // a.heads
        inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
        freqs = torch.outer(torch.arange(a.seq).float(), inv)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos", emb.cos()[None, None], persistent=False)
        self.register_buffer("sin", emb.sin()[None, None], persistent=False)

    def forward(self, ids):
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, self.cos, self.sin)
        return self.lm_head(self.norm(x))


def peak_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--method", choices=("mor", "lora"), required=True)
    for name, default in dict(hidden=256, layers=4, heads=4, kv_heads=2, intermediate=512, vocab=4096, batch=8,
                              seq=128, steps=10, warmup=2, threads=2, r=8, experts=8, top_k=0, seed=0).items():
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = Llama(a)
    for q in model.parameters():
        q.requires_grad_(False)
    for block in model.layers:
        for name in PROJECTIONS:
            base = getattr(block, name)
            wrapped = MoRLinear(base, a.r, a.experts, 2 * a.r, a.top_k) if a.method == "mor" else LoRALinear(base, a.r, 2 * a.r)
            setattr(block, name, wrapped)
    params = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
    ids = torch.randint(0, a.vocab, (a.batch, a.seq))
    times, cpu_times, losses = [], [], []
    t0 = time.perf_counter()
    for i in range(a.warmup + a.steps):
        t, c = time.perf_counter(), time.process_time()
        logits = model(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, a.vocab), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if i >= a.warmup:
            times.append((time.perf_counter() - t) * 1000)
            cpu_times.append((time.process_time() - c) * 1000)
    step_ms = statistics.median(times)
    result = dict(method=a.method, stepMs=step_ms, cpuMs=statistics.median(cpu_times), tokPerS=a.batch * a.seq * 1000 / step_ms, times=times,
                  losses=losses, peakMB=peak_mb(), createMs=None, torch=torch.__version__,
                  blas=torch.__config__.show().count("openblas") > 0 or "OpenBLAS" in torch.__config__.show(),
                  threads=torch.get_num_threads(), params=sum(q.numel() for q in params))
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
