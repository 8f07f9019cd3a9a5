"""Reading query text into tokens, shared by the emulators' query languages (QBO's query, NetSuite's SuiteQL).

Each language keeps its own token pattern and its own error wording; what they share is how text is cut into
tokens, where a token stands (1-based column) and how a recursive-descent parser walks them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Token:
    kind: str  # a group name of the language's pattern (string, number, op, punct, word), end, or char
    text: str
    column: int  # 1-based, as both systems report it

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words

    def is_punct(self, text: str) -> bool:
        return self.kind == "punct" and self.text == text


def tokenize(text: str, pattern: re.Pattern[str], unreadable: Callable[[Token], Exception]) -> list[Token]:
    """`text` cut by `pattern` (one named group per token kind, leading white space allowed), closed by an end
    token; the first character no group reads is raised as `unreadable(Token("char", ...))`."""
    tokens, position = [], 0
    while text[position:].strip():
        match = pattern.match(text, position)
        if match is None or match.end() == position:
            column = position + len(text[position:]) - len(text[position:].lstrip()) + 1
            raise unreadable(Token("char", text[column - 1], column))
        kind = match.lastgroup or "end"
        tokens.append(Token(kind, match.group(kind), match.start(kind) + 1))
        position = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


class TokenCursor:
    """The walk over a token list; a language's parser says how it words an unexpected token."""

    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._at = 0

    def peek(self) -> Token:
        return self._tokens[self._at]

    def take(self) -> Token:
        token = self._tokens[self._at]
        self._at += 1
        return token

    def expect_word(self, *words: str) -> Token:
        token = self.take()
        if not token.is_word(*words):
            raise self.unexpected(token, self.any_of(words))
        return token

    def unexpected(self, token: Token, expected: str) -> Exception:
        """The language's error for `token` standing where `expected` should."""
        raise NotImplementedError

    def any_of(self, words: tuple[str, ...]) -> str:
        """How the language's errors list the keywords it would have accepted."""
        raise NotImplementedError
