"""The registry: built-in and third-party backends found the same way, through entry points.

Needs the test plugin installed: ``pip install -e tests/plugin_pkg`` (``./dev`` does it).
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from rasp_ir import registry
from rasp_ir.check import load_program
from rasp_ir.diagnostics import RaspError
from rasp_ir.registry import BACKEND_GROUP, Backend, installed, load_backend, unsupported

ROOT = Path(__file__).parents[2]
PLUGIN_GROUP = "rasp_ir_test_plugin.duplicates"
NEEDS_PLUGIN = "the test plugin is not installed: pip install -e tests/plugin_pkg"
UNSUPPORTED = """\
%vocab {"a", "b"}
%max_len 3
%causal
near = select_closest(tokens, tokens, ==);
other = not select(tokens, tokens, ==);
got = aggregate(near, tokens);
w = selector_width(other);
output got, w;
"""


@pytest.fixture(scope="module")
def entries() -> dict[str, registry.PluginEntry]:
    found = installed(BACKEND_GROUP)
    assert "echo" in found, NEEDS_PLUGIN
    return found


def test_built_in_and_plugin_backends_are_found_alike(entries: dict[str, Any]) -> None:
    assert entries["python"] == registry.PluginEntry(
        "python", "rasp_ir.backends.python:BACKEND", "rasp-ir", BACKEND_GROUP
    )
    assert entries["echo"] == registry.PluginEntry(
        "echo", "rasp_ir_test_plugin:BACKEND", "rasp-ir-test-plugin", BACKEND_GROUP
    )
    for name in ("python", "echo"):
        backend = load_backend(name)
        assert isinstance(backend, Backend)
        assert backend.name == name
        assert backend.features <= registry.ALL_FEATURES


def test_the_plugin_needed_no_change_to_rasp_ir(entries: dict[str, Any]) -> None:
    sources = [ROOT / "pyproject.toml", *(ROOT / "rasp_ir").glob("**/*.py")]
    sources += list((ROOT / "backends").glob("**/*.py"))
    assert all("rasp_ir_test_plugin" not in p.read_text(encoding="utf-8") for p in sources)
    assert all('"echo"' not in p.read_text(encoding="utf-8") for p in sources)


def test_a_plugin_backend_compiles_and_verifies(entries: dict[str, Any]) -> None:
    from rasp_ir.verify import verify

    program = load_program(ROOT / "examples" / "sort.rasp").program
    echo = load_backend("echo")
    assert '"op": "selector_width"' in echo.lower(program)
    assert verify(program, echo, samples=20).ok


def test_every_unsupported_construct_is_reported_at_once(entries: dict[str, Any]) -> None:
    program = load_program("u.rasp", text=UNSUPPORTED).program
    echo = load_backend("echo")
    found = unsupported(echo, program)
    assert [(d.span.line if d.span else None, d.message) for d in found] == [
        (None, "the program uses causal, which the echo backend does not support"),
        (4, "near uses select closest, which the echo backend does not support"),
        (5, "other uses selector not, which the echo backend does not support"),
    ]
    with pytest.raises(RaspError) as error:
        echo.lower(program)
    assert len(error.value.diagnostics) == 3


def test_two_providers_of_one_name_is_an_error_naming_both(
    entries: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = metadata.entry_points

    def merged(**selection: Any) -> Any:
        points = list(real(**selection))
        if selection.get("group") == BACKEND_GROUP:
            duplicates = real(group=PLUGIN_GROUP)
            points += [
                metadata.EntryPoint(p.name, p.value, BACKEND_GROUP)._for(p.dist)  # type: ignore[attr-defined]
                for p in duplicates
            ]
        return points

    monkeypatch.setattr(metadata, "entry_points", merged)
    with pytest.raises(RaspError) as error:
        installed(BACKEND_GROUP)
    message = error.value.diagnostics[0].message
    assert message == (
        "two plugins are named 'python' in rasp_ir.backends: rasp_ir.backends.python:BACKEND "
        "(from rasp-ir) and rasp_ir_test_plugin:BACKEND (from rasp-ir-test-plugin)"
    )
    with pytest.raises(RaspError, match="two plugins are named 'python'"):
        load_backend("python")


def test_an_unknown_backend_names_the_installed_ones(entries: dict[str, Any]) -> None:
    with pytest.raises(RaspError) as error:
        load_backend("nope")
    assert error.value.diagnostics[0].message == "no backend named 'nope'"
    assert "echo" in error.value.diagnostics[0].hint
    assert "python" in error.value.diagnostics[0].hint


def test_listing_imports_no_backend() -> None:
    code = (
        "import sys, rasp_ir, rasp_ir.registry as r; r.installed(r.BACKEND_GROUP); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'triton', 'rasp_ir_test_plugin', 'jinja2') "
        "or m.startswith('rasp_ir.backends.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"
