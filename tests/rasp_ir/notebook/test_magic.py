"""``%%rasp`` run by IPython's InteractiveShell, as a notebook or terminal IPython runs it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rasp_ir import ir
from rasp_ir.interpreter import Evaluation

# IPython's shell methods carry no type hints: the tests hold the shell as Any.
interactiveshell: Any = pytest.importorskip("IPython.core.interactiveshell")

REVERSE = """\
%vocab chars "abcdefghijklmnopqrstuvwxyz"
%max_len 8
opp = length - indices - 1;
flip = select(indices, opp, ==);
reverse = aggregate(flip, tokens);
output reverse;
"""

TABLE = """\
tokens = ["h", "e", "l", "l", "o"]
opp = [4, 3, 2, 1, 0]
flip =
   h e l l o
h  0 0 0 0 1
e  0 0 0 1 0
l  0 0 1 0 0
l  0 1 0 0 0
o  1 0 0 0 0
reverse = ["o", "l", "l", "e", "h"]
"""


@pytest.fixture
def shell() -> Iterator[Any]:
    started = interactiveshell.InteractiveShell.instance()
    started.run_line_magic("load_ext", "rasp_ir")
    yield started
    interactiveshell.InteractiveShell.clear_instance()


def test_a_cell_is_bound_to_its_name_and_run_on_the_input_as_the_repl_shows_it(
    shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    result = shell.run_cell("%%rasp rev --chars hello\n" + REVERSE)
    assert result.success
    assert isinstance(shell.user_ns["rev"], ir.Program)
    assert shell.user_ns["rev"].outputs == ("reverse",)
    assert isinstance(result.result, Evaluation)
    out = capsys.readouterr().out
    assert out.split(": ", 1)[1].lstrip("\n") == TABLE  # after the "Out[1]: " prompt


def test_tokens_on_the_magic_line_are_typed_by_the_vocabulary(
    shell: Any,
) -> None:
    program = "%vocab {1, 2, 3}\n%max_len 4\ndouble = tokens * 2;\noutput double;\n"
    result = shell.run_cell_magic("rasp", "twice --tokens 3 1 2", program)
    assert isinstance(result, Evaluation)
    assert result.outputs() == {"double": [[6, 2, 4]]}


def test_without_an_input_the_cell_gives_the_program(
    shell: Any,
) -> None:
    result = shell.run_cell_magic("rasp", "rev", REVERSE)
    assert result is shell.user_ns["rev"]
    plain, _ = shell.display_formatter.format(result)
    assert plain["text/plain"].startswith('%vocab chars "abcdefghijklmnopqrstuvwxyz"\n')
    assert "<td>aggregate(flip)</td><td>reverse</td>" in plain["text/html"]


def test_a_diagnostic_is_the_cli_text_not_a_traceback_and_the_name_is_kept(
    shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_cell_magic("rasp", "rev", REVERSE)
    kept = shell.user_ns["rev"]
    result = shell.run_cell("%%rasp rev\n" + REVERSE.replace("(flip, tokens)", "(flip, tokns)"))
    assert result.success and result.result is None
    assert shell.user_ns["rev"] is kept
    err = capsys.readouterr().err
    assert err == (
        "<cell>:5:27: error: 'tokns' is not defined [undefined]\n"
        "    reverse = aggregate(flip, tokns);\n"
        "                              ^^^^^\n"
        "  hint: did you mean 'tokens'?\n"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("rev --chars hellohello", "the input has 10 tokens, more than the max_len"),
        ("rev --chars HELLO", "not in the vocabulary"),
        ("rev --oops", "unrecognized arguments: --oops"),
        ("rev --chars ab --tokens a b", "not allowed with argument"),
        ("2rev", "'2rev' is not a Python name"),
        ('rev --chars "unclosed', "cannot read the magic line"),
    ],
)
def test_bad_inputs_and_magic_lines_are_diagnostics(
    shell: Any,
    capsys: pytest.CaptureFixture[str],
    line: str,
    message: str,
) -> None:
    assert shell.run_cell_magic("rasp", line, REVERSE) is None
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_warnings_are_shown_and_the_program_still_bound(
    shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    program = REVERSE.replace("output reverse;", 'spare = tokens == "a";\noutput reverse;')
    assert shell.run_cell_magic("rasp", "rev", program) is shell.user_ns["rev"]
    assert "warning: spare does not contribute to any output [unused]" in capsys.readouterr().err
