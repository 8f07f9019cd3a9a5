"""The sandbox's own control surface at /_sandbox/: the clock, counters and fault rates at run time."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from connectors.sandbox.config import FaultConfig
from connectors.sandbox.emulators.base import json_response
from connectors.sandbox.emulators.runtime import Runtime, parse_clock


def admin_mount(runtime: Runtime, systems: Iterable[str]) -> Mount:
    """GET/PUT clock ({"now": ISO instant or date}), GET stats, PUT faults/<system> (a FaultConfig)."""
    served = frozenset(systems)

    async def get_clock(request: Request) -> Response:
        return json_response({"now": runtime.clock.isoformat()})

    async def put_clock(request: Request) -> Response:
        try:
            runtime.clock = parse_clock(str(orjson.loads(await request.body())["now"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            return json_response({"error": f'send {{"now": "<ISO-8601 instant or date>"}}: {error}'}, status=400)
        return await get_clock(request)

    async def get_stats(request: Request) -> Response:
        return json_response(runtime.stats.snapshot())

    async def put_faults(request: Request) -> Response:
        system = request.path_params["system"]
        if system not in served:
            return json_response({"error": f"{system!r} is not served here: use one of {sorted(served)}"}, 404)
        try:
            config = FaultConfig.model_validate_json(await request.body())
            runtime.faults.replace(system, config)
        except (ValidationError, ValueError) as error:
            return json_response({"error": str(error)}, status=422)
        return json_response(config.model_dump())

    return Mount(
        "/_sandbox",
        routes=[
            Route("/clock", get_clock, methods=["GET"]),
            Route("/clock", put_clock, methods=["PUT"]),
            Route("/stats", get_stats, methods=["GET"]),
            Route("/faults/{system}", put_faults, methods=["PUT"]),
        ],
    )
