"""Helpers to run ``premiere-ecoute`` as a real process."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

EXE = Path(sys.executable).with_name("premiere-ecoute")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, env: dict[str, str], data: Path, port: int) -> None:
        self.env, self.data, self.port = env, data, port
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_in: float | None = None
        self.log = data / "serve.log"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(EXE), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.data,
        )

    def start(self, timeout: float = 90, *args: str) -> Server:
        t0 = time.monotonic()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(EXE), "serve", "--host", "127.0.0.1", "--port", str(self.port), *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.data,
                start_new_session=True,
            )
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited early: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.base + "/health", timeout=1).status_code == 200:
                    self.started_in = time.monotonic() - t0
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"serve did not answer in {timeout} s: {self.log.read_text()[-2000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> float:
        assert self.proc is not None
        t0 = time.monotonic()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return time.monotonic() - t0


@pytest.fixture
def server_factory() -> Iterator[Any]:
    made: list[Server] = []

    def make(**env_overrides: str) -> Server:
        data = Path(tempfile.mkdtemp(prefix="pe-e2e-"))
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TWITCH_", "SPOTIFY_", "DATABASE_URL", "REDIS_URL"))
        }
        port = free_port()
        env.update(
            {
                "PREMIERE_DATA_DIR": str(data / "data"),
                "FAKE_APIS": "1",
                "SECRET_KEY": "e2e-secret-key-" + "e" * 32,
                "BASE_URL": f"http://127.0.0.1:{port}",
                "TWITCH_WEBHOOK_SECRET": "e2e-webhook-secret-42",
                "LOG_LEVEL": "WARNING",
            }
        )
        env.update(env_overrides)
        server = Server(env, data, port)
        made.append(server)
        return server

    yield make
    for server in made:
        if server.proc is not None:
            server.stop(signal.SIGKILL)
        shutil.rmtree(server.data, ignore_errors=True)
