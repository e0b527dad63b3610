"""Plugins found through entry points, loaded lazily: a group and a name in, a backend, a
frontend or a command's ``register`` function out; backend features checked up front.

Entry-point groups ``rasp_ir.backends``, ``rasp_ir.frontends`` and ``rasp_ir.commands`` map a
name to an object (``"package.module:attribute"``). The built-in ones are registered in
``pyproject.toml`` exactly as a third-party plugin registers its own, so a plugin needs no
change to rasp-ir. Listing reads only package metadata; a plugin's module (and torch, triton,
...) is imported only when that plugin is loaded. Two providers of one name is an error naming
both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from rasp_ir import ir
from rasp_ir.atomic_files import write_bytes_atomically, write_text_atomically
from rasp_ir.diagnostics import Diagnostic, RaspError
from rasp_ir.frontend import Frontend
from rasp_ir.values import Value

BACKEND_GROUP = "rasp_ir.backends"
FRONTEND_GROUP = "rasp_ir.frontends"
COMMAND_GROUP = "rasp_ir.commands"
GROUP_KINDS = {BACKEND_GROUP: "backend", FRONTEND_GROUP: "frontend", COMMAND_GROUP: "command"}

Outputs = dict[str, list[list[Value]]]
BatchRunner = Callable[[Sequence[Sequence[Value]]], Outputs]

# Every IR feature a backend may support. Node kinds, aggregate modes, header options.
ALL_FEATURES: frozenset[str] = frozenset(
    {
        "full",
        "map",
        "select",
        "select_closest",
        "selector_and",
        "selector_or",
        "selector_not",
        "aggregate_mean_cat",
        "aggregate_mean_num",
        "aggregate_sum",
        "aggregate_max",
        "aggregate_min",
        "selector_width",
        "pooled_vote",
        "length",
        "causal",
        "bos",
    }
)


@runtime_checkable
class Backend(Protocol):
    """What a backend provides.

    ``name`` and ``description`` (one line) identify it; ``features`` is the subset of
    :data:`ALL_FEATURES` it can lower. ``lower`` turns a checked program into an artifact
    (source text, a module, weights); ``runner`` turns that artifact into a function from a
    batch of content-token lists to the program's outputs (``{output: [values per input]}``),
    which ``rasp verify`` compares with the reference interpreter.
    """

    name: str
    description: str
    features: frozenset[str]

    def lower(self, program: ir.Program) -> Any: ...

    def runner(self, program: ir.Program, artifact: Any) -> BatchRunner: ...


@dataclass(frozen=True)
class PluginEntry:
    """An installed plugin as package metadata describes it (nothing imported yet)."""

    name: str
    target: str
    provider: str
    group: str


def program_features(program: ir.Program) -> list[tuple[str, ir.Binding | None]]:
    """Every feature ``program`` uses, with the binding that uses it (None: the header)."""
    used: list[tuple[str, ir.Binding | None]] = []
    if program.header.causal:
        used.append(("causal", None))
    if program.header.bos is not None:
        used.append(("bos", None))
    for binding in program.bindings:
        used.extend((feature, binding) for feature in _node_features(program, binding))
    return used


_NODE_FEATURES: dict[type, str] = {
    ir.Full: "full",
    ir.Map: "map",
    ir.Select: "select",
    ir.SelectClosest: "select_closest",
    ir.SelectorAnd: "selector_and",
    ir.SelectorOr: "selector_or",
    ir.SelectorNot: "selector_not",
    ir.SelectorWidth: "selector_width",
    ir.PooledVote: "pooled_vote",
}


def _node_features(program: ir.Program, binding: ir.Binding) -> list[str]:
    node = binding.node
    features = ["length"] if "length" in ir.operands(node) else []
    if not isinstance(node, ir.Aggregate):
        features.append(_NODE_FEATURES[type(node)])
    elif node.reduce == "mean":
        features.append(f"aggregate_mean_{program.encoding_of(node.sop)}")
    else:
        features.append(f"aggregate_{node.reduce}")
    return features


def unsupported(backend: Backend, program: ir.Program) -> list[Diagnostic]:
    """One diagnostic per construct of ``program`` that ``backend`` cannot lower."""
    found = []
    for feature, binding in program_features(program):
        if feature in backend.features:
            continue
        where = f"{binding.name} uses " if binding is not None else "the program uses "
        found.append(
            Diagnostic(
                "unsupported",
                f"{where}{feature.replace('_', ' ')}, which the {backend.name} backend "
                "does not support",
                binding.span if binding is not None else None,
                f"supported: {', '.join(sorted(backend.features))}",
            )
        )
    return found


def require_supported(backend: Backend, program: ir.Program) -> None:
    """Raise :class:`RaspError` listing every unsupported construct at once, if any."""
    problems = unsupported(backend, program)
    if problems:
        raise RaspError(problems)


def installed(group: str) -> dict[str, PluginEntry]:
    """The plugins registered under ``group``, by name; duplicate names are an error."""
    entries: dict[str, PluginEntry] = {}
    for point in metadata.entry_points(group=group):
        provider = point.dist.name if point.dist is not None else "unknown distribution"
        entry = PluginEntry(point.name, point.value, provider, group)
        if point.name in entries and entries[point.name].target != entry.target:
            first = entries[point.name]
            raise RaspError.single(
                "plugin",
                f"two plugins are named {point.name!r} in {group}: "
                f"{first.target} (from {first.provider}) and {entry.target} (from {provider})",
                hint="uninstall one of them or rename its entry point",
            )
        entries[point.name] = entry
    return entries


def load(group: str, name: str) -> Any:
    """Import and return the plugin ``name`` of ``group``."""
    entries = installed(group)
    if name not in entries:
        known = ", ".join(sorted(entries)) or "none"
        raise RaspError.single(
            "plugin",
            f"no {GROUP_KINDS.get(group, 'plugin')} named {name!r}",
            hint=f"installed: {known}",
        )
    entry = entries[name]
    for point in metadata.entry_points(group=group, name=name):
        if point.value == entry.target:
            return point.load()
    raise RaspError.single("plugin", f"cannot load {name!r} from {entry.target}")


def load_backend(name: str) -> Backend:
    """The backend called ``name`` (imports its module now)."""
    backend = load(BACKEND_GROUP, name)
    if not isinstance(backend, Backend):
        raise RaspError.single(
            "plugin",
            f"{installed(BACKEND_GROUP)[name].target} is not a backend "
            "(it needs name, description, features, lower and runner)",
        )
    return backend


def load_frontend(name: str) -> Frontend:
    """The frontend called ``name`` (imports its module now)."""
    frontend = load(FRONTEND_GROUP, name)
    if not isinstance(frontend, Frontend):
        raise RaspError.single(
            "plugin",
            f"{installed(FRONTEND_GROUP)[name].target} is not a frontend "
            "(it needs name, description, settings and lift)",
        )
    return frontend


def load_command(name: str) -> Callable[[Any], None]:
    """The ``register(subparsers)`` function of the command plugin ``name``."""
    register = load(COMMAND_GROUP, name)
    if not callable(register):
        raise RaspError.single(
            "plugin",
            f"{installed(COMMAND_GROUP)[name].target} is not a command "
            "(it must be a function register(subparsers))",
        )
    found: Callable[[Any], None] = register
    return found


def save_artifact(backend: Backend, artifact: Any, path: Path) -> Path:
    """Write ``artifact`` to ``path`` (plus the backend's ``suffix`` when ``path`` has none)
    with the backend's own ``save``, or as text or bytes; the path written. A RaspError when
    the backend cannot write it or the file system refuses."""
    suffix = getattr(backend, "suffix", "")
    if suffix and not path.suffix:
        path = path.with_name(path.name + suffix)
    save = getattr(backend, "save", None)
    try:
        if callable(save):
            save(artifact, path)
        elif isinstance(artifact, str):
            write_text_atomically(path, artifact)
        elif isinstance(artifact, bytes):
            write_bytes_atomically(path, artifact)
        else:
            raise RaspError.single(
                "usage", f"the {backend.name} backend cannot write its artifact to a file"
            )
    except OSError as error:
        raise RaspError.single("file", f"cannot write {path}: {error}") from None
    return path
