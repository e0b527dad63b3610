"""The hub's public API: every name a backend, frontend or command plugin may use, in one place.

Spokes (``backends/``, ``frontends/``, ``kernels/``) and third-party plugins import from here
(or from ``rasp_ir``, which re-exports these names lazily) and nowhere deeper in the hub; a test
fails when one reaches past it. What is here:

- the IR (:mod:`rasp_ir.ir` as ``ir``, and its main types), values and the expression language;
- parsing, printing, checking (``parse_program``, ``load_program``, ``format_program``, ...)
  and formatting source text as written (``format_source``);
- exact value sets and the tables every backend lowers from;
- the reference interpreter (``interpret``, or an ``Executable`` prepared once for many
  batches), ``verify`` and the exhaustive checks on codes (``SpaceRunner``);
- diagnostics (``RaspError``, ``Diagnostic``, ``Span``);
- the plugin contracts: ``Backend``, ``Frontend``, ``LiftOptions``, ``Lifted``, ``Certificate``
  and its parts, the registry's loaders and feature checks, and what an optional
  ``report_view(path)`` returns for ``rasp report`` and ``rasp explain`` (``ArtifactView``,
  ``Curve``, ``ModelTrace``, ``LabelledExamples``, ``SummaryTable``);
- the helpers a command plugin needs (``add_command``, ``Subparsers``, ``out``, ``err``, ...);
- ``model_html``, how a compiled model shows itself in Jupyter.

Importing it imports numpy, lark and networkx, never torch or triton.
"""

from __future__ import annotations

from rasp_ir import ir
from rasp_ir.affine_exprs import affine_coefficients
from rasp_ir.atomic_files import (
    atomic_path,
    sync_folder,
    write_atomically,
    write_bytes_atomically,
    write_text_atomically,
)
from rasp_ir.certificate import (
    CERTIFICATE_FORMAT,
    CERTIFICATE_VERSION,
    Certificate,
    CheckedInputs,
    Disagreement,
    LiftedSource,
    certificate_from_json,
    make_certificate,
    sha256_of_path,
    sha256_of_text,
)
from rasp_ir.check import CheckResult, check_program, load_program
from rasp_ir.cli.common import (
    Handler,
    Subparsers,
    add_command,
    add_header_options,
    header_overrides,
    load_checked,
)
from rasp_ir.cli.lift_cmd import add_lift_options, lift_options, write_lifted
from rasp_ir.cli.output import err, out, report, write
from rasp_ir.diagnostics import Diagnostic, RaspError, Span, errors_only
from rasp_ir.expr import ExprError, apply_lambda, evaluate
from rasp_ir.frontend import Frontend, Lifted, LiftOptions, check_settings
from rasp_ir.inputs import vocab_kind
from rasp_ir.interpreter import Evaluation, Executable, interpret, run
from rasp_ir.ir import Binding, Header, IRError, Program
from rasp_ir.notebook.html import model_html
from rasp_ir.optimize import eliminate_dead_code, live_names, optimize
from rasp_ir.printer import format_expr, format_program
from rasp_ir.registry import (
    ALL_FEATURES,
    BACKEND_GROUP,
    COMMAND_GROUP,
    FRONTEND_GROUP,
    Backend,
    BatchRunner,
    Outputs,
    installed,
    load_backend,
    load_frontend,
    program_features,
    require_supported,
    save_artifact,
    unsupported,
)
from rasp_ir.reporting.view import (
    ArtifactView,
    Curve,
    LabelledExamples,
    ModelTrace,
    SummaryTable,
)
from rasp_ir.rules import rule_for
from rasp_ir.syntax import HeaderOverrides, parse_file, parse_program
from rasp_ir.syntax.formatter import format_source
from rasp_ir.tables import code_of, distinct_inputs, map_table, none_code, predicate_table
from rasp_ir.values import (
    Number,
    Value,
    canonical_values,
    describe_value,
    format_number,
    format_value,
    is_number,
    normalize_number,
    same_value,
    to_json,
    value_key,
)
from rasp_ir.valuesets import (
    TooLarge,
    ValueSetMemo,
    ValueSetResult,
    at_most_one_key,
    infer_value_sets,
    mean_mode,
    mean_values,
    never_empty,
    sum_values,
)
from rasp_ir.verify import (
    Mismatch,
    VerifyReport,
    exhaustive_inputs,
    input_count,
    sampled_inputs,
    verify,
)
from rasp_ir.verify_space import CodedBatch, InterpreterSpace, SpaceRunner, space_digits

__all__ = [
    "ALL_FEATURES",
    "BACKEND_GROUP",
    "CERTIFICATE_FORMAT",
    "CERTIFICATE_VERSION",
    "COMMAND_GROUP",
    "FRONTEND_GROUP",
    "ArtifactView",
    "Backend",
    "BatchRunner",
    "Binding",
    "Certificate",
    "CheckResult",
    "CheckedInputs",
    "CodedBatch",
    "Curve",
    "Diagnostic",
    "Disagreement",
    "Evaluation",
    "Executable",
    "ExprError",
    "Frontend",
    "Handler",
    "Header",
    "HeaderOverrides",
    "IRError",
    "InterpreterSpace",
    "LabelledExamples",
    "LiftOptions",
    "Lifted",
    "LiftedSource",
    "Mismatch",
    "ModelTrace",
    "Number",
    "Outputs",
    "Program",
    "RaspError",
    "SpaceRunner",
    "Span",
    "Subparsers",
    "SummaryTable",
    "TooLarge",
    "Value",
    "ValueSetMemo",
    "ValueSetResult",
    "VerifyReport",
    "add_command",
    "add_header_options",
    "add_lift_options",
    "affine_coefficients",
    "apply_lambda",
    "at_most_one_key",
    "atomic_path",
    "canonical_values",
    "certificate_from_json",
    "check_program",
    "check_settings",
    "code_of",
    "describe_value",
    "distinct_inputs",
    "eliminate_dead_code",
    "err",
    "errors_only",
    "evaluate",
    "exhaustive_inputs",
    "format_expr",
    "format_number",
    "format_program",
    "format_source",
    "format_value",
    "header_overrides",
    "infer_value_sets",
    "input_count",
    "installed",
    "interpret",
    "ir",
    "is_number",
    "lift_options",
    "live_names",
    "load_backend",
    "load_checked",
    "load_frontend",
    "load_program",
    "make_certificate",
    "map_table",
    "mean_mode",
    "mean_values",
    "model_html",
    "never_empty",
    "none_code",
    "normalize_number",
    "optimize",
    "out",
    "parse_file",
    "parse_program",
    "predicate_table",
    "program_features",
    "report",
    "require_supported",
    "rule_for",
    "run",
    "same_value",
    "sampled_inputs",
    "save_artifact",
    "sha256_of_path",
    "sha256_of_text",
    "space_digits",
    "sum_values",
    "sync_folder",
    "to_json",
    "unsupported",
    "value_key",
    "verify",
    "vocab_kind",
    "write",
    "write_atomically",
    "write_bytes_atomically",
    "write_lifted",
    "write_text_atomically",
]
