"""Reading a condition's text: tokens, a recursive-descent parser, errors with their column."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from services.alerts.conditions import (
    WINDOW_FUNCTIONS,
    And,
    Comparison,
    Condition,
    Latest,
    Not,
    Operand,
    Or,
    WindowFunction,
    operand_text,
)
from services.alerts.durations import DurationError, parse_duration

KEYWORDS = ("and", "or", "not")
# Bounds that keep a hostile condition from costing more than a bounded amount of work.
MAX_LENGTH = 2000
MAX_DEPTH = 32


class ConditionError(ValueError):
    """A condition that cannot be read, with the 1-based column of the offending token."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message, column)
        self.message = message
        self.column = column

    def __str__(self) -> str:
        return f"{self.message} at column {self.column}"


@dataclass(frozen=True)
class _Token:
    kind: str  # number, duration, name, op, punct, malformed, end
    text: str
    column: int


_TOKEN = re.compile(
    r"(?P<space>[ \t\r\n]+)"
    r"|(?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?)(?![a-z0-9_.])"
    r"|(?P<duration>[0-9]+[a-z]+(?:[0-9]+[a-z]+)*)(?![a-z0-9_.])"
    r"|(?P<malformed>[0-9.][a-z0-9_.]*)"
    r"|(?P<name>[a-z_][a-z0-9_]*)"
    r"|(?P<op>==|!=|>=|<=|>|<)"
    r"|(?P<punct>[()\[\]-])"
)


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        column = position + 1
        if match is None:
            char = text[position]
            hint = " (did you mean '=='?)" if char == "=" else ""
            if char.isalpha():
                hint = " (metric names are lower case: a-z, 0-9, _)"
            raise ConditionError(f"unexpected character {char!r}{hint}", column)
        kind = match.lastgroup or "space"
        if kind == "malformed":
            raise ConditionError(f"malformed number or duration '{match.group()}'", column)
        if kind != "space":
            tokens.append(_Token(kind, match.group(), column))
        position = match.end()
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


def _shown(token: _Token) -> str:
    return "the end of the condition" if token.kind == "end" else f"'{token.text}'"


class _Parser:
    """Recursive descent over: or := and ('or' and)*; and := not ('and' not)*;
    not := 'not' not | '(' or ')' | operand comparison number."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def at(self, text: str) -> bool:
        return self.current.kind in ("name", "op", "punct") and self.current.text == text

    def expected(self, what: str) -> ConditionError:
        found = self.current
        return ConditionError(f"expected {what} but found {_shown(found)}", found.column)

    def expect(self, text: str, what: str) -> _Token:
        if not self.at(text):
            raise self.expected(what)
        return self.advance()

    def parse(self) -> Condition:
        if self.current.kind == "end":
            raise ConditionError("the condition is empty", 1)
        condition = self.disjunction()
        if self.current.kind != "end":
            raise self.expected("'and', 'or' or the end")
        return condition

    def disjunction(self) -> Condition:
        return self.chain("or", self.conjunction, Or)

    def conjunction(self) -> Condition:
        return self.chain("and", self.negation, And)

    def chain(
        self, keyword: str, parse_term: Callable[[], Condition], kind: type[And] | type[Or]
    ) -> Condition:
        terms = [parse_term()]
        while self.at(keyword):
            self.advance()
            terms.append(parse_term())
        # One flat node for `a and (b and c)` and `a and b and c`: equal meaning, equal ASTs.
        flat = tuple(
            t for term in terms for t in (term.terms if isinstance(term, kind) else (term,))
        )
        return flat[0] if len(flat) == 1 else kind(flat)

    def negation(self) -> Condition:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError(
                f"the condition nests deeper than {MAX_DEPTH}", self.current.column
            )
        try:
            if self.at("not"):
                self.advance()
                return Not(self.negation())
            if self.at("("):
                opening = self.advance()
                inner = self.disjunction()
                self.expect(")", f"')' to close '(' at column {opening.column}")
                return inner
            return self.comparison()
        finally:
            self.depth -= 1

    def comparison(self) -> Comparison:
        operand = self.operand()
        if self.current.kind != "op":
            raise self.expected(
                f"a comparison (>, >=, <, <=, ==, !=) after '{operand_text(operand)}'"
            )
        op = self.advance().text
        sign = 1.0
        if self.at("-"):
            self.advance()
            sign = -1.0
        if self.current.kind != "number":
            raise self.expected(f"a number after '{op}'")
        token = self.advance()
        threshold = sign * float(token.text)
        if not math.isfinite(threshold):
            raise ConditionError(f"the number '{token.text}' is too large", token.column)
        return Comparison(operand, op, threshold)

    def operand(self) -> Operand:
        token = self.current
        if token.kind != "name" or token.text in KEYWORDS:
            raise self.expected("a metric, a function or '('")
        self.advance()
        if not self.at("("):
            return Latest(token.text)
        if token.text not in WINDOW_FUNCTIONS:
            known = ", ".join(WINDOW_FUNCTIONS)
            raise ConditionError(f"unknown function '{token.text}' (known: {known})", token.column)
        self.advance()
        metric = self.current
        if metric.kind != "name" or metric.text in KEYWORDS:
            raise self.expected(f"a metric name inside {token.text}(")
        self.advance()
        self.expect("[", f"a window like [5m] after '{metric.text}'")
        window_s = self.window()
        self.expect("]", "']' to close the window")
        self.expect(")", f"')' to close {token.text}(")
        return WindowFunction(token.text, metric.text, window_s)

    def window(self) -> float:
        token = self.current
        if token.kind != "duration":
            raise self.expected("a duration like 5m inside '['")
        try:
            seconds = parse_duration(token.text)
        except DurationError as error:
            raise ConditionError(str(error), token.column) from None
        if seconds <= 0:
            raise ConditionError("a window must be longer than zero", token.column)
        self.advance()
        return seconds


# Every tenant's default rules have the same few conditions: parsing them was a tenth of the
# service's time per new tenant. The AST is immutable (frozen dataclasses, tuples), so shared.
@functools.lru_cache(maxsize=4096)
def parse_condition(text: str) -> Condition:
    """The AST of a condition; raises ConditionError (and nothing else) for bad text."""
    if len(text) > MAX_LENGTH:
        raise ConditionError(
            f"the condition is longer than {MAX_LENGTH} characters", MAX_LENGTH + 1
        )
    return _Parser(text).parse()
