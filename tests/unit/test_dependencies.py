"""Pinned HTTP stack: httpx 0.28, and httpx2 absent (starlette and authlib would switch to it
and respx could no longer intercept requests)."""

from __future__ import annotations

import importlib.metadata
import importlib.util


def test_httpx_is_the_pinned_0_28() -> None:
    assert importlib.metadata.version("httpx").startswith("0.28.")


def test_httpx2_is_not_installed() -> None:
    assert importlib.util.find_spec("httpx2") is None
