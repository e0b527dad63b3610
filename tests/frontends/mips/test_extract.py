"""Extraction reads the known machine off hand-built RNNs, refuses RNNs that are not finite
machines with numbers, and the extract command writes a machine that loads and lifts."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch

from rasp_ir.api import LiftOptions, RaspError
from rasp_ir.frontends.mips import FRONTEND
from rasp_ir.frontends.mips.extract import (
    alphabet_symbols,
    extract_machine,
    output_table,
    transition_table,
)
from rasp_ir.frontends.mips.extract_behaviour import (
    MAX_CONTINUATIONS,
    behaviour_classes,
    behaviour_signatures,
)
from rasp_ir.frontends.mips.extract_cmds import register_extract_commands
from rasp_ir.frontends.mips.machine import load_machine, machine_from_json, machine_to_json
from rasp_ir.frontends.mips.rnn import GeneralRNN, RNNConfig
from rasp_ir.frontends.mips.run_files import load_run, save_run
from rasp_ir.frontends.mips.task_spec import make_split
from rasp_ir.frontends.mips.tasks import get_task
from rasp_ir.frontends.mips.train import TrainSettings, train_rnn
from rasp_ir.frontends.mips.verify_machine import (
    agreement,
    exhaustive_agreement,
    model_reference,
    task_reference,
)

torch.set_num_threads(1)


def hand_built(config: RNNConfig, weights: dict[str, list[object]]) -> GeneralRNN:
    """A GeneralRNN whose every parameter is given (state_dict key -> nested list)."""
    model = GeneralRNN(config)
    state = {key: torch.tensor(value, dtype=torch.float32) for key, value in weights.items()}
    model.load_state_dict(state, strict=True)
    return model


def parity_rnn() -> GeneralRNN:
    """h' = relu(h - x) + relu(x - h) = |h - x| = h XOR x on bits; y = h."""
    config = RNNConfig(1, 1, 1, hidden_depth=2, hidden_width=2, output_depth=1)
    return hand_built(
        config,
        {
            "hidden.0.weight": [[1, -1], [-1, 1]],
            "hidden.0.bias": [0, 0],
            "hidden.2.weight": [[1, 1]],
            "hidden.2.bias": [0],
            "output.0.weight": [[1]],
            "output.0.bias": [0],
        },
    )


def mod3_rnn() -> GeneralRNN:
    """With s = h + x in 0..4: h' = s - 3 [s >= 3] = relu(s) - 3 relu(s - 2) + 3 relu(s - 3),
    the sum mod 3 of inputs 0..2; y = h."""
    config = RNNConfig(1, 1, 1, hidden_depth=2, hidden_width=3, output_depth=1)
    return hand_built(
        config,
        {
            "hidden.0.weight": [[1, 1], [1, 1], [1, 1]],
            "hidden.0.bias": [0, -2, -3],
            "hidden.2.weight": [[1, -3, 3]],
            "hidden.2.bias": [0],
            "output.0.weight": [[1]],
            "output.0.bias": [0],
        },
    )


def window2_rnn() -> GeneralRNN:
    """A linear RNN (hidden depth 1) holding the last two inputs, h' = (x_t, x_{t-1}); y =
    relu(h_0 - h_1) + relu(h_1 - h_0), their XOR (Parity_Last2)."""
    config = RNNConfig(1, 1, 2, hidden_depth=1, output_depth=2, output_width=2)
    return hand_built(
        config,
        {
            "hidden.0.weight": [[0, 0, 1], [1, 0, 0]],
            "hidden.0.bias": [0, 0],
            "output.0.weight": [[1, -1], [-1, 1]],
            "output.0.bias": [0, 0],
            "output.2.weight": [[1, 1]],
            "output.2.bias": [0],
        },
    )


def drifting_parity_rnn(leak: float = 0.97) -> GeneralRNN:
    """h' = leak * |h - x|: parity whose states drift (odd states decay from 0.97, even ones
    rise from 0), rounding right on every input up to length 14 but with no separated
    clusters."""
    config = RNNConfig(1, 1, 1, hidden_depth=2, hidden_width=2, output_depth=1)
    return hand_built(
        config,
        {
            "hidden.0.weight": [[1, -1], [-1, 1]],
            "hidden.0.bias": [0, 0],
            "hidden.2.weight": [[leak, leak]],
            "hidden.2.bias": [0],
            "output.0.weight": [[1]],
            "output.0.bias": [0],
        },
    )


def leaky_rnn() -> GeneralRNN:
    """h' = h / 2 + x: the states fill [0, 2) densely, so no tolerance makes them finite."""
    config = RNNConfig(1, 1, 1, hidden_depth=1, output_depth=1)
    return hand_built(
        config,
        {
            "hidden.0.weight": [[0.5, 1]],
            "hidden.0.bias": [0],
            "output.0.weight": [[1]],
            "output.0.bias": [0],
        },
    )


KNOWN = [
    pytest.param(parity_rnn, "Parity_All", 2, id="parity"),
    pytest.param(mod3_rnn, "Add_Mod_3", 3, id="mod3"),
    pytest.param(window2_rnn, "Parity_Last2", 4, id="window2"),
]


@pytest.mark.parametrize(("build", "task_name", "states"), KNOWN)
def test_the_known_machine_is_extracted(build: object, task_name: str, states: int) -> None:
    assert callable(build)
    model, task = build(), get_task(task_name)
    inputs, _ = task.generate(300, np.random.default_rng(0))
    alphabet = alphabet_symbols(task.alphabet)
    found = extract_machine(model, inputs, alphabet, tolerance=0.1, task=task_name)
    machine = found.machine
    assert machine.n_states == states
    assert found.clustered.n_states == states
    assert found.unobserved == ()
    assert found.max_deviation == 0.0 and found.min_separation == 1.0
    assert found.observed == 300 * task.length
    assert sum(found.sizes) == 300 * (task.length + 1)
    assert machine.task == task_name and machine.max_len == task.length
    for reference, name in ((model_reference(model), "rnn"), (task_reference(task), "task")):
        checked = exhaustive_agreement(machine, reference, 8, name)
        assert checked.ok, checked.summary()
        assert checked.sequences == sum(len(alphabet) ** n for n in range(1, 9))
    held_out, _ = task.generate(100, np.random.default_rng(1))
    assert agreement(machine, task_reference(task), held_out, "task").ok


@pytest.mark.parametrize(("build", "task_name", "states"), KNOWN)
def test_the_known_machine_is_extracted_by_behaviour(
    build: object, task_name: str, states: int
) -> None:
    assert callable(build)
    model, task = build(), get_task(task_name)
    inputs, _ = task.generate(300, np.random.default_rng(0))
    alphabet = alphabet_symbols(task.alphabet)
    found = extract_machine(model, inputs, alphabet, method="behaviour", task=task_name)
    assert (found.method, found.depth) == ("behaviour", 4)
    assert found.machine.n_states == found.clustered.n_states == states
    assert found.unobserved == () and found.max_deviation == 0.0
    assert found.observed == 300 * task.length
    geometric = extract_machine(model, inputs, alphabet, task=task_name)
    assert found.machine == geometric.machine
    for reference, name in ((model_reference(model), "rnn"), (task_reference(task), "task")):
        checked = exhaustive_agreement(found.machine, reference, 8, name)
        assert checked.ok, checked.summary()


def test_drifting_states_are_refused_by_geometry_and_extracted_by_behaviour() -> None:
    model, task = drifting_parity_rnn(), get_task("Parity_All")
    inputs, _ = task.generate(300, np.random.default_rng(0))
    for tolerance in (0.01, 0.05, 0.1, 0.2):
        with pytest.raises(RaspError, match="not well separated"):
            extract_machine(model, inputs, (0, 1), tolerance=tolerance)
    found = extract_machine(model, inputs, (0, 1), method="behaviour", depth=4)
    assert found.machine.n_states == found.clustered.n_states == 2
    assert found.machine.output == (0, 1) and found.unobserved == ()
    assert found.max_deviation > 0.2  # the classes are far from geometric clusters
    assert exhaustive_agreement(found.machine, task_reference(task), 12, "task").ok
    assert exhaustive_agreement(found.machine, model_reference(model), 12, "rnn").ok


def test_a_trained_parity_rnn_is_extracted_by_behaviour(tmp_path: Path) -> None:
    # Seed 3 of this small setting trains to a perfect test split in about a second (CPU,
    # deterministic); its states drift, so geometric clustering refuses it.
    task = get_task("Parity_All")
    settings = TrainSettings(
        steps=300, batch_size=128, dataset_size=4000, eval_every=300, eval_batch=4096
    )
    result = train_rnn(task, tmp_path, RNNConfig(1, 1, 2), settings, progress=False, seeds=[3])
    assert result.seeds[0].perfect
    model = load_run(tmp_path).model
    split = make_split(task, 500, 0)
    with pytest.raises(RaspError, match="not well separated"):
        extract_machine(model, split.x_train, (0, 1), tolerance=0.1)
    found = extract_machine(model, split.x_train, (0, 1), method="behaviour")
    assert found.machine.n_states == 2
    for reference, name in ((model_reference(model), "rnn"), (task_reference(task), "task")):
        checked = exhaustive_agreement(found.machine, reference, 8, name)
        assert checked.ok, checked.summary()


def test_behaviour_signatures_are_outputs_over_the_continuation_tree() -> None:
    # Parity from h = 0 and h = 1 at depth 2: now, then after 0 and 1, then 00 01 10 11.
    states = np.array([[0.0], [1.0], [0.0]])
    signatures = behaviour_signatures(parity_rnn(), states, (0, 1), 2)
    even, odd = [0, 0, 1, 0, 1, 1, 0], [1, 1, 0, 1, 0, 0, 1]
    assert signatures.tolist() == [even, odd, even]
    # Classes are numbered by first row, not by signature order.
    assert behaviour_classes(signatures[1:]).tolist() == [0, 1]
    assert behaviour_classes(signatures).tolist() == [0, 1, 0]


def test_behaviour_too_shallow_to_be_single_valued_is_refused() -> None:
    # Depth 0 groups Parity_Last2's window states by output alone: (0, 0) and (1, 1) merge,
    # yet on 0 they go to (0, 0) and (0, 1), which output differently.
    task = get_task("Parity_Last2")
    inputs, _ = task.generate(100, np.random.default_rng(0))
    with pytest.raises(RaspError) as refused:
        extract_machine(window2_rnn(), inputs, (0, 1), method="behaviour", depth=0)
    diagnostic = refused.value.diagnostics[0]
    assert "transitions are not single-valued" in diagnostic.message
    assert diagnostic.hint is not None and "a larger --depth" in diagnostic.hint
    found = extract_machine(window2_rnn(), inputs, (0, 1), method="behaviour", depth=1)
    assert found.machine.n_states == 4


def test_behaviour_refusals_name_their_bounds() -> None:
    inputs = get_task("Parity_All").generate(50, np.random.default_rng(0))[0]
    too_deep = f"2 distinct hidden states x 2\\^22 continuations = {2 * 2**22} exceeds the "
    with pytest.raises(RaspError, match=too_deep + f"bound of {MAX_CONTINUATIONS}"):
        extract_machine(parity_rnn(), inputs, (0, 1), method="behaviour", depth=22)
    with pytest.raises(RaspError, match="fall into 2 behaviour classes at depth 4, more than 1"):
        extract_machine(parity_rnn(), inputs, (0, 1), method="behaviour", max_states=1)
    with pytest.raises(RaspError, match="depth must be at least 0"):
        extract_machine(parity_rnn(), inputs, (0, 1), method="behaviour", depth=-1)
    with pytest.raises(RaspError, match="unknown extraction method 'nearest'"):
        extract_machine(parity_rnn(), inputs, (0, 1), method="nearest")


def test_disagreements_are_counted_and_the_first_shown() -> None:
    task = get_task("Parity_Last2")
    machine = extract_machine(parity_rnn(), np.zeros((1, 3), dtype=np.int64), (0, 1)).machine
    checked = exhaustive_agreement(machine, task_reference(task), 2, "Parity_Last2")
    # The one-state machine outputs 0 everywhere; Parity_Last2 is 1 after [1], [0, 1], [1, 0],
    # and at position 0 of [1, 0] and [1, 1].
    assert (checked.sequences, checked.positions, checked.wrong_positions) == (6, 10, 5)
    assert checked.wrong_sequences == 4
    assert checked.first is not None
    assert (checked.first.inputs, checked.first.position) == ([1], 0)
    assert "5 disagree (first: input [1], position 0, expected 1, machine 0)" in checked.summary()


def test_unobserved_transitions_are_self_loops_and_recorded() -> None:
    # Traced only on zeros, the parity RNN never reads a 1: that transition is a don't-care.
    found = extract_machine(parity_rnn(), np.zeros((5, 4), dtype=np.int64), (0, 1))
    assert found.unobserved == ((0, 1),)
    assert found.clustered.delta == ((0, 0),)
    assert found.machine.n_states == 1
    # Traced on [1, 0] and [0, 1]: from the odd cluster, 1 is unobserved and loops; the
    # machine keeps both states because their outputs differ.
    found = extract_machine(parity_rnn(), np.array([[1, 0], [0, 1]]), (0, 1))
    assert found.unobserved == ((1, 1),)
    assert found.machine.delta == ((0, 1), (1, 1))


def test_behaviour_asks_the_rnn_where_the_traces_did_not_go() -> None:
    # Traced on [1, 0] and [0, 1], as above: the odd class never reads a 1. By behaviour the
    # RNN is asked, and its next state (even parity) has the even class's signature.
    found = extract_machine(
        parity_rnn(), np.array([[1, 0], [0, 1]]), (0, 1), method="behaviour", depth=2
    )
    assert found.queried == 1 and found.unobserved == ()
    assert found.machine.delta == ((0, 1), (1, 0))
    # The mod-3 counter traced on zeros and ones only: every 2 is asked of the RNN.
    inputs = np.random.default_rng(0).integers(0, 2, size=(50, 6))
    found = extract_machine(mod3_rnn(), inputs, (0, 1, 2), method="behaviour", depth=3)
    assert found.queried == 3 and found.unobserved == ()
    task = get_task("Add_Mod_3")
    assert agreement(found.machine, task_reference(task), make_split(task, 500, 0).x_test, "").ok


def test_badly_separated_states_are_refused_with_numbers() -> None:
    inputs = get_task("Parity_All").generate(200, np.random.default_rng(0))[0]
    with pytest.raises(RaspError) as refused:
        extract_machine(leaky_rnn(), inputs, (0, 1), tolerance=0.1)
    message = refused.value.diagnostics[0].message
    assert "not more than 2 x tolerance = 0.2" in message
    assert "not well separated" in message


def test_too_many_clusters_are_refused() -> None:
    inputs = get_task("Parity_All").generate(200, np.random.default_rng(0))[0]
    with pytest.raises(RaspError, match=r"need more than 3 clusters of radius 0\.01"):
        extract_machine(leaky_rnn(), inputs, (0, 1), tolerance=0.01, max_states=3)


def test_a_transition_to_two_clusters_is_refused() -> None:
    label = np.array([[0, 1], [0, 2]])
    with pytest.raises(RaspError) as refused:
        transition_table(label, np.array([[0], [0]]), 3, 2)
    message = refused.value.diagnostics[0].message
    assert "cluster 0 on symbol index 0 goes to cluster 1 and to cluster 2" in message


def test_a_cluster_with_two_outputs_is_refused() -> None:
    states = np.array([[0.0], [0.45], [0.55]])
    with pytest.raises(RaspError) as refused:
        output_table(parity_rnn(), states, np.array([0, 1, 1]), np.array([[0.0], [0.45]]))
    message = refused.value.diagnostics[0].message
    assert "cluster 1 is not single-valued in its output" in message
    assert "outputs 0.45 (rounds to 0) but a member outputs 0.55 (rounds to 1)" in message


def test_symbols_outside_the_alphabet_are_refused() -> None:
    with pytest.raises(RaspError, match="input symbol 2 is not in the alphabet"):
        extract_machine(parity_rnn(), np.array([[0, 2]]), (0, 1))


def test_pair_alphabets_and_the_machine_json_round_trip() -> None:
    task = get_task("Bitwise_Xor")
    alphabet = alphabet_symbols(task.alphabet)
    assert alphabet == ((0, 0), (0, 1), (1, 0), (1, 1))
    # XOR of the pair, read out directly: h' = relu(a - b) + relu(b - a), ignoring h.
    config = RNNConfig(2, 1, 1, hidden_depth=2, hidden_width=2, output_depth=1)
    model = hand_built(
        config,
        {
            "hidden.0.weight": [[0, 1, -1], [0, -1, 1]],
            "hidden.0.bias": [0, 0],
            "hidden.2.weight": [[1, 1]],
            "hidden.2.bias": [0],
            "output.0.weight": [[1]],
            "output.0.bias": [0],
        },
    )
    inputs, _ = task.generate(100, np.random.default_rng(0))
    machine = extract_machine(model, inputs, alphabet, source="hand-built").machine
    assert machine.n_states == 2
    assert exhaustive_agreement(machine, task_reference(task), 4, "task").ok
    assert machine_from_json(machine_to_json(machine)) == machine


def extract_parser() -> argparse.ArgumentParser:
    """A parser holding only the extract command, as ``rasp mips`` would add it."""
    parser = argparse.ArgumentParser(prog="rasp mips")
    register_extract_commands(parser.add_subparsers(dest="command"))
    return parser


def run_extract(argv: list[str]) -> int:
    args = extract_parser().parse_args(["extract", *argv])
    status: int = args.handler(args)
    return status


def test_the_extract_command_writes_a_machine_that_loads_and_lifts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, machine_path = tmp_path / "run", tmp_path / "mod3.json"
    save_run(mod3_rnn(), get_task("Add_Mod_3"), run_dir)
    argv = [str(run_dir), "-o", str(machine_path), "--sequences", "500", "--exhaustive", "4"]
    assert run_extract(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{machine_path}: 3 states (from 3 clusters of 4400 hidden")
    assert lines[1] == "RNN on the test split: 100 sequences, 1000 positions, 0 disagree"
    assert lines[2] == "Add_Mod_3 on the test split: 100 sequences, 1000 positions, 0 disagree"
    assert lines[3:] == [
        f"{name} on every input up to length 4: 120 sequences, 426 positions, 0 disagree"
        for name in ("RNN", "Add_Mod_3")
    ]
    machine = load_machine(machine_path)
    assert (machine.n_states, machine.task, machine.max_len) == (3, "Add_Mod_3", 10)
    assert machine.source == f"extracted from {run_dir} at tolerance 0.1"
    lifted = FRONTEND.lift(machine_path, LiftOptions(max_len=6, exhaustive_limit=2000, samples=20))
    assert lifted.certificate.ok


def test_the_extract_command_by_behaviour_reads_a_drifting_rnn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, machine_path = tmp_path / "run", tmp_path / "parity.json"
    save_run(drifting_parity_rnn(), get_task("Parity_All"), run_dir)
    argv = [str(run_dir), "-o", str(machine_path), "--sequences", "500", "--exhaustive", "6"]
    with pytest.raises(RaspError, match="not well separated"):
        run_extract(argv)
    assert run_extract([*argv, "--method", "behaviour", "--depth", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{machine_path}: 2 states (from 2 behaviour classes of 4950 ")
    assert lines[1] == "RNN on the test split: 50 sequences, 500 positions, 0 disagree"
    assert lines[2] == "Parity_All on the test split: 50 sequences, 500 positions, 0 disagree"
    assert lines[3:] == [
        f"{name} on every input up to length 6: 126 sequences, 642 positions, 0 disagree"
        for name in ("RNN", "Parity_All")
    ]
    machine = load_machine(machine_path)
    assert machine.source == f"extracted from {run_dir} at behaviour depth 3"


def test_a_run_folder_with_missing_or_broken_files_is_refused(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    with pytest.raises(RaspError, match=r"model\.json: no such file"):
        load_run(run_dir)
    save_run(parity_rnn(), get_task("Parity_All"), run_dir)
    weights = run_dir / "model.safetensors"
    intact = weights.read_bytes()
    weights.write_bytes(intact[:40])
    with pytest.raises(RaspError, match=r"model\.safetensors"):
        load_run(run_dir)
    weights.unlink()
    with pytest.raises(RaspError, match=r"model\.safetensors"):
        load_run(run_dir)
    weights.write_bytes(intact)
    sidecar = run_dir / "model.json"
    sidecar.write_text(sidecar.read_text(encoding="utf-8").replace('"task"', '"job"'))
    with pytest.raises(RaspError, match="names no task"):
        load_run(run_dir)


def test_a_loaded_run_is_the_saved_model(tmp_path: Path) -> None:
    model = window2_rnn()
    save_run(model, get_task("Parity_Last2"), tmp_path)
    run = load_run(tmp_path)
    assert run.task.name == "Parity_Last2" and run.model.config == model.config
    x = torch.tensor([[1.0, 0.0, 1.0, 1.0]])
    assert torch.equal(run.model(x)[0], model(x)[0])


def offset_mod3_rnn() -> GeneralRNN:
    """A running sum mod 3 whose states after a step are h = 3 + s (s the sum mod 3) while
    h_0 = 0 acts as s = 0: u = h + x, h' = 3 + u - 3 [u >= 3] - 3 [u >= 6] (steps exact on
    integers, [u >= m] = relu(u - m + 1) - relu(u - m)); y = |h - 3| with h_0 reading 2, the
    output of s = 2, which h_0 does not behave like."""
    model = GeneralRNN(
        RNNConfig(1, 1, 1, hidden_depth=2, hidden_width=5, output_depth=2, output_width=2)
    )
    weights = {
        "hidden.0.weight": [[1.0, 1.0]] * 5,
        "hidden.0.bias": [0.0, -2.0, -3.0, -5.0, -6.0],
        "hidden.2.weight": [[1.0, -3.0, 3.0, -3.0, 3.0]],
        "hidden.2.bias": [3.0],
        "output.0.weight": [[1.0], [-1.0]],
        "output.0.bias": [-3.0, 3.0],
        "output.2.weight": [[1.0, 2.0 / 3.0]],
        "output.2.bias": [0.0],
    }
    model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()}, strict=True)
    return model


def test_the_initial_state_is_grouped_by_what_it_does_not_by_its_unemitted_output() -> None:
    task = get_task("Add_Mod_3")
    inputs = make_split(task, 500, 0).x_train
    model = offset_mod3_rnn()
    assert int(torch.round(model.readout(torch.zeros(1, 1)))[0, 0]) == 2
    found = extract_machine(model, inputs, (0, 1, 2), method="behaviour", depth=0)
    assert found.machine.n_states == 3 and found.clustered.n_states == 3
    assert found.machine.output[found.machine.initial] == 0
    long = np.random.default_rng(0).integers(0, 3, size=(200, 4 * task.length))
    assert agreement(found.machine, task_reference(task), long, "4T").ok
