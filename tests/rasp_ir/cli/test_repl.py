"""Golden transcripts of :class:`~rasp_ir.cli.repl_session.ReplSession`: each line fed, the
exact text it prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rasp_ir.cli.repl_session import ReplSession, entry_complete
from rasp_ir.interpreter import Executable
from rasp_ir.ir import Program

Transcript = list[tuple[str, str]]

REVERSE: Transcript = [
    ("opp = length - indices - 1;", "opp = [4, 3, 2, 1, 0]"),
    (
        "flip = select(indices, opp, ==);",
        "flip =\n"
        "   h e l l o\n"
        "h  0 0 0 0 1\n"
        "e  0 0 0 1 0\n"
        "l  0 0 1 0 0\n"
        "l  0 1 0 0 0\n"
        "o  1 0 0 0 0",
    ),
    ("reverse = aggregate(flip, tokens);", 'reverse = ["o", "l", "l", "e", "h"]'),
]


def play(transcript: Transcript, session: ReplSession | None = None) -> ReplSession:
    """Feed every line and check what it printed, line by line."""
    session = session or ReplSession()
    for line, expected in transcript:
        assert session.feed(line) == expected, line
    return session


def test_bindings_print_values_and_selectors_print_matrices() -> None:
    play(REVERSE)


def test_bare_expressions_are_shown_not_kept() -> None:
    session = play([*REVERSE, ('tokens == "l";', "[false, false, true, true, false]")])
    assert session.feed(":list") == ("opp  (map : cat)\nflip  (select)\nreverse  (aggregate : cat)")
    play([("select(tokens, tokens, ==);", _matrix_hello_same())], session)


def _matrix_hello_same() -> str:
    return "   h e l l o\nh  1 0 0 0 0\ne  0 1 0 0 0\nl  0 0 1 1 0\nl  0 0 1 1 0\no  0 0 0 0 1"


def test_an_error_then_recovery() -> None:
    play(
        [
            (
                "x = foo + 1;",
                "<repl>:1:5: error: 'foo' is not defined [undefined]\n"
                "    x = foo + 1;\n"
                "        ^^^\n"
                "  hint: bind it before using it",
            ),
            ("x = indices + 1;", "x = [1, 2, 3, 4, 5]"),
            (":list", "x  (map : cat)"),
        ]
    )


def test_evaluation_errors_name_the_binding_and_show_its_inputs() -> None:
    play(
        [
            *REVERSE,
            (
                "bad = aggregate(select(indices, indices, <=), tokens);",
                "<repl>:1:7: error: categorical aggregate 'bad' averages distinct values "
                '"e" and "h" at example 0 position 1; make the selector select one key, or '
                "annotate the value num [cat-mean]\n"
                "    bad = aggregate(select(indices, indices, <=), tokens);\n"
                "          " + "^" * 47 + "\n"
                "  hint: select a single key, or make 'tokens' num\n"
                "bad reads:\n"
                "  indices = [0, 1, 2, 3, 4]\n"
                '  tokens = ["h", "e", "l", "l", "o"]',
            ),
            (":show reverse", 'reverse = ["o", "l", "l", "e", "h"]'),
        ]
    )


def test_multi_line_entries_and_defs() -> None:
    play(
        [
            ("def twice(a) {", ""),
            ("  b = a + a;", ""),
            ("  return b;", ""),
            ("}", ""),
            ("y = twice(", ""),
            ("  indices);", "y = [0, 2, 4, 6, 8]"),
            (":list", "def twice\ny  (map : cat)"),
            (":list all", "def twice\ny__twice__b  (map : cat)\ny  (map : cat)"),
        ]
    )


def test_an_empty_line_submits_an_unfinished_entry() -> None:
    session = ReplSession()
    assert session.feed("z = indices") == ""
    assert session.prompt == ".. "
    assert session.feed("") == (
        "<repl>:1:12: error: missing ';' [syntax]\n"
        "    z = indices\n"
        "               ^\n"
        "  hint: end each statement with ';'"
    )
    assert session.prompt == ">> "


def test_a_program_is_prepared_once_and_reused_across_examples(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepared: list[Program] = []

    class Counting(Executable):
        def __init__(self, program: Program) -> None:
            prepared.append(program)
            super().__init__(program)

    monkeypatch.setattr("rasp_ir.cli.repl_session.Executable", Counting)
    session = play(REVERSE)
    count = len(prepared)
    play(
        [
            (':example "abc"', ""),
            (":show reverse", 'reverse = ["c", "b", "a"]'),
            (":example xyz", ""),
            (":show reverse", 'reverse = ["z", "y", "x"]'),
        ],
        session,
    )
    assert len(prepared) == count


def test_example_command() -> None:
    play(
        [
            *REVERSE,
            (':example "abc"', ""),
            (":show reverse", 'reverse = ["c", "b", "a"]'),
            (":example x y", ""),
            (":example", '["x", "y"]'),
            (":show opp", "opp = [1, 0]"),
            (
                ":example A",
                'error: token "A" at position 0 is not in the vocabulary of the session '
                '("a", "b", "c", "d", "e", "f", "g", "h", … (26 tokens)) [input-token]\n'
                "  hint: set an example that fits the header with :example",
            ),
            (":example", '["x", "y"]'),
            (":example hello", ""),
            (":example", '["h", "e", "l", "l", "o"]'),
            (":show reverse", 'reverse = ["o", "l", "l", "e", "h"]'),
        ]
    )


def test_header_directives_refit_the_example() -> None:
    play(
        [
            ("%vocab {1, 2, 3}", "the example does not fit the header; it is now [1, 2, 3]"),
            ("s = tokens + 1;", "s = [2, 3, 4]"),
            (":example [3, 3]", ""),
            ("%bos 0", ""),
            ("s;", "[1, 4, 4]"),
            ("%max_len 0", _max_len_error()),
            (":example 1 2 3 1", ""),
        ]
    )


def _max_len_error() -> str:
    session = ReplSession()
    return session.feed("%max_len 0")


def test_load_appends_a_file_and_takes_its_header(tmp_path: Path) -> None:
    path = tmp_path / "sort.rasp"
    path.write_text(
        "%vocab {1, 2, 3}\n%max_len 4\n"
        "smaller = select(tokens, tokens, <);\n"
        "rank = selector_width(smaller);\n"
        "output rank;\n"
    )
    session = play(
        [
            (
                f":load {path}",
                f"loaded {path}: 2 binding(s)\n"
                "the example does not fit the header; it is now [1, 2, 3]\n"
                "rank = [0, 1, 2]",
            ),
            (":example 3 1 2", ""),
            ("rank;", "[2, 0, 1]"),
        ]
    )
    again = session.feed(f":load {path}")
    assert again.startswith(
        f"{path}:3:1: error: 'smaller' is defined twice [duplicate]\n"
        "    smaller = select(tokens, tokens, <);\n"
        "    ^^^^^^^\n"
        f"  hint: names are bound once; the first is at {path}:3:"
    )
    play(
        [("rank;", "[2, 0, 1]"), (":reset", ""), (":example", '["h", "e", "l", "l", "o"]')], session
    )


def test_load_errors_point_into_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.rasp"
    path.write_text("a = tokens;\nb = missing;\n")
    assert ReplSession().feed(f":load {path}").splitlines()[0] == (
        f"{path}:2:5: error: 'missing' is not defined [undefined]"
    )
    unreadable = tmp_path / "none.rasp"
    assert ReplSession().feed(f":load {unreadable}").startswith(f"error: cannot read {unreadable}")


def test_commands_help_quit_and_unknown() -> None:
    session = ReplSession()
    assert ":example" in session.feed(":help")
    assert session.feed(":frob") == (
        "error: unknown command :frob [repl]\n  hint: type :help for the commands"
    )
    assert session.feed(":show nope") == "error: 'nope' is not defined [repl]\n  hint: see :list"
    assert not session.finished
    assert session.feed(":quit") == ""
    assert session.finished


@pytest.mark.parametrize(
    ("text", "complete"),
    [
        ("x = 1;", True),
        ("x = 1", False),
        ('x = ";"', False),
        ("x = 1; # done", True),
        ("x = f(1;", False),
        ("def f(a) { return a; }", True),
        ("def f(a) {\n return a;", False),
        ("t = {1: 2}", False),
    ],
)
def test_entry_complete(text: str, complete: bool) -> None:
    assert entry_complete(text) is complete


def test_rasp_repl_reads_piped_input() -> None:
    script = Path(sys.executable).with_name("rasp")
    if not script.exists():
        pytest.skip("the rasp script is not installed here")
    lines = "opp = length - indices - 1;\n:example a b\nopp;\n:quit\nnot reached;\n"
    done = subprocess.run(
        [str(script), "repl"], input=lines, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "opp = [4, 3, 2, 1, 0]\n[1, 0]\n", "")
