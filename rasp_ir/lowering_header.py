"""Header directives (``%vocab``, ``%max_len``, ``%bos``, ``%causal``) in, an
:class:`~rasp_ir.ir.Header` out; values a driver passes as :class:`HeaderOverrides` win.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lark import Token

from rasp_ir import ir
from rasp_ir.diagnostics import Diagnostic, Span
from rasp_ir.lowered import bounded_int, decode_string, vocabulary_problem
from rasp_ir.lowering_state import Recorder, Source
from rasp_ir.syntax import ParseTree, as_token, span_of
from rasp_ir.values import Value, describe_value, value_key

MAX_LEN_LIMIT = 100_000
"""Largest ``%max_len``: value sets and tables grow with it."""

# Lowers a constant expression of the header (a vocabulary entry, the BOS token).
ConstantLowerer = Callable[[ParseTree | Token], Value]


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
        self, recorder: Recorder, item: ParseTree, source: Source, constant: ConstantLowerer
    ) -> None:
        """Take in one ``*_directive`` tree."""
        span = span_of(item, source.text, source.file)
        name = item.data.removesuffix("_directive")
        if name in self.seen:
            first = self.seen[name].location()
            raise recorder.error(
                "header", f"%{name} is given twice", span, f"the first one is at {first}"
            )
        self.seen[name] = span
        if name == "vocab":
            self.vocab = self._vocab(recorder, item, span, constant)
        elif name == "max_len":
            value = bounded_int(str(as_token(item.children[0])), MAX_LEN_LIMIT)
            if value is None or value < 1:
                raise recorder.error(
                    "header", f"%max_len must be between 1 and {MAX_LEN_LIMIT:,}", span
                )
            self.max_len = value
        elif name == "bos":
            self.bos = constant(item.children[0])
        else:
            self.causal = True

    def _vocab(
        self, recorder: Recorder, item: ParseTree, span: Span, constant: ConstantLowerer
    ) -> tuple[Value, ...]:
        child = item.children[0]
        if isinstance(child, Token):
            values: list[Value] = list(decode_string(child))
        else:
            values = [constant(c) for c in child.children]
        problem = vocabulary_problem(values)
        if problem:
            raise recorder.error(
                "header", problem, span, 'e.g. %vocab {"a", "b"} or %vocab chars "ab"'
            )
        return tuple(values)

    def header(self, overrides: HeaderOverrides, recorder: Recorder) -> ir.Header | None:
        """The program header, or None (with diagnostics recorded) if it cannot be built."""
        vocab = self.vocab if overrides.vocab is None else overrides.vocab
        max_len = self.max_len if overrides.max_len is None else overrides.max_len
        diagnostics = recorder.diagnostics
        if overrides.vocab is not None and vocabulary_problem(overrides.vocab):
            diagnostics.append(Diagnostic("header", vocabulary_problem(overrides.vocab), None))
        if max_len is not None and not 1 <= max_len <= MAX_LEN_LIMIT:
            diagnostics.append(
                Diagnostic("header", f"the maximum length must be between 1 and {MAX_LEN_LIMIT:,}")
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
