"""The smaller findings of issue 10, each checked from outside on a running instance:
security headers (3), logout (5), SSE streams on SIGTERM (6), /metrics authorization, 405
answers and a worker without BASE_URL in production (9). The restore notice of several
processes with the fakes (9) is in test_multi_process.py, where a worker runs long enough."""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import EXE
from tests.e2e.faults.support import Api, SseReader, browser_login, route_table

pytestmark = pytest.mark.e2e


# --------------------------------------------------------------------------- headers (3)


def _csp(r: httpx.Response) -> dict[str, list[str]]:
    """The Content-Security-Policy as {directive: [sources]}."""
    policy: dict[str, list[str]] = {}
    for part in r.headers.get("content-security-policy", "").split(";"):
        words = part.split()
        if words:
            policy[words[0].lower()] = [w.lower() for w in words[1:]]
    return policy


def _framing_refused(r: httpx.Response) -> bool:
    """Other sites cannot frame this page: frame-ancestors 'none'/'self', or X-Frame-Options."""
    ancestors = _csp(r).get("frame-ancestors")
    if ancestors is not None:
        return set(ancestors) <= {"'none'", "'self'"}
    return r.headers.get("x-frame-options", "").upper() in ("DENY", "SAMEORIGIN")


@pytest.fixture(scope="module")
def pages(served: Any) -> Iterator[dict[str, httpx.Response]]:
    """One answer of each kind, the control and account pages as the session's streamer."""
    owner = browser_login(served.web.base, "streamera")
    base, sid = served.web.base, served.session_id
    try:
        yield {
            "home": httpx.get(base + "/", headers={"Accept": "text/html"}),
            "live": httpx.get(base + "/live/streamera", headers={"Accept": "text/html"}),
            "control": owner.client.get(f"/sessions/{sid}"),
            "account": owner.client.get("/account"),
            "overlay": httpx.get(base + "/overlay/streamera"),
            "api": served.api.get("/api/v1/me"),
            "static": httpx.get(base + "/static/app.js"),
        }
    finally:
        owner.close()


def test_the_pages_under_test_are_real(pages: dict[str, httpx.Response]) -> None:
    assert {k: r.status_code for k, r in pages.items()} == dict.fromkeys(pages, 200)
    assert "csrf_token" in pages["control"].text and "csrf_token" in pages["account"].text


def test_pages_hold_no_inline_script(pages: dict[str, httpx.Response]) -> None:
    """A strict CSP (no 'unsafe-inline' for scripts) needs every script in a file."""
    for name in ("home", "live", "control", "account", "overlay"):
        html = pages[name].text
        inline = [m for m in re.findall(r"<script\b([^>]*)>", html) if "src=" not in m]
        handlers = re.findall(r"\son[a-z]+\s*=", html)
        assert not inline and not handlers, f"{name}: inline scripts {inline} {handlers}"


def test_every_html_page_has_a_csp_without_unsafe_inline_scripts(
    pages: dict[str, httpx.Response],
) -> None:
    for name in ("home", "live", "control", "account", "overlay"):
        policy = _csp(pages[name])
        scripts = policy.get("script-src", policy.get("default-src"))
        assert scripts is not None, f"{name}: no script-src nor default-src"
        assert "'unsafe-inline'" not in scripts and "*" not in scripts, f"{name}: {scripts}"


def test_the_control_and_account_pages_cannot_be_framed_by_others(
    pages: dict[str, httpx.Response],
) -> None:
    for name in ("control", "account", "home"):
        assert _framing_refused(pages[name]), f"{name} can be framed: {dict(pages[name].headers)}"


def test_the_overlay_has_its_own_looser_rule(pages: dict[str, httpx.Response]) -> None:
    """OBS loads the overlay directly and the control page previews it in a frame: it may be
    framed (by the app at least), and still carries a CSP and nosniff."""
    overlay = pages["overlay"]
    ancestors = _csp(overlay).get("frame-ancestors")
    assert ancestors is None or "'none'" not in ancestors, ancestors
    assert overlay.headers.get("x-frame-options", "").upper() != "DENY"
    assert _csp(overlay).get("script-src") or _csp(overlay).get("default-src")
    assert overlay.headers.get("x-content-type-options", "").lower() == "nosniff"


def test_nosniff_and_a_referrer_policy_on_every_answer(pages: dict[str, httpx.Response]) -> None:
    for name, r in pages.items():
        assert r.headers.get("x-content-type-options", "").lower() == "nosniff", name
        assert r.headers.get("referrer-policy"), name


def test_hsts_when_the_base_url_is_https(served: Any) -> None:
    web = served.stack.web("https", BASE_URL="https://premiere.example").start()
    try:
        r = httpx.get(web.base + "/", headers={"Accept": "text/html"})
        assert r.status_code == 200
        max_age = re.search(r"max-age=(\d+)", r.headers.get("strict-transport-security", ""))
        assert max_age and int(max_age.group(1)) >= 86400, r.headers
        plain = httpx.get(served.web.base + "/", headers={"Accept": "text/html"})
        assert "strict-transport-security" not in plain.headers  # http://: no HSTS
    finally:
        web.stop()


# --------------------------------------------------------------------------- logout (5)


def test_a_cookie_copied_before_logout_no_longer_works(served: Any) -> None:
    browser = browser_login(served.web.base, "streamera")
    try:
        assert browser.client.get("/account").status_code == 200
        copied = dict(browser.client.cookies)
        out = browser.client.post("/auth/logout", data={"csrf_token": browser.csrf})
        assert out.status_code == 303
        assert browser.client.get("/account").status_code != 200  # the browser is logged out
        with httpx.Client(base_url=served.web.base, cookies=copied, timeout=10) as thief:
            again = thief.get("/account", headers={"Accept": "text/html"})
        assert again.status_code != 200, "the copied cookie still opens the account page"
    finally:
        browser.close()


# --------------------------------------------------------------------------- SSE (6)


def test_sse_streams_end_with_a_retry_hint_on_sigterm(served: Any) -> None:
    web = served.stack.web("sigterm").start()
    api = Api(web.base, served.api.token)
    streams = [
        SseReader(f"{web.base}/overlay/streamera/stream"),
        SseReader(f"{web.base}/api/v1/sessions/{served.session_id}/stream", api.headers),
    ]
    for stream in streams:
        stream.wait(lambda e: e.event == "snapshot", timeout=15)
    seen = [len(s.events) for s in streams]
    took = web.stop(signal.SIGTERM)
    for stream in streams:
        assert stream.ended.wait(10)
    assert took < 8, f"shutdown took {took:.1f} s"
    for stream, before in zip(streams, seen, strict=True):
        last = stream.events[before:]
        assert stream.error is None, f"{stream.url}: cut uncleanly ({stream.error!r})"
        assert any(e.retry is not None for e in last), f"{stream.url}: no retry: {last}"
    errors = [line for line in web.log.read_text().splitlines() if '"level": "error"' in line]
    assert not errors, f"errors logged on shutdown: {errors[:3]}"


# --------------------------------------------------------------------------- /metrics (9)


@pytest.fixture(scope="module")
def metrics_web(served: Any) -> Iterator[str]:
    web = served.stack.web("metrics", METRICS_TOKEN="metrics-token-0123456789").start()
    yield web.base
    web.stop()


def _metrics(base: str, authorization: str | None) -> int:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return httpx.get(base + "/metrics", headers=headers, timeout=10).status_code


def test_metrics_need_the_token(metrics_web: str) -> None:
    assert _metrics(metrics_web, "Bearer metrics-token-0123456789") == 200
    assert _metrics(metrics_web, None) == 401
    assert _metrics(metrics_web, "Bearer wrong-token") == 401
    assert _metrics(metrics_web, "Bearer") == 401


def test_metrics_accept_the_scheme_in_any_case(metrics_web: str) -> None:
    assert _metrics(metrics_web, "bearer metrics-token-0123456789") == 200
    assert _metrics(metrics_web, "BEARER metrics-token-0123456789") == 200


def test_metrics_refuse_a_bare_token(metrics_web: str) -> None:
    assert _metrics(metrics_web, "metrics-token-0123456789") == 401
    assert _metrics(metrics_web, "Basic metrics-token-0123456789") == 401


# --------------------------------------------------------------------------- 405 (9)


def test_405_lists_every_allowed_method(served: Any) -> None:
    by_path: dict[str, set[str]] = {}
    for route in route_table():
        by_path.setdefault(route.path, set()).add(route.method)
    values = {"session_id": served.session_id, "login": "streamera", "page": "privacy"}
    checked, wrong = 0, []
    for path, methods in by_path.items():
        if len(methods) < 2 or not set(re.findall(r"\{(\w+)", path)) <= set(values):
            continue
        url = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), path)
        r = httpx.put(served.web.base + url, headers=served.api.headers, timeout=10)
        if "PUT" in methods:
            continue
        checked += 1
        allow = {m.strip().upper() for m in r.headers.get("allow", "").split(",") if m.strip()}
        if r.status_code != 405 or not methods <= allow:
            wrong.append(
                f"PUT {path}: {r.status_code}, Allow {sorted(allow)}, not {sorted(methods)}"
            )
    assert checked >= 3
    assert not wrong, "\n".join(wrong)


# --------------------------------------------------------------------------- worker (9)


def test_a_production_worker_refuses_to_start_without_base_url(served: Any) -> None:
    env = served.stack.env(ENVIRONMENT="production", FAKE_APIS="0")
    env.pop("BASE_URL", None)
    proc = subprocess.Popen(
        [str(EXE), "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=served.stack.root,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("the worker started without BASE_URL in production") from None
    assert proc.returncode != 0 and "BASE_URL" in (out + err), (proc.returncode, out, err)


def test_a_production_worker_with_base_url_starts(served: Any) -> None:
    """The control of the test above: the same environment with BASE_URL is fine."""
    worker = served.stack.worker(
        "prodworker", base_url="https://premiere.example", ENVIRONMENT="production", FAKE_APIS="0"
    )
    worker.start(timeout=30)
    assert worker.alive()
    worker.stop()
