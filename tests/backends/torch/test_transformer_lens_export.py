"""``rasp export --to transformer-lens``: the files (always checked), and, with the ``lens``
extra, TransformerLens's native model built from them reproduces the compiled model: decoded
outputs equal the interpreter's, logits equal the residual read by the unembedding, and every
residual hook equals our trace, on every example that compiles."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from rasp_ir.api import HeaderOverrides, RaspError
from rasp_ir.backends.torch import (
    compile_program,
    load_hooked_transformer,
    read_lens_labels,
    save_model,
)
from rasp_ir.backends.torch.transformer_lens_export import lens_state_dict
from rasp_ir.backends.torch.transformer_lens_target import export_to_transformer_lens
from rasp_ir.cli.main import main
from rasp_ir.interpreter import interpret
from tests.backends.torch.helpers import EXAMPLES, ROOT, all_inputs, example, random_inputs, same

REVERSE = ROOT / "examples" / "reverse.rasp"


needs_lens = pytest.mark.skipif(
    importlib.util.find_spec("transformer_lens") is None,
    reason="the lens extra (transformer-lens) is not installed: pip install 'rasp-ir[lens]'",
)


def test_export_writes_config_weights_and_labels(tmp_path: Path) -> None:
    written = export_to_transformer_lens(REVERSE, tmp_path / "tl", HeaderOverrides())
    assert [p.name for p in written] == ["config.json", "model.safetensors", "labels.json"]
    config = json.loads((tmp_path / "tl" / "config.json").read_text())
    assert config["normalization_type"] is None and config["act_fn"] == "relu"
    assert config["attention_dir"] == "bidirectional" and config["n_ctx"] == 9
    labels = read_lens_labels(tmp_path / "tl")
    assert labels.residual_labels[:3] == ("one", "bos", "tokens:a")
    assert labels.heads == {
        "blocks.0.attn.0": "count(length) -> length",
        "blocks.1.attn.0": "mean(flip) -> reverse",
    }
    assert [c.value for c in labels.columns][:3] == ["a", "b", "c"]
    assert labels.columns[-1].value is None  # reverse may be undefined: its own column
    assert labels.residual_hooks[:4] == (
        "hook_embed",
        "hook_pos_embed",
        "blocks.0.hook_resid_pre",
        "blocks.0.hook_attn_out",
    )
    assert "blocks.1.hook_resid_post" in labels.residual_hooks
    assert not list((tmp_path / "tl").glob("*.tmp")) and not list((tmp_path / "tl").glob(".*"))


def test_the_exporter_does_not_import_transformer_lens(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from rasp_ir.api import HeaderOverrides; "
        "from rasp_ir.backends.torch.transformer_lens_target import export_to_transformer_lens; "
        f"export_to_transformer_lens(Path({str(REVERSE)!r}), Path({str(tmp_path)!r}), "
        "HeaderOverrides()); print('transformer_lens' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "False"


def test_weights_are_the_compiled_models(tmp_path: Path) -> None:
    model = compile_program(example(REVERSE, 5))
    state = lens_state_dict(model)
    assert torch.equal(state["embed.W_E"], model.token_embedding)
    assert torch.equal(state["blocks.1.attn.W_Q"], model.w_q[1])
    assert torch.equal(state["blocks.0.mlp.W_out"], model.mlp_out[0])
    assert all(t.dtype == torch.float32 for t in state.values())


def test_cli_exports_a_program_and_a_compiled_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(REVERSE), "--to", "transformer-lens", "-o", "reverse-tl"]) == 0
    save_model(compile_program(example(REVERSE, 5)), tmp_path / "rev")
    assert main(["export", "rev", "--to", "transformer-lens", "-o", "rev-tl"]) == 0
    heads = read_lens_labels(tmp_path / "rev-tl").heads
    assert heads["blocks.1.attn.0"] == "mean(flip) -> reverse"
    assert (tmp_path / "reverse-tl" / "model.safetensors").exists()


def test_the_readme_export_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    hist = str(ROOT / "examples" / "hist.rasp")
    assert main(["export", str(REVERSE), "--to", "transformer-lens", "-o", "reverse-tl"]) == 0
    assert main(["compile", hist, "--backend", "torch", "-o", "hist"]) == 0
    assert main(["export", "hist", "--to", "transformer-lens", "-o", "hist-tl"]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == "wrote hist-tl/labels.json"
    assert read_lens_labels("hist-tl").heads  # a saved model's heads are named too


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "nothing")
    assert main(["export", missing, "--to", "transformer-lens", "-o", str(tmp_path / "x")]) == 1
    assert "nothing.json" in capsys.readouterr().err
    assert main(["export", str(REVERSE), "--to", "onnx", "-o", str(tmp_path / "x")]) == 1
    assert "the torch backend has no export target 'onnx'" in capsys.readouterr().err
    save_model(compile_program(example(REVERSE, 5)), tmp_path / "rev")
    model = str(tmp_path / "rev")
    fixed = ["export", model, "--to", "transformer-lens", "-o", "x", "--max-len", "3"]
    assert main(fixed) == 1
    assert "is a compiled model: its vocabulary and max_len are fixed" in capsys.readouterr().err
    python = ["export", str(REVERSE), "--to", "transformer-lens", "-b", "python", "-o", "x"]
    assert main(python) == 1
    assert "the python backend has no export target" in capsys.readouterr().err


def test_a_missing_labels_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RaspError, match=r"labels\.json: no such file"):
        read_lens_labels(tmp_path)


def _round_trip(folder: Path, prog: Any, inputs: list[list[Any]], bridge: Any = None) -> None:
    """TransformerLens on ``inputs`` == the compiled model == the interpreter."""
    model = compile_program(prog)
    bridge = bridge or load_hooked_transformer(folder)
    labels = read_lens_labels(folder)
    for length in sorted({len(x) for x in inputs}):
        batch = [x for x in inputs if len(x) == length]
        ids, mask = labels.encode(batch)
        with torch.no_grad():
            logits, cache = bridge.run_with_cache(ids, attention_mask=mask)
        ours_ids, lengths = model.encode(batch)
        final, residuals, _ = model.forward(ours_ids, lengths, trace=True)
        assert torch.equal(ids, ours_ids)
        unembed = lens_state_dict(model)
        expected_logits = final @ unembed["unembed.W_U"] + unembed["unembed.b_U"]
        torch.testing.assert_close(logits, expected_logits, rtol=1e-5, atol=1e-4)
        hooks = _residual_hooks(model.config.n_layers, model.config.d_mlp == 0)
        for hook, ours in zip(hooks, residuals, strict=True):
            torch.testing.assert_close(cache[hook], ours, rtol=1e-5, atol=1e-4)
        decoded = labels.decode(logits, mask)
        expected = interpret(prog, batch).outputs()
        for name, rows in expected.items():
            for want, have in zip(rows, decoded[name], strict=True):
                assert len(want) == len(have) and all(map(same, want, have)), (name, want, have)


def _residual_hooks(n_layers: int, attn_only: bool) -> list[str]:
    """The hooks that hold our trace's residuals: the embedding, then after each attention and
    after each MLP (an attention-only model has no MLP: both are its block's output)."""
    hooks = ["blocks.0.hook_resid_pre"]
    for layer in range(n_layers):
        after_attention = "hook_resid_post" if attn_only else "hook_resid_mid"
        hooks += [f"blocks.{layer}.{after_attention}", f"blocks.{layer}.hook_resid_post"]
    return hooks


def _export(path: Path, tmp_path: Path, max_len: int, vocab_size: int) -> tuple[Path, Any]:
    prog = example(path, max_len, vocab_size)
    source = tmp_path / "model"
    save_model(compile_program(prog), source)
    export_to_transformer_lens(source, tmp_path / "tl", HeaderOverrides())
    return tmp_path / "tl", prog


@needs_lens
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_transformer_lens_reproduces_every_example(path: Path, tmp_path: Path) -> None:
    folder, prog = _export(path, tmp_path, 5, 3)
    _round_trip(folder, prog, all_inputs(prog, 3) + random_inputs(prog, 60, seed=7))


@needs_lens
@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_transformer_lens_on_every_short_input(path: Path, tmp_path: Path) -> None:
    folder, prog = _export(path, tmp_path, 5, 4)
    _round_trip(folder, prog, all_inputs(prog, 5))


@needs_lens
def test_the_readme_snippet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(REVERSE), "--to", "transformer-lens", "-o", "reverse-tl"]) == 0
    model = load_hooked_transformer("reverse-tl")
    labels = read_lens_labels("reverse-tl")
    ids, mask = labels.encode([list("hello")])
    logits, cache = model.run_with_cache(ids, attention_mask=mask)
    assert labels.decode(logits, mask) == {"reverse": [list("olleh")]}
    assert labels.heads["blocks.1.attn.0"] == "mean(flip) -> reverse"
    assert cache["blocks.1.attn.hook_pattern"].shape == (1, 1, 6, 6)


def test_loading_without_transformer_lens_4_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "transformer_lens.model_bridge.sources.native", None)
    with pytest.raises(RaspError, match="needs transformer-lens 4 or later") as caught:
        load_hooked_transformer(tmp_path)
    assert "pip install 'rasp-ir[lens]'" in caught.value.render()
