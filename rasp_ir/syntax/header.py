"""Header directives (``%vocab``, ``%max_len``, ``%bos``, ``%causal``) in, an
:class:`~rasp_ir.ir.Header` out; values a driver passes as :class:`HeaderOverrides` win.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rasp_ir import ir
from rasp_ir.diagnostics import Diagnostic, Span
from rasp_ir.limits import MAX_LEN
from rasp_ir.syntax import ast
from rasp_ir.syntax.resolved import bounded_int, vocabulary_problem
from rasp_ir.syntax.state import Recorder
from rasp_ir.values import Value, describe_value, value_key

# Resolves a constant expression of the header (a vocabulary entry, the BOS token).
ConstantResolver = Callable[[ast.Expr], Value]

_NAMES: dict[type[ast.Directive], str] = {
    ast.VocabDirective: "vocab",
    ast.MaxLenDirective: "max_len",
    ast.BosDirective: "bos",
    ast.CausalDirective: "causal",
}


@dataclass(frozen=True)
class HeaderOverrides:
    """Header values given by a driver (the CLI's ``--vocab``/``--max-len``); they win."""

    vocab: tuple[Value, ...] | None = None
    max_len: int | None = None


@dataclass
class HeaderDirectives:
    """The header directives of the main file, each given at most once."""

    vocab: tuple[Value, ...] | None = None
    max_len: int | None = None
    bos: Value = None
    causal: bool = False
    seen: dict[str, Span] = field(default_factory=dict)

    def read(
        self, recorder: Recorder, directive: ast.Directive, constant: ConstantResolver
    ) -> None:
        """Take in one directive."""
        name = _NAMES[type(directive)]
        span = directive.span
        if name in self.seen:
            first = self.seen[name].location()
            raise recorder.error(
                "header", f"%{name} is given twice", span, f"the first one is at {first}"
            )
        self.seen[name] = span
        if isinstance(directive, ast.VocabDirective):
            self.vocab = _vocab(recorder, directive, constant)
        elif isinstance(directive, ast.MaxLenDirective):
            self.max_len = _max_len(recorder, directive)
        elif isinstance(directive, ast.BosDirective):
            self.bos = constant(directive.value)
        else:
            self.causal = True

    def header(self, overrides: HeaderOverrides, recorder: Recorder) -> ir.Header | None:
        """The program header, or None (with diagnostics recorded) if it cannot be built."""
        vocab = self.vocab if overrides.vocab is None else overrides.vocab
        max_len = self.max_len if overrides.max_len is None else overrides.max_len
        diagnostics = recorder.diagnostics
        if overrides.vocab is not None and vocabulary_problem(overrides.vocab):
            diagnostics.append(Diagnostic("header", vocabulary_problem(overrides.vocab), None))
        if max_len is not None and not 1 <= max_len <= MAX_LEN:
            diagnostics.append(
                Diagnostic("header", f"the maximum length must be between 1 and {MAX_LEN:,}")
            )
        if vocab is None and "vocab" not in self.seen:
            diagnostics.append(
                Diagnostic("header", "no vocabulary", None, 'add %vocab {"a", "b"} or pass --vocab')
            )
        if max_len is None and "max_len" not in self.seen:
            diagnostics.append(
                Diagnostic("header", "no maximum length", None, "add %max_len 8 or pass --max-len")
            )
        if vocab is None or max_len is None:
            return None
        bos = self.bos
        if bos is not None and any(value_key(v) == value_key(bos) for v in vocab):
            diagnostics.append(
                Diagnostic(
                    "header",
                    f"the BOS token {describe_value(bos)} is also in the vocabulary",
                    self.seen.get("bos"),
                    "choose a BOS symbol outside the vocabulary",
                )
            )
        return ir.Header(vocab, max_len, bos, self.causal)


def _vocab(
    recorder: Recorder, directive: ast.VocabDirective, constant: ConstantResolver
) -> tuple[Value, ...]:
    if directive.chars is not None:
        values: list[Value] = list(directive.chars)
    else:
        values = [constant(c) for c in directive.values]
    problem = vocabulary_problem(values)
    if problem:
        raise recorder.error(
            "header", problem, directive.span, 'e.g. %vocab {"a", "b"} or %vocab chars "ab"'
        )
    return tuple(values)


def _max_len(recorder: Recorder, directive: ast.MaxLenDirective) -> int:
    value = bounded_int(directive.digits, MAX_LEN)
    if value is None or value < 1:
        raise recorder.error(
            "header", f"%max_len must be between 1 and {MAX_LEN:,}", directive.span
        )
    return value
