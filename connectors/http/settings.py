"""What a connector reads from its registry entry: identifiers it cannot work without, and secrets resolved
from their references at the moment the connection opens (the value never enters a message)."""

from __future__ import annotations

from dataclasses import replace

from connectors.http.limits import RateLimit
from connectors.registry import Connection
from connectors.secrets import resolve_secret


class ConnectionSettingMissing(ValueError):
    """A registry entry lacks a setting or credential its system needs; names the connection and key."""


def required_setting(connection: Connection, name: str) -> str:
    value = connection.settings.get(name)
    if not value:
        raise ConnectionSettingMissing(f"{connection.id}: settings.{name} is missing: add it to the connection registry")
    return value


def required_secret_ref(connection: Connection, name: str) -> str:
    """The reference itself, for a secret the connector rewrites (a rotating refresh token)."""
    ref = connection.credentials.get(name)
    if ref is None:
        raise ConnectionSettingMissing(
            f"{connection.id}: credentials.{name} is missing: add an env: or file: reference to the connection registry"
        )
    return ref


def required_secret(connection: Connection, name: str) -> str:
    return resolve_secret(required_secret_ref(connection, name)).get_secret_value()


def page_size_setting(connection: Connection, maximum: int) -> int:
    """The optional `page_size` setting (smaller pages, e.g. to exercise paging), capped at the source's `maximum`."""
    raw = connection.settings.get("page_size")
    if raw is None:
        return maximum
    if not raw.isdigit() or int(raw) < 1:
        raise ConnectionSettingMissing(f"{connection.id}: settings.page_size is {raw!r}: write a positive whole number")
    return min(int(raw), maximum)


def rate_limit_setting(connection: Connection, default: RateLimit) -> RateLimit:
    """The connection's budget: its system's `default`, with whatever its registry entry's `rate_limit` sets
    (an account on a bigger plan, a sandbox with tight limits)."""
    override = connection.rate_limit
    if override is None:
        return default
    given = {"rate": override.rate_per_second, "burst": override.burst, "concurrency": override.concurrency}
    return replace(default, **{name: value for name, value in given.items() if value is not None})
