"""`groundswell services`: idempotent, honest about health, and never stopping what it did not start."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from typer.testing import CliRunner

from jobs import services as local
from jobs.cli import app
from jobs.settings import Settings, load_settings


def test_given_services_running_when_up_again_then_nothing_is_restarted(services: Settings):
    pids = {s.name: s.process.pid() for s in local.local_services(services)}

    statuses = local.up(services)

    assert {s.name: s.state for s in statuses} == {"elasticsearch": "running", "s3": "running"}
    assert {s.name: s.process.pid() for s in local.local_services(services)} == pids


def test_given_services_running_when_status_json_then_both_are_named_with_url_and_health(services: Settings):
    result = CliRunner().invoke(app, ["services", "status", "--json"])

    assert result.exit_code == 0, result.output
    listed = {s["name"]: s for s in json.loads(result.stdout)["services"]}
    assert set(listed) == {"elasticsearch", "s3"}
    assert listed["elasticsearch"]["url"] == services.elasticsearch.url
    assert all(s["healthy"] is True for s in listed.values())


class _AnyAnswer(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(403)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_given_someone_elses_server_on_the_port_when_up_and_down_then_it_is_used_and_left_running(tmp_path, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AnyAnswer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("GROUNDSWELL_SERVICES__STATE_DIR", str(tmp_path))
        monkeypatch.setenv("GROUNDSWELL_SERVICES__S3_PORT", str(server.server_port))
        settings = load_settings()

        (started,) = local.up(settings, ["s3"])
        (stopped,) = local.down(settings, ["s3"])

        assert (started.state, stopped.state) == ("external", "not running")
        assert local.S3Service(settings).healthy()
    finally:
        server.shutdown()
