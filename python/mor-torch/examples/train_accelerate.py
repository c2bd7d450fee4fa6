# MoR training of a Hugging Face causal LM under `accelerate launch` (DDP, FSDP or DeepSpeed, whatever
# `accelerate config` chose), writing a MoR adapter mor-js loads as it is.
#
# NOT RUN HERE: this repository's test machines cannot install transformers or accelerate, so this script is
# untested; examples/train_ddp.py is the runnable (and tested) torchrun version of the same loop. Needs
# `pip install mor-torch[hf]` (transformers, accelerate, safetensors).
#
#   accelerate config            # e.g. FSDP: set fsdp_use_orig_params: true (frozen and trainable weights share
#                                # FSDP's flat parameters otherwise, which FSDP refuses)
#   accelerate launch examples/train_accelerate.py --model meta-llama/Llama-3.2-1B --data train.jsonl \
#       --out my-adapter --targets q_proj,k_proj,v_proj,o_proj --rank 16 --experts 4 --max-steps 1000
#
# Rows are JSONL: {"text": ...} or {"input_ids": [...], "labels": [...]?}. --init continues an adapter that
# `mor train` (in the browser or Node) wrote. The loss is the mean over the global batch's tokens on any number
# of processes (each rank's token sum scaled by processes / global token count, as DDP averages gradients).
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from transformers import AutoModelForCausalLM, AutoTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mor_torch import MoRConfig, inject_mor, load_adapter, mor_aux_loss, mor_parameters, save_adapter  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description="train a MoR adapter with accelerate")
    p.add_argument("--model", required=True, help="Hugging Face model id or directory")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--init", help="continue this MoR adapter directory")
    p.add_argument("--targets", default="q_proj,v_proj")
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--alpha", type=float, default=None)
    p.add_argument("--experts", type=int, default=4)
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--router-bias", action="store_true")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--aux-loss-coef", type=float, default=0.0)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--batch-size", type=int, default=8, help="rows per process per step")
    p.add_argument("--max-length", type=int, default=1024)
    p.add_argument("--max-steps", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def read_rows(path, tokenizer, max_length):
    rows = []
    for line in Path(path).read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        ids = row["input_ids"] if "input_ids" in row else tokenizer(row["text"])["input_ids"]
        labels = row.get("labels", ids)
        rows.append((ids[:max_length], labels[:max_length]))
    return rows


def collate(rows, pad_id):
    t = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), t), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), t), -100, dtype=torch.long)
    mask = torch.zeros((len(rows), t), dtype=torch.long)
    for i, (x, y) in enumerate(rows):
        ids[i, : len(x)], labels[i, : len(y)], mask[i, : len(x)] = torch.tensor(x), torch.tensor(y), 1
    return ids, mask, labels


def main():
    args = parse_args()
    accelerator = Accelerator()
    set_seed(args.seed)  # the same init on every process, and the loader's shuffle
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    # float32 weights: FSDP flattens a block's frozen base weights and its MoR parameters together and needs one
    # dtype; bf16 compute comes from accelerate's mixed_precision setting.
    model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.float32)
    if args.init:
        load_adapter(model, args.init)  # before prepare(): FSDP must see the MoR layers when it wraps
    else:
        inject_mor(
            model,
            MoRConfig(
                r=args.rank, lora_alpha=args.alpha, num_experts=args.experts, top_k=args.top_k,
                router_bias=args.router_bias, lora_dropout=args.dropout, router_aux_loss_coef=args.aux_loss_coef,
                target_modules=[t for t in args.targets.split(",") if t], base_model_name_or_path=args.model,
            ),
        )  # fmt: skip
    config = model.mor_config
    optimizer = torch.optim.AdamW(mor_parameters(model), lr=args.lr, weight_decay=args.weight_decay)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    rows = read_rows(args.data, tokenizer, args.max_length)
    loader = DataLoader(rows, batch_size=args.batch_size, shuffle=True, collate_fn=lambda b: collate(b, pad_id))
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    model.train()

    step = 0
    while step < args.max_steps:
        for ids, mask, labels in loader:
            targets = labels[:, 1:]
            total = accelerator.reduce((targets != -100).sum().float(), reduction="sum")
            logits = model(input_ids=ids, attention_mask=mask).logits
            token_loss = F.cross_entropy(
                logits[:, :-1].float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100,
                reduction="sum",
            )  # fmt: skip
            loss = token_loss * accelerator.num_processes / total.clamp(min=1)
            if config.router_aux_loss_coef > 0:
                loss = loss + config.router_aux_loss_coef * mor_aux_loss(accelerator.unwrap_model(model), mask)
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            mean = accelerator.reduce(token_loss.detach(), reduction="sum") / total.clamp(min=1)
            accelerator.print(f"step {step}/{args.max_steps}  loss {mean.item():.4f}")
            if step >= args.max_steps:
                break

    # Under FSDP/DeepSpeed the parameters are sharded: gather the full state dict (every rank must call this),
    # then rank 0 writes the adapter.
    state_dict = accelerator.get_state_dict(model)
    save_adapter(accelerator.unwrap_model(model), args.out, config=config, state_dict=state_dict)
    accelerator.print(f"adapter written to {args.out}")


if __name__ == "__main__":
    main()
