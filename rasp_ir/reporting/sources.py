"""A path in, the artifact's :class:`~rasp_ir.reporting.view.ArtifactView` and its checked program
out: a ``.rasp`` file directly, anything else through the installed frontends and backends that
offer ``report_view(path)`` (a Transformer Programs run folder, a compiled torch model), or
``report_view(path, member=SEED)`` for one member of a population."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rasp_ir.check import CheckResult, load_program
from rasp_ir.diagnostics import RaspError
from rasp_ir.registry import BACKEND_GROUP, FRONTEND_GROUP, installed, load
from rasp_ir.reporting.view import ArtifactView
from rasp_ir.syntax import HeaderOverrides

# The kind of a view of a .rasp file (every other view comes from a plugin).
PROGRAM_KIND = "RASP program"


@dataclass(frozen=True)
class Opened:
    """An artifact's view and its program, parsed from the view's text and checked."""

    view: ArtifactView
    checked: CheckResult

    @property
    def from_plugin(self) -> bool:
        """Whether a frontend or backend read the artifact (it is not a ``.rasp`` file)."""
        return self.view.kind != PROGRAM_KIND


def open_artifact(
    path: str, overrides: HeaderOverrides | None = None, member: int | None = None
) -> Opened:
    """The view and checked program of ``path`` (of its member ``member``, for an artifact with
    members such as a population of training runs); a RaspError when nothing can read it."""
    where = Path(path)
    if where.suffix == ".rasp" or (
        where.is_file() and where.suffix not in (".json", ".safetensors")
    ):
        if member is not None:
            raise RaspError.single(
                "usage", f"{path} is a program, not a population", hint="leave out --member"
            )
        try:
            text = where.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise RaspError.single("file", f"cannot read {path}: {error}") from None
        checked = load_program(path, overrides=overrides)
        return Opened(ArtifactView(PROGRAM_KIND, path, text), checked)
    if not where.exists() and not where.with_name(where.name + ".json").exists():
        raise RaspError.single(
            "file",
            f"{path} does not exist",
            hint="give a .rasp file, a training run folder or a compiled model (MODEL.json)",
        )
    view = _plugin_view(where, member)
    checked = load_program(view.source, text=view.program_text, overrides=overrides)
    return Opened(view, checked)


def _plugin_view(path: Path, member: int | None) -> ArtifactView:
    """The first view a frontend or backend gives for ``path`` (frontends first, by name), of
    member ``member`` when given."""
    asked: list[str] = []
    for group in (FRONTEND_GROUP, BACKEND_GROUP):
        for name in sorted(installed(group)):
            plugin = load(group, name)
            report_view = getattr(plugin, "report_view", None)
            if not callable(report_view):
                continue
            asked.append(name)
            view = report_view(path) if member is None else report_view(path, member=member)
            if view is not None:
                if not isinstance(view, ArtifactView):
                    raise RaspError.single(
                        "plugin", f"{name}'s report_view did not return an ArtifactView"
                    )
                return view
    raise RaspError.single(
        "file",
        f"{path} is not a .rasp program, and no installed plugin reads it "
        f"(asked: {', '.join(asked) or 'none offers report views'})",
        hint="give a .rasp file, a Transformer Programs run folder or a compiled model "
        "(rasp compile --backend torch -o MODEL)",
    )
