"""Property-based fuzzing of the JSON API v1 from its own OpenAPI (schemathesis).

Cases are generated from ``/api/v1/openapi.json`` (valid and invalid ones, derandomized so a
run is repeatable) and sent in-process to the app on the test database. Every answer must be
documented for its operation, never a 5xx, and every 4xx must carry the error format of
SPEC §11. Valid cases aim at real sessions of the caller so that commands reach the domain
instead of stopping at "not found".
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from premiere_ecoute.demo import create_token, create_user  # noqa: E402
from tests.support.memory_ports import sample_album  # noqa: E402

pytestmark = pytest.mark.e2e

EXAMPLES = 12  # per operation and mode: 18 operations x 2 modes x 12 = ~430 requests
ALBUM = sample_album().spotify_id


def _cases(operation: Any, mode: Any, examples: int = EXAMPLES) -> list[Any]:
    found: list[Any] = []

    @settings(
        max_examples=examples,
        database=None,
        derandomize=True,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode))
    def collect(case: Any) -> None:
        found.append(case)

    with contextlib.suppress(Unsatisfiable):  # nothing to break: GET /me has no parameters
        collect()
    return found


def _operations(spec: dict[str, Any]) -> Iterator[Any]:
    for result in schemathesis.openapi.from_dict(spec).get_all_operations():
        operation = result.ok()
        if not operation.path.endswith("/stream"):  # SSE never ends: covered elsewhere
            yield operation


def _aim(case: Any, n: int, session_ids: list[int]) -> None:
    """Point a valid case at one of the caller's sessions, and prepare a real album."""
    if "session_id" in (case.path_parameters or {}):
        case.path_parameters["session_id"] = session_ids[n % len(session_ids)]
    prepare = case.method.upper() == "POST" and case.path == "/api/v1/sessions"
    if prepare and isinstance(case.body, dict) and n % 2 == 0:
        case.body["album"] = ALBUM
        case.body.pop("playlist", None)


async def _send(
    http: httpx.AsyncClient, case: Any, token: str, base_url: str = "http://testserver"
) -> httpx.Response:
    kw = case.as_transport_kwargs(base_url=base_url)
    headers = {k: v for k, v in kw["headers"].items() if k.lower() != "connection"}
    headers["Authorization"] = f"Bearer {token}"
    content: bytes | None = None
    if "json" in kw:
        # allow_nan / surrogates: send exactly what was generated, as a client could.
        content = json.dumps(kw["json"], allow_nan=True).encode()
    elif kw.get("data") is not None:
        data = kw["data"]
        content = data if isinstance(data, bytes) else str(data).encode("utf-8", "surrogatepass")
    return await http.request(
        kw["method"], kw["url"], params=kw.get("params"), headers=headers, content=content
    )


@dataclass
class FuzzApi:
    http: httpx.AsyncClient
    spec: dict[str, Any]
    tokens: list[str]  # a streamer's (owner of the sessions), a viewer's
    session_ids: list[int]  # an active session, a preparing one


@pytest.fixture
async def fuzz_api(container: Any) -> AsyncIterator[FuzzApi]:
    from premiere_ecoute.bootstrap import web_app

    app = web_app(container, run_background=False)
    streamer = await create_user(container, "fuzzstreamer", "streamer")
    viewer = await create_user(container, "fuzzviewer", "viewer")
    tokens = [await create_token(container, u.id, "fuzz") for u in (streamer, viewer)]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        auth = {"Authorization": f"Bearer {tokens[0]}"}
        session_ids = []
        for start in (True, False):
            made = await http.post("/api/v1/sessions", headers=auth, json={"album": ALBUM})
            assert made.status_code == 201, made.text
            session_ids.append(made.json()["id"])
            if start:
                started = await http.post(f"/api/v1/sessions/{session_ids[-1]}/start", headers=auth)
                assert started.status_code == 200, started.text
        yield FuzzApi(http, app.openapi(), tokens, session_ids)


def _problem(spec: dict[str, Any], method: str, path: str, response: httpx.Response) -> str:
    status = response.status_code
    documented = set(spec["paths"][path][method.lower()]["responses"])
    if status >= 500:
        return "server error"
    if str(status) not in documented:
        return f"undocumented status (documented: {sorted(documented)})"
    if status >= 400 and not _is_error_body(response):
        return "4xx without the {error: {code, message}} body"
    return ""


async def fuzz(
    api: FuzzApi, base_url: str = "http://testserver", examples: int = EXAMPLES
) -> tuple[int, list[str]]:
    """Send every generated case (valid ones aimed at the caller's sessions); returns how many
    were sent and the bad answers. Also used against a served instance (tests/e2e/faults)."""
    failures: list[str] = []
    sent = 0
    for operation in _operations(api.spec):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for n, case in enumerate(_cases(operation, mode, examples)):
                if mode is GenerationMode.POSITIVE:
                    _aim(case, n, api.session_ids)
                response = await _send(api.http, case, api.tokens[n % 2], base_url)
                sent += 1
                problem = _problem(api.spec, operation.method, operation.path, response)
                if problem:
                    failures.append(
                        f"{operation.method.upper()} {operation.path} -> {response.status_code} "
                        f"{problem}: {case.as_curl_command()} => {response.text[:200]}"
                    )
    return sent, failures


async def test_fuzzed_api_requests_get_documented_answers_and_never_a_5xx(
    fuzz_api: FuzzApi,
) -> None:
    sent, failures = await fuzz(fuzz_api)
    assert sent > 200, f"only {sent} requests were generated"
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(failures[:10])


# Values that broke the API once (NUL and lone surrogates reached PostgreSQL, numbers beyond
# bigint reached OFFSET) or that a hasty client sends: each replaces one field at a time.
EDGE_VALUES: list[Any] = [
    "\x00",
    "a\ud800",
    "x" * 5000,
    "",
    10**30,
    -(10**30),
    -1,
    0,
    True,
    None,
    1.5,
    float("nan"),
    [],
    {},
    ["a", "\x00"],
    ["\ud800", "b"],
    [""] * 11,
]
EDGE_PARAMS = ["\x00", "99999999999999999999", "-1", "0", "abc", "nan", "x" * 3000]
REQUIRED = {"value": "5", "position": 1}


def _body_schema(spec: dict[str, Any], op: dict[str, Any]) -> dict[str, Any] | None:
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body is None:
        return None
    if "$ref" not in body:  # an optional body: anyOf [$ref, null]
        body = next(b for b in body.get("anyOf", []) if "$ref" in b)
    resolved: dict[str, Any] = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return resolved


def _edge_requests(
    spec: dict[str, Any], session_ids: list[int]
) -> Iterator[tuple[str, str, str, dict[str, Any], Any]]:
    """(method, path template, url, query, json body) with one edge value each."""
    for template, methods in spec["paths"].items():
        if template.endswith("/stream"):
            continue
        for method, op in methods.items():
            url = template.replace("{session_id}", str(session_ids[0]))
            query = {
                p["name"]: p["schema"].get("default", "1")
                for p in op.get("parameters", [])
                if p["in"] == "query" and p.get("required")
            }
            schema = _body_schema(spec, op)
            props = schema["properties"] if schema else {}
            base = {k: v.get("default", REQUIRED.get(k)) for k, v in props.items()}
            if "album" in base:
                base["album"] = ALBUM
            body = base if schema else None
            for value in EDGE_PARAMS if "{session_id}" in template else ():
                yield (
                    method,
                    template,
                    template.replace("{session_id}", quote(value, safe="")),
                    query,
                    body,
                )
            for param in op.get("parameters", []):
                if param["in"] == "query":
                    for value in EDGE_PARAMS:
                        yield method, template, url, {**query, param["name"]: value}, body
            for key in props:
                for value in EDGE_VALUES:
                    yield method, template, url, query, {**base, key: value}


async def test_edge_values_in_every_field_get_a_documented_4xx_or_success(
    fuzz_api: FuzzApi,
) -> None:
    failures: list[str] = []
    requests = list(_edge_requests(fuzz_api.spec, fuzz_api.session_ids))
    for n, (method, template, url, query, body) in enumerate(requests):
        headers = {"Authorization": f"Bearer {fuzz_api.tokens[n % 2]}"}
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(body, allow_nan=True).encode()
        response = await fuzz_api.http.request(
            method.upper(), url, params=query, headers=headers, content=content
        )
        problem = _problem(fuzz_api.spec, method, template, response)
        if problem:
            failures.append(
                f"{method.upper()} {url[:80]} {query} {str(body)[:120]} -> "
                f"{response.status_code} {problem}: {response.text[:160]}"
            )
    assert len(requests) > 300, f"only {len(requests)} edge requests"
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(failures[:10])


def _is_error_body(response: httpx.Response) -> bool:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return False
    return isinstance(error, dict) and bool(error.get("code")) and bool(error.get("message"))
