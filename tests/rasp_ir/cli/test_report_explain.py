"""``rasp report`` and ``rasp explain`` on programs: pages that stand alone and escape what they
show, cones as text, and the errors a user can make."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.rasp_ir.cli.conftest import REVERSE, Result

EXAMPLES = Path(__file__).parents[3] / "examples"
HOSTILE = """\
%vocab {"<script>alert(1)</script>", "&", "b"}
%max_len 4
same = select(tokens, tokens, ==);
n = selector_width(same);
output n;
"""


def test_report_writes_one_self_contained_page(rasp: Callable[..., Result], tmp_path: Path) -> None:
    out = tmp_path / "sort.html"
    result = rasp(
        "report", EXAMPLES / "sort.rasp", "--input", "d b c a", "--chars", "ab", "-o", out
    )
    assert result.code == 0, result.err
    assert result.err.endswith(f"wrote {out} (2 inputs)\n")
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    without_namespaces = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not re.search(r"https?://|src=|@import|url\((?!#)", without_namespaces)
    assert page.count('<svg class="graph"') == 1
    # sort has 6 selectors, shown for each of the 2 inputs
    assert page.count('<svg class="heatmap"') == 12
    assert '<g id="node-before_me"' in page and '<span id="def-before_me"' in page
    assert page.count("<summary><code>sort[") == 4 + 2
    assert "<td>L2 attention</td>" in page


def test_report_escapes_every_string_of_the_program_and_inputs(
    rasp: Callable[..., Result], program: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = program(HOSTILE, "hostile.rasp")
    out = tmp_path / "hostile.html"
    hostile = '["<script>alert(1)</script>", "&", "<script>alert(1)</script>"]'
    assert rasp("report", path, "--input", hostile, "-o", out).code == 0
    page = out.read_text(encoding="utf-8")
    assert "alert(1)</script>" not in page
    assert page.count("<script>") == 1  # the page's own
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_report_without_inputs_says_how_to_get_values(
    rasp: Callable[..., Result], program: Callable[[str, str], Path], tmp_path: Path
) -> None:
    out = tmp_path / "r.html"
    assert rasp("report", program(REVERSE, "reverse.rasp"), "-o", out).code == 0
    page = out.read_text(encoding="utf-8")
    assert "Give inputs (--input)" in page and '<svg class="heatmap"' not in page


def test_explain_prints_the_cone_of_one_cell(rasp: Callable[..., Result]) -> None:
    result = rasp("explain", EXAMPLES / "reverse.rasp", "--chars", "hello", "--position", "0")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == 'input: "h" "e" "l" "l" "o"'
    assert lines[1] == 'reverse[0] = "o": mean of tokens at key 4 (4: "o") [L2 head 1]'
    assert lines[2].startswith("  flip[0]: select(keys indices, query opp = 4, ==)")
    assert lines[3] == "    opp[0] = 4: table row (length=5, indices=0) -> 4 [L1 mlp]"
    assert lines[-1] == '  tokens[4] = "o": input token'


def test_explain_without_a_position_explains_every_position(
    rasp: Callable[..., Result],
) -> None:
    result = rasp("explain", EXAMPLES / "sort.rasp", "d", "b", "c", "a", "--output", "sort")
    assert result.code == 0, result.err
    roots = [line for line in result.out.splitlines() if line.startswith("sort[")]
    assert roots == [
        'sort[0] = "a": mean of tokens at key 3 (3: "a") [L2 head 1]',
        'sort[1] = "b": mean of tokens at key 1 (1: "b") [L2 head 1]',
        'sort[2] = "c": mean of tokens at key 2 (2: "c") [L2 head 1]',
        'sort[3] = "d": mean of tokens at key 0 (0: "d") [L2 head 1]',
    ]


def test_explain_and_report_errors_are_diagnostics(
    rasp: Callable[..., Result], tmp_path: Path
) -> None:
    reverse = EXAMPLES / "reverse.rasp"
    cases = [
        (("explain", reverse), "give an input to explain"),
        (("explain", reverse, "--chars", "hi", "--position", "5"), "position 5 is outside"),
        (("explain", reverse, "--chars", "hi", "--output", "opp"), "'opp' is not an output"),
        (("explain", reverse, "--errors"), "has no labelled test split"),
        (("explain", reverse, "--chars", "HI"), 'token "H" at position 0 is not in the vocab'),
        (("report", tmp_path / "nothing", "-o", tmp_path / "x.html"), "does not exist"),
        (("report", reverse, "-o", tmp_path / "no" / "x.html"), "cannot write"),
        (("explain", reverse, "--chars", "hi", "--member", "2"), "is a program, not a population"),
    ]
    for args, message in cases:
        result = rasp(*args)
        assert result.code == 1, args
        assert message in result.err, (args, result.err)
        assert "Traceback" not in result.err
    folder = tmp_path / "folder"
    folder.mkdir()
    result = rasp("report", folder, "-o", tmp_path / "x.html")
    assert result.code == 1 and "no installed plugin reads it" in result.err


def test_the_readme_commands_and_the_cone_it_shows(
    rasp: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("See a program work") : readme.index("on the same way.")]
    commands = section.split("```bash\n")[1].split("```")[0].splitlines()
    (tmp_path / "examples").symlink_to(EXAMPLES)
    monkeypatch.chdir(tmp_path)
    start = section.index("```\ninput: ") + len("```\n")
    shown_cone = section[start : section.index("```", start)]
    ran = []
    for line in commands:
        args = shlex.split(line.split("#")[0])
        assert args[0] == "rasp"
        if "runs/hist" in args:
            continue  # a training run: tests/frontends/transformer_programs/test_report_view.py
        result = rasp(*args[1:])
        assert result.code == 0, (line, result.err)
        ran.append(args[1])
        if args[1] == "explain":
            assert result.out == shown_cone
    assert ran == ["report", "compile", "report", "explain"]
    for name in ("sort.html", "hist.json", "hist.safetensors", "hist.html"):
        assert (tmp_path / name).exists()
    assert '<figure class="residual">' in (tmp_path / "hist.html").read_text(encoding="utf-8")
