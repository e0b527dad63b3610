"""Compiling back: a lifted (possibly edited) program in, Transformer Program weights whose argmax
model computes exactly that program out.

The program must keep the lifted shape: bindings named ``attn_L_H_output`` (``aggregate`` of a
``select_closest``), ``num_attn_L_H_output`` (``selector_width`` or ``sum`` aggregate of a
``select``), ``mlp_L_M_output`` / ``num_mlp_L_M_output`` (a map of one or two variables, or a
constant), ``ones``, the factored embedding's chunks ``embedding_J`` (maps of ``tokens``), and one
output: the readout map ``lookup(argmax(score, ...), {i: class})``, or a ``pooled_vote`` of the
class scores over ``select(indices, indices, true)`` (the pooled readout of classification).
Predicates and tables may be any expressions: they are tabulated over the exact value sets,
so an edited table entry or predicate compiles as written. What a Transformer Program cannot
express (a predicate accepting two key values for one query, a read of a later variable, a
weight that is not a float32) is refused with a message naming the binding.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np
import torch

from rasp_ir.api import (
    RaspError,
    Value,
    describe_value,
    distinct_inputs,
    infer_value_sets,
    ir,
    is_number,
    map_table,
    predicate_table,
    value_key,
)

from .config import BOS, PAD, UNK, ModelConfig
from .model import TransformerProgram
from .structure import NAME_PATTERN, Variable, embedding_name

READ_LOGIT = 10.0
PAD_CLASS_WEIGHT = -(2.0**100)
EMBEDDING_PATTERN = re.compile(r"^embedding_(\d+)$")
# A class score: the score's parameters mapped to the variables they read, and its expression.
Score = tuple[dict[str, str], ir.Expr]


class _NeedSpareValue(Exception):
    """A query accepts no key, but every one of the k key values is reachable: k grows by one."""


def _refuse(binding: ir.Binding | None, message: str, hint: str = "") -> RaspError:
    span = binding.span if binding is not None else None
    return RaspError.single("tp-compile", message, span, hint)


@dataclass
class _Plan:
    """Everything read off the program before any tensor is built."""

    program: ir.Program
    sets: dict[str, tuple[Value, ...]]
    modules: dict[tuple[str, int, int], ir.Binding] = field(default_factory=dict)
    embeddings: dict[int, ir.Binding] = field(default_factory=dict)
    readout: ir.Binding | None = None

    @property
    def pooled(self) -> bool:
        """True when the readout is a ``pooled_vote`` (the classification readout)."""
        return self.readout is not None and isinstance(self.readout.node, ir.PooledVote)


def _plan(program: ir.Program) -> _Plan:
    plan = _Plan(program, infer_value_sets(program).sets)
    if len(program.outputs) != 1:
        raise _refuse(None, "a Transformer Program has one output: the readout map")
    output = program.by_name.get(program.outputs[0])
    pool = output.node.selector if output and isinstance(output.node, ir.PooledVote) else None
    for binding in program.bindings:
        match = NAME_PATTERN.match(binding.name)
        chunk = EMBEDDING_PATTERN.match(binding.name)
        if match:
            kind, layer, slot = match.group(1), int(match.group(2)), int(match.group(3))
            plan.modules[(kind, layer, slot)] = binding
        elif chunk:
            plan.embeddings[int(chunk.group(1))] = binding
        elif binding.name == program.outputs[0]:
            plan.readout = binding
        elif binding.name == pool:
            _check_pool(binding)
        elif binding.name != "ones" and "__" not in binding.name:
            raise _refuse(
                binding,
                f"{binding.name!r} is not a Transformer Programs variable",
                "name bindings attn_L_H_output, num_attn_L_H_output, mlp_L_M_output or "
                "num_mlp_L_M_output, as 'rasp tp lift' does",
            )
    _check_plan(plan)
    return plan


def _check_plan(plan: _Plan) -> None:
    """What the bindings' names and places alone show the architecture cannot express."""
    if plan.readout is None:
        raise _refuse(None, "the program's output is not bound")
    if sorted(plan.embeddings) != list(range(len(plan.embeddings))):
        missing = next(j for j in range(len(plan.embeddings)) if j not in plan.embeddings)
        raise _refuse(
            plan.embeddings[max(plan.embeddings)],
            f"the factored embedding has no chunk {embedding_name(missing)}",
            "number the chunks embedding_0, embedding_1, ... as 'rasp tp lift' does",
        )
    if plan.pooled and plan.program.header.causal:
        raise _refuse(plan.readout, "a pooled readout reads every position; drop %causal")


def _check_pool(binding: ir.Binding) -> None:
    """The selector a pooled readout averages over must select every position."""
    node = binding.node
    if not (
        isinstance(node, ir.Select)
        and (node.keys, node.queries) == ("indices", "indices")
        and node.predicate == ir.Comparison("true")
    ):
        raise _refuse(
            binding,
            f"{binding.name}: a pooled readout averages over every position",
            f"write {binding.name} = select(indices, indices, true);",
        )


def _config(plan: _Plan) -> ModelConfig:
    header = plan.program.header
    if header.bos != BOS or not all(isinstance(t, str) for t in header.vocab):
        raise _refuse(None, 'a Transformer Program needs %bos "<s>" and a vocabulary of strings')
    vocab = (PAD, *sorted({*(str(t) for t in header.vocab), BOS}))
    classes = _classes(plan)
    n_ctx = header.max_len + 1
    counts: dict[str, int] = {}
    layers = 1
    for kind, layer, slot in plan.modules:
        counts[kind] = max(counts.get(kind, 0), slot + 1)
        layers = max(layers, layer + 1)
    mask = UNK not in classes and PAD not in classes
    return ModelConfig(
        vocab=vocab,
        classes=classes if classes[0] == PAD else (PAD, *classes),
        n_ctx=n_ctx,
        d_var=max(n_ctx, _factored_values(plan) if plan.embeddings else len(vocab)),
        embedding_chunks=len(plan.embeddings),
        pool_outputs=plan.pooled,
        n_layers=layers,
        n_heads_cat=counts.get("attn", 0),
        n_heads_num=counts.get("num_attn", 0),
        n_cat_mlps=counts.get("mlp", 0),
        n_num_mlps=counts.get("num_mlp", 0),
        d_mlp=1,
        causal=header.causal,
        unembed_mask=mask,
    )


def _factored_values(plan: _Plan) -> int:
    """k of a program with a factored embedding: one more than the largest integer any
    embedding chunk or MLP gives (attention outputs copy these, positions are below N)."""
    bindings = [*plan.embeddings.values()]
    bindings += [b for (kind, _, _), b in plan.modules.items() if kind in ("mlp", "num_mlp")]
    values = [v for b in bindings for v in plan.sets[b.name]]
    return 1 + max((v for v in values if isinstance(v, int) and not isinstance(v, bool)), default=0)


def _readout_parts(plan: _Plan) -> tuple[list[Score], list[str]]:
    """Each class's score (in the readout's order) and the class labels."""
    binding = plan.readout
    assert binding is not None
    node = binding.node
    if isinstance(node, ir.PooledVote):
        if not all(isinstance(label, str) for label in node.labels):
            raise _refuse(binding, "the pooled readout's labels must be strings")
        pooled = [(dict(zip(fn.params, node.inputs, strict=True)), fn.body) for fn in node.scores]
        return pooled, [str(label) for label in node.labels]
    body = node.fn.body if isinstance(node, ir.Map) else None
    if (
        not isinstance(node, ir.Map)
        or not isinstance(body, ir.Lookup)
        or len(body.keys) != 1
        or not isinstance(body.keys[0], ir.Call)
        or body.keys[0].func != "argmax"
    ):
        raise _refuse(
            binding,
            "the readout must be map(fn(...) -> lookup(argmax(...), {...}), ...) or a pooled_vote",
        )
    inputs = dict(zip(node.fn.params, node.inputs, strict=True))
    scores = [(inputs, score) for score in body.keys[0].args]
    by_index = {entry[0][0]: entry[1] for entry in body.entries}
    classes = []
    for i in range(len(scores)):
        label = by_index.get(i)
        if not isinstance(label, str):
            raise _refuse(binding, f"the readout's class table has no string class for index {i}")
        classes.append(label)
    return scores, classes


def _classes(plan: _Plan) -> tuple[str, ...]:
    return tuple(_readout_parts(plan)[1])


def _variables(config: ModelConfig, plan: _Plan) -> tuple[dict[str, Variable], dict[str, Variable]]:
    """Categorical and numerical variables by IR name, with encodings from the program."""
    from .structure import variables

    cat_list, num_list = variables(config)
    cat = {v.name: v for v in cat_list}
    num = {v.name: v for v in num_list}
    for (kind, _layer, _slot), binding in plan.modules.items():
        if kind != "attn" or not isinstance(binding.node, ir.Aggregate):
            continue
        source = cat.get(binding.node.sop)
        if source is not None:
            name = binding.name
            cat[name] = Variable(name, name, "cat", cat[name].index, source.encoding)
    return cat, num


def _index(variable: Variable, value: Value, config: ModelConfig, binding: ir.Binding) -> int:
    if variable.encoding == "token":
        return config.vocab.index(str(value))
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < config.d_var:
        return value
    raise _refuse(
        binding,
        f"{variable.name} takes the value {describe_value(value)}; a Transformer Program "
        f"variable holds integers 0..{config.d_var - 1}",
        "make MLP tables give integers in that range",
    )


class _Builder:
    """Writes argmax-exact weights into a fresh model, one module at a time."""

    def __init__(self, plan: _Plan, config: ModelConfig) -> None:
        self.plan, self.config = plan, config
        self.cat, self.num = _variables(config, plan)
        self.mlp_units: dict[
            tuple[str, int, int], list[tuple[list[float], float, list[float]]]
        ] = {}
        self.mlp_bias: dict[tuple[str, int, int], int] = {}
        self.mlp_reads: dict[tuple[str, int, int], torch.Tensor] = {}

    def _read(
        self,
        logits: torch.Tensor,
        names: list[str],
        stream: dict[str, Variable],
        available: int,
        binding: ir.Binding,
    ) -> None:
        for slot, name in enumerate(names):
            variable = stream.get(name)
            if variable is None or variable.index >= available:
                raise _refuse(
                    binding,
                    f"{binding.name} reads {name!r}, which is not a variable available to it",
                    "read tokens, indices, ones or outputs of earlier layers",
                )
            row = torch.full((logits.shape[-1],), -READ_LOGIT)
            row[variable.index] = READ_LOGIT
            logits[slot] = row

    def predicate(self, binding: ir.Binding, selector: ir.Select | ir.SelectClosest) -> list[int]:
        """``f(query index)``: the one key value index each reachable query value accepts."""
        key, query = self.cat[selector.keys], self.cat[selector.queries]
        key_set, query_set = self.plan.sets[selector.keys], self.plan.sets[selector.queries]
        table = predicate_table(selector.predicate, key_set, query_set, span=binding.span)
        used = {_index(key, v, self.config, binding) for v in key_set}
        spare = [i for i in range(self.config.d_var) if i not in used]
        f = [0] * self.config.d_var
        for q, query_value in enumerate(query_set):
            accepted = [key_set[k] for k in np.flatnonzero(table[:, q])]
            if len(accepted) > 1:
                shown = ", ".join(describe_value(v) for v in accepted[:3])
                raise _refuse(
                    binding,
                    f"{binding.name}: query {describe_value(query_value)} accepts several keys "
                    f"({shown}); a Transformer Programs predicate accepts one key value",
                    "make the predicate key == f(query)",
                )
            if accepted:
                target = _index(key, accepted[0], self.config, binding)
            elif spare:
                target = spare[0]
            else:
                raise _NeedSpareValue

            f[_index(query, query_value, self.config, binding)] = target
        return f

    def head(
        self, model: TransformerProgram, kind: str, layer: int, slot: int, binding: ir.Binding
    ) -> None:
        program, node = self.plan.program, binding.node
        params = model.layer(layer)
        available = self.config.n_cat_vars(layer)
        if kind == "attn":
            selector = (
                program.binding(node.selector).node if isinstance(node, ir.Aggregate) else None
            )
            if (
                not isinstance(node, ir.Aggregate)
                or not isinstance(selector, ir.SelectClosest)
                or node.reduce != "mean"
            ):
                raise _refuse(
                    binding, f"{binding.name} must be aggregate(select_closest(...), value)"
                )
            value = node.sop
            prefix = "cat"
        else:
            if isinstance(node, ir.SelectorWidth):
                selector, value = program.binding(node.selector).node, "ones"
            elif isinstance(node, ir.Aggregate) and node.reduce == "sum":
                selector, value = program.binding(node.selector).node, node.sop
            else:
                raise _refuse(
                    binding,
                    f"{binding.name} must be selector_width(select(...)) or a sum aggregate",
                )
            if not isinstance(selector, ir.Select):
                raise _refuse(
                    binding, f"{binding.name} must count with select(keys, queries, predicate)"
                )
            prefix = "num"
        with torch.no_grad():
            logits = torch.zeros(3, available)
            self._read(logits, [selector.queries, selector.keys], self.cat, available, binding)
            getattr(params, f"{prefix}_query")[slot] = logits[0]
            getattr(params, f"{prefix}_key")[slot] = logits[1]
            if kind == "attn":
                self._read(logits, [value], self.cat, available, binding)
                params.cat_value[slot] = logits[0]
            else:
                nums = torch.zeros(1, self.config.n_num_vars(layer))
                self._read(nums, [value], self.num, self.config.n_num_vars(layer), binding)
                params.num_value[slot] = nums[0]
            predicate = torch.zeros(self.config.d_var, self.config.d_var)
            for a, target in enumerate(self.predicate(binding, selector)):
                predicate[a, target] = 1.0
            getattr(params, f"{prefix}_predicate")[slot] = predicate

    def mlp(self, kind: str, layer: int, slot: int, binding: ir.Binding) -> None:
        """Tabulate one MLP and turn its table into hidden units (written by :meth:`write_mlps`)."""
        node = binding.node
        stream = self.cat if kind == "mlp" else self.num
        available = (
            self.config.n_cat_vars(layer) + self.config.n_heads_cat
            if kind == "mlp"
            else self.config.n_num_vars(layer) + self.config.n_heads_num
        )
        table: dict[tuple[Value, ...], Value]
        if isinstance(node, ir.Full):
            names, table = ["tokens" if kind == "mlp" else "ones"] * 2, {(): node.value}
        elif isinstance(node, ir.Map) and 1 <= len(distinct_inputs(node)) <= 2:
            inputs = list(distinct_inputs(node))
            names = inputs * 2 if len(inputs) == 1 else inputs
            sets = [self.plan.sets[n] for n in inputs]
            codes = map_table(binding, sets, self.plan.sets[binding.name])
            out_set = self.plan.sets[binding.name]
            table = {}
            for index in np.ndindex(codes.shape):
                key = tuple(sets[a][i] for a, i in enumerate(index))
                table[key if len(key) == 2 else key * 2] = out_set[int(codes[index])]
        else:
            raise _refuse(
                binding, f"{binding.name} must be a map of one or two variables, or a constant"
            )
        logits = torch.zeros(2, available)
        self._read(logits, names, stream, available, binding)
        self.mlp_reads[(kind, layer, slot)] = logits
        outputs = {
            k: _index(self.cat[binding.name], v, self.config, binding) for k, v in table.items()
        }
        if kind == "mlp":
            self._cat_units(binding, (kind, layer, slot), names, outputs)
        else:
            self._num_units(binding, (kind, layer, slot), names, outputs)

    def _cat_units(
        self,
        binding: ir.Binding,
        key: tuple[str, int, int],
        names: list[str],
        outputs: dict[tuple[Value, ...], int],
    ) -> None:
        """One hidden unit per non-default input pair: relu(x_a + y_b - 1)."""
        from collections import Counter

        k = self.config.d_var
        default = Counter(outputs.values()).most_common(1)[0][0]
        units = []
        for pair, out in outputs.items():
            if out == default or not pair:
                continue
            w_in = [0.0] * (2 * k)
            w_in[_index(self.cat[names[0]], pair[0], self.config, binding)] += 1.0
            w_in[k + _index(self.cat[names[1]], pair[1], self.config, binding)] += 1.0
            w_out = [0.0] * k
            w_out[out] = 2.0
            units.append((w_in, -1.0, w_out))
        self.mlp_units[key] = units
        self.mlp_bias[key] = default

    def _num_units(
        self,
        binding: ir.Binding,
        key: tuple[str, int, int],
        names: list[str],
        outputs: dict[tuple[Value, ...], int],
    ) -> None:
        """Steps of ``z = s * x + y`` at every change of output along the sorted reachable z."""
        k = self.config.d_var
        if not outputs or () in outputs:
            self.mlp_units[key] = []
            self.mlp_bias[key] = next(iter(outputs.values()))
            return
        pairs = list(outputs)
        if not all(isinstance(v, int) and not isinstance(v, bool) for p in pairs for v in p):
            raise _refuse(binding, f"{binding.name} reads non-integer numbers; counts are integers")
        same = names[0] == names[1]
        ys = [_as_int(p[1]) for p in pairs]
        scale = 0 if same else max(ys) - min(ys) + 1
        weight = (1.0, 0.0) if same else (float(scale), 1.0)
        by_z = sorted(
            {
                (_as_int(p[0]) if same else scale * _as_int(p[0]) + _as_int(p[1])): out
                for p, out in outputs.items()
            }.items()
        )
        units = []
        for (_, before), (z, after) in itertools.pairwise(by_z):
            if before == after:
                continue
            delta = [0.0] * k
            delta[after] += 1.0
            delta[before] -= 1.0
            units.append((list(weight), -(z - 1.0), delta))
            units.append((list(weight), -float(z), [-d for d in delta]))
        self.mlp_units[key] = units
        self.mlp_bias[key] = by_z[0][1]

    def write_mlps(self, model: TransformerProgram) -> None:
        """Every tabulated MLP's reads and units into ``model``."""
        d_mlp = model.config.d_mlp
        with torch.no_grad():
            for (kind, layer, slot), units in self.mlp_units.items():
                prefix = "mlp" if kind == "mlp" else "num_mlp"
                params = model.layer(layer)
                getattr(params, f"{prefix}_read")[slot] = self.mlp_reads[(kind, layer, slot)]
                getattr(params, f"{prefix}_w_in")[slot] = 0.0
                getattr(params, f"{prefix}_b_in")[slot] = 0.0
                getattr(params, f"{prefix}_w_out")[slot] = 0.0
                bias = torch.zeros(self.config.d_var)
                bias[self.mlp_bias[(kind, layer, slot)]] = 1.0
                getattr(params, f"{prefix}_b_out")[slot] = bias
                for u, (w_in, b_in, w_out) in enumerate(units[:d_mlp]):
                    getattr(params, f"{prefix}_w_in")[slot, u] = torch.tensor(w_in)
                    getattr(params, f"{prefix}_b_in")[slot, u] = b_in
                    getattr(params, f"{prefix}_w_out")[slot, :, u] = torch.tensor(w_out)

    def embedding(self, model: TransformerProgram) -> None:
        """The factored embedding's logits: each word's cluster in each chunk, at +-READ_LOGIT
        (``<pad>`` never reaches the readout: its row stays 0)."""
        if not self.plan.embeddings:
            return
        logits = torch.zeros_like(model.embedding)
        token_set = self.plan.sets["tokens"]
        for chunk, binding in self.plan.embeddings.items():
            node = binding.node
            if not isinstance(node, ir.Map) or node.inputs != ("tokens",):
                raise _refuse(binding, f"{binding.name} must be a map of tokens")
            codes = map_table(binding, [token_set], self.plan.sets[binding.name])
            variable = self.cat[binding.name]
            for token, code in zip(token_set, codes.tolist(), strict=True):
                value = self.plan.sets[binding.name][code]
                row = self.config.vocab.index(str(token))
                logits[row, chunk] = -READ_LOGIT
                logits[row, chunk, _index(variable, value, self.config, binding)] = READ_LOGIT
        with torch.no_grad():
            model.embedding.copy_(logits)

    def readout(self, model: TransformerProgram) -> None:
        """The readout weights: each class score's terms, summed exactly, as float32."""
        scores, classes = _readout_parts(self.plan)
        binding = self.plan.readout
        assert binding is not None
        k = self.config.d_var
        base = self.config.n_cat_vars(self.config.n_layers) * k
        weights: dict[tuple[int, int], Fraction] = {}
        for label, (inputs, score) in zip(classes, scores, strict=True):
            column = self.config.classes.index(label)
            for sign, term in _terms(score, 1):
                for row, w in self._term_rows(binding, inputs, term, base):
                    weights[(row, column)] = weights.get((row, column), Fraction(0)) + sign * w
        unembed = torch.zeros_like(model.unembed)
        for (row, column), w in weights.items():
            single = float(np.float32(float(w)))
            if Fraction(single) != w:
                raise _refuse(
                    binding, f"the readout weight {describe_value(w)} is not a float32 number"
                )
            unembed[row, column] = single
        if not self.config.unembed_mask and PAD not in classes:
            unembed[base, 0] = PAD_CLASS_WEIGHT
        with torch.no_grad():
            model.unembed.copy_(unembed)

    def _term_rows(
        self, binding: ir.Binding, inputs: dict[str, str], term: ir.Expr, base: int
    ) -> list[tuple[int, Fraction]]:
        """The unembedding rows one summand of a score writes, with their weights: a constant
        (the ``ones`` row), a count or weight * count (its numerical row), or a lookup of a
        categorical variable (one row per reachable value)."""
        if isinstance(term, ir.Const) and is_number(term.value):
            return [(base, _as_fraction(term.value))]
        count = self._count_term(inputs, term)
        if count is not None:
            variable, weight = count
            return [(base + variable.index, weight)]
        if (
            isinstance(term, ir.Lookup)
            and len(term.keys) == 1
            and isinstance(term.keys[0], ir.Param)
            and inputs[term.keys[0].name] in self.cat
        ):
            return self._lookup_rows(binding, inputs[term.keys[0].name], term)
        raise _refuse(
            binding,
            "a readout score must be a sum of lookup(variable, {value: weight}), "
            "weight * count and constants",
        )

    def _count_term(
        self, inputs: dict[str, str], term: ir.Expr
    ) -> tuple[Variable, Fraction] | None:
        """A numerical variable and its weight for ``count`` or ``weight * count``, else None."""
        if isinstance(term, ir.Param) and inputs[term.name] in self.num:
            return self.num[inputs[term.name]], Fraction(1)
        if not (isinstance(term, ir.Binary) and term.op == "*"):
            return None
        factors = (term.left, term.right)
        const = next((f for f in factors if isinstance(f, ir.Const)), None)
        param = next((f for f in factors if isinstance(f, ir.Param)), None)
        if const is None or param is None or not is_number(const.value):
            return None
        variable = self.num.get(inputs[param.name])
        return None if variable is None else (variable, _as_fraction(const.value))

    def _lookup_rows(
        self, binding: ir.Binding, name: str, term: ir.Lookup
    ) -> list[tuple[int, Fraction]]:
        """The rows of categorical variable ``name`` with their weights in ``term``'s table
        (its default for reachable values it does not list; none where that is none)."""
        variable = self.cat[name]
        listed = {value_key(key[0]): w for key, w in term.entries}
        rows = []
        for value in self.plan.sets[name]:
            w = listed.get(value_key(value))
            if w is None and isinstance(term.default, ir.Const):
                w = term.default.value
            if w is None:
                continue
            if not is_number(w):
                raise _refuse(
                    binding,
                    f"the readout weight of {name} = {describe_value(value)} is not a number",
                )
            index = _index(variable, value, self.config, binding)
            rows.append((variable.index * self.config.d_var + index, _as_fraction(w)))
        return rows


def _as_int(v: Value) -> int:
    assert isinstance(v, int)
    return v


def _as_fraction(v: Value) -> Fraction:
    assert isinstance(v, (int, Fraction))
    return Fraction(v)


def _terms(expr: ir.Expr, sign: int) -> list[tuple[int, ir.Expr]]:
    """The signed summands of a sum."""
    if isinstance(expr, ir.Binary) and expr.op in ("+", "-"):
        right = sign if expr.op == "+" else -sign
        return _terms(expr.left, sign) + _terms(expr.right, right)
    if isinstance(expr, ir.Unary) and expr.op == "-":
        return _terms(expr.operand, -sign)
    return [(sign, expr)]


def compile_program(program: ir.Program, spare_values: int = 0) -> TransformerProgram:
    """Weights whose argmax model computes ``program`` (a lifted program, edited or not).

    ``k`` is ``max(N, vocabulary size)``, plus one when a predicate must match nothing and
    every key value is reachable (a value no key holds then stands for "no key")."""
    plan = _plan(program)
    config = _config(plan)
    config = replace(config, d_var=config.d_var + spare_values)
    try:
        return _build(plan, config)
    except _NeedSpareValue:
        if spare_values:
            raise
        return compile_program(program, spare_values=1)


def _build(plan: _Plan, config: ModelConfig) -> TransformerProgram:
    builder = _Builder(plan, config)
    for (kind, layer, slot), binding in sorted(plan.modules.items(), key=lambda m: m[0][1]):
        if kind in ("mlp", "num_mlp"):
            builder.mlp(kind, layer, slot, binding)
    units = max((len(u) for u in builder.mlp_units.values()), default=1)
    config = replace(config, d_mlp=max(units, 1))
    builder.config = config
    model = TransformerProgram(config)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
    for (kind, layer, slot), binding in plan.modules.items():
        if kind in ("attn", "num_attn"):
            builder.head(model, kind, layer, slot, binding)
    builder.write_mlps(model)
    builder.embedding(model)
    builder.readout(model)
    model.set_sampling(mode="argmax")
    return model
