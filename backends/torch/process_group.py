"""Joining torchrun's gloo process group so that leaving it really ends it: options for
:func:`torch.distributed.init_process_group` in, the default group started out.

``torch.distributed.nn.functional`` binds ``group.WORLD`` as the default argument of its
collectives when it is first imported, and torch imports it lazily (``torch._dynamo`` does,
and the first optimiser a process builds loads ``torch._dynamo``). Imported while a group
exists, those defaults hold that group: :func:`torch.distributed.destroy_process_group` then
cannot free it, and gloo's threads run on into the interpreter's exit. That is where a
torchrun worker of ``benchmarks/tp_reproduce.py`` died in CI, of SIGABRT ("terminate called
without an active exception") and once of SIGBUS, after its work was done; run here
without this import, the same command kept those threads to its exit.
:func:`join_gloo_group` imports that module first, while ``group.WORLD`` is still None.
"""

from __future__ import annotations

import datetime
import importlib

import torch.distributed as dist


def join_gloo_group(
    timeout: datetime.timedelta | None = None,
    init_method: str | None = None,
    rank: int = -1,
    world_size: int = -1,
) -> None:
    """Start the default gloo process group (from torchrun's environment unless
    ``init_method``, ``rank`` and ``world_size`` say otherwise; ``timeout`` for its
    collectives, torch's default when None) so that ``destroy_process_group`` frees it and
    stops its threads."""
    importlib.import_module("torch.distributed.nn.functional")
    dist.init_process_group(
        "gloo", init_method=init_method, timeout=timeout, rank=rank, world_size=world_size
    )
