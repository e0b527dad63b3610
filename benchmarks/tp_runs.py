"""What the Transformer Programs reproduction scripts share: lifting a trained model with its
certificate (a run folder in, the agreement and program size out), the processes of a torchrun
launch, and the commit the figures were measured at."""

from __future__ import annotations

import datetime
import os
import subprocess
from pathlib import Path
from typing import Any

import torch.distributed as dist

from benchmarks.recording import ROOT
from rasp_ir.api import RaspError, write_text_atomically
from rasp_ir.backends.torch.process_group import join_gloo_group
from rasp_ir.frontends.transformer_programs.lift import lift_run

# the processes only meet once every run is done: wait as long as a sweep may take
SWEEP_TIMEOUT = datetime.timedelta(days=7)


def lift_certified(
    run_dir: Path,
    which: str,
    program: Path,
    exhaustive_limit: int,
    fuzz: int,
    member: int | None = None,
) -> dict[str, Any]:
    """Lift checkpoint ``which`` of ``run_dir`` (of member ``member`` in a population's
    folder, as ``rasp tp lift RUN_DIR --member SEED``) with its certificate: the whole test
    split, every input up to ``exhaustive_limit`` inputs and ``fuzz`` random ones. Writes the
    program to ``program``; returns the agreement, positions compared and program lines, or a
    ``lift_error`` (agreement None) when lifting fails."""
    try:
        lifted = lift_run(run_dir, exhaustive_limit, fuzz, which=which, member=member)
    except RaspError as error:
        return {"agreement": None, "program_lines": None, "lift_error": str(error)}
    write_text_atomically(program, lifted.text)
    certificate = lifted.certificate
    details = certificate.details
    return {
        "agreement": certificate.agreement,
        "positions_compared": certificate.positions_compared,
        "program_lines": details["program_lines"],
        "pruned": len(details["lifting"]["pruned"]),
    }


def processes() -> tuple[int, int]:
    """This process's rank and the number of processes (torchrun's, joined in a gloo group
    that waits up to :data:`SWEEP_TIMEOUT`; else 0 and 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1 and not dist.is_initialized():
        join_gloo_group(timeout=SWEEP_TIMEOUT)
    return rank, world


def commit() -> str | None:
    """The repository's short commit hash, or None outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return None
    return done.stdout.strip() or None
