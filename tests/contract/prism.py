"""Start a Prism mock of a public API from ``<repo>/../shared/contracts/prism-mock``.

Skips (with the reason) when that folder, npm or Prism itself is unavailable, so a fresh
clone without the contracts still passes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO.parent / "shared" / "contracts"
START_TIMEOUT_S = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def prism(api: str, probe_path: str) -> Iterator[str]:
    """Run ``prism-mock API`` on a free port until the block ends; yields its base URL."""
    script = CONTRACTS / "prism-mock"
    if not script.exists():
        pytest.skip(f"contract mocks not found at {CONTRACTS}")
    if shutil.which("npm") is None:
        pytest.skip("npm not installed: cannot run the Prism contract mock")
    port = _free_port()
    proc = subprocess.Popen(
        [str(script), api, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if proc.poll() is not None:
                pytest.skip("Prism exited before it started listening")
            try:
                httpx.get(url + probe_path, headers={"Authorization": "Bearer probe"}, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.skip(f"Prism did not start within {START_TIMEOUT_S:.0f} s")
                time.sleep(0.5)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def app_token_endpoint(token_type: str) -> httpx.MockTransport:
    """Prism mocks the APIs only; the providers' token services answer here with an app token
    (Spotify spells the type "Bearer", Twitch "bearer")."""

    def answer(request: httpx.Request) -> httpx.Response:
        body = {"access_token": "contract-app-token", "token_type": token_type, "expires_in": 3600}
        return httpx.Response(200, json=body)

    return httpx.MockTransport(answer)
