"""The subset of JQL the Jira twin understands: tokenizer and parser (see jira_jql_eval).

Queries are parsed into a small tree rather than matched with string tricks, so
quoting, parentheses and keyword case behave as they do in Jira. Whatever falls
outside the subset is rejected with Jira's own error shape instead of being
silently misread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class JqlError(Exception):
    """A query Jira would refuse; the message is what Jira puts in errorMessages."""


@dataclass(frozen=True)
class Token:
    """One lexical token; `quoted` strings are never keywords."""

    text: str
    pos: int  # 1-based character position, as Jira reports it
    quoted: bool = False
    punct: bool = False

    def word(self) -> str:
        """The token upper-cased when it could be a keyword, else empty."""
        return "" if self.quoted or self.punct else self.text.upper()


@dataclass(frozen=True)
class Clause:
    """`field op value` where value is a string, a tuple of strings, or None for EMPTY."""

    field: str
    op: str
    value: str | tuple[str, ...] | None


@dataclass(frozen=True)
class BoolOp:
    """AND / OR over clauses."""

    op: str
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """NOT over a clause or group."""

    item: Node


Node = Clause | BoolOp | Not


@dataclass(frozen=True)
class Query:
    """A parsed query: the filter (None when absent) and the ORDER BY terms."""

    where: Node | None
    order: tuple[tuple[str, bool], ...]  # (field, descending)


_OPERATORS = ("!=", ">=", "<=", "!~", "=", ">", "<", "~")
_WORD = re.compile(r"[^\s=!<>~(),\"']+")
_LIST_OPS = {"IN", "NOT IN"}


def tokenize(text: str) -> list[Token]:
    """Split JQL into tokens, honouring single and double quotes with backslash escapes."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "\"'":
            start, i, chars = i, i + 1, []
            while i < len(text) and text[i] != char:
                if text[i] == "\\" and i + 1 < len(text):
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= len(text):
                raise JqlError(
                    f"Error in the JQL Query: The quoted string '{text[start + 1:]}' has not "
                    f"been completed. (line 1, character {start + 1})"
                )
            tokens.append(Token("".join(chars), start + 1, quoted=True))
            i += 1
        elif char in "(),":
            tokens.append(Token(char, i + 1, punct=True))
            i += 1
        elif op := next((o for o in _OPERATORS if text.startswith(o, i)), None):
            tokens.append(Token(op, i + 1, punct=True))
            i += len(op)
        else:
            match = _WORD.match(text, i)
            if match is None:  # a lone "!" is the only character no branch takes
                raise JqlError(_unexpected(Token(char, i + 1), "a field, an operator or a value"))
            tokens.append(Token(match.group(), i + 1))
            i = match.end()
    return tokens


def _unexpected(token: Token | None, expected: str) -> str:
    if token is None:
        return f"Error in the JQL Query: Expecting {expected} but reached the end of the query."
    return (
        f"Error in the JQL Query: Expecting {expected} but got '{token.text}'. "
        f"(line 1, character {token.pos})"
    )


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self, expected: str) -> Token:
        token = self.peek()
        if token is None:
            raise JqlError(_unexpected(None, expected))
        self.i += 1
        return token

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.word() in words

    def query(self) -> Query:
        where = None if self.at_order_by() or self.peek() is None else self.or_expr()
        order: list[tuple[str, bool]] = []
        if self.at_order_by():
            self.i += 2
            while True:
                field = self.take("a field name").text
                descending = False
                if self.at_word("ASC", "DESC"):
                    descending = self.take("ASC or DESC").word() == "DESC"
                order.append((field, descending))
                if not self.at_punct(","):
                    break
                self.i += 1
        if (extra := self.peek()) is not None:
            raise JqlError(_unexpected(extra, "either 'OR' or 'AND'"))
        return Query(where, tuple(order))

    def at_punct(self, char: str) -> bool:
        token = self.peek()
        return token is not None and token.punct and token.text == char

    def at_order_by(self) -> bool:
        second = self.peek(1)
        return self.at_word("ORDER") and second is not None and second.word() == "BY"

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.at_word("OR", "||"):
            self.i += 1
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else BoolOp("OR", tuple(items))

    def and_expr(self) -> Node:
        items = [self.unary()]
        while self.at_word("AND", "&&"):
            self.i += 1
            items.append(self.unary())
        return items[0] if len(items) == 1 else BoolOp("AND", tuple(items))

    def unary(self) -> Node:
        if self.at_word("NOT", "!"):
            self.i += 1
            return Not(self.unary())
        if self.at_punct("("):
            self.i += 1
            inner = self.or_expr()
            closing = self.take("')'")
            if closing.text != ")" or not closing.punct:
                raise JqlError(_unexpected(closing, "')'"))
            return inner
        return self.clause()

    def clause(self) -> Clause:
        field = self.take("a field name")
        if field.punct:
            raise JqlError(_unexpected(field, "a field name"))
        op_token = self.take("an operator")
        op = op_token.text if op_token.punct else op_token.word()
        if op in ("NOT", "IS") and self.at_word("IN", "NOT"):
            op = f"{op} {self.take('an operator').word()}"
        if op not in (*_OPERATORS, "IN", "NOT IN", "IS", "IS NOT"):
            raise JqlError(_unexpected(op_token, "operator"))
        if op in _LIST_OPS:
            return Clause(field.text, op, self.value_list())
        value = self.take("a value")
        if value.punct:
            raise JqlError(_unexpected(value, "a value"))
        if self.at_punct("("):
            raise JqlError(f"Error in the JQL Query: the twin does not support the function "
                           f"'{value.text}()'. (line 1, character {value.pos})")
        empty = value.word() in ("EMPTY", "NULL")
        if op in ("IS", "IS NOT") and not empty:
            raise JqlError(_unexpected(value, "'EMPTY' or 'NULL'"))
        return Clause(field.text, op, None if empty else value.text)

    def value_list(self) -> tuple[str, ...]:
        opening = self.take("'('")
        if opening.text != "(" or not opening.punct:
            raise JqlError(_unexpected(opening, "'('"))
        values: list[str] = []
        while True:
            value = self.take("a value")
            if value.punct:
                raise JqlError(_unexpected(value, "a value"))
            values.append(value.text)
            sep = self.take("',' or ')'")
            if sep.punct and sep.text == ")":
                return tuple(values)
            if not (sep.punct and sep.text == ","):
                raise JqlError(_unexpected(sep, "',' or ')'"))


def parse(text: str) -> Query:
    """Parse `text` into a Query or raise JqlError with Jira's wording."""
    return _Parser(tokenize(text)).query()
