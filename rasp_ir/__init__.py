"""rasp-ir: a textual RASP intermediate representation and the tools around it.

Importing this package is cheap: it never imports torch or triton, and the public API
(:mod:`rasp_ir.api`) is re-exported lazily: ``from rasp_ir import parse_program`` imports the
hub's modules on first use. A name that is also a hub module (``optimize``, ``verify``) is the
module here: import those functions from :mod:`rasp_ir.api`.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from rasp_ir.api import *  # noqa: F403


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext rasp_ir`` in IPython or Jupyter: the ``%%rasp`` cell magic and rich display
    of programs and evaluations (the ``notebook`` extra)."""
    from rasp_ir.notebook import load_ipython_extension as load

    load(ipython)


def __getattr__(name: str) -> Any:
    """A submodule, or a name of :mod:`rasp_ir.api`, imported on first use."""
    if importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    api = importlib.import_module(f"{__name__}.api")
    if name in api.__all__:
        return getattr(api, name)
    raise AttributeError(f"module 'rasp_ir' has no attribute {name!r}")
