"""A single-node Elasticsearch on loopback: the integration-test distribution from Maven Central.

Elasticsearch refuses to run as root, so when we are root it runs as a dedicated system user that owns its
data, logs and config (created on first start). Security is off: it listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess

import httpx

from jobs.services.process import ManagedProcess, ServiceError
from jobs.settings import ROOT, Settings

VERSION = "9.5.4"  # the version conf/services/pom.xml fetches
HOME = ROOT / ".dist" / f"elasticsearch-{VERSION}"


class ElasticsearchService:
    name = "elasticsearch"

    def __init__(self, settings: Settings) -> None:
        self._services = settings.services
        self.state = settings.services.state_path / "elasticsearch"
        self.url = f"http://127.0.0.1:{settings.services.elasticsearch_port}"
        self.process = ManagedProcess(self.name, self.state / "run" / "pid", self.state / "logs" / "console.log")

    def healthy(self) -> bool:
        try:
            response = httpx.get(f"{self.url}/_cluster/health", timeout=2)
            return response.status_code == 200 and response.json()["status"] in ("green", "yellow")
        except (httpx.HTTPError, ValueError, KeyError):
            return False

    def start(self) -> None:
        """Spawn the server (returns at once; `wait` blocks until it is healthy)."""
        if not (HOME / "bin" / "elasticsearch").exists():
            raise ServiceError(f"Elasticsearch {VERSION} is not installed in {HOME}: run `make setup`")
        java_home = self._services.elasticsearch_java_home
        if not (java_home / "bin" / "java").exists():
            raise ServiceError(
                f"services.elasticsearch_java_home={java_home} has no bin/java: Elasticsearch 9 needs JDK 21+ "
                "(set GROUNDSWELL_SERVICES__ELASTICSEARCH_JAVA_HOME)"
            )
        config = self.state / "config"
        for folder in ("data", "logs", "run"):
            (self.state / folder).mkdir(parents=True, exist_ok=True)
        if not config.exists():
            shutil.copytree(HOME / "config", config)
        command = [
            str(HOME / "bin" / "elasticsearch"),
            "-E", "discovery.type=single-node",
            "-E", "network.host=127.0.0.1",
            "-E", f"http.port={self._services.elasticsearch_port}",
            "-E", "xpack.security.enabled=false",
            "-E", "node.store.allow_mmap=false",
            "-E", "cluster.name=groundswell",
            "-E", f"path.data={self.state / 'data'}",
            "-E", f"path.logs={self.state / 'logs'}",
        ]
        if os.geteuid() == 0:
            user = self._run_as_user()
            subprocess.run(["chown", "-R", f"{user}:{user}", str(self.state)], check=True)
            command = ["runuser", "-u", user, "--", *command]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ES_JAVA_HOME": str(java_home),
            "ES_PATH_CONF": str(config),
            "ES_JAVA_OPTS": f"-Xms{self._services.elasticsearch_heap} -Xmx{self._services.elasticsearch_heap}",
        }
        self.process.spawn(command, env=env, cwd=self.state)

    def wait(self) -> None:
        self.process.wait_healthy(self.healthy, timeout=180)

    def _run_as_user(self) -> str:
        user = self._services.elasticsearch_user
        try:
            pwd.getpwnam(user)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user],
                check=True, capture_output=True,
            )
        return user
