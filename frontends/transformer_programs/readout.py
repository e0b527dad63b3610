"""The linear readout (§10) as exact data: the unembedding weights of the reachable values in,
per-class scores as IR text and the float64 exactness bound out.

The readout is learned, not symbolic: each class's score is one weight per (variable, value)
plus weight x value for numerical variables, and the first class with the largest score wins.
Weights are the float32 parameters as exact rationals, so the program computes exactly the sums
the model computes whenever :func:`readout_exact` holds (and the certificate checks it anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import torch

from rasp_ir.values import Value, format_number, format_value

from .model import TransformerProgram
from .structure import Variable

FLOAT64_MANTISSA = 53


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
        from .lift import tp_index

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

    def text(self, output: str, live: set[str]) -> str:
        """The readout binding: ``map(fn(...) -> lookup(argmax(score, ...), {i: class}), ...)``."""
        relevant = self.relevant()
        cat = [t for t in self.cat if t.variable.name in relevant and t.variable.name in live]
        num = [t for t in self.num if t.variable.name in relevant and t.variable.name in live]
        ones = next(t for t in self.num if t.variable.name == "ones")
        variables = [t.variable for t in cat] + [t.variable for t in num]
        if not variables:
            variables = [cat_or_tokens(self)]
        scores = []
        for c, name in enumerate(self.classes):
            terms = [_cat_term(t, c) for t in cat if any(row[c] for row in t.weights)]
            terms += [_num_term(t, c) for t in num if t.weights[c]]
            if ones.weights[c]:
                terms.append(format_number(ones.weights[c]))
            score = _join(terms) if terms else "0"
            scores.append(f"        # class {format_value(name)}\n        {score}")
        table = ", ".join(f"{i}: {format_value(name)}" for i, name in enumerate(self.classes))
        params = ", ".join(v.param for v in variables)
        inputs = ", ".join(v.name for v in variables)
        return "\n".join(
            [
                "# Readout: the learned linear vote of the model (not symbolic). Each class's",
                "# score adds one weight per variable value and weight * count for counts (exact",
                "# decimals of the float32 weights); the first class with the largest score wins.",
                f"{output} = map(fn({params}) -> lookup(argmax(",
                ",\n".join(scores),
                f"    ), {{{table}}}, default={format_value(self.classes[0])}),",
                f"    {inputs});",
            ]
        )


def cat_or_tokens(readout: Readout) -> Variable:
    """``tokens``: the input of a readout that no variable influences."""
    return readout.cat[0].variable


def _uniform(weights: tuple[Fraction, ...]) -> bool:
    return all(w == weights[0] for w in weights)


def _cat_term(term: CatTerm, c: int) -> str:
    entries = ", ".join(
        f"{format_value(v)}: {format_number(row[c])}"
        for v, row in zip(term.values, term.weights, strict=True)
    )
    return f"lookup({term.variable.param}, {{{entries}}})"


def _num_term(term: NumTerm, c: int) -> str:
    return f"{format_number(term.weights[c])} * {term.variable.param}"


def _join(terms: list[str]) -> str:
    text = terms[0]
    for term in terms[1:]:
        text += f"\n            - {term[1:]}" if term.startswith("-") else f"\n            + {term}"
    return text


def readout_exact(
    model: TransformerProgram,
    cat: list[Variable],
    num: list[Variable],
    sets: dict[str, tuple[Value, ...]],
) -> bool:
    """True when every partial sum of the model's float64 readout is exact: all weights are
    multiples of ``2^-e`` and the largest possible |sum| is below ``2^(53-e)``."""
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
    return bool(largest * 2**exponent < 2**FLOAT64_MANTISSA)
