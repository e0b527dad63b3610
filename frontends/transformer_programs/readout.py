"""The linear readout (§10) as exact data: the unembedding weights of the reachable values in,
the readout as IR bindings and the float64 exactness bound out.

The readout is learned, not symbolic: each class's score is one weight per (variable, value)
plus weight x value for numerical variables, and the first class with the largest score wins.
Weights are the float32 parameters as exact rationals, so the program computes exactly the sums
the model computes whenever :func:`readout_exact` holds (and the certificate checks it anyway).
A pooled readout (classification) scores every position the same way and takes the first class
with the largest mean score over all positions: a ``pooled_vote``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import torch

from rasp_ir.api import Value, format_value, ir, normalize_number

from .model import TransformerProgram
from .structure import Variable, tp_index

FLOAT64_MANTISSA = 53
POOL = "pool"


def _exact(weights: torch.Tensor) -> list[Fraction]:
    return [Fraction(float(w)) for w in weights.tolist()]


@dataclass(frozen=True)
class CatTerm:
    """A categorical variable's weights: one row per reachable value, one column per class."""

    variable: Variable
    values: tuple[Value, ...]
    weights: tuple[tuple[Fraction, ...], ...]


@dataclass(frozen=True)
class NumTerm:
    """A numerical variable's weight per class."""

    variable: Variable
    weights: tuple[Fraction, ...]


@dataclass(frozen=True)
class Readout:
    """The readout restricted to the predictable classes (masked ones never win)."""

    classes: tuple[str, ...]
    cat: tuple[CatTerm, ...]
    num: tuple[NumTerm, ...]

    @classmethod
    def from_model(
        cls,
        model: TransformerProgram,
        cat: list[Variable],
        num: list[Variable],
        sets: dict[str, tuple[Value, ...]],
    ) -> Readout:
        """The weights of ``model`` for every reachable value of every variable."""
        config = model.config
        k = config.d_var
        keep = [c for c in range(len(config.classes)) if c not in config.masked_classes()]
        unembed = model.unembed.detach()[:, keep]
        cat_terms = []
        for variable in cat:
            values = sets[variable.name]
            rows = [variable.index * k + tp_index(variable, v, config.vocab) for v in values]
            weights = tuple(tuple(_exact(unembed[row])) for row in rows)
            cat_terms.append(CatTerm(variable, values, weights))
        base = len(cat) * k
        num_terms = [NumTerm(v, tuple(_exact(unembed[base + v.index]))) for v in num]
        return cls(tuple(config.classes[c] for c in keep), tuple(cat_terms), tuple(num_terms))

    def relevant(self) -> set[str]:
        """Variables whose readout contribution can change the winning class: not every
        contribution adds the same amount to every class."""
        found = {t.variable.name for t in self.cat if not all(_uniform(row) for row in t.weights)}
        found |= {t.variable.name for t in self.num if not _uniform(t.weights)}
        return found - {"ones"}

    def _scores(self) -> tuple[list[Variable], tuple[ir.Expr, ...]]:
        """The variables the readout reads (the relevant ones, or ``tokens`` when none is)
        and each class's score over them."""
        relevant = self.relevant()
        cat = [t for t in self.cat if t.variable.name in relevant]
        num = [t for t in self.num if t.variable.name in relevant]
        ones = next(t for t in self.num if t.variable.name == "ones")
        variables = [t.variable for t in cat] + [t.variable for t in num]
        if not variables:
            variables = [cat_or_tokens(self)]
        return variables, tuple(_score(cat, num, ones, c) for c in range(len(self.classes)))

    def pooled_bindings(self, output: str) -> list[ir.Binding]:
        """The pooled readout: ``pool`` selects every position, and ``output`` is the
        ``pooled_vote`` of the classes' scores over it, with comments saying how to read it."""
        variables, scores = self._scores()
        params = tuple(v.param for v in variables)
        pool = ir.Binding(
            POOL,
            ir.Select("indices", "indices", ir.Comparison("true")),
            None,
            comment=f"{POOL}: every position, <s> included (what the readout averages over)",
        )
        node = ir.PooledVote(
            POOL,
            tuple(ir.Lambda(params, score) for score in scores),
            tuple(v.name for v in variables),
            self.classes,
        )
        comment = (
            "Readout: the learned linear vote of the model (not symbolic), pooled. Each\n"
            "position scores every class: one weight per variable value and weight * count\n"
            "for counts (exact decimals of the float32 weights); the class with the largest\n"
            "mean score over all positions wins (the first on ties). The label is the one at\n"
            "<s>; every position holds it. The score functions are those of the classes in\n"
            "the order of labels."
        )
        return [pool, ir.Binding(output, node, "cat", comment=comment)]

    def binding(self, output: str) -> ir.Binding:
        """The readout binding over the relevant variables, ``map(fn(...) ->
        lookup(argmax(score, ...), {i: class}), ...)``, with a comment saying how to read it."""
        variables, scores = self._scores()
        entries = tuple(((i,), name) for i, name in enumerate(self.classes))
        body = ir.Lookup((ir.Call("argmax", scores),), entries, ir.Const(self.classes[0]))
        fn = ir.Lambda(tuple(v.param for v in variables), body)
        node = ir.Map(fn, tuple(v.name for v in variables))
        classes = ", ".join(format_value(name) for name in self.classes)
        comment = (
            "Readout: the learned linear vote of the model (not symbolic). Each class's\n"
            "score adds one weight per variable value and weight * count for counts (exact\n"
            "decimals of the float32 weights); the first class with the largest score wins.\n"
            f"The scores inside argmax are those of the classes {classes}, in this order."
        )
        return ir.Binding(output, node, "cat", comment=comment)


def cat_or_tokens(readout: Readout) -> Variable:
    """``tokens``: the input of a readout that no variable influences."""
    return readout.cat[0].variable


def _uniform(weights: tuple[Fraction, ...]) -> bool:
    return all(w == weights[0] for w in weights)


def _score(cat: list[CatTerm], num: list[NumTerm], ones: NumTerm, c: int) -> ir.Expr:
    """Class ``c``'s score: lookups of the categorical weights, weight * count for counts, and
    the constant (``ones``) weight, summed left to right (``- w * x`` for a negative weight);
    ``0`` when nothing contributes."""
    terms: list[ir.Expr] = [_cat_term(t, c) for t in cat if any(row[c] for row in t.weights)]
    terms += [
        ir.Binary("*", _weight(t.weights[c]), ir.Param(t.variable.param))
        for t in num
        if t.weights[c]
    ]
    if ones.weights[c]:
        terms.append(_weight(ones.weights[c]))
    if not terms:
        return ir.Const(0)
    score = terms[0]
    for term in terms[1:]:
        magnitude = _negated(term)
        score = (
            ir.Binary("+", score, term) if magnitude is None else ir.Binary("-", score, magnitude)
        )
    return score


def _weight(w: Fraction) -> ir.Const:
    return ir.Const(normalize_number(w))


def _cat_term(term: CatTerm, c: int) -> ir.Lookup:
    """``lookup(x, {value: weight})``."""
    entries = tuple(
        ((v,), normalize_number(row[c])) for v, row in zip(term.values, term.weights, strict=True)
    )
    return ir.Lookup((ir.Param(term.variable.param),), entries)


def _negated(term: ir.Expr) -> ir.Expr | None:
    """``-term`` for a term with a negative weight (``-w * x`` or ``-w``), else None."""
    if isinstance(term, ir.Binary) and term.op == "*":
        magnitude = _negated(term.left)
        return None if magnitude is None else ir.Binary("*", magnitude, term.right)
    if isinstance(term, ir.Const) and isinstance(term.value, (int, Fraction)) and term.value < 0:
        return ir.Const(-term.value)
    return None


def readout_exact(
    model: TransformerProgram,
    cat: list[Variable],
    num: list[Variable],
    sets: dict[str, tuple[Value, ...]],
) -> bool:
    """True when every partial sum of the model's float64 readout is exact: all weights are
    multiples of ``2^-e`` and the largest possible |sum| (over all N positions when the readout
    pools) is below ``2^(53-e)``."""
    readout = Readout.from_model(model, cat, num, sets)
    weights = [w for t in readout.cat for row in t.weights for w in row]
    weights += [w for t in readout.num for w in t.weights]
    exponent = max((w.denominator.bit_length() - 1 for w in weights if w), default=0)
    largest = Fraction(0)
    for c in range(len(readout.classes)):
        total = sum((max(abs(row[c]) for row in t.weights) for t in readout.cat), Fraction(0))
        for t in readout.num:
            values = [abs(Fraction(v)) for v in sets[t.variable.name] if isinstance(v, int)]
            total += abs(t.weights[c]) * max(values, default=Fraction(0))
        largest = max(largest, total)
    positions = model.config.n_ctx if model.config.pool_outputs else 1
    return bool(largest * positions * 2**exponent < 2**FLOAT64_MANTISSA)
