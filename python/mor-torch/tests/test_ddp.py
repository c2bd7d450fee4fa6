# Data parallelism: `torchrun --nproc_per_node 2` (gloo, CPU) running examples/train_ddp.py gives the adapter one
# process gives on the same global batches (1e-5). The rows have different lengths, so the two ranks hold
# different token counts: a per-rank mean loss would not match; the global-token normalisation must.
from __future__ import annotations

import json
import os
import random
import subprocess
import sys


from conftest import EXAMPLES, TINY_LLAMA, assert_close
from mor_torch import read_adapter
import train_ddp


def launcher_workaround():
    """Debian's torch 1.13 on Python 3.11: torchrun's default `--redirects 0` parses to None (IntFlag iteration
    skips the zero member in 3.11) and the launcher crashes before any worker starts. Non-zero values work."""
    from torch.distributed.elastic.multiprocessing.api import Std

    return [] if Std.from_str("0") is not None else ["--redirects", "1", "--tee", "1"]


def test_two_processes_give_the_one_process_adapter(tmp_path):
    rng = random.Random(5)
    rows = [[1] + [rng.randrange(3, 384) for _ in range(rng.randrange(2, 24))] for _ in range(8)]
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({"input_ids": r}) + "\n" for r in rows))
    args = [
        "--model", str(TINY_LLAMA), "--data", str(data), "--targets", "q_proj,v_proj,down_proj", "--rank", "4",
        "--experts", "3", "--top-k", "2", "--router-bias", "--optimizer", "sgd", "--lr", "0.5",
        "--batch-size", "4", "--max-steps", "3", "--seed", "7", "--plain",
    ]  # fmt: skip

    one = train_ddp.main(args + ["--out", str(tmp_path / "one")])

    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR")}
    env["OMP_NUM_THREADS"] = "1"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        *launcher_workaround(), str(EXAMPLES / "train_ddp.py"), *args, "--out", str(tmp_path / "two"),
    ]  # fmt: skip
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, f"torchrun failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert "step 3/3" in run.stdout

    a, b = read_adapter(one).layers, read_adapter(tmp_path / "two").layers
    assert sorted(a) == sorted(b) and len(a) == 6
    moved = 0.0
    for module in a:
        for suffix in a[module]:
            assert_close(b[module][suffix], a[module][suffix], 1e-5, f"{module}.{suffix}: 2 processes vs 1")
        moved = max(moved, a[module]["mor_B.weight"].abs().max().item())
    assert moved > 1e-3, "training should have moved B away from its zero init"
    summary = json.loads((tmp_path / "two" / "training_summary.json").read_text())
    assert summary["training"]["processes"] == 2 and summary["data"]["rows"] == 8
