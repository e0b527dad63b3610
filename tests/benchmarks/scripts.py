"""The benchmark scripts as modules for the tests: a script's name in, a freshly executed module
of ``benchmarks/NAME.py`` out (fresh, so no test sees another's changes to its globals; listed in
``sys.modules`` as importing lists a module, which dataclasses need to read its annotations)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def benchmark_script(name: str) -> ModuleType:
    """``benchmarks/NAME.py`` loaded anew as the module ``NAME_benchmark``."""
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
