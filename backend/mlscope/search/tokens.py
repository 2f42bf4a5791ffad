"""Tokenizer for MLflow's search filter and order_by strings.

MLflow runs these strings through sqlparse; the patterns below copy the
sqlparse rules that decide what MLflow accepts (string, number and name
shapes, ``NOT NULL`` needing exactly one space, keys like ``metrics.in``
being rejected) so that the parser above can be a plain recursive descent
with no runtime dependencies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import SearchError

# Token kinds.
IDENT = "IDENT"  # a (possibly dotted) name: metrics.acc, `a b`, tags."x.y", run_id
DQUOTE = "DQUOTE"  # a lone "double quoted" text: an identifier on the left, a string on the right
STRING = "STRING"  # 'single quoted'
NUMBER = "NUMBER"
OP = "OP"  # a run of <>=~! (validated per identifier type, like MLflow does)
LIKE = "LIKE"  # [NOT] LIKE | ILIKE | RLIKE | REGEXP
AND = "AND"
OR = "OR"
NOT = "NOT"
IN = "IN"
IS = "IS"
NULL = "NULL"
NOT_NULL = "NOT_NULL"
LPAREN = "("
RPAREN = ")"
COMMA = ","
EOF = "EOF"

_SQ = r"'(?:''|\\'|[^'])*'"
_DQ = r'"(?:""|\\"|[^"])*"'
_BT = r"`(?:``|[^`])*`"
_FIRST_PART = rf"\w+|{_BT}|{_DQ}"
_NEXT_PART = rf"\w+|{_BT}|{_DQ}|{_SQ}"

_WS = re.compile(r"\s+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?[eE]-?\d+|-?(?:\d+\.\d*|\.\d+)|-?\d+")
_INT = re.compile(r"-?\d+")
_WORD_CHAR = re.compile(r"\w")
_NOT_NULL = re.compile(r"NOT\s+NULL\b", re.IGNORECASE)
_LIKE = re.compile(r"(?:NOT\s+)?(?:LIKE|ILIKE|RLIKE)\b|(?:NOT\s+)?REGEXP(?:\s+BINARY)?\b", re.IGNORECASE)
_CHAIN = re.compile(rf"(?:{_FIRST_PART})(?:\s*\.\s*(?:{_NEXT_PART}))*")
_DOT_PART = re.compile(rf"\s*\.\s*({_NEXT_PART})")
_STRING = re.compile(_SQ)
_DQ_ONLY = re.compile(_DQ)
_OP = re.compile(r"[<>=~!]+")
_KEYWORDS = {"AND": AND, "OR": OR, "NOT": NOT, "IN": IN, "IS": IS, "NULL": NULL}
# sqlparse lexes these as keywords even right after a '.', so MLflow rejects `metrics.in`.
_RESERVED_AFTER_DOT = frozenset({"CASE", "IN", "VALUES", "USING", "FROM", "AS"})
_PURE_NUMBER = re.compile(r"\d+(?:[eE]\d*)?")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str  # exactly as written (quotes included)
    pos: int


def tokenize(text: str, what: str = "filter") -> list[Token]:
    """Split text into tokens, raising SearchError at the first character that fits no token."""
    tokens: list[Token] = []
    pos = 0
    end = len(text)
    while pos < end:
        match = _WS.match(text, pos)
        if match:
            pos = match.end()
            continue
        token = _next_token(text, pos, what)
        tokens.append(token)
        pos += len(token.text)
    tokens.append(Token(EOF, "", end))
    return tokens


def _next_token(text: str, pos: int, what: str) -> Token:
    char = text[pos]
    if char.isdigit() or (char in "-." and _NUMBER.match(text, pos)):
        return _number(text, pos, what)
    if char == "'":
        match = _STRING.match(text, pos)
        if not match:
            raise SearchError.at(what, pos, text[pos:], "unterminated string: expected a closing '")
        return Token(STRING, match.group(), pos)
    if char in "(),":
        return Token(char, char, pos)
    if char in "<>=~!":
        return Token(OP, _OP.match(text, pos).group(), pos)  # type: ignore[union-attr]
    if char.isalpha() or char == "_":
        for pattern, kind in ((_NOT_NULL, NOT_NULL), (_LIKE, LIKE)):
            match = pattern.match(text, pos)
            if match:
                return Token(kind, match.group(), pos)
    if char == "`" or char == '"' or _WORD_CHAR.match(char):
        return _name(text, pos, what)
    raise SearchError.at(what, pos, char, "unexpected character")


def _number(text: str, pos: int, what: str) -> Token:
    match = _NUMBER.match(text, pos)
    if match is None:
        raise SearchError.at(what, pos, text[pos], "unexpected character")
    after = match.end()
    if after < len(text) and (_WORD_CHAR.match(text[after]) or text[after] == "."):
        word = re.match(r"-?[\w.]*", text[pos:]).group()  # type: ignore[union-attr]
        raise SearchError.at(what, pos, word, "malformed number")
    return Token(NUMBER, match.group(), pos)


def _name(text: str, pos: int, what: str) -> Token:
    match = _CHAIN.match(text, pos)
    if match is None:
        quote = text[pos]
        raise SearchError.at(what, pos, text[pos:], f"unterminated quoted name: expected a closing {quote}")
    raw = match.group()
    first = raw[0]
    if "." not in raw or (first in '"`' and _is_single_part(raw)):
        if first == '"':
            return Token(DQUOTE, raw, pos)
        keyword = _KEYWORDS.get(raw.upper()) if first not in '"`' else None
        return Token(keyword or IDENT, raw, pos)
    _check_parts(raw, pos, what)
    return Token(IDENT, raw, pos)


def _is_single_part(raw: str) -> bool:
    pattern = _DQ_ONLY if raw[0] == '"' else re.compile(_BT)
    match = pattern.match(raw)
    return match is not None and match.end() == len(raw)


def _check_parts(raw: str, pos: int, what: str) -> None:
    """Reject the dotted names sqlparse cannot group (MLflow answers 'Invalid clause(s)')."""
    first = re.match(_FIRST_PART, raw)
    offset = first.end() if first else 0
    for part in _DOT_PART.finditer(raw, offset):
        word = part.group(1)
        if word.upper() in _RESERVED_AFTER_DOT or _PURE_NUMBER.fullmatch(word):
            raise SearchError.at(what, pos + part.start(1), word, f"'{word}' cannot be used as an unquoted key; quote it with backticks")


def is_int_literal(text: str) -> bool:
    return _INT.fullmatch(text) is not None


def unquote(text: str) -> str:
    """MLflow's _strip_quotes: drop one pair of surrounding ' or " (no escape processing)."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def trim_backticks(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == "`":
        return text[1:-1]
    return text
