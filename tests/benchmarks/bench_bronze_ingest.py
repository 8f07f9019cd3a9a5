"""Benchmark: bronze ingest of 10M landing records on this machine, side by side with DuckDB doing the
plain load (read the same JSON-lines files → write Parquet) in the same run.

    python -m tests.benchmarks.bench_bronze_ingest [RECORDS]      (default 10,000,000)

The landing data is real connector output multiplied: a sandbox of 40 companies is extracted through the
emulators once, then every landed line is written again under 1 of N made-up companies with its key made
unique, in parts of up to 50,000 lines, until RECORDS lines exist — the shapes, sizes and defects
(poison, drift) are the sandbox's own. Each side runs in its own process tree (Spark's JVM included); peak
memory is the tree's largest summed RSS, sampled every 0.2 s.

Not a like-for-like race: bronze also verifies each part's checksum, tokenizes PII, checks every payload
against its contract, fingerprints its shape and MERGEs by content; DuckDB only parses and writes.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import orjson
import psutil

from connectors.landing import MANIFEST
from connectors.sandbox.config import load_config
from connectors.sandbox.generate import generate
from jobs.settings import ROOT
from tests.benchmarks.__main__ import record_result

RECORDS = 10_000_000
PART_LINES = 50_000
SAMPLE_COMPANIES = 40


def peak_rss(process: subprocess.Popen) -> tuple[int, float]:
    """Wait for `process`; (return code, peak summed RSS in MiB of it and its descendants)."""
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(process.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = process.wait()
    done.set()
    sampler.join()
    return code, peak / 2**20


def sample_landing(folder: Path) -> Path:
    """A real landing zone: the sandbox's connectors and emulators, one extract."""
    generate(load_config(), folder / "sandbox", companies=SAMPLE_COMPANIES, start=date(2026, 1, 5), end=date(2026, 2, 22), progress=False)
    subprocess.run([sys.executable, "-m", "jobs.cli", "run", "--to", "extract", "--sandbox", str(folder / "sandbox"),
                    "--warehouse", str(folder / "sample")], check=True, stdout=subprocess.DEVNULL)
    return folder / "sample" / "landing"


def _multiply(sample: Path, warehouse: Path, records: int) -> int:
    """Write `records` landing lines: the sample's lines under made-up companies, keys made unique."""
    streams: dict[tuple[str, str], list[tuple[bytes, str]]] = defaultdict(list)
    entities: dict[tuple[str, str], str] = {}
    for manifest_path in sample.rglob(MANIFEST):
        manifest = orjson.loads(manifest_path.read_bytes())
        key = (manifest["system"], manifest["stream"])
        entities[key] = manifest["entity"]
        for part in manifest["files"]:
            for line in gzip.decompress((manifest_path.parent / part["name"]).read_bytes()).splitlines():
                streams[key].append((line, manifest["company_id"]))
    per_copy = sum(len(lines) for lines in streams.values())
    written, copy = 0, 0
    while written < records:
        company = f"bench{copy:05d}"
        for (system, stream), lines in sorted(streams.items()):
            take = lines[: records - written]
            if not take:
                break
            folder = warehouse / "landing" / system / stream / f"company={company}" / "run=20260223T000000000000Z"
            folder.mkdir(parents=True)
            files = []
            for start in range(0, len(take), PART_LINES):
                body = b"\n".join(_unique(line, f"~{origin}~{copy}") for line, origin in take[start:start + PART_LINES]) + b"\n"
                data = gzip.compress(body, compresslevel=1, mtime=0)
                name = f"part-{len(files):05d}.jsonl.gz"
                (folder / name).write_bytes(data)
                files.append({"name": name, "records": len(take[start:start + PART_LINES]), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
            (folder / MANIFEST).write_bytes(orjson.dumps({
                "system": system, "stream": stream, "entity": entities[(system, stream)], "company_id": company,
                "run_id": "20260223T000000000000Z", "records": len(take), "files": files, "errors": [],
            }))
            written += len(take)
        copy += 1
    print(f"landing: {written} records ({per_copy} per made-up company, {copy} companies)", flush=True)
    return written


def landing_zone(sample: Path, warehouse: Path, records: int) -> int:
    """The multiplied landing zone, with the sample's reference data (FX rates) beside it."""
    landed = _multiply(sample, warehouse, records)
    shutil.copytree(sample / "_reference", warehouse / "landing" / "_reference")
    return landed


def _unique(line: bytes, suffix: str) -> bytes:
    """The landing line with its key made unique (the record itself untouched; error lines have no key)."""
    head = b'{"key":"'
    if not line.startswith(head):
        return line
    end = line.index(b'"', len(head))
    return line[:end] + suffix.encode() + line[end:]


def _spark_side(warehouse: Path) -> dict[str, float]:
    started = time.monotonic()
    job = subprocess.Popen([sys.executable, str(ROOT / "jobs" / "bronze_ingest.py"), "--warehouse", str(warehouse), "--no-gate"])
    code, peak = peak_rss(job)
    if code != 0:
        raise SystemExit(f"bronze ingest failed with exit code {code}")
    return {"seconds": round(time.monotonic() - started, 1), "peak_rss_mib": round(peak)}


DUCKDB_LOAD = """
import duckdb, sys
con = duckdb.connect()
con.execute("SET threads = 2")
con.execute(f\"\"\"COPY (SELECT * FROM read_json('{sys.argv[1]}/landing/**/*.jsonl.gz', format='newline_delimited',
    columns={{'key': 'VARCHAR', 'updated_at': 'VARCHAR', 'error': 'VARCHAR', 'record': 'JSON'}}, filename=true))
    TO '{sys.argv[2]}' (FORMAT parquet)\"\"\")
"""


def _duckdb_side(warehouse: Path, out: Path) -> dict[str, float]:
    started = time.monotonic()
    code, peak = peak_rss(subprocess.Popen([sys.executable, "-c", DUCKDB_LOAD, str(warehouse), str(out)]))
    if code != 0:
        raise SystemExit(f"duckdb load failed with exit code {code}")
    return {"seconds": round(time.monotonic() - started, 1), "peak_rss_mib": round(peak)}


def main(records: int) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-bronze-") as name:
        folder = Path(name)
        sample = sample_landing(folder)
        warehouse = folder / "warehouse"
        landed = landing_zone(sample, warehouse, records)
        shutil.rmtree(folder / "sample")
        spark = _spark_side(warehouse)
        duckdb = _duckdb_side(warehouse, folder / "duckdb.parquet")
    for side in (spark, duckdb):
        side["records_per_second"] = round(landed / side["seconds"])
    result = {
        "records": landed,
        "bronze_ingest_spark": spark,
        "duckdb_json_to_parquet": duckdb,
        "spark_over_duckdb_seconds": round(spark["seconds"] / duckdb["seconds"], 2),
    }
    record_result("bronze_ingest", result)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else RECORDS))
