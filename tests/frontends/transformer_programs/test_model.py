"""The model's discrete semantics against hand-computed cases (reference §7, §8, §10, §12)."""

from __future__ import annotations

import itertools

import pytest
import torch

from rasp_ir.frontends.transformer_programs.model import (
    TransformerProgram,
    categorical_attention,
    mlp_logits,
    numerical_attention,
    position_bias,
    sample,
    temperatures,
)
from rasp_ir.kernels.categorical_attention import attention_logits, bos_bonus

from .conftest import random_model


def closest_match(i: int, matches: list[int]) -> int:
    """Reference §12: nearest non-self match, left on ties, self only when sole, BOS if none."""
    if not matches:
        return 0
    others = [j for j in matches if j != i]
    if not others:
        return i
    d = min(abs(j - i) for j in others)
    return min(j for j in others if abs(j - i) == d)


def test_position_bias_matches_the_worked_example() -> None:
    row = position_bias(8)[4].tolist()
    expected = [-3 / 7, -2 / 7, -1 / 7, 0.0, -2.0, 0.0, -1 / 6, -2 / 6]
    assert row == pytest.approx(expected)


def _attend(n: int, matches: list[list[int]], causal: bool) -> list[int]:
    """Chosen key per query: key j has value 1 when it matches query i (one head per query)."""
    heads = len(matches)
    key = torch.zeros(1, heads, n, 2, dtype=torch.float64)
    key[..., 0] = 1
    for h, found in enumerate(matches):
        for j in found:
            key[0, h, j] = torch.tensor([0.0, 1.0])
    query = torch.zeros(1, heads, n, 2, dtype=torch.float64)
    query[..., 1] = 1
    value = torch.eye(n, dtype=torch.float64).expand(1, heads, n, n)
    predicate = torch.eye(2, dtype=torch.float64).expand(heads, 2, 2)
    mask = torch.ones(1, n, n, dtype=torch.bool)
    if causal:
        mask = mask.tril()
    out = categorical_attention(query, key, value, predicate, mask, position_bias(n), 1.0, "argmax")
    return [int(out[0, h, i].argmax()) for h, i in enumerate(q for q, _ in _cases(n, causal))]


def _cases(n: int, causal: bool) -> list[tuple[int, list[int]]]:
    cases = []
    for i in range(n):
        allowed = [j for j in range(n) if not causal or j <= i]
        for r in range(len(allowed) + 1):
            cases += [(i, list(c)) for c in itertools.combinations(allowed, r)]
    return cases


@pytest.mark.parametrize("causal", [False, True])
def test_categorical_attention_is_the_closest_match_rule_exhaustively(causal: bool) -> None:
    n = 6
    cases = _cases(n, causal)
    chosen = _attend(n, [m for _, m in cases], causal)
    expected = [closest_match(i, m) for i, m in cases]
    assert chosen == expected


@pytest.mark.parametrize("causal", [False, True])
def test_argmax_attention_gathers_bit_for_bit_the_one_hot_product(causal: bool) -> None:
    """The argmax head gathers its chosen key's value; the product of the one-hot pattern with
    the values (what training's relaxed form becomes at argmax) gives the same bits, ties,
    padded keys and fully masked rows included."""
    draw = torch.Generator().manual_seed(int(causal))
    batch, heads, n, k = 32, 3, 7, 4
    rows = torch.randint(0, k, (3, batch, heads, n), generator=draw)
    query, key, value = (torch.nn.functional.one_hot(r, k).double() for r in rows)
    value = value * torch.rand(batch, heads, n, 1, generator=draw, dtype=torch.float64)
    predicate = torch.randint(0, 3, (heads, k, k), generator=draw).double()  # many ties
    mask = torch.rand(batch, n, n, generator=draw) < 0.8
    mask[0] = False  # a row with no allowed key at all
    if causal:
        mask = mask & torch.ones(n, n, dtype=torch.bool).tril()
    bias = position_bias(n)
    gathered = categorical_attention(query, key, value, predicate, mask, bias, 1.0, "argmax")
    pattern = sample(attention_logits(query, key, predicate, mask, bias), 1.0, "argmax")
    assert torch.equal(gathered, pattern @ value)


def test_tie_break_cases_by_hand() -> None:
    cases = [(3, [2, 4]), (3, [3, 5]), (3, [3]), (3, []), (3, [0, 3]), (2, [0, 4])]
    assert [closest_match(i, m) for i, m in cases] == [2, 5, 3, 0, 0, 0]


def test_numerical_attention_counts_matches_bos_included() -> None:
    # tokens: <s> a b a ; predicate: key == query ; value ones -> counts 1 2 1 2
    values = torch.tensor([[0, 1, 2, 1]])
    onehot = torch.nn.functional.one_hot(values, 3).double()[:, None]
    mask = torch.ones(1, 4, 4, dtype=torch.bool)
    counts = numerical_attention(
        onehot,
        onehot,
        torch.ones(1, 1, 4, dtype=torch.float64),
        torch.eye(3, dtype=torch.float64)[None],
        mask,
    )
    assert counts[0, 0].tolist() == [1.0, 2.0, 1.0, 2.0]


def test_argmax_sampling_breaks_ties_to_the_first_index() -> None:
    assert sample(torch.tensor([[1.0, 3.0, 3.0]]), 1.0, "argmax").tolist() == [[0.0, 1.0, 0.0]]


def test_temperature_schedule_is_geometric_per_step() -> None:
    schedule = temperatures(3.0, 0.01, 3, 4)
    assert schedule[0][0] == pytest.approx(3.0)
    assert schedule[0][-1] == pytest.approx(schedule[1][0])
    assert schedule[2] == [pytest.approx(0.01)] * 4
    ratios = [b / a for a, b in itertools.pairwise(schedule[0])]
    assert ratios == pytest.approx([ratios[0]] * 3)


def test_readout_ties_go_to_the_first_unmasked_class() -> None:
    model = random_model(0, (1, 1, 1, 1, 1))
    with torch.no_grad():
        model.unembed.zero_()
    predicted = model.predict(torch.tensor([[5, 1, 2, 4]]))
    assert predicted.tolist() == [[1, 1, 1, 1]]


def test_a_saturated_match_passes_no_gradient_through_the_bos_bonus() -> None:
    # c / (c + 1e-10) is exactly 1 in float32 for these totals, so the bonus is 0; upstream the
    # attention's log(S + 1e-20) scales its gradient by ~1e20. With clamp(min=0), autograd's
    # rounding residue (1/c - c/c^2 in float32) reaches c for 14 of these 50 totals; with relu
    # nothing does. Unmatched (c = 0) the bonus is 1.
    matched = torch.linspace(0.1, 5.0, 50).requires_grad_()
    bonus = bos_bonus(matched)
    bonus.backward(torch.full((50,), 1e20 / 3))  # type: ignore[no-untyped-call]
    assert bonus.tolist() == [0.0] * 50
    assert matched.grad is not None and matched.grad.tolist() == [0.0] * 50
    assert bos_bonus(torch.zeros(1)).tolist() == [1.0]


def test_every_occurrence_of_a_token_shares_one_embedding_draw() -> None:
    model = random_model(0, (1, 1, 1, 1, 1))
    model.set_sampling(tau=1.0, mode="gumbel_soft")
    tokens = torch.tensor([[5, 1, 2, 1, 1, 3], [5, 2, 1, 3, 3, 1]])
    torch.manual_seed(1)
    x_cat, _ = model.streams(tokens)
    embedded = x_cat[:, :, 0]
    for token in (1, 2, 3):
        rows = embedded[tokens == token]
        assert len(rows) > 1 and torch.equal(rows, rows[:1].expand_as(rows))
        assert rows[0].argmax() == token
    assert not torch.equal(embedded[0, 1], embedded[0, 2])


class _SummedReads(TransformerProgram):
    """The model with every read a sum of the variables weighted by the sampled (in argmax
    mode, one-hot) choice, as the reads were before they gathered."""

    def _read(self, logits: torch.Tensor, stream: torch.Tensor, equation: str) -> torch.Tensor:
        return torch.einsum(equation, self._sample(logits), stream)


class _EveryRowMlps(TransformerProgram):
    """The model with its argmax MLPs computed on every position's inputs, not once per
    distinct input."""

    def _mlp_outputs(self, read: torch.Tensor, weights: tuple[torch.Tensor, ...]) -> torch.Tensor:
        weights = tuple(w.to(self.dtype) for w in weights)
        return self._sample(mlp_logits(read, *weights))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("reference", [_SummedReads, _EveryRowMlps])
def test_the_argmax_models_shortcuts_give_the_plain_computations_bits(
    seed: int, reference: type[TransformerProgram]
) -> None:
    """Reads that gather (against one-hot sums) and MLPs computed once per distinct input
    (against every position's own): the same logits bit for bit."""
    model = random_model(seed, (2, 2, 2, 2, 2), causal=seed == 2)
    plain = reference(model.config)
    plain.load_state_dict(model.state_dict())
    plain.set_sampling(mode="argmax")
    tokens = torch.randint(1, 4, (256, 6), generator=torch.Generator().manual_seed(seed))
    tokens[:, 0] = 5
    tokens[::3, 4:] = 0  # padded rows
    with torch.no_grad():
        assert torch.equal(model(tokens), plain(tokens))
