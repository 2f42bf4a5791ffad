"""Recursive-descent parser shared by the run and experiment filter grammars.

The grammar (MLflow's, plus the opt-in extensions)::

    filter     := conj EOF                        (extended: disj EOF)
    disj       := conj (OR conj)*                 (extended only)
    conj       := AND* [term (AND+ term)*] AND*    (MLflow tolerates stray ANDs)
    term       := comparison | '(' disj ')'        (parentheses: extended only)
    comparison := name comparator value | name IS [NOT] NULL | name [NOT] IN '(' str (',' str)* [','] ')'

What a name means and which comparators and values it takes is decided by a
``Dialect`` (runs and experiments differ), so the parser only knows shapes.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Protocol

from . import tokens as T
from .errors import SearchError
from .tokens import Token


@dataclass(frozen=True, slots=True)
class Clause:
    """One comparison, resolved and validated: ``kind`` is metric/parameter/tag/attribute/dataset."""

    kind: str
    key: str
    comparator: str  # upper-case: = != > >= < <= LIKE ILIKE RLIKE IN NOT IN IS NULL IS NOT NULL
    value: Any  # float/int for numbers, str, tuple[str, ...] for IN, None for IS [NOT] NULL
    pos: int


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # "AND" | "OR"
    items: tuple[Node, ...]


Node = Clause | BoolOp


class Dialect(Protocol):
    """Resolves names and validates comparators/values for one search grammar."""

    def resolve(self, name: Token) -> tuple[str, str]: ...

    def check(self, kind: str, key: str, raw_key: str, comparator: Token, value: Token | tuple[str, ...] | None,
              value_pos: int) -> Clause: ...


def parse(text: str, dialect: Dialect, extended: bool) -> Node:
    """Parse a whole filter string; the empty string (or only ANDs) gives an empty AND (matches all)."""
    return _Parser(text, dialect, extended).parse()


class _Parser:
    def __init__(self, text: str, dialect: Dialect, extended: bool) -> None:
        self.text = text
        self.dialect = dialect
        self.extended = extended
        self.tokens = T.tokenize(text, "filter")
        self.i = 0

    # ------------------------------------------------------------- helpers
    def peek(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, token: Token, expected: str) -> SearchError:
        return SearchError.at("filter", token.pos, token.text, expected)

    # ------------------------------------------------------------- grammar
    def parse(self) -> Node:
        if self.text and not self.text.strip():
            raise SearchError(f"Invalid filter '{self.text}'. Could not be parsed.", 0, self.text)
        node = self.disj(top=True) if self.extended else self.conj(top=True)
        token = self.peek()
        if token.kind != T.EOF:
            raise self.fail(token, self.after_term_expectation(top=True))
        return node

    def after_term_expectation(self, top: bool) -> str:
        if not self.extended:
            return "expected AND or end of filter"
        return "expected AND, OR or end of filter" if top else "expected AND, OR or ')'"

    def disj(self, top: bool) -> Node:
        items = [self.conj(top)]
        while self.peek().kind == T.OR:
            or_token = self.advance()
            branch = self.conj(top)
            if isinstance(branch, BoolOp) and not branch.items:
                raise self.fail(self.peek() if self.peek().kind != T.EOF else or_token, "expected a comparison after OR")
            items.append(branch)
        if len(items) == 1:
            return items[0]
        if any(isinstance(item, BoolOp) and not item.items for item in items):
            raise self.fail(self.peek(), "expected a comparison before OR")
        return BoolOp("OR", tuple(items))

    def conj(self, top: bool) -> Node:
        items: list[Node] = []
        stops = {T.EOF} if top else {T.RPAREN}
        if self.extended:
            stops.add(T.OR)
        while True:
            while self.peek().kind == T.AND:
                self.advance()
            token = self.peek()
            if token.kind in stops or (top and token.kind == T.EOF):
                break
            items.append(self.term())
            token = self.peek()
            if token.kind == T.AND:
                continue
            if token.kind in stops:
                break
            raise self.fail(token, self.after_term_expectation(top))
        if len(items) == 1:
            return items[0]
        return BoolOp("AND", tuple(items))

    def term(self) -> Node:
        token = self.peek()
        if token.kind == T.LPAREN:
            if not self.extended:
                raise self.fail(token, "expected a comparison; parentheses are only allowed around an IN list "
                                       "(grouping needs extended search)")
            self.advance()
            inner = self.disj(top=False)
            if isinstance(inner, BoolOp) and not inner.items:
                raise self.fail(self.peek(), "expected a comparison inside parentheses")
            closing = self.peek()
            if closing.kind != T.RPAREN:
                raise self.fail(closing, "expected ')'")
            self.advance()
            return inner
        return self.comparison()

    def comparison(self) -> Node:
        name = self.peek()
        if name.kind not in (T.IDENT, T.DQUOTE):
            raise self.fail(name, "expected an identifier such as metrics.acc, params.lr, tags.`my tag` or run_name")
        self.advance()
        kind, key = self.dialect.resolve(name)
        raw_key = name.text
        token = self.peek()
        if token.kind == T.IS:
            self.advance()
            null = self.advance()
            if null.kind == T.NULL:
                comparator = Token(T.OP, "IS NULL", token.pos)
            elif null.kind == T.NOT_NULL and null.text.upper() == "NOT NULL":
                comparator = Token(T.OP, "IS NOT NULL", token.pos)
            else:
                raise self.fail(null, "expected NULL or NOT NULL (with one space) after IS")
            return self.dialect.check(kind, key, raw_key, comparator, None, null.pos)
        if token.kind in (T.IN, T.NOT):
            start = self.advance()
            if token.kind == T.NOT:
                in_token = self.advance()
                if in_token.kind != T.IN:
                    raise self.fail(in_token, "expected IN after NOT")
            comparator = Token(T.OP, "IN" if token.kind == T.IN else "NOT IN", start.pos)
            paren = self.peek()
            if paren.kind != T.LPAREN:
                raise self.fail(paren, "expected '(' and a list of quoted strings after IN")
            values = self.string_list()
            return self.dialect.check(kind, key, raw_key, comparator, values, paren.pos)
        if token.kind not in (T.OP, T.LIKE):
            raise self.fail(token, "expected a comparator (=, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN, IS NULL, "
                                   "IS NOT NULL)")
        self.advance()
        value = self.peek()
        if value.kind == T.LPAREN:
            raise self.fail(value, "expected a value; a parenthesised list needs IN or NOT IN")
        if value.kind not in (T.STRING, T.DQUOTE, T.NUMBER, T.IDENT, T.NULL):
            raise self.fail(value, "expected a value (a quoted string or a number)")
        self.advance()
        return self.dialect.check(kind, key, raw_key, token, value, value.pos)

    def string_list(self) -> tuple[str, ...]:
        """'(' str (',' str)* [','] ')' with each item read as a Python literal, as MLflow's ast.literal_eval does."""
        open_paren = self.advance()
        items: list[str] = []
        while True:
            token = self.peek()
            if token.kind == T.RPAREN:
                if not items:
                    raise self.fail(token, "While parsing a list in the query, expected a non-empty list of string "
                                           "values, but got empty list")
                self.advance()
                return tuple(items)
            if token.kind not in (T.STRING, T.DQUOTE):
                if token.kind == T.EOF:
                    raise self.fail(open_paren, "expected ')' to close the list")
                raise self.fail(token, "While parsing a list in the query, expected string value, punctuation, "
                                       "or whitespace")
            self.advance()
            items.append(_literal(token, self))
            token = self.peek()
            if token.kind == T.COMMA:
                self.advance()
            elif token.kind != T.RPAREN:
                raise self.fail(token, "expected ',' or ')' in the list")


def _literal(token: Token, parser: _Parser) -> str:
    try:
        value = ast.literal_eval(token.text)
    except (ValueError, SyntaxError):
        raise parser.fail(token, "expected a quoted string") from None
    if not isinstance(value, str):
        raise parser.fail(token, "expected a quoted string")
    return value
