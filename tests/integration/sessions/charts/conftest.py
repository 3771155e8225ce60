from __future__ import annotations

from typing import Any

import pytest

from tests.support.charts import ALBUMS
from tests.support.memory_ports import MemoryCatalog, MemoryPorts


@pytest.fixture
def memory_ports(fake_clock: Any) -> MemoryPorts:
    """The memory world with the three albums of the chart tests."""
    return MemoryPorts(clock=fake_clock, catalog=MemoryCatalog(ALBUMS))
