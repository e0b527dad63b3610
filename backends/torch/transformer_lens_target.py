"""The ``transformer-lens`` target of ``rasp export``: a ``.rasp`` program or a compiled model
(``MODEL``, ``MODEL.json`` or ``MODEL.safetensors`` from ``rasp compile --backend torch``) in,
the TransformerLens export folder out, every head named by the selector it computes."""

from __future__ import annotations

from pathlib import Path

import torch

from rasp_ir.api import HeaderOverrides, RaspError, load_checked, parse_program
from rasp_ir.backends.torch.build import build_model
from rasp_ir.backends.torch.compiler import causal_warnings, plan
from rasp_ir.backends.torch.model import CompiledTransformer
from rasp_ir.backends.torch.plan import Plan
from rasp_ir.backends.torch.serialize import load_model
from rasp_ir.backends.torch.transformer_lens_export import export_transformer_lens


def export_to_transformer_lens(
    source: Path, folder: Path, overrides: HeaderOverrides
) -> list[Path]:
    """Compile or load ``source`` and write its export into ``folder``; the paths written.
    ``overrides`` (``--vocab``, ``--max-len``) apply to a ``.rasp`` source."""
    model, heads = compiled_with_heads(source, overrides)
    return export_transformer_lens(model, folder, heads)


def compiled_with_heads(
    source: Path, overrides: HeaderOverrides
) -> tuple[CompiledTransformer, dict[str, str]]:
    """The compiled model of ``source`` and the name of each head (``"blocks.L.attn.H"`` to
    ``"pattern(selector) -> what it computes"``). A saved model's heads are named by planning
    its program again; when that plan no longer gives the saved weights (an older compiler),
    the heads stay unnamed rather than misnamed."""
    if source.suffix == ".rasp":
        program = load_checked(str(source), overrides).program
        compiled = plan(program)
        return build_model(compiled, causal_warnings(program)), head_names(compiled)
    if overrides.vocab is not None or overrides.max_len is not None:
        raise RaspError.single(
            "usage",
            f"{source} is a compiled model: its vocabulary and max_len are fixed",
            hint="pass --vocab and --max-len with a .rasp program, or compile it again",
        )
    model = load_model(source)
    compiled = plan(parse_program(model.info.program_text, f"{source} (its program)"))
    if not _same_weights(model, build_model(compiled)):
        return model, {}
    return model, head_names(compiled)


def head_names(compiled: Plan) -> dict[str, str]:
    """``"blocks.L.attn.H"`` (TransformerLens's 0-based layer and head) to the head's pattern,
    selector and the bindings it computes, in the slots the weight builder gives them."""
    names: dict[str, str] = {}
    slots: dict[int, int] = {}
    for head in compiled.heads:
        slot = slots.get(head.layer, 0)
        slots[head.layer] = slot + 1
        what = f"{head.pattern}({head.selector}) -> {', '.join(head.computes)}"
        names[f"blocks.{head.layer - 1}.attn.{slot}"] = what
    return names


def _same_weights(model: CompiledTransformer, rebuilt: CompiledTransformer) -> bool:
    ours, theirs = model.state_dict(), rebuilt.state_dict()
    return ours.keys() == theirs.keys() and all(
        ours[k].shape == theirs[k].shape and torch.equal(ours[k], theirs[k]) for k in ours
    )
