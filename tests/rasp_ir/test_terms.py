"""The expression terms sit below the IR: importing the IR does not import the evaluator's
public face (rasp_ir.expr) nor the front end, and lambda bodies are kept folded."""

import subprocess
import sys

from rasp_ir import ir
from rasp_ir.terms import Binary, Call, Const, Param


def test_ir_imports_neither_expr_nor_the_front_end() -> None:
    code = (
        "import sys, rasp_ir.ir; "
        "print(sorted(m for m in sys.modules if m in ('rasp_ir.expr', 'rasp_ir.syntax')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_lambda_bodies_are_constant_folded() -> None:
    fn = ir.Lambda(("x",), Binary("+", Param("x"), Call("abs", (Const(-2),))))
    assert fn.body == Binary("+", Param("x"), Const(2))
