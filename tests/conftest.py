"""Shared fixtures: real local servers on free ports and one SparkSession for the whole run.

Test servers get their own state folder and ports, so a developer's `groundswell services up` is never touched.
"""

from __future__ import annotations

import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.settings import ROOT, Settings, load_settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def services_env() -> Iterator[dict[str, str]]:
    """Environment pointing settings at this run's own servers (state under the repo, readable by the
    Elasticsearch user, unlike pytest's private tmp folders)."""
    state = ROOT / ".test-services" / uuid.uuid4().hex[:8]
    s3_port, es_port = _free_port(), _free_port()
    env = {
        "GROUNDSWELL_SERVICES__STATE_DIR": str(state),
        "GROUNDSWELL_SERVICES__ELASTICSEARCH_PORT": str(es_port),
        "GROUNDSWELL_ELASTICSEARCH__URL": f"http://127.0.0.1:{es_port}",
        "GROUNDSWELL_SERVICES__S3_PORT": str(s3_port),
        "GROUNDSWELL_S3__ENDPOINT": f"http://127.0.0.1:{s3_port}",
        "GROUNDSWELL_S3__ACCESS_KEY": f"file:{state}/s3/access_key",
        "GROUNDSWELL_S3__SECRET_KEY": f"file:{state}/s3/secret_key",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        yield env
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def services(services_env: dict[str, str]) -> Iterator[Settings]:
    """Elasticsearch and S3 started for this run and stopped after it; yields settings that reach them."""
    from jobs import services as local

    settings = load_settings("s3")
    try:
        local.up(settings)
        yield settings
    finally:
        local.down(settings)


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("warehouse")


@pytest.fixture(scope="session")
def spark(services: Settings, warehouse: Path):
    """One local SparkSession able to reach both the local warehouse folder and the test S3 server."""
    from jobs.spark import spark_session

    session = spark_session(load_settings("s3", warehouse=str(warehouse)))
    yield session
    session.stop()
