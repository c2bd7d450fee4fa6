# Data-parallel MoR training with torchrun (DDP): every rank holds the whole model, trains only the MoR
# parameters, and takes its share of each global batch; gradients are averaged by DDP, and the loss is normalised
# by the global token count, so N processes give the adapter one process gives on the same global batch.
#
#   torchrun --nproc_per_node 2 examples/train_ddp.py --model ../../fixtures/tiny-llama \
#       --data ../../fixtures/tiny-llama/golden_data.jsonl --out /tmp/mor-ddp --batch-size 2 --max-steps 2
#
# Runs on CPU (gloo) or GPUs (nccl, one per rank). The model comes from transformers (AutoModelForCausalLM) when it
# is installed, else from the plain-PyTorch Llama beside this file (Llama checkpoints only). Rows are JSONL:
# {"input_ids": [...], "labels": [...]?} (labels default to input_ids, -100 ignored), or {"text": ...} when
# transformers (its tokenizer) is installed. The output is a MoR adapter directory mor-js loads as it is
# (`mor forward --adapter OUT`, `mor push`, `mor export`). Flags follow `mor train`'s where they overlap.
#
# With Debian's torch 1.13 on Python 3.11, torchrun fails before starting workers (its Std flag enum misparses
# the default "--redirects 0"); add `--redirects 1 --tee 1` to the torchrun command there.
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from mor_torch import MoRConfig, inject_mor, load_adapter, mor_aux_loss, mor_parameters, save_adapter  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description="train a MoR adapter with DDP (torchrun)")
    p.add_argument("--model", required=True, help="model directory (config.json + model.safetensors)")
    p.add_argument("--data", required=True, help="training rows, JSONL")
    p.add_argument("--out", required=True, help="output adapter directory")
    p.add_argument("--init", help="start from this MoR adapter (e.g. one `mor train` wrote)")
    p.add_argument("--targets", default="q_proj,v_proj", help="module names to adapt (default q_proj,v_proj)")
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--alpha", type=float, default=None, help="default 2·rank")
    p.add_argument("--experts", type=int, default=4)
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--router-bias", action="store_true")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--aux-loss-coef", type=float, default=0.0, help="router load-balancing loss coefficient")
    p.add_argument("--optimizer", choices=["adamw", "sgd"], default="adamw")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--batch-size", type=int, default=8, help="rows per optimizer step, over all ranks")
    p.add_argument("--max-steps", type=int, required=True)
    p.add_argument("--seed", type=int, default=0, help="seed of the init and the data order")
    p.add_argument("--no-shuffle", action="store_true", help="keep the file order")
    p.add_argument("--plain", action="store_true", help="use the plain-PyTorch Llama even if transformers exists")
    return p.parse_args(argv)


def load_model(model_dir: str, plain: bool):
    if not plain:
        try:
            from transformers import AutoModelForCausalLM  # optional
        except ImportError:
            plain = True
    if plain:
        from plain_llama import LlamaForCausalLM

        return LlamaForCausalLM.from_pretrained(model_dir), None
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
    except (OSError, ValueError):
        tokenizer = None
    return model, tokenizer


def read_rows(path: str, tokenizer):
    rows = []
    for line_no, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if "input_ids" in row:
            ids = row["input_ids"]
        elif "text" in row and tokenizer is not None:
            ids = tokenizer(row["text"])["input_ids"]
        else:
            raise SystemExit(f"{path}: line {line_no}: expected input_ids (or text, with transformers installed)")
        labels = row.get("labels", ids)
        if len(labels) != len(ids):
            raise SystemExit(f"{path}: line {line_no}: labels has {len(labels)} entries, input_ids {len(ids)}")
        rows.append((ids, labels))
    return rows


def batch_of(rows, pad_id: int, device):
    """Right-padded input_ids, attention_mask and labels (-100 on padding)."""
    t = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), t), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), t), -100, dtype=torch.long)
    mask = torch.zeros((len(rows), t), dtype=torch.long)
    for i, (x, y) in enumerate(rows):
        ids[i, : len(x)], labels[i, : len(y)], mask[i, : len(x)] = torch.tensor(x), torch.tensor(y), 1
    return ids.to(device), mask.to(device), labels.to(device)


def row_order(n_rows: int, steps: int, batch: int, seed: int, shuffle: bool):
    """Row indices of every step's global batch: epochs back to back, each a seeded permutation."""
    order, epoch = [], 0
    while len(order) < steps * batch:
        g = torch.Generator().manual_seed(seed + epoch)
        order += torch.randperm(n_rows, generator=g).tolist() if shuffle else list(range(n_rows))
        epoch += 1
    return [order[s * batch : (s + 1) * batch] for s in range(steps)]


def main(argv=None) -> Path:
    args = parse_args(argv)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
    if args.batch_size % world:
        raise SystemExit(f"--batch-size {args.batch_size} must be a multiple of the {world} processes")

    torch.manual_seed(args.seed)  # the same init on every rank (DDP also broadcasts rank 0's parameters)
    model, tokenizer = load_model(args.model, args.plain)
    if args.init:
        load_adapter(model, args.init)
    else:
        targets = [t for t in args.targets.split(",") if t]
        config = MoRConfig(
            r=args.rank, lora_alpha=args.alpha, num_experts=args.experts, top_k=args.top_k,
            router_bias=args.router_bias, lora_dropout=args.dropout, target_modules=targets,
            router_aux_loss_coef=args.aux_loss_coef, base_model_name_or_path=Path(args.model).name,
        )  # fmt: skip
        inject_mor(model, config)
    model.to(device).train()
    params = mor_parameters(model)
    net = model
    if distributed:  # one process needs no wrapper; N processes all-reduce gradients through DDP
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None)
    if args.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=args.lr, weight_decay=args.weight_decay)
    else:
        opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)

    rows = read_rows(args.data, tokenizer)
    pad_id = getattr(getattr(model, "config", None), "pad_token_id", None) or 0
    coef = model.mor_config.router_aux_loss_coef
    tokens_seen = 0
    for step, batch in enumerate(row_order(len(rows), args.max_steps, args.batch_size, args.seed, not args.no_shuffle)):
        ids, mask, labels = batch_of([rows[i] for i in batch[rank::world]], pad_id, device)
        targets = labels[:, 1:]
        count = (targets != -100).sum().float()
        total = count.clone()
        if distributed:
            dist.all_reduce(total)  # tokens of the whole global batch
        logits = net(input_ids=ids, attention_mask=mask).logits
        token_loss = F.cross_entropy(
            logits[:, :-1].float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100, reduction="sum"
        )
        # DDP averages gradients over ranks: scaling by world / global tokens makes that the global mean.
        loss = token_loss * world / total.clamp(min=1)
        if coef > 0:
            loss = loss + coef * mor_aux_loss(model, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        mean = token_loss.detach().clone()
        if distributed:
            dist.all_reduce(mean)
        tokens_seen += int(total.item())
        if rank == 0:
            print(f"step {step + 1}/{args.max_steps}  loss {mean.item() / max(total.item(), 1):.4f}", flush=True)

    out = Path(args.out)
    save_adapter(model, out)  # rank 0 writes
    if rank == 0:
        summary = {
            "data": {"file": Path(args.data).name, "rows": len(rows), "tokens": tokens_seen},
            "training": {
                "engine": "mor_torch (DDP)", "processes": world, "optimizer": args.optimizer, "lr": args.lr,
                "batch_size": args.batch_size, "max_steps": args.max_steps, "seed": args.seed,
            },
        }  # fmt: skip
        (out / "training_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        print(f"adapter written to {out}", flush=True)
    if distributed:
        dist.destroy_process_group()
    return out


if __name__ == "__main__":
    main()
