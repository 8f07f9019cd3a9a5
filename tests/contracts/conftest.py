"""Landing samples for the contract tests: a sandbox generated and extracted once per session (~30 s each).

The pre-drift sample ends before the sandbox's drift day (2026-02-02) and carries ten times the default
poison rate, so every system shows some poison records; the post-drift sample spans the drift day.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from jobs.settings import ROOT

GROUNDSWELL = Path(sys.executable).parent / "groundswell"


@dataclass(frozen=True)
class LandingSample:
    sandbox: Path
    landing: Path


def _extract(tmp: Path, config: Path, companies: int, start: str, end: str) -> LandingSample:
    sandbox, warehouse = tmp / "sandbox", tmp / "warehouse"
    subprocess.run([GROUNDSWELL, "sandbox", "generate", "--config", config, "--out", sandbox, "--companies",
                    str(companies), "--start", start, "--end", end], check=True, capture_output=True)
    subprocess.run([GROUNDSWELL, "run", "--to", "extract", "--sandbox", sandbox, "--warehouse", warehouse],
                   check=True, capture_output=True)
    return LandingSample(sandbox, warehouse / "landing")


@pytest.fixture(scope="session")
def pre_drift(tmp_path_factory: pytest.TempPathFactory) -> LandingSample:
    tmp = tmp_path_factory.mktemp("pre-drift")
    config = tmp / "sandbox.toml"
    text = (ROOT / "conf" / "sandbox.toml").read_text()
    config.write_text(re.sub(r"(?m)^poison = [0-9.]+", "poison = 0.02", text))
    return _extract(tmp, config, 40, "2026-01-05", "2026-02-01")


@pytest.fixture(scope="session")
def post_drift(tmp_path_factory: pytest.TempPathFactory) -> LandingSample:
    return _extract(tmp_path_factory.mktemp("post-drift"), ROOT / "conf" / "sandbox.toml", 20, "2026-01-19",
                    "2026-02-15")
