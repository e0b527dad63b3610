"""The argmax model as data: a model config (and parameters) in, named variables, heads and MLPs
out, shared by lifting and compiling back.

Variables keep the repo's positional names (``attn_0_1_output``, ``mlp_0_0_output``,
``num_attn_1_0_output``); ``tokens`` and ``positions`` are the IR primitives ``tokens`` and
``indices``, ``ones`` the constant numerical variable; a factored embedding's chunks are
``embedding_0``, ``embedding_1``, ... (maps of ``tokens``). A categorical variable's IR values
map to the model's value indices through its *encoding*: ``token`` (the vocabulary string of
the index) or ``int`` (the index itself).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from rasp_ir.api import Value

from .config import ModelConfig

Encoding = Literal["token", "int"]
NAME_PATTERN = re.compile(r"^(attn|mlp|num_mlp|num_attn)_(\d+)_(\d+)_output$")


@dataclass(frozen=True)
class Variable:
    """One variable of the residual stream: its IR name, lambda parameter name, stream
    (``cat`` or ``num``), position in that stream, and (categorical) encoding."""

    name: str
    param: str
    stream: Literal["cat", "num"]
    index: int
    encoding: Encoding = "int"


@dataclass(frozen=True)
class Head:
    """An attention head at argmax: variable indices read and the predicate ``f`` (for each
    query value index, the one accepted key value index)."""

    kind: Literal["cat", "num"]
    layer: int
    slot: int
    query: int
    key: int
    value: int
    predicate: tuple[int, ...]

    @property
    def name(self) -> str:
        prefix = "attn" if self.kind == "cat" else "num_attn"
        return f"{prefix}_{self.layer}_{self.slot}_output"


@dataclass(frozen=True)
class Mlp:
    """An MLP at argmax: the two variable indices it reads (in its own stream)."""

    kind: Literal["cat", "num"]
    layer: int
    slot: int
    reads: tuple[int, int]

    @property
    def name(self) -> str:
        prefix = "mlp" if self.kind == "cat" else "num_mlp"
        return f"{prefix}_{self.layer}_{self.slot}_output"


def output_name(kind: str, layer: int, slot: int) -> str:
    """The IR name of a module's output variable."""
    return f"{kind}_{layer}_{slot}_output"


def variables(config: ModelConfig) -> tuple[list[Variable], list[Variable]]:
    """Categorical and numerical variables of the final residual stream, in stream order.

    Attention outputs get their value variable's encoding only once heads are known; here
    every variable except ``tokens`` is ``int`` (see :func:`with_encodings`).
    """
    cat = [
        *token_variables(config),
        Variable("indices", "position", "cat", config.n_token_vars, "int"),
    ]
    num = [Variable("ones", "one", "num", 0)]
    for layer in range(config.n_layers):
        names = [output_name("attn", layer, h) for h in range(config.n_heads_cat)]
        names += [output_name("mlp", layer, m) for m in range(config.n_cat_mlps)]
        names += [output_name("num_mlp", layer, m) for m in range(config.n_num_mlps)]
        cat += [Variable(n, n, "cat", len(cat) + i) for i, n in enumerate(names)]
        num += [
            Variable(output_name("num_attn", layer, h), output_name("num_attn", layer, h), "num", 0)
            for h in range(config.n_heads_num)
        ]
    num = [Variable(v.name, v.param, "num", i) for i, v in enumerate(num)]
    return cat, num


def embedding_name(chunk: int) -> str:
    """The IR name of the factored embedding's chunk ``chunk`` (the repo's ``var{j}``)."""
    return f"embedding_{chunk}"


def token_variables(config: ModelConfig) -> list[Variable]:
    """The variables the token embedding gives: ``tokens`` (one-hot), or one ``int`` variable
    per chunk of the factored embedding (its value is the word's cluster in that chunk)."""
    if not config.embedding_chunks:
        return [Variable("tokens", "token", "cat", 0, "token")]
    names = [embedding_name(j) for j in range(config.embedding_chunks)]
    return [Variable(name, name, "cat", j, "int") for j, name in enumerate(names)]


def with_encodings(cat: list[Variable], heads: list[Head]) -> list[Variable]:
    """``cat`` with every categorical attention output encoded like the variable it copies."""
    out = list(cat)
    by_name = {v.name: i for i, v in enumerate(out)}
    for head in heads:
        if head.kind != "cat":
            continue
        target = by_name[head.name]
        out[target] = replace(out[target], encoding=out[head.value].encoding)
    return out


def ir_value(variable: Variable, index: int, vocab: Sequence[str]) -> Value:
    """The IR value of a categorical value index (``None`` when no input can carry it)."""
    if variable.encoding == "int":
        return index
    return vocab[index] if 0 < index < len(vocab) else None


def tp_index(variable: Variable, value: Value, vocab: Sequence[str]) -> int:
    """The model's value index of an IR value of a categorical variable."""
    if variable.encoding == "token":
        return list(vocab).index(str(value))
    assert isinstance(value, int)
    return value
