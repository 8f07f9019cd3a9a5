"""Benchmark: extract 500 API tenants at once against the sandbox held to one tight per-tenant limit, and check
issue 4's bar — no request over a tenant's limit after its first 429, aggregate throughput at least 90% of
what the limits allow, peak memory under 1 GiB whatever the number of tenants.

    python -m tests.benchmarks.bench_extract_throughput

Three processes, so each one's CPU and memory are its own: this one generates the sandbox and writes the
registry (every connection given the same `rate_limit` and a small `page_size`, so each tenant needs many
requests); a server (`serve`) with every emulated system held to the same leaky bucket and no faults; the
extraction (`extract`) of every selected connection at once. Run at 500 tenants, then again at 100 to
show peak RSS does not grow with the tenant count.

The limit-bound maximum: every tenant starts at once and may send `BURST` requests at once, then `RATE` a
second, so the run cannot end before T* = max over tenants of (requests − BURST) / RATE, counting the
requests each tenant had admitted (the emulator's per-tenant counts; token and login calls sit outside the
limits). Achieved records/s = records / wall time; limit-bound records/s = records / T*.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from pyarrow import fs as pafs

from connectors.extract import ExtractPlan, extract, new_run_id
from connectors.registry import RateLimitOverride, Registry, load_registry, write_registry
from connectors.sandbox.config import load_config
from connectors.sandbox.emulators import EmulatorSettings, build_sandbox_app
from connectors.sandbox.emulators.limits import LimitPolicy
from connectors.sandbox.emulators.runtime import store_end
from connectors.sandbox.generate import generate
from connectors.sandbox.serve import build_registry, free_port
from connectors.sandbox.store import SandboxStore
from connectors.systems import API_SYSTEMS
from tests.benchmarks.__main__ import record_result

COMPANIES = 620  # enough for 500 API tenants
START, END = date(2026, 6, 15), date(2026, 6, 28)  # two weeks: the busiest tenant needs ~250 requests
TENANT_COUNTS = (500, 100)
RATE, BURST = 1.0, 3  # every tenant's limit, on both sides
PAGE_SIZE = "10"
BAR = {"throughput_ratio": 0.90, "throttled_after_first": 0, "peak_rss_mib": 1024}
TENANT_POLICY = LimitPolicy(bucket_size=BURST, leak_per_second=RATE, windows={}, concurrent=None)


def serve(sandbox_db: str, port: str) -> None:
    """The server process: every emulated system under the same per-tenant bucket, no faults."""
    settings = EmulatorSettings(limits={system: TENANT_POLICY for system in API_SYSTEMS}, faults={})
    uvicorn.run(build_sandbox_app(SandboxStore(Path(sandbox_db)), settings), host="127.0.0.1", port=int(port),
                log_level="warning")


def run_extract(registry_path: str, warehouse: str, until: str, out: str) -> None:
    """The extraction process: every connection of the registry at once; writes its figures to `out`."""
    connections = list(load_registry(Path(registry_path)).connections)
    plan = ExtractPlan(pafs.LocalFileSystem(), warehouse, new_run_id(), until=datetime.fromisoformat(until),
                       concurrency=len(connections))
    started = time.perf_counter()
    summary = asyncio.run(extract(plan, connections))
    seconds = time.perf_counter() - started
    figures = {
        "seconds": seconds, "records": sum(r.records for r in summary.results),
        "failed": [f"{r.connection} {r.stream}: {r.error}" for r in summary.failed],
        "manifests": [r.manifest for r in summary.results if r.manifest],
    }
    Path(out).write_text(json.dumps(figures))


def _bench_registry(store: SandboxStore, base_url: str, folder: Path, tenants: int) -> Registry:
    """The sandbox's first `tenants` API connections, each with the benchmark's limit and page size."""
    everything = build_registry(store, base_url, folder, EmulatorSettings())
    chosen = [c for c in everything.connections if c.system in API_SYSTEMS][:tenants]
    if len(chosen) < tenants:
        raise SystemExit(f"the sandbox has {len(chosen)} API tenants, fewer than {tenants}: raise COMPANIES")
    limit = RateLimitOverride(rate_per_second=RATE, burst=BURST, concurrency=BURST)
    return Registry(connections=tuple(
        c.model_copy(update={"rate_limit": limit, "settings": {**c.settings, "page_size": PAGE_SIZE}}) for c in chosen
    ))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_until_up(base_url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{base_url}/_sandbox/stats").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"the sandbox server at {base_url} did not start")


def _python(*args: str, **options) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.benchmarks.bench_extract_throughput", *args], **options)


def measure(folder: Path, store: SandboxStore, tenants: int) -> dict[str, object]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    run = folder / f"run-{tenants}"
    registry = _bench_registry(store, base_url, folder, tenants)
    write_registry(registry, run / "connections.toml")
    until = store_end(store) + timedelta(seconds=1)
    server = _python("serve", str(store.path), str(port))
    try:
        _wait_until_up(base_url, server)
        server_cpu_before = _cpu_seconds(server.pid)
        started = time.perf_counter()
        with open(run / "extract.log", "w") as log:
            extraction = _python("extract", str(run / "connections.toml"), str(run / "warehouse"), until.isoformat(),
                                 str(run / "figures.json"), stdout=log, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(extraction.pid, 0)
        wall = time.perf_counter() - started
        server_cpu = _cpu_seconds(server.pid) - server_cpu_before
        stats = httpx.get(f"{base_url}/_sandbox/stats").json()
    finally:
        server.terminate()
        server.wait()
    if status != 0:
        raise SystemExit(f"the extraction failed ({status}): see {run / 'extract.log'}")
    figures = json.loads((run / "figures.json").read_text())
    admitted, throttled = {}, {}
    for system in API_SYSTEMS:
        for tenant, counts in stats.get(system, {}).get("tenants", {}).items():
            if tenant == "-":
                continue
            refused = counts["responses"].get("429", 0)
            admitted[f"{system}/{tenant}"], throttled[f"{system}/{tenant}"] = counts["requests"] - refused, refused
    client_requests: dict[str, int] = defaultdict(int)
    for manifest in figures["manifests"]:
        document = json.loads(Path(manifest).read_text())
        key = f"{document['system']}/{document['company_id']}"
        client_requests[key] = max(client_requests[key], document["http"]["requests"])  # the client's running total
    limit_bound_seconds = max(max(0, n - BURST) / RATE for n in admitted.values())
    records = figures["records"]
    ratio = (records / wall) / (records / limit_bound_seconds)
    peak_rss_mib = usage.ru_maxrss / 1024
    after_first = sum(max(0, n - 1) for n in throttled.values())
    return {
        "tenants": tenants,
        "records": records,
        "seconds": round(wall, 1),
        "limit_bound_seconds": round(limit_bound_seconds, 1),
        "records_per_s": round(records / wall, 1),
        "limit_bound_records_per_s": round(records / limit_bound_seconds, 1),
        "throughput_ratio": round(ratio, 3),
        "requests_per_tenant": _spread(list(admitted.values())),
        "client_requests_per_tenant": _spread(list(client_requests.values())),
        "throttled": sum(throttled.values()),
        "tenants_throttled": sum(1 for n in throttled.values() if n),
        "throttled_after_first": after_first,
        "peak_rss_mib": round(peak_rss_mib),
        "extract_cpu_share": round((usage.ru_utime + usage.ru_stime) / wall, 2),
        "server_cpu_share": round(server_cpu / wall, 2),
        "failed_streams": len(figures["failed"]),
        "passed": ratio >= BAR["throughput_ratio"] and after_first <= BAR["throttled_after_first"]
        and peak_rss_mib < BAR["peak_rss_mib"] and not figures["failed"],
    }


def _spread(values: list[int]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as name:
        folder = Path(name)
        generate(load_config(), folder, companies=COMPANIES, start=START, end=END, progress=False,
                 workers=min(os.cpu_count() or 1, 4))
        store = SandboxStore(folder / "sandbox.db")
        runs = [measure(folder, store, tenants) for tenants in TENANT_COUNTS]
        store.close()
    result = {
        "companies": COMPANIES,
        "days": (END - START).days + 1,
        "limit": {"rate_per_second": RATE, "burst": BURST, "page_size": int(PAGE_SIZE)},
        "runs": runs,
        "bar": BAR,
        "passed": all(r["passed"] for r in runs),
    }
    record_result("extract_throughput", result)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    commands = {"serve": serve, "extract": run_extract}
    if len(sys.argv) > 1 and sys.argv[1] in commands:
        commands[sys.argv[1]](*sys.argv[2:])
    else:
        sys.exit(main())
