from __future__ import annotations

from tests.support.api import api

__all__ = ["api"]
