"""Secrets by reference: settings and the connection registry hold "env:VAR" or "file:PATH", never a value;
the value is read only when a connection is opened. A secret that rotates (an OAuth2 refresh token) needs a
file reference, so its new value can be written back before it is used."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, SecretStr

ROOT = Path(__file__).resolve().parents[1]
SCHEMES = ("env", "file")


class SecretError(Exception):
    """A secret reference cannot be resolved; the message says what to set."""


def _reference(ref: str) -> str:
    scheme, _, target = ref.partition(":")
    if scheme not in SCHEMES or not target:
        raise ValueError("is not a secret reference: write 'env:VAR_NAME' or 'file:/path/to/secret'")
    return ref


SecretRef = Annotated[str, AfterValidator(_reference)]


def resolve_secret(ref: str) -> SecretStr:
    scheme, _, target = _reference(ref).partition(":")
    if scheme == "env":
        if target not in os.environ:
            raise SecretError(f"secret {ref}: environment variable {target} is not set")
        return SecretStr(os.environ[target])
    path = Path(target).expanduser()
    path = path if path.is_absolute() else ROOT / path
    if not path.is_file():
        raise SecretError(f"secret {ref}: {path} does not exist (for the local S3 server run `groundswell services up`)")
    return SecretStr(path.read_text().strip())


def write_secret_file(path: Path, value: str) -> None:
    """Replace a secret file atomically and owner-only, so a crash leaves the old or the new value whole."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(value)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
