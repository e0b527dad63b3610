"""A program in, a readable compile report out: layers, heads, widths and where each op went."""

from __future__ import annotations

from rasp_ir.api import ir
from rasp_ir.backends.torch.compiler import plan
from rasp_ir.backends.torch.plan import Plan


def compile_report(program: ir.Program) -> str:
    """Layers, heads per layer, d_model, MLP width and the per-op allocation."""
    from rasp_ir.backends.torch.build import build_model

    compiled = plan(program)
    model = build_model(compiled)
    config = model.config
    heads = [
        sum(1 for h in compiled.heads if h.layer == layer)
        for layer in range(1, config.n_layers + 1)
    ]
    lines = [
        f"layers: {config.n_layers}   heads per layer: {' / '.join(map(str, heads)) or '-'}   "
        f"d_model: {config.d_model}   mlp width: {config.d_mlp}   d_head: {config.d_head}",
    ]
    lines.extend(_allocation(compiled))
    return "\n".join(lines)


def _allocation(compiled: Plan) -> list[str]:
    rows = [("layer", "unit", "computes")]
    embedded = [t.name for t in compiled.tasks if t.layer == 0]
    if embedded:
        rows.append(("0", "embedding", ", ".join(embedded)))
    for layer in range(1, compiled.n_layers + 1):
        for number, head in enumerate((h for h in compiled.heads if h.layer == layer), start=1):
            rows.append(
                (
                    str(layer),
                    f"head {number}",
                    f"{head.pattern}({head.selector}): {', '.join(head.computes)}",
                )
            )
        mlp = [t.name for t in compiled.tasks if t.layer == layer]
        if mlp:
            rows.append((str(layer), "mlp", ", ".join(mlp)))
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    return [f"{r[0].ljust(width[0])}  {r[1].ljust(width[1])}  {r[2]}" for r in rows]
