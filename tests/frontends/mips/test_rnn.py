"""GeneralRNN: shapes, the hidden-part-first column order, depth 1 is linear, bad configs."""

from __future__ import annotations

import pytest
import torch

from rasp_ir.api import RaspError
from rasp_ir.frontends.mips.rnn import GeneralRNN, RNNConfig


def test_a_linear_rnn_computes_its_equations() -> None:
    model = GeneralRNN(RNNConfig(1, 1, 1, hidden_depth=1, output_depth=1))
    with torch.no_grad():
        hidden, output = model.hidden[0], model.output[0]
        assert isinstance(hidden, torch.nn.Linear) and isinstance(output, torch.nn.Linear)
        hidden.weight.copy_(torch.tensor([[1.0, 1.0]]))  # h_t = h_{t-1} + x_t: hidden part first
        hidden.bias.zero_()
        output.weight.fill_(1.0)
        output.bias.zero_()
    x = torch.tensor([[1.0, 2.0, 0.0, 4.0]])
    y, states = model(x)
    assert states[0, :, 0].tolist() == [1.0, 3.0, 3.0, 7.0]
    assert model.predict(x)[0, :, 0].tolist() == [1, 3, 3, 7]
    assert y.shape == (1, 4, 1)


def test_shapes_of_pair_inputs_and_a_deep_rnn() -> None:
    model = GeneralRNN(RNNConfig(2, 1, 3, hidden_depth=3, hidden_width=5))
    y, states = model(torch.zeros(4, 10, 2))
    assert (y.shape, states.shape) == ((4, 10, 1), (4, 10, 3))
    assert len([m for m in model.hidden if isinstance(m, torch.nn.Linear)]) == 3


def test_configs_round_trip_and_bad_ones_are_refused() -> None:
    config = RNNConfig(1, 1, 4, output_width=7)
    assert RNNConfig.from_json(config.to_json()) == config
    with pytest.raises(RaspError, match="hidden_dim"):
        RNNConfig(1, 1, 0)
    with pytest.raises(RaspError, match="not an RNN configuration"):
        RNNConfig.from_json({"input_dim": 1, "colour": 2})
