"""The key that tokenizes person data before bronze: resolved from its reference, never stored beside data."""

from __future__ import annotations

import os

import structlog

from connectors.secrets import SecretError, resolve_secret, write_secret_file
from jobs.settings import ROOT, Settings

log = structlog.get_logger("groundswell.pii")


def pii_key(settings: Settings) -> bytes:
    """The tokenizing key. On a developer machine a missing key file under the repository is created once;
    anywhere else a missing key is an error (tokens must stay stable for the life of the warehouse)."""
    try:
        return resolve_secret(settings.pii_key).get_secret_value().encode()
    except SecretError:
        scheme, _, target = settings.pii_key.partition(":")
        path = (ROOT / target).resolve()
        if scheme != "file" or not path.is_relative_to(ROOT):
            raise
        write_secret_file(path, os.urandom(32).hex())
        log.info("generated the PII tokenizing key", reference=settings.pii_key)
        return resolve_secret(settings.pii_key).get_secret_value().encode()
