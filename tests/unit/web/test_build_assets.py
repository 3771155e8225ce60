"""scripts/build-assets: the stamp decides whether npm runs at all."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import LOCALE_SOURCE_DIR

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SCRIPT = PROJECT_ROOT / "scripts" / "build-assets"
VENDOR = Path("src/premiere_ecoute/web/static/vendor")
VENDORED_FILES = (
    "htmx.min.js",
    "sse.js",
    "chart.umd.min.js",
    "LICENSE-htmx",
    "LICENSE-htmx-ext-sse",
    "LICENSE-chartjs",
    "swagger-ui-bundle.js",
    "swagger-ui.css",
    "swagger-favicon.png",
    "LICENSE-swagger-ui",
    "NOTICE-swagger-ui",
)

pytestmark = pytest.mark.skipif(
    shutil.which("bash") is None, reason="build-assets is a bash script"
)


def make_project(root: Path, *, with_vendor: bool, stamp: str | None) -> Path:
    (root / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, root / "scripts" / "build-assets")
    shutil.copy(PROJECT_ROOT / "package.json", root / "package.json")
    shutil.copy(PROJECT_ROOT / "package-lock.json", root / "package-lock.json")
    vendor = root / VENDOR
    vendor.mkdir(parents=True)
    if with_vendor:
        for name in VENDORED_FILES:
            (vendor / name).write_text(f"// placeholder for {name}\n")
    if stamp is not None:
        (vendor / ".build-stamp").write_text(stamp + "\n")
    return root


def manifest_hash(root: Path) -> str:
    content = (root / "package.json").read_bytes() + (root / "package-lock.json").read_bytes()
    return hashlib.sha256(content).hexdigest()


def run(root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(root / "scripts" / "build-assets")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHON": sys.executable, **env},
        check=False,
    )


def test_up_to_date_assets_are_left_alone_without_calling_npm(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", with_vendor=True, stamp=None)
    (root / VENDOR / ".build-stamp").write_text(manifest_hash(root) + "\n")
    before = {name: (root / VENDOR / name).stat().st_mtime_ns for name in VENDORED_FILES}

    result = run(root, NPM="/nonexistent/npm")

    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stderr
    after = {name: (root / VENDOR / name).stat().st_mtime_ns for name in VENDORED_FILES}
    assert after == before


@pytest.mark.parametrize(
    ("with_vendor", "stamp"),
    [(True, "0" * 64), (False, None), (True, None)],
    ids=["lock-changed", "never-built", "no-stamp"],
)
def test_stale_assets_need_npm_and_say_so_when_it_is_missing(
    tmp_path: Path, with_vendor: bool, stamp: str | None
) -> None:
    root = make_project(tmp_path / "p", with_vendor=with_vendor, stamp=stamp)

    result = run(root, NPM="/nonexistent/npm")

    assert result.returncode != 0
    assert "npm not found" in result.stderr


def test_catalogs_are_compiled_into_mo_files(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", with_vendor=True, stamp=None)
    (root / VENDOR / ".build-stamp").write_text(manifest_hash(root) + "\n")
    po_source = LOCALE_SOURCE_DIR / "fr" / "LC_MESSAGES" / "messages.po"
    po_target = root / "src/premiere_ecoute/web/locale/fr/LC_MESSAGES/messages.po"
    po_target.parent.mkdir(parents=True)
    shutil.copy(po_source, po_target)

    result = run(root, NPM="/nonexistent/npm")

    assert result.returncode == 0, result.stderr
    mo_file = po_target.with_suffix(".mo")
    assert mo_file.is_file()
    assert b"Page introuvable" in mo_file.read_bytes()


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_second_run_reuses_the_first_runs_output(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", with_vendor=False, stamp=None)

    first = run(root)
    assert first.returncode == 0, first.stderr
    before = {name: (root / VENDOR / name).stat().st_mtime_ns for name in VENDORED_FILES}
    second = run(root, NPM="/nonexistent/npm")

    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stderr
    assert {name: (root / VENDOR / name).stat().st_mtime_ns for name in VENDORED_FILES} == before
    assert (root / VENDOR / "htmx.min.js").stat().st_size > 10_000
