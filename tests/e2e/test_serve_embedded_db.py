"""``serve`` on the embedded PostgreSQL (issue 11 item 16): stopping ``serve`` stops the
database it started, so nothing keeps running in the data directory afterwards."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its parent counts as gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stopping_serve_stops_its_embedded_postgres(server_factory: Any, sig: int) -> None:
    server = server_factory().start()
    data_dir = Path(server.env["PREMIERE_DATA_DIR"])
    pid = postmaster_pid(data_dir)
    assert alive(pid)

    server.stop(sig)
    deadline = time.monotonic() + 15
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)

    assert not alive(pid), server.log.read_text()[-1500:]
    assert not (data_dir / "pg" / "postmaster.pid").exists()
