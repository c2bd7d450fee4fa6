# save_adapter / load_adapter / read_adapter on the adapter format: exact tensor names, byte-identical round trip
# of the fixture adapter, unknown config keys kept, atomic writes, and @mor/format's refusals (file and tensor
# named) for configs, tensor groups, shapes, the base model, and non-finite values.
from __future__ import annotations

import json
import shutil

import pytest
import torch

from conftest import TINY_LLAMA
from mor_torch import AdapterFormatError, MoRConfig, inject_mor, load_adapter, read_adapter, save_adapter
from mor_torch.safetensors_io import read_safetensors, serialize_safetensors
from plain_llama import LlamaForCausalLM

FIXTURE = TINY_LLAMA / "mor-adapter"
WEIGHTS = "adapter_model.safetensors"


@pytest.fixture
def llama():
    return LlamaForCausalLM.from_pretrained(TINY_LLAMA)


@pytest.fixture
def adapter_copy(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "a")
    return tmp_path / "a"


def edit_tensors(adapter_dir, change):
    tensors, meta = read_safetensors(adapter_dir / WEIGHTS)
    change(tensors)
    (adapter_dir / WEIGHTS).write_bytes(serialize_safetensors(tensors, metadata=meta))


def edit_config(adapter_dir, **changes):
    raw = json.loads((adapter_dir / "adapter_config.json").read_text())
    raw.update(changes)
    (adapter_dir / "adapter_config.json").write_text(json.dumps(raw))


def test_saved_adapter_has_the_format_names_and_the_fixture_bytes(llama, tmp_path):
    load_adapter(llama, FIXTURE)
    save_adapter(llama, tmp_path / "out")
    assert (tmp_path / "out" / WEIGHTS).read_bytes() == (FIXTURE / WEIGHTS).read_bytes()
    saved = json.loads((tmp_path / "out" / "adapter_config.json").read_text())
    assert saved == json.loads((FIXTURE / "adapter_config.json").read_text())
    names = set(read_safetensors(tmp_path / "out" / WEIGHTS)[0])
    assert "base_model.model.model.layers.1.mlp.up_proj.mor_omega_B" in names
    assert "base_model.model.model.layers.0.mlp.down_proj.mor_router.weight" in names
    assert len(names) == 2 * 3 * 5
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]


def test_fresh_adapter_with_router_bias_round_trips_and_keeps_unknown_keys(llama, tmp_path):
    config = MoRConfig(r=2, num_experts=3, top_k=2, router_bias=True, target_modules=["q_proj", "o_proj"])
    inject_mor(llama, config)
    save_adapter(llama, tmp_path / "a", dtype="BF16")
    raw = json.loads((tmp_path / "a" / "adapter_config.json").read_text())
    assert raw["lora_alpha"] == 4 and raw["top_k"] == 2 and raw["router_bias"] is True
    edit_config(tmp_path / "a", my_note={"kept": True})
    files = read_adapter(tmp_path / "a")
    assert files.dtype == "BF16" and len(files.layers) == 4
    assert set(files.layers["model.layers.0.self_attn.o_proj"]) == {
        "mor_A.weight", "mor_B.weight", "mor_omega_A", "mor_omega_B", "mor_router.weight", "mor_router.bias",
    }  # fmt: skip
    again = LlamaForCausalLM.from_pretrained(TINY_LLAMA)
    load_adapter(again, tmp_path / "a")
    save_adapter(again, tmp_path / "b")
    assert json.loads((tmp_path / "b" / "adapter_config.json").read_text())["my_note"] == {"kept": True}
    layer = again.model.layers[1].self_attn.q_proj
    ref = llama.model.layers[1].self_attn.q_proj
    assert torch.equal(layer.mor_router.bias, ref.mor_router.bias.bfloat16().float())


def test_a_failed_save_leaves_the_previous_adapter_whole(llama, adapter_copy):
    load_adapter(llama, adapter_copy)
    before = (adapter_copy / WEIGHTS).read_bytes()
    with torch.no_grad():
        llama.model.layers[0].mlp.up_proj.mor_omega_A[1, 2] = float("nan")
    with pytest.raises(AdapterFormatError) as info:
        save_adapter(llama, adapter_copy)
    assert "tensor 'base_model.model.model.layers.0.mlp.up_proj.mor_omega_A'" in str(info.value)
    assert "non-finite value NaN at element 6" in str(info.value)
    assert (adapter_copy / WEIGHTS).read_bytes() == before


def refused(adapter_dir, model=None) -> AdapterFormatError:
    with pytest.raises(AdapterFormatError) as info:
        if model is None:
            read_adapter(adapter_dir)
        else:
            load_adapter(model, adapter_dir)
    return info.value


MODULE = "base_model.model.model.layers.0.mlp.gate_proj"


def test_non_finite_values_are_refused(adapter_copy):
    edit_tensors(adapter_copy, lambda t: t[f"{MODULE}.mor_B.weight"].view(-1).__setitem__(3, float("inf")))
    error = refused(adapter_copy)
    assert error.file_name.endswith(WEIGHTS) and error.tensor_name == f"{MODULE}.mor_B.weight"
    assert "non-finite value Infinity at element 3" in error.detail


@pytest.mark.parametrize(
    "change, message, tensor",
    [
        (lambda t: t.pop(f"{MODULE}.mor_omega_A"), "incomplete tensor group", f"{MODULE}.mor_omega_A"),
        (
            lambda t: t.__setitem__(f"{MODULE}.mor_router.bias", torch.zeros(4)),
            "present, but router_bias is false",
            f"{MODULE}.mor_router.bias",
        ),
        (
            lambda t: t.__setitem__(f"{MODULE}.mor_omega_B", torch.ones(3, 128)),
            "shape [3,128] disagrees with num_experts 4",
            f"{MODULE}.mor_omega_B",
        ),
        (
            lambda t: t.__setitem__(f"{MODULE}.mor_router.weight", torch.ones(4, 63)),
            "shape [4,63] disagrees with d_in (columns of mor_A.weight) 64",
            f"{MODULE}.mor_router.weight",
        ),
        (
            lambda t: t.__setitem__(f"{MODULE}.lora_A.weight", torch.ones(4, 64)),
            "a LoRA tensor in a MOR adapter",
            f"{MODULE}.lora_A.weight",
        ),
        (lambda t: t.__setitem__("model.x.mor_A.weight", torch.ones(4, 64)), "PEFT's prefix", "model.x.mor_A.weight"),
        (lambda t: t.__setitem__(f"{MODULE}.other", torch.ones(1)), "unknown tensor name", f"{MODULE}.other"),
        (
            lambda t: t.__setitem__(
                "base_model.model.model.layers.0.self_attn.q_proj.mor_A.weight", torch.ones(4, 64)
            ),
            "module 'model.layers.0.self_attn.q_proj' is not covered by target_modules",
            "base_model.model.model.layers.0.self_attn.q_proj.mor_A.weight",
        ),
    ],
    ids=["missing", "bias", "experts", "d_in", "lora", "prefix", "unknown", "not-targeted"],
)
def test_bad_tensor_groups_are_refused(adapter_copy, change, message, tensor):
    edit_tensors(adapter_copy, change)
    error = refused(adapter_copy)
    assert message in error.detail and error.tensor_name == tensor
    assert error.file_name == str(adapter_copy / WEIGHTS)


def test_an_int_tensor_is_not_an_adapter_dtype(adapter_copy):
    tensors, meta = read_safetensors(adapter_copy / WEIGHTS)
    # The writer only writes floats: build the file with a U8 tensor in place of one F32 tensor by hand.
    name = f"{MODULE}.mor_omega_A"
    data = bytearray((adapter_copy / WEIGHTS).read_bytes())
    head = data[8 : 8 + int.from_bytes(data[:8], "little")].decode()
    entry = json.loads(head)[name]
    patched = head.replace(
        json.dumps({name: entry}, separators=(",", ":"))[1:-1],
        json.dumps({name: {**entry, "dtype": "U8", "shape": [4, 16]}}, separators=(",", ":"))[1:-1],
    )
    assert len(patched) == len(head)
    data[8 : 8 + len(head)] = patched.encode()
    (adapter_copy / WEIGHTS).write_bytes(bytes(data))
    error = refused(adapter_copy)
    assert error.detail == "dtype U8 is not an adapter dtype (F32, F16 or BF16)" and error.tensor_name == name


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"peft_type": "IA3"}, 'unknown peft_type "IA3"'),
        ({"peft_type": "LORA"}, "plain PEFT LoRA adapter"),
        ({"format_version": 2}, "format_version 2 is newer than this reader"),
        ({"top_k": 5}, "invalid MoR config: top_k: 5 is larger than the number of experts (4)"),
        ({"r": 0}, "invalid MoR config: r: expected an integer ≥ 1, got 0"),
        ({"router_bias": "yes"}, 'invalid MoR config: router_bias: expected true or false, got "yes"'),
        ({"static_gates": {"t": [1, 0]}}, "static_gates.t: expected 4 finite numbers (num_experts)"),
    ],
    ids=["peft-type", "lora", "version", "top-k", "r", "bias", "gates"],
)
def test_bad_configs_are_refused_naming_the_file(adapter_copy, changes, message):
    edit_config(adapter_copy, **changes)
    error = refused(adapter_copy)
    assert message in error.detail and error.file_name == str(adapter_copy / "adapter_config.json")


def test_bad_json_and_missing_files(adapter_copy, tmp_path):
    (adapter_copy / "adapter_config.json").write_text('{"r": 4,\n  oops}')
    assert "not valid JSON at line 2, column 3" in str(refused(adapter_copy))
    assert "not found" in str(refused(tmp_path / "nothing-here"))


def test_adapter_must_fit_the_base_model(adapter_copy, llama, tmp_path):
    tensors, meta = read_safetensors(adapter_copy / WEIGHTS)
    renamed = {k.replace("layers.1.", "layers.7."): v for k, v in tensors.items()}
    (adapter_copy / WEIGHTS).write_bytes(serialize_safetensors(renamed, metadata=meta))
    error = refused(adapter_copy, llama)
    assert "module 'model.layers.7.mlp.down_proj' matches no layer of the base model" in error.detail
    assert not [m for m in llama.modules() if hasattr(m, "mor_A")], "a refused load must not change the model"

    shutil.copytree(FIXTURE, tmp_path / "small")
    edit_tensors(
        tmp_path / "small",
        lambda t: t.update(
            {
                f"{MODULE}.mor_A.weight": torch.zeros(4, 32),
                f"{MODULE}.mor_router.weight": torch.zeros(4, 32),
            }
        ),
    )
    error = refused(tmp_path / "small", llama)
    assert error.detail == (
        "shape [4,32] disagrees with the base layer: d_in 32, the model's 'model.layers.0.mlp.gate_proj' takes 64"
    )


def test_loading_into_a_model_with_other_mor_layers_is_refused(llama):
    inject_mor(llama, MoRConfig(r=2, num_experts=4, target_modules=["gate_proj", "up_proj", "down_proj"]))
    error = refused(FIXTURE, llama)
    assert "has r 2" in error.detail and "the adapter has r 4" in error.detail


def test_a_full_disk_replaces_neither_file(llama, adapter_copy, monkeypatch):
    import errno
    import os

    from mor_torch import FileWriteError
    from mor_torch import atomic

    load_adapter(llama, adapter_copy)
    with torch.no_grad():
        llama.model.layers[0].mlp.up_proj.mor_B.weight.add_(1.0)
    before = {p.name: p.read_bytes() for p in adapter_copy.iterdir()}
    calls = []

    def full_disk(fd):  # the second file (the config) hits a full disk after the weights were staged
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full_disk)
    with pytest.raises(FileWriteError) as info:
        save_adapter(llama, adapter_copy)
    assert str(info.value) == f"{adapter_copy / 'adapter_config.json'}: cannot be written: No space left on device (ENOSPC)"
    assert {p.name: p.read_bytes() for p in adapter_copy.iterdir()} == before, "no file replaced, no temp file left"
