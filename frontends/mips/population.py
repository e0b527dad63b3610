"""Many seeds of one GeneralRNN architecture as one batched model: a configuration and S seeds
in, a module whose every weight has a leading seed dimension out (``torch.baddbmm`` per layer).

Seed ``k``'s initial weights are exactly those of ``GeneralRNN(config)`` built right after
``torch.manual_seed(seeds[k])``, and :meth:`RNNPopulation.member` gives any seed back as a
plain :class:`GeneralRNN`. Seeds share no parameter, so a loss that is a *sum* of per-seed
losses gives each seed the gradient it would get alone (the optimiser, AdamW, is elementwise).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from rasp_ir.api import RaspError

from .rnn import GeneralRNN, RNNConfig


class StackedMLP(nn.Module):
    """S independent MLPs of one shape: affine layers with ReLU between them, inputs
    ``(S, batch, d_in)`` in, ``(S, batch, d_out)`` out."""

    def __init__(self, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor]) -> None:
        super().__init__()
        self.weights = nn.ParameterList(nn.Parameter(w.clone()) for w in weights)
        self.biases = nn.ParameterList(nn.Parameter(b.clone()) for b in biases)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply every seed's MLP to its own slice of ``x``."""
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            if index:
                x = torch.relu(x)
            x = torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))
        return x


def _stack(members: Sequence[nn.Sequential]) -> StackedMLP:
    layers = [[m for m in member if isinstance(m, nn.Linear)] for member in members]
    weights = [
        torch.stack([seed[i].weight.detach() for seed in layers]) for i in range(len(layers[0]))
    ]
    biases = [
        torch.stack([seed[i].bias.detach() for seed in layers]) for i in range(len(layers[0]))
    ]
    return StackedMLP(weights, biases)


class RNNPopulation(nn.Module):
    """``len(seeds)`` GeneralRNNs of one configuration, trained as one model.

    Inputs are ``(S, batch, T, d_in)`` (each seed its own batch), outputs ``(S, batch, T,
    d_out)``; ``h_0 = 0`` and ``h_t = f([h_{t-1} ; x_t])``, ``y_t = g(h_t)`` per seed, as in
    :class:`GeneralRNN`.
    """

    def __init__(self, config: RNNConfig, seeds: Sequence[int]) -> None:
        super().__init__()
        if not seeds or len(set(seeds)) != len(seeds):
            raise RaspError.single(
                "mips-train", f"seeds must be distinct and at least one: {list(seeds)}"
            )
        self.config = config
        self.seeds = tuple(seeds)
        members = []
        for seed in seeds:
            torch.manual_seed(seed)
            members.append(GeneralRNN(config))
        self.hidden = _stack([m.hidden for m in members])
        self.output = _stack([m.output for m in members])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Real-valued outputs ``(S, batch, T, d_out)`` of inputs ``(S, batch, T, d_in)``."""
        size, batch, length, _ = x.shape
        h = x.new_zeros(size, batch, self.config.hidden_dim)
        states = []
        for t in range(length):
            h = self.hidden(torch.cat([h, x[:, :, t]], dim=-1))
            states.append(h)
        hidden = torch.stack(states, dim=2).reshape(size, batch * length, -1)
        outputs: torch.Tensor = self.output(hidden)
        return outputs.reshape(size, batch, length, -1)

    def member(self, index: int) -> GeneralRNN:
        """Seed number ``index`` (a position in :attr:`seeds`) as a plain GeneralRNN on the
        CPU, with a copy of its current weights."""
        model = GeneralRNN(self.config)
        for stacked, plain in ((self.hidden, model.hidden), (self.output, model.output)):
            linears = [m for m in plain if isinstance(m, nn.Linear)]
            with torch.no_grad():
                for linear, weight, bias in zip(
                    linears, stacked.weights, stacked.biases, strict=True
                ):
                    linear.weight.copy_(weight[index])
                    linear.bias.copy_(bias[index])
        return model
