from __future__ import annotations

from typing import Any

import pytest

from tests.integration.sessions.support import Cast, make_cast


@pytest.fixture
async def cast(container: Any) -> Cast:
    return await make_cast(container)
