"""Train a tiny hist model; launched by test_distributed.py under torchrun (or plain python).

python -m torch.distributed.run --standalone --nproc-per-node 2 distributed_train.py RUN_DIR
    [--stop-after N] [--resume] [--every-kind] [--draws N]

After training, each process prints whether a process group is still open and how many of
gloo's threads still run (read from /proc).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch.distributed as dist

from rasp_ir.diagnostics import RaspError
from rasp_ir.frontends.transformer_programs.config import Architecture, TrainConfig
from rasp_ir.frontends.transformer_programs.train import train

ARCHITECTURE = Architecture(1, 1, 1, 0, 1)  # no categorical MLP: some parameters are empty
EVERY_KIND = Architecture(1, 1, 1, 1, 1)
SETTINGS = TrainConfig(epochs=2, batch_size=128, seed=5, dataset_size=400)


def _thread_names() -> list[str]:
    """The names of this process's threads (one that ends while they are read is left out)."""
    names = []
    for task in os.listdir("/proc/self/task"):
        try:
            names.append(Path(f"/proc/self/task/{task}/comm").read_text().strip())
        except FileNotFoundError:
            continue
    return names


def _gloo_threads() -> list[str] | None:
    """The names of this process's threads that gloo started, once joined ones have left /proc
    (the kernel can list a joined thread for a moment; this waits up to 2 s); None without
    /proc."""
    if not Path("/proc/self/task").is_dir():
        return None
    for _ in range(200):
        gloo = [name for name in _thread_names() if "gloo" in name]
        if not gloo:
            break
        time.sleep(0.01)
    return gloo


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--stop-after", type=int)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--every-kind", action="store_true", help="every kind of module")
    parser.add_argument("--draws", type=int, default=1, help="Gumbel draws averaged per batch")
    args = parser.parse_args()
    try:
        train(
            "hist",
            args.run_dir,
            EVERY_KIND if args.every_kind else ARCHITECTURE,
            replace(SETTINGS, gumbel_samples=args.draws),
            resume=args.resume,
            progress=False,
            stop_after=args.stop_after,
        )
    except RaspError as error:
        sys.stderr.write(f"{error}\n")
        return 1
    print(f"process group open after training: {dist.is_initialized()}")
    gloo = _gloo_threads()
    print(f"gloo threads after training: {'unknown' if gloo is None else len(gloo)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
