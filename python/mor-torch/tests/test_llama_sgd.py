# The whole-model check on fixtures/tiny-llama: the plain-PyTorch Llama reproduces transformers' logits (so the
# rest can trust it), the fixture MoR adapter gives logits_mor / loss_mor, and one plain SGD step (lr 0.05, both
# rows, causal-LM mean token loss) gives mor-adapter-sgd1 within 1e-5.
from __future__ import annotations

import torch

from conftest import TINY_LLAMA, assert_close, tensor
from mor_torch import load_adapter, mor_parameters, read_adapter
from plain_llama import LlamaForCausalLM

TOL = 1e-5


def test_plain_llama_matches_transformers_logits(llama_golden):
    model = LlamaForCausalLM.from_pretrained(TINY_LLAMA)
    with torch.no_grad():
        logits = model(torch.tensor(llama_golden["input_ids"])).logits
    assert_close(logits, tensor(llama_golden["logits_base"]), TOL, "logits_base")


def test_mor_adapter_logits_and_one_sgd_step(llama_golden):
    model = load_adapter(LlamaForCausalLM.from_pretrained(TINY_LLAMA), TINY_LLAMA / "mor-adapter").train()
    ids = torch.tensor(llama_golden["input_ids"])
    out = model(ids, attention_mask=torch.tensor(llama_golden["attention_mask"]), labels=ids)
    assert_close(out.logits, tensor(llama_golden["logits_mor"]), TOL, "logits_mor")
    assert abs(out.loss.item() - llama_golden["loss_mor"]) <= TOL

    opt = torch.optim.SGD(mor_parameters(model), lr=llama_golden["sgd"]["lr"])
    out.loss.backward()
    # Only the MoR parameters train: the base model is frozen and gets no gradient.
    assert all(p.grad is None for n, p in model.named_parameters() if ".mor_" not in n)
    opt.step()

    expected = read_adapter(TINY_LLAMA / "mor-adapter-sgd1").layers
    layers = {n: m for n, m in model.named_modules() if hasattr(m, "mor_A")}
    assert set(layers) == set(expected)
    for module, tensors in expected.items():
        params = dict(layers[module].named_parameters())
        for suffix, value in tensors.items():
            assert_close(params[suffix], value, TOL, f"{module}.{suffix} after one SGD step")
    with torch.no_grad():
        after = model(ids, labels=ids).loss.item()
    assert abs(after - llama_golden["loss_after_sgd1"]) <= TOL
