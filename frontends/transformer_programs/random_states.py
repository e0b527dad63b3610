"""Python's and numpy's global random states, as JSON for a checkpoint's sidecar and back.

Training draws its noise from torch (saved per rank as tensors) and its data order from a
generator seeded by the run's seed and the epoch, so nothing in it reads these two today; they
are saved beside torch's so that a resumed run stays identical to an uninterrupted one even
when code it calls draws from them.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from rasp_ir.api import RaspError


def host_random_states() -> dict[str, Any]:
    """Python's and numpy's global random states as JSON values."""
    version, internal, gauss = random.getstate()
    kind, keys, position, has_gauss, cached = np.random.get_state(legacy=True)
    return {
        "python": {"version": version, "state": list(internal), "gauss": gauss},
        "numpy": {
            "kind": kind,
            "keys": [int(k) for k in keys],
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
    }


def restore_host_random_states(saved: dict[str, Any], where: str) -> None:
    """Set Python's and numpy's global random states to ``saved`` (what
    :func:`host_random_states` gave); a RaspError naming ``where`` when it is malformed."""
    try:
        python, numpy = saved["python"], saved["numpy"]
        random.setstate((python["version"], tuple(python["state"]), python["gauss"]))
        keys = np.array(numpy["keys"], dtype=np.uint32)
        np.random.set_state(
            (numpy["kind"], keys, numpy["position"], numpy["has_gauss"], numpy["cached_gaussian"])
        )
    except (KeyError, TypeError, ValueError) as error:
        raise RaspError.single(
            "checkpoint",
            f"{where}: unusable Python or numpy random state ({error})",
            hint="train into a new folder",
        ) from None
