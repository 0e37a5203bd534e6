"""The condition grammar: what it reads, how it says what is wrong, and that it never crashes."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.alerts.condition_parser import ConditionError, parse_condition
from services.alerts.conditions import (
    WINDOW_FUNCTIONS,
    And,
    Comparison,
    Condition,
    Latest,
    Not,
    Or,
    WindowFunction,
    format_condition,
    longest_window,
    metrics_of,
)

pytestmark = pytest.mark.unit

CPU = Latest("cpu_usage")


def test_the_seed_guides_condition_is_a_comparison_of_the_latest_value():
    assert parse_condition("cpu_usage > 80") == Comparison(CPU, ">", 80.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cpu_usage>=80.5", Comparison(CPU, ">=", 80.5)),
        ("cpu_usage < -1", Comparison(CPU, "<", -1.0)),
        ("cpu_usage == .5", Comparison(CPU, "==", 0.5)),
        ("cpu_usage != 1e3", Comparison(CPU, "!=", 1000.0)),
        ("cpu_usage <= 2.5e-1", Comparison(CPU, "<=", 0.25)),
        ("avg(cpu_usage[5m]) > 80", Comparison(WindowFunction("avg", "cpu_usage", 300.0), ">", 80)),
        (
            "rate(requests[1h30m]) > 2",
            Comparison(WindowFunction("rate", "requests", 5400.0), ">", 2),
        ),
        (
            "last( gpu_usage [ 30s ] ) > 1",
            Comparison(WindowFunction("last", "gpu_usage", 30), ">", 1),
        ),
        ("avg > 1", Comparison(Latest("avg"), ">", 1)),
        (
            "not cpu_usage > 80 or gpu_usage > 90 and memory_usage > 85",
            Or(
                (
                    Not(Comparison(CPU, ">", 80)),
                    And(
                        (
                            Comparison(Latest("gpu_usage"), ">", 90),
                            Comparison(Latest("memory_usage"), ">", 85),
                        )
                    ),
                )
            ),
        ),
        (
            "(a > 1 or b > 2) and c > 3",
            And(
                (
                    Or((Comparison(Latest("a"), ">", 1), Comparison(Latest("b"), ">", 2))),
                    Comparison(Latest("c"), ">", 3),
                )
            ),
        ),
        (
            "a > 1 and (b > 2 and c > 3)",
            And(tuple(Comparison(Latest(n), ">", v) for n, v in (("a", 1), ("b", 2), ("c", 3)))),
        ),
    ],
)
def test_good_conditions_parse_to_the_expected_tree(text, expected):
    assert parse_condition(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "cpu_usage > 80",
        "avg(cpu_usage[5m]) >= 80.5 and not (gpu_usage > 90 or memory_usage < -1000)",
        "count(errors[1d]) > 0 or rate(requests_total[1h30m]) > 2.5",
        "not not cpu_usage == 0",
        "max(a[1w]) > 1e+20 and min(b[500ms]) < 1e-05",
    ],
)
def test_formatted_conditions_read_back_to_the_same_tree(text):
    condition = parse_condition(text)
    assert parse_condition(format_condition(condition)) == condition


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("", 1, "empty"),
        ("cpu_usage >", 12, "expected a number after '>'"),
        ("cpu_usage > abc", 13, "expected a number after '>'"),
        ("cpu_usage > 5m", 13, "expected a number after '>'"),
        ("cpu_usage 80", 11, "expected a comparison"),
        ("cpu_usage = 80", 11, "did you mean '=='"),
        ("CPU_usage > 80", 1, "lower case"),
        ("cpu_usage > 80 and", 19, "expected a metric"),
        ("cpu_usage > 80 gpu > 1", 16, "expected 'and', 'or' or the end"),
        ("(cpu_usage > 80", 16, "')' to close '(' at column 1"),
        ("cpu_usage > 80)", 15, "expected 'and', 'or' or the end"),
        ("foo(cpu_usage[5m]) > 1", 1, "unknown function 'foo'"),
        ("avg(cpu_usage) > 1", 14, "a window like [5m]"),
        ("avg(cpu_usage[5]) > 1", 15, "a duration like 5m"),
        ("avg(cpu_usage[5x]) > 1", 15, "unknown unit 'x'"),
        ("avg(cpu_usage[0s]) > 1", 15, "longer than zero"),
        ("avg(cpu_usage[5m) > 1", 17, "']' to close the window"),
        ("avg(cpu_usage[5m] > 1", 19, "')' to close avg("),
        ("avg([5m]) > 1", 5, "a metric name inside avg("),
        ("cpu_usage > 1.2.3", 13, "malformed number"),
        ("cpu_usage > 1e999", 13, "too large"),
        ("and > 1", 1, "expected a metric"),
        ("cpu_usage > 80 && gpu > 1", 16, "unexpected character '&'"),
        ("(" * 40 + "a > 1" + ")" * 40, 33, "nests deeper"),
    ],
)
def test_bad_conditions_name_the_offending_column(text, column, words):
    with pytest.raises(ConditionError) as caught:
        parse_condition(text)
    assert caught.value.column == column
    assert words in caught.value.message
    assert str(caught.value).endswith(f"at column {column}")


def test_an_overlong_condition_is_refused():
    with pytest.raises(ConditionError, match="longer than"):
        parse_condition("a > 1 and " * 300 + "a > 1")


def test_metrics_and_longest_window_are_read_from_the_whole_tree():
    condition = parse_condition("avg(cpu[5m]) > 1 and not (gpu > 2 or max(mem[1h]) > 3)")
    assert metrics_of(condition) == {"cpu", "gpu", "mem"}
    assert longest_window(condition) == 3600.0
    assert longest_window(parse_condition("cpu > 1")) == 0.0


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(list("abcmsz_019.()[]<>=!- \tnotadrv")) | st.characters()))
def test_parsing_any_text_raises_nothing_but_condition_error(text):
    try:
        parse_condition(text)
    except ConditionError as error:
        assert 1 <= error.column <= len(text) + 1


names = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: n not in ("and", "or", "not")
)
operands = names.map(Latest) | st.builds(
    WindowFunction,
    st.sampled_from(sorted(WINDOW_FUNCTIONS)),
    names,
    st.integers(1, 10**6).map(float),
)
numbers = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)
comparisons = st.builds(
    Comparison, operands, st.sampled_from(["==", "!=", ">", ">=", "<", "<="]), numbers
)


def _flat(kind):
    def build(terms: list[Condition]) -> Condition:
        flat = [t for term in terms for t in (term.terms if isinstance(term, kind) else (term,))]
        return kind(tuple(flat))

    return build


conditions = st.recursive(
    comparisons,
    lambda inner: (
        inner.map(Not)
        | st.lists(inner, min_size=2, max_size=3).map(_flat(And))
        | st.lists(inner, min_size=2, max_size=3).map(_flat(Or))
    ),
    max_leaves=12,
)


@settings(max_examples=200)
@given(conditions)
def test_any_tree_survives_formatting_and_parsing(condition):
    assert parse_condition(format_condition(condition)) == condition
