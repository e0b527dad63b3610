"""The compiled model: a standard transformer ``nn.Module`` with labelled residual dimensions.

Token and position embeddings; ``n_layers`` blocks of multi-head softmax attention and a ReLU
MLP, both residual; no layer norm. Position 0 is the model's BOS (the attention sink); the
program's positions start at 1 (a program that declares ``%bos`` has its BOS token there).
Outputs are decoded from their residual directions: categorical by argmax over the output's
one-hot directions and an explicit undefined direction (logit 1/2), numerical by snapping to
the nearest value of the output's exact value set. Everything runs in float32.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NoReturn

import numpy as np
import torch
from torch import nn

from rasp_ir.api import RaspError, Value, describe_value, model_html, value_key
from rasp_ir.backends.torch.fast_forward import ForwardPlan, final_residual, plan_forward
from rasp_ir.backends.torch.heap import keep_temporaries_on_heap
from rasp_ir.backends.torch.threads import small_work_threads
from rasp_ir.backends.torch.token_codes import TokenNumbers

PAD = "<pad>"


@dataclass(frozen=True)
class ModelConfig:
    """Shapes of the model. ``n_tokens`` counts the sink and the padding token."""

    d_model: int
    n_layers: int
    n_heads: int
    d_head: int
    d_mlp: int
    n_tokens: int
    n_positions: int
    causal: bool


@dataclass(frozen=True)
class OutputDecoder:
    """How to read one output: ``dims`` (one per value, or one scalar) and its value set."""

    name: str
    kind: str
    dims: tuple[int, ...]
    values: tuple[Value, ...]
    undefined: bool


@dataclass(frozen=True)
class MeanCheck:
    """The raw one-hot ``dims`` of categorical mean ``name``: a mixture of its directions
    means the head averaged distinct values, an input the interpreter refuses (``cat-mean``)."""

    name: str
    dims: tuple[int, ...]


@dataclass
class ModelInfo:
    """Everything about the model that is not a tensor."""

    vocab: tuple[Value, ...]
    residual_labels: tuple[str, ...]
    decoders: tuple[OutputDecoder, ...]
    program_text: str
    bos: Value = None
    max_len: int = 0
    warnings: tuple[str, ...] = ()
    report: dict[str, Any] = field(default_factory=dict)
    mean_checks: tuple[MeanCheck, ...] = ()


@dataclass
class RunResult:
    """Decoded outputs, and when asked the residual after every sublayer and the attention."""

    outputs: dict[str, list[list[Value]]]
    residuals: list[torch.Tensor] = field(default_factory=list)
    attention: list[torch.Tensor] = field(default_factory=list)


class CompiledTransformer(nn.Module):
    """A transformer whose weights were set by the compiler (see the module docstring)."""

    def __init__(self, config: ModelConfig, info: ModelInfo) -> None:
        super().__init__()
        self.config = config
        self.info = info
        d, h, k, m = config.d_model, config.n_heads, config.d_head, config.d_mlp
        self.token_embedding = _zeros(config.n_tokens, d)
        self.position_embedding = _zeros(config.n_positions, d)
        self.w_q = _zeros(config.n_layers, h, d, k)
        self.w_k = _zeros(config.n_layers, h, d, k)
        self.w_v = _zeros(config.n_layers, h, d, k)
        self.w_o = _zeros(config.n_layers, h, k, d)
        self.mlp_in = _zeros(config.n_layers, d, m)
        self.mlp_in_bias = _zeros(config.n_layers, m)
        self.mlp_out = _zeros(config.n_layers, m, d)
        self.mlp_out_bias = _zeros(config.n_layers, d)
        self._plan: tuple[tuple[int, ...], ForwardPlan] | None = None
        self._numbers: tuple[tuple[Value, ...], Value, TokenNumbers] | None = None

    def forward_plan(self) -> ForwardPlan:
        """The forward plan (:mod:`.fast_forward`), rebuilt when a weight has changed."""
        versions = tuple(p._version for p in self._parameters.values() if p is not None)
        if self._plan is None or self._plan[0] != versions:
            keep_temporaries_on_heap()
            with torch.inference_mode():
                self._plan = (versions, plan_forward(self))
        return self._plan[1]

    def _repr_html_(self) -> str:
        """The model in Jupyter: its shape, then its program's source, layers and value sets."""
        config = self.config
        facts = [
            ("layers", str(config.n_layers)),
            ("heads per layer", str(config.n_heads)),
            ("d_model", str(config.d_model)),
            ("d_head", str(config.d_head)),
            ("MLP width", str(config.d_mlp)),
            ("parameters", f"{sum(p.numel() for p in self.parameters()):,}"),
            ("causal", "yes" if config.causal else "no"),
        ]
        return model_html("compiled transformer", facts, self.info.program_text)

    @property
    def residual_labels(self) -> tuple[str, ...]:
        """One human-readable label per residual dimension."""
        return self.info.residual_labels

    def forward(
        self, ids: torch.Tensor, lengths: torch.Tensor, *, trace: bool = False
    ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """Residual stream after the last layer for ``ids`` (batch x positions, sink first).

        ``lengths`` counts positions including the sink. With ``trace``, also the residual
        after the embedding and every sublayer, and every layer's attention pattern.
        """
        batch, width = ids.shape
        positions = torch.arange(width)
        x = self.token_embedding[ids] + self.position_embedding[positions][None]
        keep = positions[None, :] < lengths[:, None]
        allowed = keep[:, None, None, :].expand(batch, 1, width, width)
        if self.config.causal:
            allowed = allowed & torch.ones(width, width, dtype=torch.bool).tril()[None, None]
        residuals = [x] if trace else []
        patterns: list[torch.Tensor] = []
        scale = 1.0 / math.sqrt(self.config.d_head)
        for layer in range(self.config.n_layers):
            q = torch.einsum("btd,hdk->bhtk", x, self.w_q[layer])
            k = torch.einsum("btd,hdk->bhtk", x, self.w_k[layer])
            v = torch.einsum("btd,hdk->bhtk", x, self.w_v[layer])
            scores = torch.einsum("bhik,bhjk->bhij", q, k) * scale
            scores = scores.masked_fill(~allowed, float("-inf"))
            pattern = torch.softmax(scores, dim=-1)
            x = x + torch.einsum("bhij,bhjk,hkd->bid", pattern, v, self.w_o[layer])
            if trace:
                residuals.append(x)
                patterns.append(pattern)
            hidden = torch.relu(x @ self.mlp_in[layer] + self.mlp_in_bias[layer])
            x = x + hidden @ self.mlp_out[layer] + self.mlp_out_bias[layer]
            if trace:
                residuals.append(x)
        return x, residuals, patterns

    def encode(self, inputs: Sequence[Sequence[Value]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids (sink first, the program's BOS next when it has one) and lengths."""
        content = np.fromiter(map(len, inputs), dtype=np.int64, count=len(inputs))
        longest = int(content.max(initial=0))
        if longest > self.info.max_len:
            b = int(np.argmax(content > self.info.max_len))
            raise RaspError.single(
                "input-length",
                f"example {b} has {content[b]} tokens, more than max_len {self.info.max_len}",
            )
        numbers = self._token_numbers()
        count = int(content.sum())
        found = torch.from_numpy(numbers.numbers(inputs, count))
        if bool((found < 0).any()):
            _raise_input_token(inputs, numbers.index)
        content_lengths = torch.from_numpy(content)
        if count == len(inputs) * longest:
            return self.token_ids(found.reshape(len(inputs), longest), content_lengths)
        positions = torch.arange(longest)[None, :]
        padded = torch.zeros((len(inputs), longest), dtype=torch.long)
        padded[positions < content_lengths[:, None]] = found
        return self.token_ids(padded, content_lengths)

    def token_ids(
        self, content: torch.Tensor, content_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The model's ids and lengths (as :meth:`encode` gives them) for token ids ``content``
        (batch x longest, in the model's numbering, anything past each row's length) and the
        rows' lengths (content tokens only)."""
        bos = self.info.bos
        prefix = [] if bos is None else [self._bos_id]
        start = 1 + len(prefix)
        batch, longest = content.shape
        pad = len(self.info.vocab) + 1
        ids = torch.full((batch, start + longest), pad, dtype=torch.long)
        ids[:, :start] = torch.tensor([0, *prefix], dtype=torch.long)
        inside = torch.arange(longest)[None, :] < content_lengths[:, None]
        ids[:, start:] = torch.where(inside, content, pad)
        return ids, content_lengths + start

    def _token_numbers(self) -> TokenNumbers:
        """The vocabulary's token numbers, rebuilt when the vocabulary or the BOS is replaced."""
        vocab, bos = self.info.vocab, self.info.bos
        if self._numbers is None or self._numbers[0] is not vocab or self._numbers[1] is not bos:
            self._numbers = (vocab, bos, TokenNumbers(vocab, bos))
        return self._numbers[2]

    @property
    def _bos_id(self) -> int:
        keys = [value_key(v) for v in self.info.vocab]
        return keys.index(value_key(self.info.bos)) + 1

    @torch.inference_mode()
    def run(
        self,
        inputs: Sequence[Sequence[Value]],
        *,
        trace: bool = False,
        debug: bool = False,
    ) -> RunResult:
        """Decoded outputs for a batch of content-token lists (the program's positions only).

        ``trace`` keeps every residual and attention pattern; ``debug`` raises when a read
        value is not within a safe distance of a value it may take (rasp-semantics §16.9).
        """
        ids, lengths = self.encode(inputs)
        with small_work_threads(ids.numel() * self.config.d_model):
            if trace:
                final, residuals, patterns = self.forward(ids, lengths, trace=True)

                def columns(dims: tuple[int, ...]) -> torch.Tensor:
                    return final[:, 1:, list(dims)]

            else:
                plan = self.forward_plan()
                rows = final_residual(plan, ids, lengths)

                def columns(dims: tuple[int, ...]) -> torch.Tensor:
                    return plan.read(rows, dims, ids)

                residuals, patterns = [], []
            # A mean check reads the directions of the output it averages into: each set of
            # dimensions is read once, for the check and the decoder both.
            read = functools.cache(columns)
            for check in self.info.mean_checks:
                _refuse_mixed_mean(check, read(check.dims), lengths)
            outputs = {
                decoder.name: _decode(decoder, read(decoder.dims), lengths, debug)
                for decoder in self.info.decoders
            }
        return RunResult(outputs, residuals, patterns)


def _raise_input_token(inputs: Sequence[Sequence[Value]], index: dict[Any, int]) -> NoReturn:
    """Raise ``input-token`` for the first token outside ``index`` (the vocabulary)."""
    for b, example in enumerate(inputs):
        for token in example:
            if value_key(token) not in index:
                raise RaspError.single(
                    "input-token",
                    f"token {describe_value(token)} at example {b} is not in the vocabulary",
                )
    raise AssertionError("no token outside the vocabulary")


def _zeros(*shape: int) -> nn.Parameter:
    return nn.Parameter(torch.zeros(*shape, dtype=torch.float32), requires_grad=False)


def _decode(
    decoder: OutputDecoder, read: torch.Tensor, lengths: torch.Tensor, debug: bool
) -> list[list[Value]]:
    """The values of one output (``read``: its dimensions at the program's positions)."""
    values, indices = decoded_indices(decoder, read, lengths, debug)
    return _rows(values, indices, lengths)


def decoded_indices(
    decoder: OutputDecoder, read: torch.Tensor, lengths: torch.Tensor, debug: bool = False
) -> tuple[list[Value], torch.Tensor]:
    """The values one output can take, and the index of the value read at each position
    (``read``: the output's dimensions at the program's positions, batch x positions x dims;
    ``lengths`` count the sink; ``debug`` checks the reads are near a value)."""
    if decoder.kind == "cat":
        defined: list[Value] = [v for v in decoder.values if v is not None]
        if debug:
            _check_onehot(decoder, read, lengths)
        if read.shape[-1] == 0:
            return [None], torch.zeros(read.shape[:2], dtype=torch.long)
        directions = _directions_first(read)
        top = directions.amax(dim=0)
        if decoder.undefined:
            # The undefined direction reads 1/2 and comes last: it wins below 1/2 only.
            top.clamp_(min=0.5)
            defined.append(None)
        return defined, _first_reaching(directions, top)
    numbers = torch.tensor([float(v) for v in decoder.values], dtype=torch.float64)  # type: ignore[arg-type]
    # The values are sorted: the nearest one is a neighbour of the insertion point, which keeps
    # memory at batch x length even for value sets of hundreds of thousands of numbers.
    read_values = read[..., 0].double().contiguous()
    right = torch.searchsorted(numbers, read_values).clamp(max=len(numbers) - 1)
    left = (right - 1).clamp(min=0)
    left_distance = (read_values - numbers[left]).abs()
    right_distance = (read_values - numbers[right]).abs()
    nearest = torch.where(left_distance <= right_distance, left, right)
    if debug and len(decoder.values) > 1:
        gap = float((numbers[1:] - numbers[:-1]).min())
        distance = torch.minimum(left_distance, right_distance)
        errors = distance[_valid(lengths, read.shape[1])]
        worst = float(errors.max()) if errors.numel() else 0.0
        if worst >= gap / 2:
            raise AssertionError(f"{decoder.name}: read value off by {worst} (half gap {gap / 2})")
    return [_exact(v) for v in decoder.values], nearest


def _rows(values: list[Value], codes: torch.Tensor, lengths: torch.Tensor) -> list[list[Value]]:
    """``values[code]`` for each code of each row, each row cut to its length (sink and
    padding excluded)."""
    table = np.empty(len(values), dtype=object)
    table[:] = values
    rows: list[list[Value]] = table[codes.numpy()].tolist()
    if bool((lengths == codes.shape[1] + 1).all()):
        return rows
    return [row[: n - 1] for row, n in zip(rows, lengths.tolist(), strict=True)]


def _refuse_mixed_mean(check: MeanCheck, read: torch.Tensor, lengths: torch.Tensor) -> None:
    """Raise ``cat-mean`` at the first position whose raw one-hot is a mixture."""
    hits = torch.nonzero(mixed_means(check, read, lengths))
    if len(hits):
        b, i = (int(x) for x in hits[0])
        raise RaspError.single(
            "cat-mean",
            f"categorical aggregate {check.name!r} averages distinct values at example {b} "
            f"position {i}; make the selector select one key, or annotate the value num",
        )


def mixed_means(check: MeanCheck, read: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Where (batch x positions) the raw one-hot of categorical mean ``check`` is a mixture
    (``read``: its dimensions at the program's positions). A mean over ``k`` keys puts a
    multiple of ``1/k`` on each direction, ``k`` at most the number of positions, so a mixture
    has a direction at least ``1/positions`` away from 0 and from 1; softmax and float32 errors
    stay orders of magnitude below that."""
    if not check.dims:
        return torch.zeros(read.shape[:2], dtype=torch.bool)
    tolerance = 1.0 / (2 * (read.shape[1] + 1) + 2)
    # (v - t)(1 - t - v) > 0 exactly where t < v < 1 - t once v is clamped to [t, 1 - t]: a
    # float32 difference of two distinct floats is non-zero with the right sign, and the
    # product of two such differences stays far above float32's smallest normal number.
    inside = _directions_first(read).clamp(tolerance, 1 - tolerance)
    depth = (inside - tolerance).mul_((1 - tolerance) - inside).amax(dim=0)
    return (depth > 0) & _valid(lengths, read.shape[1])


def _directions_first(read: torch.Tensor) -> torch.Tensor:
    """``read`` (batch x positions x directions) as directions x batch x positions: for a
    :meth:`ForwardPlan.read` a contiguous tensor, whose reductions over directions add whole
    rows at a time."""
    return read.permute(2, 0, 1)


def _first_reaching(directions: torch.Tensor, top: torch.Tensor) -> torch.Tensor:
    """The first direction equal to ``top`` at each position (``directions``: directions x
    batch x positions), or the number of directions where none is.

    ``sign(d - top) + 1`` is 1 exactly where ``d == top`` (a float difference is 0 only
    between equal floats) and 0 below it; each hit is weighted by a rank that falls from the
    first direction to the last, so the largest weight is the first hit. Float arithmetic
    only: over 26 directions x 8,000 positions on one CPU thread this takes a third of the
    time of ``max`` with indices, which writes its indices one position at a time."""
    count = directions.shape[0]
    ranks = torch.arange(count, 0, -1, dtype=directions.dtype).reshape(count, 1, 1)
    hits = (directions - top).sign_().add_(1).mul_(ranks)
    return count - hits.amax(dim=0).long()


def _valid(lengths: torch.Tensor, width: int) -> torch.Tensor:
    return torch.arange(width)[None, :] < (lengths[:, None] - 1)


def _check_onehot(decoder: OutputDecoder, read: torch.Tensor, lengths: torch.Tensor) -> None:
    if read.shape[-1] == 0:
        return
    top = read.topk(min(2, read.shape[-1]), dim=-1).values
    valid = _valid(lengths, read.shape[1])
    first = top[..., 0][valid]
    unclear = (first > 0.25) & (first < 0.75) if decoder.undefined else first < 0.75
    if bool(unclear.any()) or (top.shape[-1] > 1 and bool((top[..., 1][valid] > 0.25).any())):
        raise AssertionError(f"{decoder.name}: output directions are not a clean one-hot")


def _exact(value: Value) -> Value:
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return value
