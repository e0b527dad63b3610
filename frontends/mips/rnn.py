"""GeneralRNN (MIPS reference §3): a configuration in, the recurrent model out; inputs
``(batch, T, d_in)`` in, real-valued outputs ``(batch, T, d_out)`` and every hidden state out.

``h_0 = 0``, ``h_t = f([h_{t-1} ; x_t])`` (the hidden MLP reads the hidden part first) and
``y_t = g(h_t)`` (the output MLP); predictions are read out by rounding. An MLP of depth ``n``
is ``n`` affine layers with ReLU between them and none after the last, so a hidden MLP of
depth 1 makes the RNN linear. Integer inputs are fed as real numbers (no one-hot encoding).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from rasp_ir.api import RaspError


@dataclass(frozen=True)
class RNNConfig:
    """The shape of a GeneralRNN: input, output and hidden sizes, and each MLP's depth and
    width (a width is irrelevant at depth 1)."""

    input_dim: int
    output_dim: int
    hidden_dim: int
    hidden_depth: int = 2
    hidden_width: int = 16
    output_depth: int = 2
    output_width: int = 16

    def __post_init__(self) -> None:
        sizes = asdict(self)
        small = [name for name, value in sizes.items() if not isinstance(value, int) or value < 1]
        if small:
            raise RaspError.single(
                "mips-config",
                f"RNN sizes must be positive integers: {', '.join(small)}",
                hint="every dimension, depth and width is at least 1",
            )

    def to_json(self) -> dict[str, int]:
        """The configuration as JSON data."""
        return asdict(self)

    @staticmethod
    def from_json(data: Any) -> RNNConfig:
        """A configuration from its JSON form; a RaspError for anything else."""
        fields = RNNConfig.__dataclass_fields__
        if not isinstance(data, dict) or set(data) - set(fields):
            raise RaspError.single(
                "mips-config",
                f"not an RNN configuration: {data!r:.80}",
                hint=f"expected an object with the fields {', '.join(fields)}",
            )
        try:
            return RNNConfig(**data)
        except TypeError as error:
            raise RaspError.single("mips-config", f"invalid RNN configuration: {error}") from None


def mlp(d_in: int, d_out: int, depth: int, width: int) -> nn.Sequential:
    """``depth`` affine layers ``d_in -> width -> ... -> width -> d_out``, ReLU between them."""
    sizes = [d_in, *([width] * (depth - 1)), d_out]
    layers: list[nn.Module] = []
    for index, (a, b) in enumerate(itertools.pairwise(sizes)):
        if index:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(a, b))
    return nn.Sequential(*layers)


class GeneralRNN(nn.Module):
    """The MIPS recurrent model: a hidden MLP ``f`` on ``[h ; x]`` and an output MLP ``g``."""

    def __init__(self, config: RNNConfig) -> None:
        super().__init__()
        self.config = config
        d = config.hidden_dim
        self.hidden = mlp(d + config.input_dim, d, config.hidden_depth, config.hidden_width)
        self.output = mlp(d, config.output_dim, config.output_depth, config.output_width)

    def initial_state(self, batch: int) -> torch.Tensor:
        """``h_0 = 0`` for ``batch`` sequences: ``(batch, hidden_dim)``."""
        weight = next(self.parameters())
        return torch.zeros(batch, self.config.hidden_dim, dtype=weight.dtype, device=weight.device)

    def step(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The next hidden state: ``h`` ``(batch, D)`` and one step's input ``x``
        ``(batch, d_in)`` in, ``(batch, D)`` out."""
        next_state: torch.Tensor = self.hidden(torch.cat([h, x], dim=-1))
        return next_state

    def readout(self, h: torch.Tensor) -> torch.Tensor:
        """The real-valued output of hidden states ``(..., D)``: ``(..., d_out)``."""
        value: torch.Tensor = self.output(h)
        return value

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Outputs ``(batch, T, d_out)`` and hidden states ``h_1..h_T`` ``(batch, T, D)`` of
        inputs ``x`` ``(batch, T, d_in)`` (a 2-d ``x`` is read as ``d_in = 1``)."""
        if x.dim() == 2:
            x = x.unsqueeze(-1)
        x = x.to(next(self.parameters()).dtype)
        h = self.initial_state(x.shape[0])
        states = []
        for t in range(x.shape[1]):
            h = self.step(h, x[:, t])
            states.append(h)
        hidden = torch.stack(states, dim=1)
        return self.readout(hidden), hidden

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The rounded predictions ``(batch, T, d_out)`` as integers."""
        with torch.no_grad():
            return torch.round(self(x)[0]).to(torch.int64)
