"""rasp_ir.syntax's names are loaded on first use: each is its module's object, unknown names
are an AttributeError, and importing the formatter does not import name resolution."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import rasp_ir.syntax as syntax


@pytest.mark.parametrize("name", syntax.__all__)
def test_each_name_is_its_modules_object(name: str) -> None:
    home = importlib.import_module(f"rasp_ir.syntax.{syntax._MODULE_OF[name]}")
    assert getattr(syntax, name) is getattr(home, name)


def test_the_names_are_the_exported_ones() -> None:
    assert sorted(syntax._MODULE_OF) == sorted(syntax.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = syntax.nope


def test_the_formatter_imports_without_name_resolution() -> None:
    code = (
        "import sys\n"
        "import rasp_ir.syntax.formatter\n"
        "print('rasp_ir.syntax.resolve' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
