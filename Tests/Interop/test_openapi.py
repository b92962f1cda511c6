"""The OpenAPI description of the console's JSON API (Sources/MaxIOConsole/Web/openapi.json, served at
GET /api/v1/openapi.json): it is OpenAPI 3.1, it describes exactly the routes that Sources/MaxIOConsole/*.swift
registers (a new route without a spec entry fails here), and every operation in it exists on a running server."""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache

import pytest
import requests

from conftest import REPO_ROOT

SPEC_PATH = REPO_ROOT / "Sources" / "MaxIOConsole" / "Web" / "openapi.json"
SOURCES = REPO_ROOT / "Sources" / "MaxIOConsole"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# The routes that need no session, and what each answers to a request without credentials or body.
PUBLIC = {
    ("post", "/auth/login"): 400,  # username is required
    ("post", "/auth/login/2fa"): 400,  # challenge is required
    ("post", "/auth/logout"): 200,  # with no token: nothing to end
    ("get", "/openapi.json"): 200,
}

# `authed(api, .get, "audit"` (possibly across lines), `api.post("auth/login"`, and routes under /api/v1 put on
# the console's router itself (`router.get("/api/v1/openapi.json"`).
AUTHED_RE = re.compile(r'\bauthed\(\s*api\s*,\s*\.(get|post|put|patch|delete)\s*,\s*"([^"]+)"')
GROUP_RE = re.compile(r'\bapi\.(get|post|put|patch|delete)\(\s*"([^"]+)"')
ROUTER_RE = re.compile(r'\brouter\.(get|post|put|patch|delete)\(\s*"/api/v1/([^"]+)"')
# Ways of registering a route that the expressions above would miss.
OTHER_RE = re.compile(r'\bapi\.(on|add|head|options)\(|\.group\("(?!api/v1")')


@lru_cache(maxsize=1)
def spec() -> dict:
    return json.loads(SPEC_PATH.read_text())


def spec_operations() -> dict[tuple[str, str], dict]:
    return {
        (method, path): op
        for path, item in spec()["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def normalise(path: str) -> str:
    """`tenants/:name` and `tenants/{name}` → `/tenants/{name}`."""
    # `s3/**` (the S3 gateway: the rest of the path) → `/s3/{path}`.
    path = path.replace("**", "{path}")
    return "/" + re.sub(r":([A-Za-z_][A-Za-z0-9_]*)", r"{\1}", path.strip("/"))


def source_routes() -> set[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    for file in sorted(SOURCES.glob("*.swift")):
        text = file.read_text()
        authed = AUTHED_RE.findall(text)
        calls = len(re.findall(r"\bauthed\(", text)) - len(re.findall(r"\bfunc authed\(", text))
        assert calls == len(authed), (
            f"{file.name}: {calls} authed(...) calls but {len(authed)} matched the route pattern "
            "(write them as authed(api, .method, \"path\", ...) or extend this test)"
        )
        other = OTHER_RE.search(text)
        assert other is None, f"{file.name}: a route registered in a way this test does not read: {other.group(0)}"
        for method, path in authed + GROUP_RE.findall(text) + ROUTER_RE.findall(text):
            routes.add((method, normalise(path)))
    return routes


def resolve(ref: str):
    assert ref.startswith("#/"), f"only local references are expected: {ref}"
    node = spec()
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolved reference {ref}"
        node = node[part]
    return node


def walk(node):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)


# --------------------------------------------------------------------------
# The file
# --------------------------------------------------------------------------


def test_spec_is_openapi_31():
    d = spec()
    assert d["openapi"].startswith("3.1."), d["openapi"]
    assert d["info"]["version"] == "0.1.0"
    assert d["info"]["title"]
    assert isinstance(d["paths"], dict) and d["paths"]
    assert d["servers"][0]["url"] == "/api/v1"
    components = d["components"]
    schemes = components["securitySchemes"]
    assert (schemes["bearerAuth"]["type"], schemes["bearerAuth"]["scheme"]) == ("http", "bearer")
    assert [schemes["cookieAuth"][k] for k in ("type", "in", "name")] == ["apiKey", "cookie", "maxiofs_session"]
    assert [schemes["csrfToken"][k] for k in ("type", "in", "name")] == ["apiKey", "header", "X-CSRF-Token"]
    error = components["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert set(error["properties"]["error"]["required"]) == {"code", "message"}

    for node in walk(d):
        if "$ref" in node and isinstance(node["$ref"], str):
            resolve(node["$ref"])

    ids = []
    for (method, path), op in spec_operations().items():
        where = f"{method.upper()} {path}"
        assert path.startswith("/") and not path.startswith("/api/v1"), where
        ids.append(op["operationId"])
        assert op.get("summary"), where
        statuses = set(op["responses"])
        assert "200" in statuses, where
        assert all(re.fullmatch(r"[1-5][0-9][0-9]", s) for s in statuses), where
        for status, resp in op["responses"].items():
            if status >= "400":
                resp = resolve(resp["$ref"]) if "$ref" in resp else resp
                schema = resp["content"]["application/json"]["schema"]
                assert {"$ref": "#/components/schemas/Error"} in schema.get("allOf", [schema]), f"{where} {status}"
        # Path parameters: exactly those of the template, each required.
        declared = {}
        for p in op.get("parameters", []):
            p = resolve(p["$ref"]) if "$ref" in p else p
            assert p["in"] in ("path", "query", "header", "cookie"), where
            if p["in"] == "path":
                assert p["required"] is True, where
                declared[p["name"]] = p
        assert set(declared) == set(re.findall(r"{([^}]+)}", path)), where
        # Security: none (public), or bearer / cookie (+ the CSRF header on state-changing methods).
        security = op.get("security", d["security"])
        if (method, path) in PUBLIC:
            assert security == [], f"{where} is public"
        else:
            cookie = {"cookieAuth": [], "csrfToken": []} if method in ("post", "put", "patch", "delete") else {"cookieAuth": []}
            assert security == [{"bearerAuth": []}, cookie], where
            assert "401" in statuses, where
        for requirement in security:
            assert set(requirement) <= set(schemes), where
    assert len(ids) == len(set(ids)), "operationId values must be unique"
    assert {k for k, op in spec_operations().items() if op.get("security", d["security"]) == []} == set(PUBLIC)


def test_spec_passes_the_validator_when_installed():
    validator = pytest.importorskip("openapi_spec_validator", reason="openapi-spec-validator is not installed")
    validator.validate(spec())


def test_spec_describes_every_route_in_the_sources():
    routes = source_routes()
    assert len(routes) > 40, f"the route scan found too little: {sorted(routes)}"
    described = set(spec_operations())
    missing = sorted(routes - described)
    extra = sorted(described - routes)
    assert not missing, f"routes registered in Sources/MaxIOConsole without an entry in openapi.json: {missing}"
    assert not extra, f"operations in openapi.json that no route in Sources/MaxIOConsole registers: {extra}"


# --------------------------------------------------------------------------
# The running server
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(server):
    r = requests.get(server.console_endpoint + "/api/v1/openapi.json", timeout=10)
    if r.status_code == 404:
        if os.environ.get("CI"):
            pytest.fail("GET /api/v1/openapi.json answers 404 from a binary built from this tree")
        pytest.skip("the server binary predates GET /api/v1/openapi.json: rebuild it to run the live checks")
    return r


def test_served_spec_is_the_file(served):
    assert served.status_code == 200, served.text[:500]
    assert served.headers["Content-Type"].split(";")[0].strip() == "application/json"
    assert served.json() == spec()


def test_every_operation_exists(server, served):
    base = server.console_endpoint + spec()["servers"][0]["url"]
    wrong = []
    for (method, path), op in sorted(spec_operations().items()):
        url = base + re.sub(r"{[^}]+}", "x", path)
        r = requests.request(method.upper(), url, timeout=10, allow_redirects=False)
        expected = PUBLIC.get((method, path), 401)
        if r.status_code != expected:
            wrong.append(f"{method.upper()} {path}: {r.status_code} {r.text[:200]!r} (expected {expected})")
            continue
        if expected == 401:
            assert r.json()["error"]["code"] == "Unauthorized", (method, path, r.text)
        elif expected == 400:
            assert r.json()["error"]["code"] == "InvalidArgument", (method, path, r.text)
        assert str(r.status_code) in op["responses"], f"{method.upper()} {path}: {r.status_code} is not described"
    assert not wrong, "operations the server does not answer as described:\n" + "\n".join(wrong)
