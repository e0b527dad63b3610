"""Small programs that exercise one corner of the Python backend each (text form)."""

from __future__ import annotations

FEATURES: dict[str, str] = {
    "closest_ties": """
%vocab {"a", "b"}
%max_len 5
near = select_closest(tokens, tokens, !=);
where = aggregate(near, indices);
output where;
""",
    "closest_bos_causal": """
%vocab {"a", "b", "c"}
%max_len 5
%bos "<s>"
%causal
near = select_closest(tokens, tokens, fn(k, q) -> k < q);
got = aggregate(near, tokens);
n = length;
output got, n, tokens;
""",
    "reductions": """
%vocab {0, 1, 2, 3}
%max_len 5
before = select(indices, indices, <);
total = aggregate(before, tokens, reduce=sum, default=-1);
high = aggregate(before, tokens, reduce=max);
low = aggregate(before, tokens, reduce=min, default=9);
numbers : num = map(fn(t) -> t, tokens);
frac : num = aggregate(select(indices, indices, <=), numbers);
third = map(fn(t) -> t / 3 + 1/2, tokens);
output total, high, low, frac, third;
""",
    "selector_algebra": """
%vocab {"x", "y", "z"}
%max_len 5
%causal
same = select(tokens, tokens, ==);
left = select(indices, indices, <);
either = same or left;
both = same and not left;
w1 = selector_width(either);
w2 = selector_width(both);
w3 = selector_width(not same);
output w1, w2, w3;
""",
    "bools_and_numbers": """
%vocab {0, 1, 2}
%max_len 4
flag = tokens == 1;
mixed = map(fn(f, t) -> f if t == 0 else t - 1, flag, tokens);
is_true = map(fn(m) -> m == true, mixed);
is_one = map(fn(m) -> m == 1, mixed);
member = map(fn(m) -> m in {true, 2}, mixed);
table = lookup(mixed, {true: "T", 1: "one", false: "F"}, default="other");
pair = lookup((flag, tokens), {(true, 1): 10, (false, 0): 20}, default=0);
biggest = map(fn(m) -> max(m, 0), mixed);
common = aggregate(select(indices, indices, ==), mixed);
output mixed, is_true, is_one, member, table, pair, biggest, common;
""",
    "undefined": """
%vocab {"a", "b", "c"}
%max_len 4
opp = length - indices - 1;
shifted = aggregate(select(indices, indices - 1, ==), tokens);
known = map(fn(s) -> s + "!", shifted, default="?");
clash = aggregate(select(tokens, tokens, ==), indices);
output shifted, known, clash;
""",
    "undefined_select": """
%vocab {"a", "b"}
%max_len 3
shifted = aggregate(select(indices, indices - 1, ==), tokens);
same = select(shifted, tokens, ==);
w = selector_width(same);
output w;
""",
    "expressions": """
%vocab {"ab", "c", "d"}
%max_len 3
a = map(fn(t, i) -> t + "x" if i % 2 == 0 and not t == "c" else min(t, "b"), tokens, indices);
b = map(fn(i, n) -> abs(n - 2 * i) if i < n - i else -round((i + 1) / 2), indices, length);
c = map(fn(i) -> lookup(i, {0: 1/2, 1: 3}, default=i * 1/3), indices);
d = map(fn(t) -> t not in {"ab", "d"} or t >= "c", tokens);
output a, b, c, d;
""",
}
