"""Faithful emulations of each source system's API over a generated sandbox (Starlette ASGI apps).

    app = build_sandbox_app(store, EmulatorSettings())   # every system at /<system>, admin at /_sandbox
    uvicorn.run(app)                                       # or mount it / call it in-process (httpx.ASGITransport)

A new system is a module defining an `Emulator` subclass (see base.py) and one line in `_REGISTRY`.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.routing import Mount

from connectors.sandbox.emulators.admin import admin_mount
from connectors.sandbox.emulators.base import Emulator
from connectors.sandbox.emulators.runtime import Runtime
from connectors.sandbox.emulators.settings import EmulatorSettings
from connectors.sandbox.model import Company
from connectors.sandbox.store import SandboxStore

__all__ = [
    "EmulatorSettings",
    "build_app",
    "build_sandbox_app",
    "emulated_systems",
    "emulator_class",
    "tenant_credentials",
]

_REGISTRY: dict[str, str] = {
    "shopify": "connectors.sandbox.emulators.shopify:Shopify",
    "quickbooks": "connectors.sandbox.emulators.quickbooks:QuickBooks",
    "netsuite": "connectors.sandbox.emulators.netsuite:NetSuite",
    "odoo": "connectors.sandbox.emulators.odoo:Odoo",
    "xero": "connectors.sandbox.emulators.xero:Xero",
    "businesscentral": "connectors.sandbox.emulators.businesscentral:BusinessCentral",
}


def emulated_systems() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def emulator_class(system: str) -> type[Emulator]:
    if system not in _REGISTRY:
        raise KeyError(f"no emulator for system {system!r}: emulated are {list(_REGISTRY)}")
    module, _, name = _REGISTRY[system].partition(":")
    return getattr(importlib.import_module(module), name)


def build_app(
    system: str, store: SandboxStore, settings: EmulatorSettings, *, timer: Callable[[], float] = time.time
) -> Starlette:
    """One system's API at the root, with the admin surface at /_sandbox/."""
    runtime = Runtime(store, settings, timer)
    emulator = emulator_class(system)(store, runtime)
    return Starlette(routes=[admin_mount(runtime, [system]), *emulator.routes()])


def build_sandbox_app(
    store: SandboxStore, settings: EmulatorSettings, *, timer: Callable[[], float] = time.time
) -> Starlette:
    """Every emulated system mounted at /<system> (one server serves them all), admin at /_sandbox/."""
    runtime = Runtime(store, settings, timer)
    mounts = [Mount(f"/{system}", routes=emulator_class(system)(store, runtime).routes()) for system in _REGISTRY]
    return Starlette(routes=[admin_mount(runtime, _REGISTRY), *mounts])


def tenant_credentials(system: str, company: Company, settings: EmulatorSettings | None = None) -> dict[str, str]:
    """The credentials a tenant's connection uses, derived from the server secret: the same secret gives the
    same credentials, so the `serve` CLI can hand them out as env-var values and never write them to files."""
    if system not in company.systems:
        raise ValueError(f"{company.company_id} is not a {system} tenant: its systems are {list(company.systems)}")
    secret = (settings or EmulatorSettings()).secret.get_secret_value()
    return emulator_class(system).credentials(company, secret)
