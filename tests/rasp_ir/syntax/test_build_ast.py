"""The parse tree to AST step: every grammar rule has a builder, nodes are typed and carry the
span of their text, literals keep what was written."""

from rasp_ir.diagnostics import Span
from rasp_ir.syntax import ast, grammar_parser, parse_module
from rasp_ir.syntax.build_ast import AstBuilder

TEXT = """%vocab {"a", "b"}
%max_len 8
def twice(s) { d = s + s; return d; }
x : num = twice(tokens) * 2;
sel = select(tokens, tokens, <=) and not select(indices, indices, ==);
t = lookup((tokens, indices), {("a", 1): 2.5e0}, default=-1);
output x;
"""


def _tree_names() -> set[str]:
    """The node names the parser can put in a tree: aliases, and rules that are not inlined."""
    names = set()
    for rule in grammar_parser().rules:
        if rule.alias:
            names.add(rule.alias)
        elif not rule.options.expand1 and not rule.origin.name.startswith("_"):
            names.add(rule.origin.name)
    return names


def test_every_grammar_rule_has_a_builder_method() -> None:
    missing = sorted(
        name for name in _tree_names() if not callable(getattr(AstBuilder, name, None))
    )
    assert missing == []


def test_statements_and_directives_become_typed_nodes() -> None:
    module = parse_module(TEXT, "t.rasp")
    assert [type(d) for d in module.directives] == [ast.VocabDirective, ast.MaxLenDirective]
    assert [type(s) for s in module.statements] == [
        ast.Def,
        ast.Binding,
        ast.Binding,
        ast.Binding,
        ast.Output,
    ]
    definition = module.statements[0]
    assert isinstance(definition, ast.Def)
    assert (definition.name, definition.params) == ("twice", ("s",))
    assert [b.name for b in definition.body] == ["d"]
    assert definition.result == ast.Name("d", Span("t.rasp", 3, 34, 3, 35, TEXT.splitlines()[2]))


def test_binding_keeps_annotation_operators_and_spans() -> None:
    binding = parse_module(TEXT, "t.rasp").statements[1]
    assert isinstance(binding, ast.Binding)
    line = TEXT.splitlines()[3]
    assert binding.name_span == Span("t.rasp", 4, 1, 4, 2, line)
    assert binding.span == Span("t.rasp", 4, 1, 4, 29, line)
    assert binding.annotation is not None
    assert (binding.annotation.encoding, binding.annotation.domain) == ("num", None)
    product = binding.value
    assert isinstance(product, ast.BinOp)
    assert product.op == "*"
    assert isinstance(product.left, ast.Call)
    assert product.left.name == "twice"
    assert product.right == ast.IntLit("2", Span("t.rasp", 4, 27, 4, 28, line))


def test_calls_split_positional_keyword_and_operator_arguments() -> None:
    statements = parse_module(TEXT, "t.rasp").statements
    selector = statements[2]
    assert isinstance(selector, ast.Binding)
    assert isinstance(selector.value, ast.Logic)
    assert isinstance(selector.value.right, ast.Not)
    select = selector.value.left
    assert isinstance(select, ast.Call)
    assert isinstance(select.positional[2], ast.OperatorArg)
    assert select.positional[2].op == "<="
    lookup = statements[3]
    assert isinstance(lookup, ast.Binding)
    call = lookup.value
    assert isinstance(call, ast.Call)
    key, table = call.positional
    assert isinstance(key, ast.TupleLit)
    assert isinstance(table, ast.TableLit)
    assert isinstance(table.entries[0].value, ast.DecimalLit)
    assert table.entries[0].value.text == "2.5e0"
    assert [k.name for k in call.keywords] == ["default"]
    assert isinstance(call.keywords[0].value, ast.Neg)


def test_strings_are_decoded_and_big_numbers_kept_as_written() -> None:
    digits = "9" * 1200
    module = parse_module(f'%vocab chars "a\\u0062"\nx = {digits};\n', "t.rasp")
    vocab = module.directives[0]
    assert isinstance(vocab, ast.VocabDirective)
    assert (vocab.chars, vocab.values) == ("ab", ())
    binding = module.statements[0]
    assert isinstance(binding, ast.Binding)
    assert isinstance(binding.value, ast.IntLit)
    assert binding.value.digits == digits
