"""The registry: built-in and third-party backends, frontends and commands found the same way,
through entry points.

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
from rasp_ir.cli.main import main
from rasp_ir.diagnostics import RaspError
from rasp_ir.frontend import Frontend, LiftOptions
from rasp_ir.registry import (
    BACKEND_GROUP,
    COMMAND_GROUP,
    FRONTEND_GROUP,
    Backend,
    installed,
    load_backend,
    load_command,
    load_frontend,
    unsupported,
)

ROOT = Path(__file__).parents[2]
# Groups of the test plugin holding plugins under taken names, merged into the real groups here.
DUPLICATE_GROUPS = {
    BACKEND_GROUP: "rasp_ir_test_plugin.duplicates",
    FRONTEND_GROUP: "rasp_ir_test_plugin.duplicate_frontends",
    COMMAND_GROUP: "rasp_ir_test_plugin.duplicate_commands",
}
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
        "echo", "rasp_ir_test_plugin.backend:BACKEND", "rasp-ir-test-plugin", BACKEND_GROUP
    )
    for name in ("python", "echo"):
        backend = load_backend(name)
        assert isinstance(backend, Backend)
        assert backend.name == name
        assert backend.features <= registry.ALL_FEATURES


def test_built_in_and_plugin_frontends_are_found_alike() -> None:
    found = installed(FRONTEND_GROUP)
    assert found["transformer_programs"] == registry.PluginEntry(
        "transformer_programs",
        "rasp_ir.frontends.transformer_programs:FRONTEND",
        "rasp-ir",
        FRONTEND_GROUP,
    )
    assert found["tokenmap"].provider == "rasp-ir-test-plugin"
    for name in ("transformer_programs", "tokenmap"):
        frontend = load_frontend(name)
        assert isinstance(frontend, Frontend)
        assert frontend.name == name


def test_built_in_and_plugin_commands_are_found_alike() -> None:
    found = installed(COMMAND_GROUP)
    assert found["tp"] == registry.PluginEntry(
        "tp", "rasp_ir.frontends.transformer_programs.cli:register", "rasp-ir", COMMAND_GROUP
    )
    assert found["echo-stats"].provider == "rasp-ir-test-plugin"
    assert all(callable(load_command(name)) for name in ("tp", "echo-stats"))


def test_the_plugins_needed_no_change_to_rasp_ir(entries: dict[str, Any]) -> None:
    sources = [ROOT / "pyproject.toml", *(ROOT / "rasp_ir").glob("**/*.py")]
    sources += list((ROOT / "backends").glob("**/*.py"))
    sources += list((ROOT / "frontends").glob("**/*.py"))
    assert all("rasp_ir_test_plugin" not in p.read_text(encoding="utf-8") for p in sources)
    for name in ('"echo"', '"tokenmap"', '"echo-stats"', "echo_stats"):
        assert all(name not in p.read_text(encoding="utf-8") for p in sources), name


def test_a_plugin_frontend_lifts_with_a_certificate(tmp_path: Path) -> None:
    table = tmp_path / "table.json"
    table.write_text('{"max_len": 3, "map": {"a": "x", "b": "y"}}', encoding="utf-8")
    lifted = load_frontend("tokenmap").lift(table, LiftOptions(exhaustive_limit=100, samples=5))
    assert lifted.certificate.ok
    assert lifted.certificate.positions_compared == 2 + 8 + 24 + 15
    assert lifted.program.outputs == ("substituted",)


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


def _merge_duplicates(monkeypatch: pytest.MonkeyPatch, group: str) -> None:
    """Make the test plugin's plugins under taken names appear in ``group``."""
    real = metadata.entry_points

    def merged(**selection: Any) -> Any:
        points = list(real(**selection))
        if selection.get("group") == group and "name" not in selection:
            duplicates = real(group=DUPLICATE_GROUPS[group])
            points += [
                metadata.EntryPoint(p.name, p.value, group)._for(p.dist)  # type: ignore[attr-defined]
                for p in duplicates
            ]
        return points

    monkeypatch.setattr(metadata, "entry_points", merged)


@pytest.mark.parametrize(
    ("group", "name", "built_in", "plugin"),
    [
        (
            BACKEND_GROUP,
            "python",
            "rasp_ir.backends.python:BACKEND",
            "rasp_ir_test_plugin.backend:BACKEND",
        ),
        (
            FRONTEND_GROUP,
            "transformer_programs",
            "rasp_ir.frontends.transformer_programs:FRONTEND",
            "rasp_ir_test_plugin.frontend:FRONTEND",
        ),
    ],
)
def test_two_providers_of_one_name_is_an_error_naming_both(
    entries: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    group: str,
    name: str,
    built_in: str,
    plugin: str,
) -> None:
    _merge_duplicates(monkeypatch, group)
    with pytest.raises(RaspError) as error:
        installed(group)
    assert error.value.diagnostics[0].message == (
        f"two plugins are named {name!r} in {group}: {built_in} (from rasp-ir) and {plugin} "
        "(from rasp-ir-test-plugin)"
    )
    with pytest.raises(RaspError, match=f"two plugins are named {name!r}"):
        registry.load(group, name)


def test_a_command_plugin_under_a_hub_command_name_is_an_error_naming_both(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _merge_duplicates(monkeypatch, COMMAND_GROUP)
    assert main(["run", "--help"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "error: two commands are named 'run': one from rasp-ir (built in) and "
        "rasp_ir_test_plugin.command:register (from rasp-ir-test-plugin) [plugin]"
    )
    assert "Traceback" not in err


def test_an_unknown_frontend_names_the_installed_ones() -> None:
    with pytest.raises(RaspError) as error:
        load_frontend("nope")
    assert error.value.diagnostics[0].message == "no frontend named 'nope'"
    assert "tokenmap" in error.value.diagnostics[0].hint


def test_an_unknown_backend_names_the_installed_ones(entries: dict[str, Any]) -> None:
    with pytest.raises(RaspError) as error:
        load_backend("nope")
    assert error.value.diagnostics[0].message == "no backend named 'nope'"
    assert "echo" in error.value.diagnostics[0].hint
    assert "python" in error.value.diagnostics[0].hint


def test_listing_imports_no_backend() -> None:
    code = (
        "import sys, rasp_ir, rasp_ir.registry as r; "
        "[r.installed(g) for g in (r.BACKEND_GROUP, r.FRONTEND_GROUP, r.COMMAND_GROUP)]; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'triton', 'rasp_ir_test_plugin', 'jinja2') "
        "or m.startswith(('rasp_ir.backends.', 'rasp_ir.frontends.'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"
