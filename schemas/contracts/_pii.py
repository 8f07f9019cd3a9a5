"""Personal data at the bronze boundary: dropped, or replaced by a keyed token before anything is stored.

A token is "tok_" + HMAC-SHA256(key, normalized value)[:24 hex]. Normalizing first makes the same person
keyed in twice ("Mary  Davis", "mary davis.") get one token, which silver's entity matching relies on;
the key is held by reference (a secret), so a token cannot be reversed by hashing guesses without it.
Besides the fields a contract marks, any email-like text anywhere is tokenized: drift must not leak PII.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from hashlib import sha256
from typing import Any

from connectors.secrets import resolve_secret
from schemas.contracts._model import Contract
from schemas.contracts._shape import ELEMENT, key_segment

TOKEN_PREFIX = "tok_"
MIN_KEY_BYTES = 16
_EMAIL = re.compile(r"[\w.%+'-]+@[\w-]+(?:\.[\w-]+)+")
_WHOLE_EMAIL = re.compile(r"^\s*[\w.%+'-]+@[\w-]+(?:\.[\w-]+)+\s*$")
# A run of digits with phone punctuation, not glued to a word, amount or identifier.
_PHONE = re.compile(r"(?<![\w.,/-])\+?\(?\d[\d ()-]{6,}\d(?![\w.,/])")
_WHOLE_PHONE = re.compile(r"^\s*\+\d[\d ()./-]{6,}\d\s*$")
_SPACES = re.compile(r"\s+")


class PiiKeyError(ValueError):
    """The tokenization key is unusable; the message says how to make one."""


def pii_key(reference: str) -> bytes:
    """The tokenization key from a secret reference ("env:VAR" or "file:PATH")."""
    key = resolve_secret(reference).get_secret_value().encode()
    if len(key) < MIN_KEY_BYTES:
        raise PiiKeyError(
            f"pii key {reference} has {len(key)} bytes; use at least {MIN_KEY_BYTES} random bytes "
            "(e.g. the output of `openssl rand -hex 32`)"
        )
    return key


def token(value: str, key: bytes) -> str:
    """The keyed token of one personal value, normalized by what it looks like (email, phone, text)."""
    return TOKEN_PREFIX + hmac.new(key, _normalized(value).encode(), sha256).hexdigest()[:24]


def _normalized(value: str) -> str:
    text = unicodedata.normalize("NFKC", value).strip()
    if _WHOLE_EMAIL.match(text):
        return text.lower()
    if _WHOLE_PHONE.match(text) or _is_phone(text):
        return "".join(c for c in text if c.isdigit())
    kept = "".join(c for c in text.casefold() if not unicodedata.category(c).startswith("P"))
    return _SPACES.sub(" ", kept).strip()


def _is_phone(text: str) -> bool:
    """National numbers need a separator and ten digits; international ones (leading +) eight."""
    match = _PHONE.fullmatch(text)
    if match is None:
        return False
    digits = sum(c.isdigit() for c in text)
    return digits >= 8 if text.startswith("+") else digits >= 10 and any(c in " ()-" for c in text)


def protect(payload: dict[str, Any], contract: Contract, key: bytes) -> dict[str, Any]:
    """A copy of `payload` without its `pii="drop"` fields and with its `pii="tokenize"` values (and any
    email anywhere) replaced by tokens. The payload itself is not changed."""
    marks = {path: spec.pii for path, spec in contract.fields.items() if spec.pii}
    return _object(payload, "", marks, key)


def _object(obj: dict[str, Any], prefix: str, marks: dict[str, str], key: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in obj.items():
        path = prefix + key_segment(name)
        mark = marks.get(path)
        if mark == "drop":
            continue
        out[name] = _tokenized(value, key) if mark == "tokenize" else _value(value, path, marks, key)
    return out


def _value(value: Any, path: str, marks: dict[str, str], key: bytes) -> Any:
    if isinstance(value, str):
        if "@" in value:
            return _EMAIL.sub(lambda match: token(match.group(0), key), value)
        if value.startswith("+") and _WHOLE_PHONE.match(value):
            return token(value, key)
        return value
    if isinstance(value, dict):
        return _object(value, path + ".", marks, key)
    if isinstance(value, list):
        element = path + ELEMENT
        if marks.get(element) == "tokenize":
            return [_tokenized(item, key, inside=True) for item in value]
        return [_value(item, element, marks, key) for item in value]
    return value


def _tokenized(value: Any, key: bytes, *, inside: bool = False) -> Any:
    """A marked value's token; empty text and null stay (nothing personal in them). Inside a marked
    object or list only text is tokenized, so the id in Odoo's [id, "name"] pair survives."""
    if value is None or value == "" or isinstance(value, bool):
        return value
    if isinstance(value, dict):
        return {name: _tokenized(item, key, inside=True) for name, item in value.items()}
    if isinstance(value, list):
        return [_tokenized(item, key, inside=True) for item in value]
    if inside and not isinstance(value, str):
        return value
    return token(str(value), key)


def protect_text(raw: str, key: bytes) -> str:
    """Free text (an unreadable CSV row or X12 segment) with its emails and phone numbers tokenized."""
    text = _EMAIL.sub(lambda match: token(match.group(0), key), raw)
    return _PHONE.sub(lambda match: token(match.group(0), key) if _is_phone(match.group(0)) else match.group(0),
                      text)
