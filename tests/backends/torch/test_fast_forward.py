"""The forward plan: pruned sublayers, live rows and tabulated first layers give the residual
of the full forward pass (to float rounding) and the same decoded outputs, tabulated or not; a
changed weight rebuilds the plan; small work runs on one thread and the thread count is
restored."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rasp_ir.backends.torch import compile_program, fast_forward
from rasp_ir.backends.torch.fast_forward import (
    Attention,
    AttentionStep,
    final_residual,
    plan_steps,
)
from rasp_ir.backends.torch.mlp import RAMP_TOLERANCE
from rasp_ir.backends.torch.threads import SMALL_WORK, small_work_threads
from tests.backends.torch.helpers import EXAMPLES, ROOT, all_inputs, example, mismatches


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_plan_computes_the_full_residual(path: Path) -> None:
    prog = example(path, max_len=4, vocab_size=3)
    model = compile_program(prog)
    ids, lengths = model.encode(all_inputs(prog, 4))
    plan = model.forward_plan()
    assert len(plan_steps(model)) <= 2 * model.config.n_layers
    with torch.inference_mode():
        full, _, _ = model.forward(ids, lengths)
        planned = plan.read(final_residual(plan, ids, lengths), plan.rows, ids)
    # At the inputs' positions; padding positions hold off-grid values that steep ramps
    # amplify, and nothing reads them.
    valid = torch.arange(planned.shape[1])[None, :] < lengths[:, None] - 1
    expected = full[:, 1:, list(plan.rows)][valid]
    assert torch.allclose(planned[valid], expected, atol=RAMP_TOLERANCE, rtol=1e-6)
    inputs = all_inputs(prog, 4)
    assert model.run(inputs).outputs == model.run(inputs, trace=True).outputs


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_a_batch_of_full_length_inputs_is_not_masked_and_agrees(path: Path) -> None:
    prog = example(path, max_len=4, vocab_size=3)
    model = compile_program(prog)
    full = [tokens for tokens in all_inputs(prog, 4) if len(tokens) == 4]
    ids, lengths = model.encode(full)
    blocked = fast_forward._blocked(torch.arange(ids.shape[1]), lengths, prog.header.causal)
    assert (blocked is None) == (not prog.header.causal)
    assert not mismatches(prog, model, full)


def test_empty_sublayers_are_skipped_and_reads_are_cut() -> None:
    prog = example(ROOT / "examples" / "sort.rasp", max_len=5, vocab_size=5)
    model = compile_program(prog)
    steps = plan_steps(model)
    attention = [s for s in steps if isinstance(s, AttentionStep)]
    assert attention and all(len(s.reads) < model.config.d_model for s in attention)


def test_a_run_keeps_only_the_rows_read_after_the_tabulated_first_layer() -> None:
    # sort's first MLP writes the one-hot of (token, index) pairs that only the first
    # attention reads: it is tabulated, so a run never holds those rows.
    prog = example(ROOT / "examples" / "sort.rasp", max_len=5, vocab_size=5)
    model = compile_program(prog)
    plan = model.forward_plan()
    pairs = [d for d, label in enumerate(model.residual_labels) if label.startswith("before_me")]
    assert pairs and not set(pairs) & set(plan.rows)
    first = plan.steps[0]
    assert plan.table is not None and isinstance(first, Attention) and first.scores is not None


def test_projections_of_unwritten_rows_are_looked_up_and_their_rows_left_out() -> None:
    # sort_unique's second attention selects keys by the target the MLP writes, so its keys
    # are computed; its queries read the indices and its values the tokens, which no sublayer
    # of the run writes, so both are tabulated (the values with the output projection folded
    # in), and a run holds neither the indices nor the tokens. The queries depend on the
    # position alone, so the scores are one product of them with the keys.
    prog = example(ROOT / "examples" / "sort_unique.rasp", max_len=5, vocab_size=5)
    model = compile_program(prog)
    plan = model.forward_plan()
    second = plan.steps[-1]
    assert isinstance(second, Attention)
    assert second.keys.table is None and len(second.keys.reads)
    assert second.queries.table is not None and second.values.table is not None
    assert second.scores is None and second.out is None
    assert second.query_positions is not None and second.key_positions is None
    labels = [model.residual_labels[d] for d in plan.rows]
    assert not [label for label in labels if label.startswith(("tokens", "indices"))], labels
    inputs = all_inputs(prog, 5)
    assert model.run(inputs).outputs == model.run(inputs, trace=True).outputs


@pytest.mark.parametrize("limit", ["MAX_ROW_TABLE", "MAX_SCORE_TABLE"])
@pytest.mark.parametrize("name", ["sort", "reverse", "dyck2"])
def test_untabulated_plans_give_the_same_outputs(
    name: str, limit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    prog = example(ROOT / "examples" / f"{name}.rasp", max_len=4, vocab_size=3)
    inputs = all_inputs(prog, 4)
    tabulated = compile_program(prog).run(inputs).outputs
    monkeypatch.setattr(fast_forward, limit, 0)
    model = compile_program(prog)
    plan = model.forward_plan()
    attention = [step for step in plan.steps if isinstance(step, Attention)]
    assert (plan.table is None) == (limit == "MAX_ROW_TABLE")
    assert attention and all(step.scores is None for step in attention)
    assert (attention[0].queries.table is None) == (limit == "MAX_ROW_TABLE")
    assert model.run(inputs).outputs == tabulated


def test_a_changed_weight_rebuilds_the_plan() -> None:
    prog = example(ROOT / "examples" / "reverse.rasp", max_len=4, vocab_size=3)
    model = compile_program(prog)
    inputs = all_inputs(prog, 3)
    before = model.run(inputs).outputs
    with torch.no_grad():
        model.w_o.zero_()
    after = model.run(inputs).outputs
    assert after != before
    assert after == model.run(inputs, trace=True).outputs


def test_small_work_runs_on_one_thread_and_restores_the_count() -> None:
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with small_work_threads(SMALL_WORK - 1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with small_work_threads(SMALL_WORK):
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)


@pytest.mark.parametrize("magnitude", [50.0, 300.0], ids=["within-exp-range", "shifted-at-run"])
def test_attention_weights_are_softmax_with_blocked_keys_at_zero(magnitude: float) -> None:
    generator = torch.Generator().manual_seed(0)
    scores = (torch.rand(64, 2, 6, 6, generator=generator) * 2 - 1) * magnitude
    blocked = torch.rand(64, 1, 6, 6, generator=generator) < 0.4
    blocked[..., 0] = False  # the sink
    expected = torch.softmax(scores.masked_fill(blocked, float("-inf")), dim=-1)
    weights = fast_forward._exp_weights(scores.clone(), blocked, shifted=False)
    got = weights / weights.sum(dim=-1, keepdim=True)
    assert torch.allclose(got, expected, atol=1e-6, rtol=0)
    assert not got.masked_select(blocked.expand_as(got)).any()


def test_score_tables_are_shifted_only_where_exp_stays_in_range() -> None:
    near = torch.tensor([[[30.0, 40.0, -200.0], [70.0, 3.0, 1.0], [0.0, 0.0, 0.0]]])
    shifted, done = fast_forward._shifted_scores(near)
    assert done
    assert torch.equal(shifted.amax(dim=-1), torch.zeros(1, 3))
    assert float(shifted.amin()) >= -fast_forward.EXP_FLOOR
    # Each row keeps its entries within NEGLIGIBLE of the sink's (column 0) as they were.
    assert shifted[0, 0, 1] - shifted[0, 0, 0] == 10.0
    assert shifted[0, 0, 2] == shifted[0, 0, 0] - fast_forward.NEGLIGIBLE
    far = torch.tensor([[[-30.0, 0.0], [0.0, 0.0]]])
    unshifted, done = fast_forward._shifted_scores(far)
    assert not done and torch.equal(unshifted, far)


def test_writes_to_rows_apart_add_like_consecutive_ones() -> None:
    values = torch.arange(6.0).reshape(3, 2)
    for rows in ([1, 2, 3], [0, 2, 3]):
        x = torch.ones(5, 2)
        fast_forward._add_rows(x, torch.tensor(rows), values)
        assert torch.equal(x, torch.ones(5, 2).index_add_(0, torch.tensor(rows), values))
