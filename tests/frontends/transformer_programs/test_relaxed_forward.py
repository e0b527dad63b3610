"""The relaxed (training) forward pass against a literal, loop-by-loop transcription of the
reference formulas (§3-§10), with ``softmax`` sampling so that no noise is drawn. Training is
driven by this pass, so it must be the paper's, not only the argmax model it ends in.

Two temperatures: 0.7, where one head is sharp enough to fall back to BOS, and 3, the
schedule's first, where the sampled token embedding (§5) is visibly soft."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor

from rasp_ir.frontends.transformer_programs.config import ModelConfig
from rasp_ir.frontends.transformer_programs.model import TransformerProgram, position_bias

TEMPERATURES = (0.7, 3.0)


def _soft(logits: Tensor, tau: float) -> Tensor:
    return torch.softmax(logits / tau, dim=-1)


def _read(logits: Tensor, variables: list[Tensor], tau: float) -> Tensor:
    """§6: a mixture of whole variables, weighted by the sampled gate."""
    gate = _soft(logits, tau)
    return sum((gate[b] * variables[b] for b in range(len(variables))), torch.zeros(()))


def _beta(n_ctx: int, d: int) -> float:
    """§7.3, written case by case."""
    if d == 0:
        return -2.0
    if d > 0:
        return -(d - 1) / (n_ctx - 2)
    return -(abs(d) - 1) / (n_ctx - 1)


def reference_logits(model: TransformerProgram, tokens: list[int], tau: float) -> Tensor:
    """Class logits of one sequence at temperature ``tau``, position by position, in float64."""
    config = model.config
    k, n = config.d_var, len(tokens)
    one_hot = torch.eye(k, dtype=torch.float64)
    embedding = [_soft(20 * one_hot[t] - 10, tau) for t in tokens]  # §5: sampled, nearly one-hot
    cat = [torch.stack(embedding), torch.stack([one_hot[p] for p in range(n)])]
    num = [torch.ones(n, dtype=torch.float64)]

    def allowed(i: int, j: int) -> bool:
        return tokens[i] != 0 and tokens[j] != 0 and (not config.causal or j <= i)

    def scores(query: Tensor, key: Tensor, psi: Tensor) -> list[list[float]]:
        predicate = _soft(psi, tau)  # row a: a distribution over key values
        pushed = [predicate.T @ query[i] for i in range(n)]
        return [
            [float(key[j] @ pushed[i]) if allowed(i, j) else 0.0 for j in range(n)]
            for i in range(n)
        ]

    for index in range(config.n_layers):
        layer = {name: p.detach().double() for name, p in model.layer(index).named_parameters()}
        new_cat, new_num = [], []
        for h in range(config.n_heads_cat):
            query = _read(layer["cat_query"][h], cat, tau)
            key = _read(layer["cat_key"][h], cat, tau)
            value = _read(layer["cat_value"][h], cat, tau)
            s = scores(query, key, layer["cat_predicate"][h])
            copied = []
            for i in range(n):
                matched = sum(s[i])
                row = list(s[i])
                row[0] += max(0.0, 1 - matched / (matched + 1e-10))
                logit = [
                    (math.log(row[j] + 1e-20) + _beta(config.n_ctx, j - i))
                    if allowed(i, j)
                    else -1e30
                    for j in range(n)
                ]
                weights = _soft(torch.tensor(logit, dtype=torch.float64) / math.sqrt(k), tau)
                copied.append(sum((weights[j] * value[j] for j in range(n)), torch.zeros(k)))
            new_cat.append(torch.stack(copied))
        for h in range(config.n_heads_num):
            query = _read(layer["num_query"][h], cat, tau)
            key = _read(layer["num_key"][h], cat, tau)
            value = _read(layer["num_value"][h], num, tau)
            s = scores(query, key, layer["num_predicate"][h])
            counted = [sum(s[i][j] * value[j] for j in range(n)) for i in range(n)]
            new_num.append(torch.tensor(counted))
        cat, num = cat + new_cat, num + [v.double() for v in new_num]
        outputs = []
        for m in range(config.n_cat_mlps):
            u = torch.cat(
                [_read(layer["mlp_read"][m, slot], cat, tau) for slot in range(2)], dim=-1
            )
            hidden = torch.relu(u @ layer["mlp_w_in"][m].T + layer["mlp_b_in"][m])
            out = hidden @ layer["mlp_w_out"][m].T + layer["mlp_b_out"][m]
            outputs.append(_soft(torch.log_softmax(out, -1), tau))
        for m in range(config.n_num_mlps):
            u = torch.stack(
                [_read(layer["num_mlp_read"][m, slot], num, tau) for slot in range(2)], -1
            )
            hidden = torch.relu(u @ layer["num_mlp_w_in"][m].T + layer["num_mlp_b_in"][m])
            out = hidden @ layer["num_mlp_w_out"][m].T + layer["num_mlp_b_out"][m]
            outputs.append(_soft(torch.log_softmax(out, -1), tau))
        cat = cat + outputs
    features = torch.cat([torch.cat(cat, dim=-1), torch.stack(num, dim=-1)], dim=-1)
    classes = features @ model.unembed.detach().double()
    for c in config.masked_classes():
        classes[:, c] = -1e30
    return classes


def _model(causal: bool, tau: float) -> TransformerProgram:
    config = ModelConfig(
        vocab=("<pad>", "a", "b", "<s>"),
        classes=("<pad>", "x", "y", "z"),
        n_ctx=6,
        d_var=6,
        n_layers=2,
        n_heads_cat=2,
        n_heads_num=2,
        n_cat_mlps=1,
        n_num_mlps=1,
        d_mlp=8,
        causal=causal,
    )
    torch.manual_seed(5)
    model = TransformerProgram(config)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "_b_" in name:  # biases start at zero: give them values to check their use
                parameter.normal_()
        # Head 0 of layer 0 sharp enough that, at 0.7, some queries match nothing even relaxed: it
        # compares tokens, and token value a accepts only key value a + 1 (the BOS default).
        first = model.layer(0)
        for read in (first.cat_query, first.cat_key):
            read[0] = torch.tensor([100.0] + [-100.0] * (read.shape[1] - 1))
        first.cat_predicate[0] = 200 * torch.eye(6).roll(1, dims=1) - 100
    model.set_sampling(tau=tau, mode="softmax")
    return model


@pytest.mark.parametrize("tau", TEMPERATURES)
@pytest.mark.parametrize("causal", [False, True])
def test_the_relaxed_forward_pass_is_the_reference_formulas(causal: bool, tau: float) -> None:
    model = _model(causal, tau)
    batch = [[3, 1, 2, 2, 1, 0], [3, 2, 0, 0, 0, 0], [3, 1, 1, 2, 2, 1]]
    with torch.no_grad():
        got = model(torch.tensor(batch)).double()
    for row, tokens in enumerate(batch):
        real = [i for i, t in enumerate(tokens) if t != 0]
        want = reference_logits(model, tokens, tau)
        torch.testing.assert_close(got[row, real], want[real], rtol=1e-5, atol=1e-5)


def test_the_bias_buffer_is_the_case_by_case_formula() -> None:
    bias = position_bias(7)
    assert all(
        bias[i, j].item() == pytest.approx(_beta(7, j - i)) for i in range(7) for j in range(7)
    )
