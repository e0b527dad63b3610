"""The hub's public API and its boundary: spokes and plugins import only ``rasp_ir.api`` (or the
names ``rasp_ir`` re-exports from it), the hub names no spoke, and importing the hub or its API
imports no torch, triton or spoke code."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import rasp_ir
from rasp_ir import api

ROOT = Path(__file__).parents[2]
SPOKE_FOLDERS = ("backends", "frontends", "kernels", "tests/plugin_pkg")
SPOKE_PACKAGES = ("rasp_ir.backends", "rasp_ir.frontends", "rasp_ir.kernels")
# The hub's own source: rasp_ir/ without the symlinked spoke folders.
HUB_FILES = sorted(
    p
    for p in (ROOT / "rasp_ir").rglob("*.py")
    if p.relative_to(ROOT / "rasp_ir").parts[0] not in ("backends", "frontends", "kernels")
)


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """Every import in ``path``: line, module, imported names (empty for ``import x``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module, [alias.name for alias in node.names]))
    return found


def _is_hub_module(name: str) -> bool:
    return importlib.util.find_spec(f"rasp_ir.{name}") is not None


def _reaches_past_the_api(module: str, names: list[str]) -> bool:
    if module == "rasp_ir":
        allowed = {"ir", "__version__"}
        return any(n not in allowed and (n not in api.__all__ or _is_hub_module(n)) for n in names)
    if module == "rasp_ir.api" or module.startswith(SPOKE_PACKAGES):
        return False
    return module.startswith("rasp_ir.")


def test_spokes_and_plugins_import_only_the_public_api() -> None:
    files = [p for folder in SPOKE_FOLDERS for p in (ROOT / folder).rglob("*.py")]
    assert len(files) > 30
    deeper = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in files
        for line, module, names in _imports(path)
        if _reaches_past_the_api(module, names)
    ]
    assert deeper == []


def test_the_boundary_check_catches_a_deep_import() -> None:
    assert _reaches_past_the_api("rasp_ir.interpreter", ["interpret"])
    assert _reaches_past_the_api("rasp_ir", ["interpreter"])
    assert _reaches_past_the_api("rasp_ir", ["optimize"])  # the module, not the function
    assert not _reaches_past_the_api("rasp_ir", ["ir", "__version__"])
    assert not _reaches_past_the_api("rasp_ir.backends.torch.model", ["PAD"])


def test_the_hub_names_no_spoke_module() -> None:
    assert len(HUB_FILES) > 20
    named = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in HUB_FILES
        for line, module, _ in _imports(path)
        if module.startswith(SPOKE_PACKAGES)
    ]
    named += [
        f"{path.relative_to(ROOT)}: names {package}."
        for path in HUB_FILES
        for package in SPOKE_PACKAGES
        if f"{package}." in path.read_text(encoding="utf-8")
    ]
    assert named == []


def test_every_public_name_exists_and_rasp_ir_re_exports_it() -> None:
    assert len(api.__all__) == len(set(api.__all__))
    shadowed = {name for name in api.__all__ if _is_hub_module(name)}
    assert shadowed == {"ir", "optimize", "verify"}
    assert rasp_ir.ir is api.ir
    for name in set(api.__all__) - shadowed:
        assert getattr(rasp_ir, name) is getattr(api, name), name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = rasp_ir.nope


def test_importing_the_api_imports_no_torch_triton_or_spoke() -> None:
    code = (
        "import sys; from rasp_ir import parse_program, Certificate, load_frontend; "
        "import rasp_ir.api; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'triton') "
        "or m.startswith(('rasp_ir.backends', 'rasp_ir.frontends', 'rasp_ir.kernels'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"
