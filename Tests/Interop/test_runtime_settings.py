"""Runtime settings: `GET /api/v1/settings` (the runtime settings with their current and configured values, then
the fixed ones, secrets masked), `PUT /api/v1/settings/{name}` and `DELETE /api/v1/settings/{name}` (applied at
once, kept in the catalog across restarts until reset, audited as settings.update / settings.reset), their errors
(403 for anyone but a global administrator, 409 RestartRequired for a fixed setting, 404 for an unknown one, 400
InvalidArgument for a bad value) and `maxiofs admin settings list|set|reset`; and what each runtime setting does
while the server runs: log.level (the debug request lines), lifecycle.interval (the background pass),
audit.objects, s3.requests_per_second (503 SlowDown per access key and, for anonymous requests, per source
address), s3.max_concurrent_requests (503 SlowDown), console.failed_logins_per_minute (429 TooManyRequests for
every login from an address that has used up its failures) and session.idle_timeout / session.lifetime.

Every test that changes a setting runs on a server of its own (`start_server`), never on the shared session
server, whose other users would feel the change."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import socket
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any, Callable
from unittest import mock

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import (
    ACCESS_KEY,
    ADMIN_PASSWORD,
    SECRET_KEY,
    HttpConnection,
    ServerProcess,
    admin_cli,
    error_fields,
    make_client,
    object_path,
    server_binary,
    raw_request,
    s3_error,
    sign_request,
    start_server,
    stop_and_check,
    unique_name,
    utcnow,
)

RUNTIME = [
    "log.level",
    "lifecycle.interval",
    "audit.objects",
    "s3.requests_per_second",
    "s3.max_concurrent_requests",
    "console.failed_logins_per_minute",
    "session.idle_timeout",
    "session.lifetime",
]
# The settings read at start-up that this file knows, in the order of `maxiofs config print` (ServerConfig.keys
# without the runtime ones); the list the server gives is checked against `config print` itself (see fixed_names),
# so that a setting added later does not break the tests.
KNOWN_FIXED = [
    "data_dir",
    "s3.address",
    "console.address",
    "region",
    "domain",
    "fsync",
    "log.format",
    "lifecycle.day_seconds",
    "tls.cert_file",
    "tls.key_file",
    "s3.tls",
    "console.tls",
    "audit.retention_days",
    "root.access_key",
    "root.secret_key",
    "admin.password",
    "master_key",
    "master_key_file",
    "metrics.token",
]
DEFAULTS = {
    "log.level": "info",
    "lifecycle.interval": "3600",
    "audit.objects": "false",
    "s3.requests_per_second": "0",
    "s3.max_concurrent_requests": "0",
    "console.failed_logins_per_minute": "20",
    "session.idle_timeout": "3600",
    "session.lifetime": "43200",
}
DESCRIPTIONS = {
    "log.level": "log level: trace, debug, info, notice, warning, error, critical",
    "lifecycle.interval": "seconds between lifecycle passes, 0 for none",
    "audit.objects": "also audit object writes and deletes",
    "s3.requests_per_second": "S3 requests per second per access key (anonymous: per source address), 0 for no limit",
    "s3.max_concurrent_requests": "S3 requests answered at once, 0 for no limit",
    "console.failed_logins_per_minute": "failed console logins per minute from one source address, 0 for no limit",
    "session.idle_timeout": "seconds a console session lasts without use",
    "session.lifetime": "seconds a console session lasts at most",
}
METRICS_TOKEN = "Settings-Metrics-Token-0123456789"
PW = "Sett1ngs-Passw0rd!"
NO_RETRY = {"total_max_attempts": 1}
SLOW_DOWN_MESSAGE = "Please reduce your request rate."
RESTART_REQUIRED = "region is read at start-up: change it in the configuration and restart."
TOO_MANY = re.compile(r"^Too many failed logins from this address\. Try again in (\d+) seconds\.$")


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


class Api:
    """A console session (`POST /api/v1/auth/login`) on one server."""

    def __init__(self, server: ServerProcess, name: str = "admin", password: str = ADMIN_PASSWORD):
        self.server = server
        self.name = name
        r = login(server, name, password)
        assert r.status_code == 200, f"login {name}: HTTP {r.status_code} {r.text}"
        self.login_answer = r.json()
        self.token = self.login_answer["token"]

    def call(self, method: str, path: str, body: Any = None, params=None) -> requests.Response:
        return requests.request(
            method,
            self.server.console_endpoint + "/api/v1" + path,
            json=body,
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )

    def ok(self, method: str, path: str, body: Any = None, params=None):
        r = self.call(method, path, body, params)
        assert r.status_code == 200, f"{method} {path}: HTTP {r.status_code} {r.text[:1000]}"
        return r.json()

    def fails(self, method: str, path: str, status: int, code: str, body: Any = None) -> str:
        r = self.call(method, path, body)
        assert r.status_code == status, f"{method} {path}: expected {status}, got {r.status_code} {r.text[:1000]}"
        err = r.json()["error"]
        assert err["code"] == code, err
        return err["message"]

    def settings(self) -> list[dict]:
        return self.ok("GET", "/settings")

    def setting(self, name: str) -> dict:
        matches = [s for s in self.settings() if s["name"] == name]
        assert len(matches) == 1, matches
        return matches[0]

    def set(self, name: str, value: Any) -> dict:
        return self.ok("PUT", f"/settings/{name}", {"value": value})

    def reset(self, name: str) -> dict:
        return self.ok("DELETE", f"/settings/{name}")

    def audit(self, **params) -> list[dict]:
        """Entries matching params, oldest first."""
        return list(reversed(self.ok("GET", "/audit", params=dict(params, limit=1000))["entries"]))


class SourceConnection(HttpConnection):
    """An HTTP connection to 127.0.0.1 from another loopback address (127.0.0.2: another client address)."""

    def __init__(self, port: int, source: str, timeout: float = 30.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
        self.buf = b""


class _Answer:
    def __init__(self, status_code: int, body: bytes):
        self.status_code = status_code
        self.text = body.decode()

    def json(self):
        return json.loads(self.text)


def login(server: ServerProcess, name: str, password: str, source: str | None = None):
    """POST /api/v1/auth/login; with `source`, from that loopback address."""
    if source is None:
        return requests.post(
            server.console_endpoint + "/api/v1/auth/login", json={"username": name, "password": password}, timeout=30
        )
    body = json.dumps({"username": name, "password": password}).encode()
    with SourceConnection(server.console_port, source) as conn:
        conn.send_head(
            "POST", "/api/v1/auth/login",
            {"Host": f"127.0.0.1:{server.console_port}", "Content-Type": "application/json",
             "Content-Length": str(len(body)), "Connection": "close"},
        )
        conn.send(body)
        resp = conn.read_response("POST")
    return _Answer(resp.status, resp.body)


_FIXED: list[str] = []


def fixed_names() -> list[str]:
    """The fixed settings of this build, in order: every setting `maxiofs config print` names, less the runtime
    ones."""
    if not _FIXED:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAXIOFS_")}
        proc = subprocess.run(
            [server_binary(), "config", "print"], capture_output=True, text=True, timeout=60, env=env,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, proc.stderr
        printed = [line.split(" = ")[0].removeprefix("# ") for line in proc.stdout.splitlines()[1:] if line]
        assert [k for k in printed if k in RUNTIME] == RUNTIME, printed
        _FIXED.extend(k for k in printed if k not in RUNTIME)
        assert [k for k in _FIXED if k in KNOWN_FIXED] == KNOWN_FIXED, _FIXED
    return _FIXED


def by_name(settings: list[dict]) -> dict[str, dict]:
    return {s["name"]: s for s in settings}


def poll(condition: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def exists(client, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise
    return True


def outcome(call: Callable[[], Any]) -> str:
    """"ok" when the call succeeds, else the S3 error code with its status ("503 SlowDown")."""
    try:
        call()
    except ClientError as exc:
        return f"{exc.response['ResponseMetadata']['HTTPStatusCode']} {exc.response['Error'].get('Code')}"
    return "ok"


@contextlib.contextmanager
def own_server(tmp_path: Path, *args: str, env: dict[str, str] | None = None, **kw):
    with mock.patch.dict(os.environ, env or {}):
        srv = start_server(tmp_path, extra_args=args, **kw)
    try:
        yield srv
    finally:
        stop_and_check(srv)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """A server of this module's own, whose settings the tests change (each test puts back what it changed)."""
    base = tmp_path_factory.mktemp("settings")
    with mock.patch.dict(os.environ, {"MAXIOFS_METRICS_TOKEN": METRICS_TOKEN}):
        server = start_server(base)
    try:
        yield server
    finally:
        stop_and_check(server)


@pytest.fixture(scope="module")
def admin(srv) -> Api:
    return Api(srv)


@pytest.fixture(scope="module")
def tenant_users(srv, admin) -> dict[str, str]:
    """A second global administrator, and a tenant's tenant-admin, user and readonly: role -> user name."""
    tenant = unique_name("st")
    admin.ok("POST", "/tenants", {"name": tenant})
    names = {}
    for role in ("tenant-admin", "user", "readonly"):
        name = unique_name(role.replace("-", ""))
        admin.ok("POST", "/users", {"name": name, "password": PW, "tenant": tenant, "role": role})
        names[role] = name
    names["admin"] = unique_name("admin2")
    admin.ok("POST", "/users", {"name": names["admin"], "password": PW, "role": "admin"})
    return names


@pytest.fixture
def restore(admin):
    """Resets every runtime setting after the test."""
    yield
    for name in RUNTIME:
        admin.reset(name)


# --------------------------------------------------------------------------
# The list
# --------------------------------------------------------------------------


def test_list_shows_runtime_settings_then_fixed_ones_with_secrets_masked(srv, admin):
    r = admin.call("GET", "/settings")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    settings = r.json()
    assert [s["name"] for s in settings] == RUNTIME + fixed_names()
    for s in settings[: len(RUNTIME)]:
        assert set(s) == {"name", "value", "configured", "source", "dynamic", "description"}, s
        assert s["value"] == s["configured"] == DEFAULTS[s["name"]], s
        assert s["source"] == "configuration" and s["dynamic"] is True, s
        assert s["description"] == DESCRIPTIONS[s["name"]], s
    fixed = by_name(settings[len(RUNTIME) :])
    for s in fixed.values():
        assert set(s) == {"name", "value", "source", "dynamic", "restart_required", "description"}, s
        assert s["source"] == "configuration" and s["dynamic"] is False and s["restart_required"] is True, s
        assert isinstance(s["value"], str) and s["description"], s
    # The values as the server runs with them, as `config print` shows them; secrets that are set are masked,
    # unset settings are empty.
    assert fixed["data_dir"]["value"] == str(srv.data_dir)
    assert fixed["s3.address"]["value"] == f"127.0.0.1:{srv.s3_port}"
    assert fixed["console.address"]["value"] == f"127.0.0.1:{srv.console_port}"
    assert fixed["region"]["value"] == "us-east-1"
    assert fixed["region"]["description"] == "region name"
    assert fixed["fsync"]["value"] == "true"
    assert fixed["log.format"]["value"] == "text"
    assert fixed["lifecycle.day_seconds"]["value"] == "86400"
    assert fixed["audit.retention_days"]["value"] == "90"
    assert fixed["root.access_key"]["value"] == ACCESS_KEY
    for secret in ("root.secret_key", "admin.password", "metrics.token"):
        assert fixed[secret]["value"] == "********", fixed[secret]
    for unset in ("domain", "tls.cert_file", "tls.key_file", "master_key", "master_key_file"):
        assert fixed[unset]["value"] == "", fixed[unset]
    for secret in (SECRET_KEY, ADMIN_PASSWORD, METRICS_TOKEN):
        assert secret not in r.text


def test_only_global_administrators_use_the_settings(srv, admin, tenant_users):
    for role in ("tenant-admin", "user", "readonly"):
        user = Api(srv, tenant_users[role], PW)
        for method, path, body in (
            ("GET", "/settings", None),
            ("PUT", "/settings/log.level", {"value": "debug"}),
            ("DELETE", "/settings/log.level", None),
            ("PUT", "/settings/region", {"value": "x"}),
        ):
            message = user.fails(method, path, 403, "AccessDenied", body)
            assert message == "Only global administrators manage settings.", (role, method, message)
        denied = admin.audit(user=tenant_users[role], action="settings.*")
        assert [(e["action"], e["resource"], e["result"]) for e in denied] == [
            ("settings.update", "settings/log.level", "denied"),
            ("settings.reset", "settings/log.level", "denied"),
            ("settings.update", "settings/region", "denied"),
        ], denied
    assert admin.setting("log.level")["value"] == "info"
    # Without a session: 401.
    r = requests.get(srv.console_endpoint + "/api/v1/settings", timeout=30)
    assert r.status_code == 401 and r.json()["error"]["code"] == "Unauthorized"
    # Any global administrator may, not only `admin`.
    other = Api(srv, tenant_users["admin"], PW)
    try:
        assert [s["name"] for s in other.settings()] == RUNTIME + fixed_names()
        assert other.set("log.level", "notice") == {"name": "log.level", "value": "notice", "source": "runtime"}
        assert admin.setting("log.level")["value"] == "notice"
    finally:
        assert other.reset("log.level") == {"name": "log.level", "value": "info", "source": "configuration"}


def test_set_and_reset_round_trip_and_are_audited(admin, restore):
    before = admin.audit(action="settings.*")
    answer = admin.set("session.idle_timeout", "600")
    assert answer == {"name": "session.idle_timeout", "value": "600", "source": "runtime"}
    s = admin.setting("session.idle_timeout")
    assert (s["value"], s["configured"], s["source"]) == ("600", "3600", "runtime")
    # Values are stored and shown normalised; JSON integers and booleans are taken as their text.
    assert admin.set("lifecycle.interval", "1e3")["value"] == "1000"
    assert admin.set("lifecycle.interval", "0.5")["value"] == "0.5"
    assert admin.set("s3.max_concurrent_requests", 5)["value"] == "5"
    assert admin.set("audit.objects", True)["value"] == "true"
    assert admin.set("audit.objects", "off")["value"] == "false"
    assert admin.set("log.level", "WARNING")["value"] == "warning"
    # Setting the configured value is still a runtime value, until it is reset.
    assert admin.set("session.lifetime", "43200") == {"name": "session.lifetime", "value": "43200", "source": "runtime"}
    assert admin.setting("session.lifetime")["source"] == "runtime"
    answer = admin.reset("session.idle_timeout")
    assert answer == {"name": "session.idle_timeout", "value": "3600", "source": "configuration"}
    s = admin.setting("session.idle_timeout")
    assert (s["value"], s["configured"], s["source"]) == ("3600", "3600", "configuration")
    # Resetting what is not set is fine.
    assert admin.reset("session.idle_timeout")["source"] == "configuration"
    entries = admin.audit(action="settings.*")[len(before) :]
    brief = [(e["action"], e["resource"], e["result"], e["detail"], e["user"]) for e in entries]
    assert brief[0] == ("settings.update", "settings/session.idle_timeout", "success", {"value": "600"}, "admin")
    assert brief[1] == ("settings.update", "settings/lifecycle.interval", "success", {"value": "1e3"}, "admin")
    assert brief[3] == ("settings.update", "settings/s3.max_concurrent_requests", "success", {"value": "5"}, "admin")
    assert brief[4] == ("settings.update", "settings/audit.objects", "success", {"value": "true"}, "admin")
    assert brief[-2:] == [
        ("settings.reset", "settings/session.idle_timeout", "success", None, "admin"),
        ("settings.reset", "settings/session.idle_timeout", "success", None, "admin"),
    ]


def test_a_fixed_setting_needs_a_restart(admin):
    for method, body in (("PUT", {"value": "eu-west-1"}), ("DELETE", None)):
        assert admin.fails(method, "/settings/region", 409, "RestartRequired", body) == RESTART_REQUIRED
    for name in ("data_dir", "log.format", "lifecycle.day_seconds", "metrics.token", "audit.retention_days"):
        message = admin.fails("PUT", f"/settings/{name}", 409, "RestartRequired", {"value": "1"})
        assert message == f"{name} is read at start-up: change it in the configuration and restart."
    assert by_name(admin.settings())["region"]["value"] == "us-east-1"
    failed = admin.audit(action="settings.*", result="failure")[-1]
    assert (failed["resource"], failed["detail"]) == ("settings/audit.retention_days", {"error": "RestartRequired", "value": "1"})


def test_an_unknown_setting_is_404(srv, admin):
    for method, body in (("PUT", {"value": "1"}), ("DELETE", None)):
        assert admin.fails(method, "/settings/no.such_setting", 404, "NotFound", body) == "No setting no.such_setting."
    # There is no GET of one setting: no route, an empty 404.
    r = admin.call("GET", "/settings/log.level")
    assert r.status_code == 404 and r.content == b""


BAD_VALUES = [
    ("log.level", "loud", "expected one of trace, debug, info, notice, warning, error, critical, got 'loud'"),
    ("lifecycle.interval", "-1", "expected seconds (0 turns it off), got '-1'"),
    ("lifecycle.interval", "2e9", "expected seconds (0 turns it off), got '2e9'"),
    ("lifecycle.interval", "soon", "expected seconds (0 turns it off), got 'soon'"),
    ("lifecycle.interval", "inf", "expected seconds (0 turns it off), got 'inf'"),
    ("audit.objects", "maybe", "expected true or false, got 'maybe'"),
    ("s3.requests_per_second", "-1", "expected requests per second from 0 (no limit) to 1000000, got '-1'"),
    ("s3.requests_per_second", "1000001", "expected requests per second from 0 (no limit) to 1000000, got '1000001'"),
    ("s3.requests_per_second", "nan", "expected requests per second from 0 (no limit) to 1000000, got 'nan'"),
    ("s3.max_concurrent_requests", "1.5", "expected a count from 0 (no limit) to 1000000, got '1.5'"),
    ("s3.max_concurrent_requests", "-1", "expected a count from 0 (no limit) to 1000000, got '-1'"),
    ("console.failed_logins_per_minute", "100001", "expected a count from 0 (no limit) to 100000, got '100001'"),
    ("console.failed_logins_per_minute", "", "expected a count from 0 (no limit) to 100000, got ''"),
    ("session.idle_timeout", "59", "expected seconds from 60 to 2592000, got '59'"),
    ("session.idle_timeout", "2592001", "expected seconds from 60 to 2592000, got '2592001'"),
    ("session.lifetime", "59", "expected seconds from 60 to 31536000, got '59'"),
    ("session.lifetime", "31536001", "expected seconds from 60 to 31536000, got '31536001'"),
    ("session.lifetime", True, "expected seconds from 60 to 31536000, got 'true'"),
]


def test_bad_values_are_400_naming_the_setting_and_change_nothing(admin):
    before = {s["name"]: s for s in admin.settings()}
    for name, value, problem in BAD_VALUES:
        message = admin.fails("PUT", f"/settings/{name}", 400, "InvalidArgument", {"value": value})
        assert message == f"{name}: {problem}", (name, value)
    for body in ({}, {"value": None}):
        assert admin.fails("PUT", "/settings/log.level", 400, "InvalidArgument", body) == "value is required."
    # A number with a fraction is not a plain JSON value of the API: write it as a string.
    admin.fails("PUT", "/settings/lifecycle.interval", 400, "InvalidJSON", {"value": 0.5})
    assert {s["name"]: s for s in admin.settings()} == before
    last = admin.audit(action="settings.update", result="failure")[-1]
    assert last["detail"] == {"error": "InvalidJSON"}, last


# --------------------------------------------------------------------------
# Where the values come from, and persistence
# --------------------------------------------------------------------------


def test_configured_values_from_file_environment_and_flag(tmp_path):
    config = tmp_path / "maxiofs.toml"
    config.write_text("[audit]\nobjects = true\n[session]\nlifetime = 7200\n")
    env = {"MAXIOFS_S3_MAX_CONCURRENT_REQUESTS": "7", "MAXIOFS_SESSION_LIFETIME": ""}
    args = ("--config", str(config), "--session-idle-timeout", "120", "--console-failed-logins-per-minute", "3")
    with own_server(tmp_path, *args, env=env) as server:
        api = Api(server)
        got = {s["name"]: (s["value"], s["configured"], s["source"]) for s in api.settings() if s["dynamic"]}
        assert got == {
            "log.level": ("info", "info", "configuration"),
            "lifecycle.interval": ("3600", "3600", "configuration"),
            "audit.objects": ("true", "true", "configuration"),
            "s3.requests_per_second": ("0", "0", "configuration"),
            "s3.max_concurrent_requests": ("7", "7", "configuration"),
            "console.failed_logins_per_minute": ("3", "3", "configuration"),
            "session.idle_timeout": ("120", "120", "configuration"),
            "session.lifetime": ("7200", "7200", "configuration"),
        }
        # A runtime value wins over the configured one; reset goes back to the configured value, not the default.
        api.set("session.idle_timeout", "900")
        s = api.setting("session.idle_timeout")
        assert (s["value"], s["configured"], s["source"]) == ("900", "120", "runtime")
        assert api.reset("session.idle_timeout")["value"] == "120"
        assert api.reset("audit.objects")["value"] == "true"


def test_runtime_values_survive_a_restart_and_win_over_the_configuration(tmp_path):
    data = tmp_path / "data"
    with own_server(tmp_path, "--session-idle-timeout", "120", data_dir=data, log_name="first.log") as first:
        api = Api(first)
        api.set("session.idle_timeout", "900")
        api.set("log.level", "warning")
        api.set("s3.requests_per_second", "250")
        api.set("lifecycle.interval", "120")
        api.reset("lifecycle.interval")
    rows = sqlite3.connect(data / "meta.sqlite").execute(
        "SELECT name, value, updated_by FROM settings ORDER BY name"
    ).fetchall()
    assert rows == [
        ("log.level", "warning", "admin"),
        ("s3.requests_per_second", "250", "admin"),
        ("session.idle_timeout", "900", "admin"),
    ]
    # Started again with another configured value: the stored value still wins, the new configured value shows.
    with own_server(tmp_path, "--session-idle-timeout", "300", data_dir=data, log_name="second.log") as second:
        api = Api(second)
        got = {s["name"]: (s["value"], s["configured"], s["source"]) for s in api.settings() if s["dynamic"]}
        assert got["session.idle_timeout"] == ("900", "300", "runtime")
        assert got["log.level"] == ("warning", "info", "runtime")
        assert got["s3.requests_per_second"] == ("250", "0", "runtime")
        assert got["lifecycle.interval"] == ("3600", "3600", "configuration")
        assert api.reset("session.idle_timeout") == {
            "name": "session.idle_timeout", "value": "300", "source": "configuration"
        }
        api.reset("s3.requests_per_second")
    with own_server(tmp_path, data_dir=data, log_name="third.log") as third:
        got = {s["name"]: (s["value"], s["source"]) for s in Api(third).settings() if s["dynamic"]}
        assert got["session.idle_timeout"] == ("3600", "configuration")
        assert got["s3.requests_per_second"] == ("0", "configuration")
        assert got["log.level"] == ("warning", "runtime")


def test_a_stored_value_that_no_longer_parses_is_dropped_with_a_warning(tmp_path):
    data = tmp_path / "data"
    with own_server(tmp_path, data_dir=data, log_name="first.log") as first:
        Api(first).set("session.lifetime", "7200")
    db = sqlite3.connect(data / "meta.sqlite")
    with db:
        db.execute("UPDATE settings SET value = 'forever' WHERE name = 'session.lifetime'")
        db.execute(
            "INSERT INTO settings(name, value, updated_at, updated_by) VALUES ('log.level', 'debug', 0, 'admin'), "
            "('gone.setting', '1', 0, 'admin')"
        )
    db.close()
    with own_server(tmp_path, data_dir=data, log_name="second.log") as second:
        got = {s["name"]: (s["value"], s["source"]) for s in Api(second).settings() if s["dynamic"]}
        assert got["session.lifetime"] == ("43200", "configuration")
        assert got["log.level"] == ("debug", "runtime")
        log = second.log()
        warnings = [line for line in log.splitlines() if "a stored runtime setting was dropped" in line]
        assert len(warnings) == 2, log
        assert any(
            "session.lifetime = 'forever' from the catalog ignored: expected seconds from 60 to 31536000, got 'forever'"
            in line and " warning " in line
            for line in warnings
        ), warnings
        assert any("gone.setting = '1' from the catalog ignored" in line for line in warnings), warnings
    rows = sqlite3.connect(data / "meta.sqlite").execute("SELECT name FROM settings ORDER BY name").fetchall()
    assert rows == [("log.level",)]


# --------------------------------------------------------------------------
# log.level
# --------------------------------------------------------------------------


def request_line_logged(server: ServerProcess, request_id: str) -> bool:
    return any(
        f"request_id={request_id}" in line and " debug " in line and line.endswith(" request")
        for line in server.log().splitlines()
    )


def test_log_level_debug_at_run_time_logs_request_lines(srv, admin, restore):
    s3 = make_client(srv.endpoint)
    quiet = s3.list_buckets()["ResponseMetadata"]["RequestId"]
    admin.set("log.level", "debug")
    loud = s3.list_buckets()["ResponseMetadata"]["RequestId"]
    assert poll(lambda: request_line_logged(srv, loud), timeout=5), srv.log()[-3000:]
    assert not request_line_logged(srv, quiet)
    admin.reset("log.level")
    after = s3.list_buckets()["ResponseMetadata"]["RequestId"]
    time.sleep(0.3)
    assert not request_line_logged(srv, after), srv.log()[-3000:]
    # And through the CLI, as `trace`, which includes debug.
    admin_cli(srv, "settings", "set", "log.level", "trace")
    traced = s3.list_buckets()["ResponseMetadata"]["RequestId"]
    assert poll(lambda: request_line_logged(srv, traced), timeout=5)


# --------------------------------------------------------------------------
# audit.objects
# --------------------------------------------------------------------------


def test_audit_objects_at_run_time(srv, admin, restore):
    s3 = make_client(srv.endpoint)
    bucket = unique_name("st-audit")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="before", Body=b"x")
    admin.set("audit.objects", "true")
    s3.put_object(Bucket=bucket, Key="during", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="during")
    admin.reset("audit.objects")
    s3.put_object(Bucket=bucket, Key="after", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="after")
    entries = [e for e in admin.audit(action="object.*") if e["resource"].startswith(f"/{bucket}")]
    assert [(e["action"], e["resource"], e["result"]) for e in entries] == [
        ("object.write", f"/{bucket}/during", "success"),
        ("object.delete", f"/{bucket}/during", "success"),
    ], entries
    s3.delete_object(Bucket=bucket, Key="before")
    s3.delete_bucket(Bucket=bucket)


# --------------------------------------------------------------------------
# s3.requests_per_second
# --------------------------------------------------------------------------


def burst(call: Callable[[], Any], n: int) -> list[str]:
    return [outcome(call) for _ in range(n)]


def test_requests_per_second_per_access_key(srv, admin, restore):
    s3 = make_client(srv.endpoint, retries=NO_RETRY)
    key = admin.ok("POST", "/access-keys", {})
    other = make_client(srv.endpoint, key["access_key_id"], key["secret_access_key"], retries=NO_RETRY)
    try:
        assert admin.set("s3.requests_per_second", "2")["value"] == "2"
        # A burst of 2 (max(1, rate)), then SlowDown until a token is earned back (every half second).
        got = burst(s3.list_buckets, 8)
        assert got[:2] == ["ok", "ok"], got
        assert "503 SlowDown" in got[2:], got
        assert set(got) <= {"ok", "503 SlowDown"} and got.count("ok") <= 3, got
        # Another access key has its own bucket of tokens.
        assert burst(other.list_buckets, 2) == ["ok", "ok"]
        # The refusal is an S3 error document.
        url, headers = sign_request(srv, "GET", "/")
        r = requests.get(url, headers=headers, timeout=30)
        assert r.status_code == 503, r.text
        fields = error_fields(r.content)
        assert (fields["Code"], fields["Message"]) == ("SlowDown", SLOW_DOWN_MESSAGE), fields
        assert r.headers["x-amz-request-id"] == fields["RequestId"]
        # After a second the key has its burst again.
        time.sleep(1.05)
        assert burst(s3.list_buckets, 2) == ["ok", "ok"]
        # Back to the configured 0: no limit.
        assert admin.reset("s3.requests_per_second")["value"] == "0"
        assert burst(s3.list_buckets, 20) == ["ok"] * 20
    finally:
        admin.ok("DELETE", f"/access-keys/{key['access_key_id']}")


def test_requests_per_second_anonymous_per_source_address(srv, admin, restore):
    s3 = make_client(srv.endpoint, retries=NO_RETRY)
    bucket = unique_name("st-anon")
    s3.create_bucket(Bucket=bucket)
    try:
        admin.set("s3.requests_per_second", "1")
        # The limiter keeps each key's tokens across changes of the limit: let the root key, which the test
        # before used up, earn its token back.
        time.sleep(1.05)

        def anonymous(source: str) -> int:
            with SourceConnection(srv.s3_port, source) as conn:
                conn.send_head("GET", f"/{bucket}?list-type=2", {"Host": srv.host, "Connection": "close"})
                resp = conn.read_response()
            if resp.status == 503:
                assert error_fields(resp.body)["Code"] == "SlowDown"
            return resp.status

        # Anonymous requests are limited per source address, before authorization (403 AccessDenied otherwise).
        got = [anonymous("127.0.0.1") for _ in range(4)]
        assert got[0] == 403 and 503 in got[1:], got
        assert anonymous("127.0.0.2") == 403, "another source address has its own bucket of tokens"
        # The signed requests of the access key are not affected by the anonymous ones.
        assert outcome(lambda: s3.list_objects_v2(Bucket=bucket)) == "ok"
    finally:
        admin.reset("s3.requests_per_second")
        s3.delete_bucket(Bucket=bucket)


# --------------------------------------------------------------------------
# s3.max_concurrent_requests
# --------------------------------------------------------------------------


class HeldPut:
    """A PutObject whose body is sent in two halves, the second only when `finish` is called: the request is in
    flight all that time."""

    def __init__(self, server: ServerProcess, bucket: str, key: str, size: int = 1 << 20):
        self.body = os.urandom(size)
        url, headers = sign_request(
            server, "PUT", object_path(bucket, key), headers={"Content-Length": str(size)},
            content_sha256="UNSIGNED-PAYLOAD",
        )
        self.conn = HttpConnection(server.s3_port, timeout=30)
        self.conn.send_head("PUT", url[len(server.endpoint) :], dict(headers, Host=server.host))
        self.conn.send(self.body[: size // 2])

    def finish(self):
        self.conn.send(self.body[len(self.body) // 2 :])
        resp = self.conn.read_response("PUT")
        self.conn.close()
        return resp


def test_max_concurrent_requests(srv, admin, restore):
    s3 = make_client(srv.endpoint, retries=NO_RETRY)
    bucket = unique_name("st-conc")
    s3.create_bucket(Bucket=bucket)
    try:
        assert admin.set("s3.max_concurrent_requests", "1")["value"] == "1"
        assert outcome(lambda: s3.list_objects_v2(Bucket=bucket)) == "ok", "one request at a time is allowed"
        held = HeldPut(srv, bucket, "held")
        time.sleep(0.3)  # the server has the head and is reading the body
        assert outcome(lambda: s3.list_objects_v2(Bucket=bucket)) == "503 SlowDown"
        assert outcome(lambda: s3.get_object(Bucket=bucket, Key="held")) == "503 SlowDown"
        # A refused upload: its body is not read, and the client's connection is still usable afterwards.
        assert outcome(lambda: s3.put_object(Bucket=bucket, Key="refused", Body=os.urandom(300_000))) == "503 SlowDown"
        # Also before the signature is checked: an anonymous request is refused the same way.
        r = raw_request(srv, "GET", f"/{bucket}", sign=False)
        assert r.status_code == 503 and error_fields(r.content)["Code"] == "SlowDown", r.text
        resp = held.finish()
        assert resp.status == 200, resp.body
        assert outcome(lambda: s3.list_objects_v2(Bucket=bucket)) == "ok"
        assert s3.get_object(Bucket=bucket, Key="held")["Body"].read() == held.body
        assert not exists(s3, bucket, "refused")
        s3.put_object(Bucket=bucket, Key="refused", Body=b"now")
        # A download counts until its response head is ready, not while its body is sent.
        s3.put_object(Bucket=bucket, Key="big", Body=os.urandom(16 << 20))
        url, headers = sign_request(srv, "GET", object_path(bucket, "big"))
        with HttpConnection(srv.s3_port) as download:
            download.send_head("GET", object_path(bucket, "big"), dict(headers, Host=srv.host))
            assert download.read_head()[0] == 200
            time.sleep(0.3)  # the body is not read: the server is blocked sending it
            assert outcome(lambda: s3.list_objects_v2(Bucket=bucket)) == "ok"
        # Reset: no limit, two at once again.
        assert admin.reset("s3.max_concurrent_requests")["value"] == "0"
        held = HeldPut(srv, bucket, "held2")
        time.sleep(0.3)
        assert outcome(lambda: s3.list_objects_v2(Bucket=bucket)) == "ok"
        assert held.finish().status == 200
    finally:
        for k in ("held", "held2", "refused", "big"):
            s3.delete_object(Bucket=bucket, Key=k)
        s3.delete_bucket(Bucket=bucket)


# --------------------------------------------------------------------------
# console.failed_logins_per_minute
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def login_srv(tmp_path_factory):
    base = tmp_path_factory.mktemp("settings-login")
    server = start_server(base, extra_args=["--console-failed-logins-per-minute", "3"])
    try:
        yield server
    finally:
        stop_and_check(server)


def test_successful_logins_cost_nothing(login_srv):
    for _ in range(12):
        r = login(login_srv, "admin", ADMIN_PASSWORD)
        assert r.status_code == 200, r.text


def test_failed_logins_per_minute_from_one_address(login_srv):
    admin = Api(login_srv)  # a session made before the limit is reached keeps working
    admin.ok("POST", "/users", {"name": "victim", "password": PW, "role": "admin"})
    for _ in range(3):
        r = login(login_srv, "victim", "Wrong-Passw0rd!")
        assert r.status_code == 403 and r.json()["error"]["code"] == "AccessDenied", r.text
    # Now every login from this address is refused before the password is checked, the right one included.
    attempts = [("admin", ADMIN_PASSWORD), ("victim", PW), ("nobody", "x")] + [("victim", "Wrong-Passw0rd!")] * 3
    for name, password in attempts:
        r = login(login_srv, name, password)
        assert r.status_code == 429, (name, r.status_code, r.text)
        err = r.json()["error"]
        assert err["code"] == "TooManyRequests", err
        m = TOO_MANY.match(err["message"])
        assert m and 1 <= int(m.group(1)) <= 20, err["message"]
    proc = admin_cli(login_srv, "settings", "list", check=False)
    assert proc.returncode == 1
    assert re.fullmatch(
        r"error: Too many failed logins from this address\. Try again in \d+ seconds\. \(TooManyRequests\)",
        proc.stderr.strip(),
    ), proc.stderr
    # The refused attempts are audited as denied logins and did not count towards the account lockout.
    refused = [e for e in admin.audit(action="login", result="denied")]
    assert [(e["user"], e["resource"], e["detail"], e["source_ip"]) for e in refused] == [
        (name, f"users/{name}", {"reason": "too many failed logins from this address"}, "127.0.0.1")
        for name in [name for name, _ in attempts] + ["admin"]
    ], refused
    assert all(e["user_id"] is None and e["tenant_id"] is None for e in refused), refused
    # Six wrong passwords in all, but only the first three were checked (five would have locked the account).
    failures = admin.audit(action="login", result="failure", user="victim")
    assert [e["detail"]["reason"] for e in failures] == ["wrong password"] * 3
    assert admin.ok("GET", "/users/victim")["locked"] is False
    # Another source address is not affected.
    r = login(login_srv, "admin", ADMIN_PASSWORD, source="127.0.0.2")
    assert r.status_code == 200, r.text
    # The limit changes at run time: at 60 a minute a token comes back within a second.
    admin.set("console.failed_logins_per_minute", "60")
    r = login(login_srv, "admin", ADMIN_PASSWORD)
    if r.status_code == 429:
        assert r.json()["error"]["message"] == "Too many failed logins from this address. Try again in 1 seconds."
        time.sleep(1.05)
        r = login(login_srv, "admin", ADMIN_PASSWORD)
    assert r.status_code == 200, r.text
    # 0: no limit; failures are then not counted either.
    admin.set("console.failed_logins_per_minute", "3")
    for _ in range(3):
        login(login_srv, "nobody", "x")
    assert login(login_srv, "admin", ADMIN_PASSWORD).status_code == 429
    admin.set("console.failed_logins_per_minute", "0")
    for _ in range(5):
        assert login(login_srv, "nobody", "x").status_code == 403
    assert login(login_srv, "admin", ADMIN_PASSWORD).status_code == 200
    assert login(login_srv, "victim", PW).status_code == 200
    assert admin.reset("console.failed_logins_per_minute")["value"] == "3"


# --------------------------------------------------------------------------
# session.idle_timeout and session.lifetime
# --------------------------------------------------------------------------


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_session_settings_apply_to_new_logins(srv, admin, restore):
    assert admin.set("session.idle_timeout", "60")["value"] == "60"
    s = admin.setting("session.idle_timeout")
    assert (s["value"], s["configured"], s["source"]) == ("60", "3600", "runtime")
    assert admin.set("session.lifetime", "90")["value"] == "90"
    before = utcnow()
    fresh = Api(srv)
    expires = parse_time(fresh.login_answer["expires_at"])
    assert dt.timedelta(seconds=88) <= expires - before <= dt.timedelta(seconds=92), (before, expires)
    admin.reset("session.lifetime")
    again = Api(srv)
    expires = parse_time(again.login_answer["expires_at"])
    assert dt.timedelta(hours=12) - dt.timedelta(seconds=5) <= expires - utcnow() <= dt.timedelta(hours=12)
    # Sessions made before the change keep the end they were given at login.
    assert parse_time(fresh.login_answer["expires_at"]) < expires


def test_a_busy_session_outlives_the_minimum_idle_timeout(tmp_path):
    with own_server(tmp_path) as server:
        admin = Api(server)
        admin.set("session.idle_timeout", "60")
        busy = Api(server)
        started = time.monotonic()
        while time.monotonic() - started < 68:
            r = busy.call("GET", "/me")
            assert r.status_code == 200, (
                f"a session used every 4 s ended {time.monotonic() - started:.0f} s after login with "
                f"session.idle_timeout 60: HTTP {r.status_code} {r.text}"
            )
            time.sleep(4)


# --------------------------------------------------------------------------
# lifecycle.interval
# --------------------------------------------------------------------------


def expiring_bucket(s3, key: str) -> str:
    bucket = unique_name("st-lc")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=b"expires")
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [{"ID": "all", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]
        },
    )
    return bucket


def test_lifecycle_interval_0_at_run_time_stops_the_passes(tmp_path):
    with own_server(tmp_path, "--lifecycle-interval", "1", "--lifecycle-day-seconds", "1") as server:
        api = Api(server)
        s3 = make_client(server.endpoint)
        assert api.set("lifecycle.interval", "0")["value"] == "0"
        time.sleep(1.2)  # the pass that was waiting wakes and sees 0
        bucket = expiring_bucket(s3, "stays")
        time.sleep(4)  # four "days": a pass a second would have expired it
        assert exists(s3, bucket, "stays")
        # Back to 1 (the worker now waits up to a minute before it reads the interval again, so no check of the
        # restart of the passes here: see the next test).
        assert api.reset("lifecycle.interval")["value"] == "1"


def test_lifecycle_interval_shortened_at_run_time_starts_the_passes(tmp_path):
    """The worker waits at most a minute before it reads the interval again, so a server configured with an
    hour (or 0) starts its passes within about a minute of the change."""
    with own_server(tmp_path, "--lifecycle-day-seconds", "1") as server:
        started = time.monotonic()
        api = Api(server)
        s3 = make_client(server.endpoint)
        bucket = expiring_bucket(s3, "expires")
        assert api.set("lifecycle.interval", "1")["value"] == "1"
        assert poll(lambda: not exists(s3, bucket, "expires"), timeout=75, step=0.5), (
            "the background pass did not run after lifecycle.interval became 1"
        )
        assert time.monotonic() - started <= 65
        # And then once a second: a new object expires within a few seconds.
        s3.put_object(Bucket=bucket, Key="second", Body=b"x")
        assert poll(lambda: not exists(s3, bucket, "second"), timeout=6), "no pass a second after the change"
        assert "lifecycle pass failed" not in server.log()


# --------------------------------------------------------------------------
# The CLI
# --------------------------------------------------------------------------


def test_cli_settings_list_set_reset(srv, admin, tenant_users, restore):
    listed = admin_cli(srv, "settings", "list")
    assert listed == admin.settings()
    assert admin_cli(srv, "settings", "set", "s3.requests_per_second", "1000") == {
        "name": "s3.requests_per_second", "value": "1000", "source": "runtime"
    }
    assert admin.setting("s3.requests_per_second")["value"] == "1000"
    text = admin_cli(srv, "settings", "list", json_out=False).stdout.splitlines()
    assert len(text) == len(RUNTIME) + len(fixed_names())
    assert text[0] == "name=log.level value=info source=configuration dynamic=1 configured=info"
    assert text[3] == "name=s3.requests_per_second value=1000 source=runtime dynamic=1 configured=0"
    assert text[len(RUNTIME)] == f"name=data_dir value={srv.data_dir} source=configuration dynamic=0 configured=-"
    assert "name=root.secret_key value=******** source=configuration dynamic=0 configured=-" in text
    out = admin_cli(srv, "settings", "reset", "s3.requests_per_second", json_out=False).stdout
    assert out.strip() == "name=s3.requests_per_second value=0 source=configuration"
    out = admin_cli(srv, "settings", "set", "log.level", "error", json_out=False).stdout
    assert out.strip() == "name=log.level value=error source=runtime"
    assert admin_cli(srv, "settings", "reset", "log.level")["value"] == "info"
    # Refusals: exit 1 and the server's message and code.
    for args, line in (
        (("set", "region", "eu-west-1"), f"error: {RESTART_REQUIRED} (RestartRequired)"),
        (("reset", "region"), f"error: {RESTART_REQUIRED} (RestartRequired)"),
        (("set", "no.such", "1"), "error: No setting no.such. (NotFound)"),
        (("set", "session.idle_timeout", "10"),
         "error: session.idle_timeout: expected seconds from 60 to 2592000, got '10' (InvalidArgument)"),
    ):
        proc = admin_cli(srv, "settings", *args, check=False)
        assert proc.returncode == 1 and proc.stderr.strip() == line, (args, proc.returncode, proc.stderr)
    proc = admin_cli(srv, "settings", "list", username=tenant_users["tenant-admin"], password=PW, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: Only global administrators manage settings. (AccessDenied)"
    # Argument errors are the parser's (exit 64).
    proc = admin_cli(srv, "settings", "set", "log.level", check=False)
    assert proc.returncode == 64, proc
