"""Hypothesis strategies for IR programs, their inputs and mutated source text.

* :func:`programs`, :func:`headers` and :func:`expressions` draw with the seeded generator of
  ``rasp fuzz`` (:mod:`rasp_ir.fuzz.programs`, :mod:`rasp_ir.fuzz.expressions`), its random
  choices taken from hypothesis (:class:`DrawChooser`), so the tests and the fuzzer build the
  same programs and hypothesis shrinks them: random, well-formed programs that mix every node
  kind and mostly evaluate without errors on every valid input.
* :func:`any_terms` draws expression-language terms of every kind over the parameters ``x`` and
  ``y``, well typed or not (for the evaluators' agreement, errors included), and
  :data:`ANY_VALUES` values of every type.
* :func:`program_inputs` / :func:`program_input` draw valid content-token lists for a program.
* :func:`mutated_program_text` draws corrupted variants of source text, for parser robustness.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from hypothesis import strategies as st

from rasp_ir.fuzz.expressions import DEFAULT_LITERALS, Kind, Params, expression
from rasp_ir.fuzz.programs import AWKWARD_STRINGS, header, program
from rasp_ir.ir import Expr, Header, Program
from rasp_ir.terms import Binary, Call, Const, IfElse, Lookup, Member, Param, Unary
from rasp_ir.values import Value, value_key

__all__ = [
    "ANY_VALUES",
    "AWKWARD_STRINGS",
    "DrawChooser",
    "any_terms",
    "expressions",
    "headers",
    "mutated_program_text",
    "program_input",
    "program_inputs",
    "programs",
]

Draw = st.DrawFn
T = TypeVar("T")


class DrawChooser:
    """The generator's choices drawn from hypothesis (a :class:`~rasp_ir.fuzz.choices.Chooser`)."""

    def __init__(self, draw: Draw) -> None:
        self.draw = draw

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options``."""
        return self.draw(st.sampled_from(options))

    def integer(self, low: int, high: int) -> int:
        """An integer in ``low..high``."""
        return self.draw(st.integers(low, high))

    def boolean(self) -> bool:
        """True or false."""
        return self.draw(st.booleans())


@st.composite
def headers(draw: Draw) -> Header:
    """A header: 2-4 ints or strings (sometimes awkward ones), max_len 1-6, optional BOS
    (a string outside the vocab) and a random causal flag."""
    return header(DrawChooser(draw))


@st.composite
def expressions(
    draw: Draw, kind: Kind = "num", params: Params = (("x", "num"),), max_depth: int = 3
) -> Expr:
    """A well-typed expression of ``kind`` over parameters ``(name, kind)``."""
    depth = draw(st.integers(0, max_depth))
    return expression(DrawChooser(draw), DEFAULT_LITERALS, kind, params, depth)


@st.composite
def programs(draw: Draw, max_bindings: int = 8) -> Program:
    """A random well-formed program with 1..``max_bindings`` bindings of every node kind."""
    return program(DrawChooser(draw), max_bindings)


# ---------------------------------------------------------------- terms of every kind

ANY_VALUES: st.SearchStrategy[Value] = st.one_of(
    st.integers(-3, 3),
    st.fractions(min_value=-2, max_value=2, max_denominator=4),
    st.booleans(),
    st.sampled_from(["a", "b", ""]),
    st.none(),
)
TERM_OPERATORS = ("+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or")
TERM_FUNCTIONS = ("min", "max", "abs", "round", "argmax")


def _compound_terms(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    lookup_entries = st.lists(
        st.tuples(st.tuples(ANY_VALUES), ANY_VALUES),
        max_size=3,
        unique_by=lambda entry: value_key(entry[0][0]),
    )
    return st.one_of(
        st.builds(Unary, st.sampled_from(["-", "not"]), children),
        st.builds(Binary, st.sampled_from(TERM_OPERATORS), children, children),
        st.builds(IfElse, children, children, children),
        st.builds(Member, children, st.tuples(ANY_VALUES, ANY_VALUES), st.booleans()),
        st.builds(Lookup, st.tuples(children), lookup_entries.map(tuple), children),
        st.builds(Call, st.sampled_from(TERM_FUNCTIONS), st.lists(children, max_size=3).map(tuple)),
    )


def any_terms(max_leaves: int = 12) -> st.SearchStrategy[Expr]:
    """Terms of every kind over the parameters ``x`` and ``y``, well typed or not."""
    leaves = st.one_of(st.builds(Const, ANY_VALUES), st.sampled_from([Param("x"), Param("y")]))
    return st.recursive(leaves, _compound_terms, max_leaves=max_leaves)


# ---------------------------------------------------------------- inputs


def program_input(program: Program) -> st.SearchStrategy[list[Value]]:
    """One valid content-token list (length 0..max_len) for ``program``."""
    header = program.header
    return st.lists(st.sampled_from(header.vocab), min_size=0, max_size=header.max_len)


def program_inputs(program: Program, max_inputs: int = 5) -> st.SearchStrategy[list[list[Value]]]:
    """1..``max_inputs`` valid content-token lists for ``program``."""
    return st.lists(program_input(program), min_size=1, max_size=max_inputs)


# ---------------------------------------------------------------- source mutation

MUTATION_CHARS: tuple[str, ...] = (
    *';(){}[]"\\=,:%#-+*/<>!.\n\t aZ_09é😀',
    "fn",
    "->",
    "select",
    "aggregate",
    "none",
    "%vocab",
    "output",
    "==",
)


@st.composite
def mutated_program_text(draw: Draw, text: str) -> str:
    """``text`` with 1-4 random edits: delete/insert/replace characters, swap, duplicate or
    delete lines, or truncate."""
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(
            st.sampled_from(
                ["delete", "insert", "replace", "swap_lines", "dup_line", "drop_line", "truncate"]
            )
        )
        if edit in ("delete", "replace", "truncate") and not text:
            edit = "insert"
        if edit == "delete":
            start = draw(st.integers(0, len(text) - 1))
            stop = draw(st.integers(start + 1, min(len(text), start + 3)))
            text = text[:start] + text[stop:]
        elif edit == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(MUTATION_CHARS)) + text[at:]
        elif edit == "replace":
            at = draw(st.integers(0, len(text) - 1))
            text = text[:at] + draw(st.sampled_from(MUTATION_CHARS)) + text[at + 1 :]
        elif edit == "truncate":
            text = text[: draw(st.integers(0, len(text) - 1))]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if edit == "swap_lines":
                lines[i], lines[j] = lines[j], lines[i]
            elif edit == "dup_line":
                lines.insert(j, lines[i])
            elif len(lines) > 1:
                del lines[i]
            text = "\n".join(lines)
    return text
