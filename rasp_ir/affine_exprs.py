"""Function bodies affine in their parameters: an expression in, its coefficients out; and the
exact values such a map takes over its inputs' value sets, found as a sum of scaled sets rather
than by enumerating every combination of inputs (Sum_Last-k over 100 symbols: k sets of 100
values, not 100^k combinations)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from rasp_ir.ir import Lambda
from rasp_ir.terms import Binary, Const, Expr, Param, Unary
from rasp_ir.values import Value, is_number, normalize_number

Coefficients = tuple[dict[str, Fraction], Fraction]


def affine_coefficients(expr: Expr) -> Coefficients | None:
    """``expr`` as ``sum(c_p * p) + c`` over its parameters (zero coefficients left out), or
    None when it is not affine (a product of parameters, a division, a comparison, a lookup)."""
    if isinstance(expr, Const):
        value = expr.value
        if isinstance(value, bool) or not is_number(value):
            return None
        assert isinstance(value, (int, Fraction))
        return {}, Fraction(value)
    if isinstance(expr, Param):
        return {expr.name: Fraction(1)}, Fraction(0)
    if isinstance(expr, Unary) and expr.op == "-":
        inner = affine_coefficients(expr.operand)
        return None if inner is None else _scaled(inner, Fraction(-1))
    if not isinstance(expr, Binary) or expr.op not in ("+", "-", "*"):
        return None
    left, right = affine_coefficients(expr.left), affine_coefficients(expr.right)
    if left is None or right is None:
        return None
    if expr.op == "*":
        if not left[0]:
            return _scaled(right, left[1])
        return _scaled(left, right[1]) if not right[0] else None
    sign = Fraction(1 if expr.op == "+" else -1)
    terms = dict(left[0])
    for name, c in right[0].items():
        terms[name] = terms.get(name, Fraction(0)) + sign * c
    return {n: c for n, c in terms.items() if c}, left[1] + sign * right[1]


def _scaled(coefficients: Coefficients, factor: Fraction) -> Coefficients:
    terms, constant = coefficients
    return {n: c * factor for n, c in terms.items() if c * factor}, constant * factor


def affine_values(
    fn: Lambda, inputs: Sequence[str], sets: Mapping[str, Sequence[Value]], limit: int
) -> list[Value] | None:
    """Every value of ``fn`` applied to ``inputs`` (names, one per parameter; a name may be
    read by several parameters) when its body is affine and every input's ``sets`` entry holds
    numbers only: the sum of each input's set scaled by its coefficient, plus the constant.
    None when the body is not affine, a set holds a non-number, or a partial sum would take
    more than ``limit`` steps to form."""
    coefficients = affine_coefficients(fn.body)
    if coefficients is None:
        return None
    terms, constant = coefficients
    by_input: dict[str, Fraction] = {}
    for param, name in zip(fn.params, inputs, strict=True):
        by_input[name] = by_input.get(name, Fraction(0)) + terms.get(param, Fraction(0))
    sums = {constant}
    for name, c in by_input.items():
        values = sets[name]
        if any(isinstance(v, bool) or not is_number(v) for v in values):
            return None
        if not c:
            continue
        if len(sums) * len(values) > limit:
            return None
        sums = {s + c * Fraction(v) for s in sums for v in values}  # type: ignore[arg-type]
    return [normalize_number(s) for s in sums]
