"""A program in, the same program written with the surface syntax the IR does not keep out:
some bindings computed by ``def`` macros, the first bindings moved into an imported file.

Parsing the result must give a program with the same outputs; the ``macros`` check of
``rasp fuzz`` compares the two with the interpreter. The rewriting is a function of the
program's text (its choices are seeded by the text's hash), so a shrunk program written to a
file rewrites the same way when it is replayed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from rasp_ir import ir
from rasp_ir.fuzz.choices import SeededChooser
from rasp_ir.printer import format_program

LIBRARY = "library.rasp"
MAIN = "main.rasp"
_ONE_LINE = 10**9  # a width at which every statement prints on one line


@dataclass(frozen=True)
class Surface:
    """The main file's text and the imported file's (empty when nothing is imported)."""

    main: str
    library: str

    def write(self, folder: Path) -> Path:
        """Write both files into ``folder``; the main file's path."""
        if self.library:
            (folder / LIBRARY).write_text(self.library, encoding="utf-8")
        main = folder / MAIN
        main.write_text(self.main, encoding="utf-8")
        return main


def surface(program: ir.Program) -> Surface:
    """``program`` with about a third of its bindings without a domain turned into macro calls
    and, for programs of two or more bindings, a prefix of them (public names only) imported
    from :data:`LIBRARY`."""
    text = format_program(program, width=_ONE_LINE)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    chooser = SeededChooser(int.from_bytes(digest[:8], "big"))
    lines = text.splitlines()
    statements = {b.name: _statement_line(lines, b.name) for b in program.bindings}
    header = [line for line in lines if line.startswith("%")]
    outputs = [line for line in lines if line.startswith("output ")]
    rewritten: list[list[str]] = []
    for binding in program.bindings:
        line = statements[binding.name]
        if binding.domain is None and chooser.integer(0, 2) == 0:
            rewritten.append(_as_macro_call(binding, line))
        else:
            rewritten.append([line])
    # an imported file exports only public names: the library stops before the first _name
    public = next(
        (i for i, b in enumerate(program.bindings) if b.name.startswith("_")), len(rewritten)
    )
    most = min(public, len(rewritten) - 1)
    cut = chooser.integer(1, most) if most >= 1 else 0
    library = [line for group in rewritten[:cut] for line in group]
    body = [line for group in rewritten[cut:] for line in group]
    imports = [f'import "{LIBRARY}";'] if library else []
    main = "\n".join([*header, *imports, *body, *outputs]) + "\n"
    return Surface(main, "\n".join(library) + "\n" if library else "")


def _statement_line(lines: list[str], name: str) -> str:
    """The one line that binds ``name``."""
    pattern = re.compile(rf"^{re.escape(name)} (=|:) ")
    return next(line for line in lines if pattern.match(line))


def _as_macro_call(binding: ir.Binding, line: str) -> list[str]:
    """``name = RHS;`` as ``def m_name(p0, ...) { return RHS'; }`` and ``name = m_name(...);``,
    RHS' reading parameters where RHS read the binding's operands. Only for bindings without a
    declared domain, whose line is ``name [: enc] = RHS;``."""
    left, rhs = line.split(" = ", 1)
    operands = list(dict.fromkeys(ir.operands(binding.node)))
    params = {name: f"p{i}" for i, name in enumerate(operands)}
    body = rhs.removesuffix(";")
    if operands:
        names = re.compile(
            r"(?<![A-Za-z_0-9\"])(" + "|".join(map(re.escape, operands)) + r")(?![A-Za-z_0-9])"
        )
        body = names.sub(lambda match: params[match.group(1)], body)
    macro = f"m_{binding.name}"
    definition = f"def {macro}({', '.join(params.values())}) {{ return {body}; }}"
    return [definition, f"{left} = {macro}({', '.join(operands)});"]
