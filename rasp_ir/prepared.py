"""A program and its value sets in, every table the interpreter reads out, each built once.

An :class:`~rasp_ir.interpreter.Executable` holds one :class:`PreparedTables`; its rules ask
it for code maps, map and predicate tables, code translations and number weights instead of
rebuilding them on every batch. A table is built on first use, so a binding that fails to
tabulate (a map that raises on some input) fails when it is first evaluated, as before.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from rasp_ir.ir import Aggregate, Binding, Comparison, Map, Select, SelectClosest
from rasp_ir.tables import (
    RANK_OPS,
    ValueKey,
    code_of,
    comparison_ranks,
    distinct_inputs,
    map_table,
    predicate_table,
)
from rasp_ir.values import Value, value_key
from rasp_ir.valuesets import ENUMERATION_LIMIT

Built = TypeVar("Built")
Ranks = npt.NDArray[np.int64]
RankComparison = tuple[Callable[[Ranks, Ranks], Any], Ranks, Ranks]
INT64_SAFE = 1 << 62


class PreparedTables:
    """Memoised tables of one program over its value sets (``sets``: name -> value set)."""

    def __init__(self, sets: dict[str, tuple[Value, ...]]) -> None:
        self.sets = sets
        self._built: dict[tuple[str, str], Any] = {}

    def _once(self, kind: str, name: str, build: Callable[[], Built]) -> Built:
        key = (kind, name)
        if key not in self._built:
            self._built[key] = build()
        found: Built = self._built[key]
        return found

    def codes(self, name: str) -> dict[ValueKey, int]:
        """The codes of ``name``'s value set, keyed by :func:`~rasp_ir.values.value_key`."""
        return self._once("codes", name, lambda: code_of(self.sets[name]))

    def none_code(self, name: str) -> int | None:
        """The code of the undefined value in ``name``'s set, or None when it has none."""
        return self.codes(name).get(value_key(None))

    def values(self, name: str) -> npt.NDArray[np.object_]:
        """``name``'s value set as an object array, for turning codes into values."""

        def build() -> npt.NDArray[np.object_]:
            table = np.empty(len(self.sets[name]), dtype=object)
            table[:] = list(self.sets[name])
            return table

        return self._once("values", name, build)

    def map_table(self, binding: Binding) -> npt.NDArray[np.int64] | None:
        """The map's output codes for every input-code combination; None when the inputs have
        more than ``ENUMERATION_LIMIT`` combinations (the caller evaluates what it sees)."""
        node = binding.node
        assert isinstance(node, Map)

        def build() -> npt.NDArray[np.int64] | None:
            input_sets = [self.sets[name] for name in distinct_inputs(node)]
            if math.prod(len(s) for s in input_sets) > ENUMERATION_LIMIT:
                return None
            return map_table(binding, input_sets, self.sets[binding.name])

        return self._once("map", binding.name, build)

    def predicate_table(self, binding: Binding) -> npt.NDArray[np.bool_]:
        """The selector's predicate over (key code, query code), flattened row-major, and
        read as ``table[key * len(queries) + query]``."""
        node = binding.node
        assert isinstance(node, (Select, SelectClosest))

        def build() -> npt.NDArray[np.bool_]:
            table = predicate_table(
                node.predicate, self.sets[node.keys], self.sets[node.queries], span=binding.span
            )
            return table.ravel()

        return self._once("predicate", binding.name, build)

    def rank_comparison(self, binding: Binding) -> RankComparison | None:
        """For a select whose predicate is an ordering or equality decided by ranks and whose
        keys and queries are always defined: the comparison and the rank of each key code and
        query code; else None (the caller looks the predicate up in its table)."""
        node = binding.node
        assert isinstance(node, (Select, SelectClosest))

        def build() -> RankComparison | None:
            predicate = node.predicate
            if not isinstance(predicate, Comparison) or predicate.op not in RANK_OPS:
                return None
            key_set, query_set = self.sets[node.keys], self.sets[node.queries]
            if None in key_set or None in query_set:
                return None
            ranks = comparison_ranks(predicate.op, key_set, query_set)
            return None if ranks is None else (RANK_OPS[predicate.op], *ranks)

        return self._once("ranks", binding.name, build)

    def undefined_operands(self, binding: Binding) -> list[tuple[str, str, int]]:
        """For a select: ``(role, name, code of none)`` of each of its keys and queries whose
        value set holds the undefined value (which a select must reject)."""
        node = binding.node
        assert isinstance(node, (Select, SelectClosest))

        def build() -> list[tuple[str, str, int]]:
            operands = (("key", node.keys), ("query", node.queries))
            found = [(role, name, self.none_code(name)) for role, name in operands]
            return [(role, name, code) for role, name, code in found if code is not None]

        return self._once("undefined", binding.name, build)

    def translation(self, binding: Binding) -> npt.NDArray[np.int64]:
        """For an aggregate: the code in its own set of each value of the aggregated s-op."""
        node = binding.node
        assert isinstance(node, Aggregate)

        def build() -> npt.NDArray[np.int64]:
            out_codes = self.codes(binding.name)
            return np.array([out_codes[value_key(v)] for v in self.sets[node.sop]], dtype=np.int64)

        return self._once("translation", binding.name, build)

    def scaled_numbers(self, name: str, width: int) -> tuple[int, npt.NDArray[Any]]:
        """The numbers of ``name``'s set times the lcm of their denominators, and that lcm:
        int64 when a sum over ``width`` positions stays exact in it, else Python ints."""

        def build() -> tuple[int, list[int]]:
            # Value-set inference has rejected non-numbers here; 0 only keeps codes aligned.
            numbers = [
                Fraction(v) if isinstance(v, (int, Fraction)) else Fraction(0)
                for v in self.sets[name]
            ]
            scale = math.lcm(*(x.denominator for x in numbers)) if numbers else 1
            return scale, [int(x * scale) for x in numbers]

        scale, scaled = self._once("scaled", name, build)
        bound = max((abs(w) for w in scaled), default=0) * max(width, 1)
        dtype: type = np.int64 if bound < INT64_SAFE else object
        array: npt.NDArray[Any] = self._once(
            f"scaled-{dtype.__name__}", name, lambda: np.array(scaled, dtype=dtype)
        )
        return scale, array
