"""A local server process we started: its pid file, its log, its health, and stopping only our own."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class ServiceError(Exception):
    """A local service failed to start or stop; the message says where its log is."""


@dataclass(frozen=True)
class ManagedProcess:
    name: str
    pid_file: Path
    log_file: Path

    def pid(self) -> int | None:
        """The pid from our pid file if that process is still alive, else None (a stale file is removed)."""
        try:
            pid, started = (int(part) for part in self.pid_file.read_text().split())
        except (FileNotFoundError, ValueError):
            return None
        # The start time guards against a recycled pid: we never signal a process we did not start.
        if not _alive(pid) or _start_ticks(pid) != started:
            self.pid_file.unlink(missing_ok=True)
            return None
        return pid

    def spawn(self, command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> int:
        """Start `command` in its own session (so `stop` can signal its whole group), logging to our log."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=env, cwd=cwd, start_new_session=True,
            )
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.write_text(f"{process.pid} {_start_ticks(process.pid)}")
        return process.pid

    def wait_healthy(self, healthy: Callable[[], bool], *, timeout: float) -> None:
        """Poll `healthy` until it answers True; fail early, with the log's tail, if our process died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if healthy():
                return
            if self.pid() is None:
                raise ServiceError(f"{self.name} exited during start-up:\n{self.log_tail()}\n(full log: {self.log_file})")
            time.sleep(0.5)
        raise ServiceError(f"{self.name} was not healthy after {timeout:.0f} s:\n{self.log_tail()}\n(full log: {self.log_file})")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log written)"

    def stop(self, *, timeout: float = 30) -> bool:
        """SIGTERM our process (and its group), SIGKILL after `timeout`; False when nothing of ours ran."""
        pid = self.pid()
        if pid is None:
            return False
        _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            _signal(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True


def _start_ticks(pid: int) -> int | None:
    """When the process started (clock ticks since boot, /proc/PID/stat field 22)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(os.getpgid(pid), sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
