"""Shared fixtures and helpers for the MaxIOFS black-box interoperability suite.

The suite starts a real `maxiofs serve` process (env MAXIOFS_BIN, default
<repo>/.build/debug/maxiofs) on free loopback ports and talks to it with boto3,
the aws cli, `requests` and raw sockets:

    python3 -m pytest Tests/Interop -q

One server serves the whole session (fixture `server`); test_shutdown.py and
test_vhost.py (`--domain s3.localtest`) start their own instances. At the end the session server is stopped with SIGTERM and must exit 0
within 10 s leaving <data-dir>/tmp empty.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import email.utils
import hashlib
import json
import os
import signal
import socket
import subprocess
import time
import uuid
import warnings
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping
from unittest import mock
from urllib.parse import quote

import boto3
import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / ".build" / "debug" / "maxiofs"
REGION = "us-east-1"
ACCESS_KEY = "AKIAMAXIOFSINTEROP01"
SECRET_KEY = "mAxIoFsInTeRoPsEcReTkEy/0123456789+abcde"
assert len(SECRET_KEY) == 40
# Password of the global administrator user `admin` (MAXIOFS_ADMIN_PASSWORD), who owns the root key above.
ADMIN_PASSWORD = "Interop-Admin-Pass-1!"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
WRONG_ETAG = '"00000000000000000000000000000000"'
PAST = dt.datetime(1994, 10, 29, 19, 43, 31, tzinfo=dt.timezone.utc)
FUTURE = dt.datetime(2100, 10, 29, 19, 43, 31, tzinfo=dt.timezone.utc)
HEALTH_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


# --------------------------------------------------------------------------
# Server process management
# --------------------------------------------------------------------------


def server_binary() -> str:
    return os.environ.get("MAXIOFS_BIN", str(DEFAULT_BIN))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        try:
            s.connect((host, port))
        except OSError:
            return False
        return True


@dataclass
class ServerProcess:
    """One running `maxiofs serve` process."""

    data_dir: Path
    log_path: Path
    s3_port: int
    console_port: int
    access_key: str | None
    secret_key: str | None
    proc: subprocess.Popen = field(repr=False)
    admin_password: str | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def console_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.s3_port}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "<no server log>"

    def wait_ready(self, timeout: float = HEALTH_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no attempt"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"maxiofs exited early with code {self.proc.returncode}\n"
                    f"--- server log ---\n{self.log()}"
                )
            try:
                r = requests.get(self.console_endpoint + "/health", timeout=2)
                if r.status_code == 200:
                    return
                last_error = f"HTTP {r.status_code}"
            except requests.RequestException as exc:
                last_error = repr(exc)
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(
            f"maxiofs not healthy after {timeout}s ({last_error})\n"
            f"--- server log ---\n{self.log()}"
        )

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM the server; return its exit code, or None if it had to be killed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def start_server(
    base_dir: Path,
    *,
    credentials: tuple[str, str] | None = (ACCESS_KEY, SECRET_KEY),
    data_dir: Path | None = None,
    log_name: str = "server.log",
    wait: bool = True,
    extra_args: Iterable[str] = (),
    admin_password: str | None = ADMIN_PASSWORD,
) -> ServerProcess:
    """Start `maxiofs serve` with a data dir under base_dir and wait for /health.

    `extra_args` are appended to the `serve` command line (e.g. ["--domain", "s3.localtest"]).
    `admin_password` becomes MAXIOFS_ADMIN_PASSWORD unless the caller's environment already sets it
    (None: leave it unset).
    """
    binary = server_binary()
    if not os.path.exists(binary):
        pytest.fail(f"maxiofs binary not found at {binary} (set MAXIOFS_BIN)")
    data_dir = data_dir or base_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = base_dir / log_name
    s3_port, console_port = free_port(), free_port()
    while console_port == s3_port:
        console_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAXIOFS_ROOT_")}
    if credentials is not None:
        env["MAXIOFS_ROOT_ACCESS_KEY"], env["MAXIOFS_ROOT_SECRET_KEY"] = credentials
    if admin_password is not None and not env.get("MAXIOFS_ADMIN_PASSWORD"):
        env["MAXIOFS_ADMIN_PASSWORD"] = admin_password
    cmd = [
        binary,
        "serve",
        "--data-dir",
        str(data_dir),
        "--s3-address",
        f"127.0.0.1:{s3_port}",
        "--console-address",
        f"127.0.0.1:{console_port}",
        *extra_args,
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
    server = ServerProcess(
        data_dir=data_dir,
        log_path=log_path,
        s3_port=s3_port,
        console_port=console_port,
        access_key=credentials[0] if credentials else None,
        secret_key=credentials[1] if credentials else None,
        proc=proc,
        admin_password=env.get("MAXIOFS_ADMIN_PASSWORD"),
    )
    if wait:
        server.wait_ready()
    return server


def leaked_temp_files(data_dir: Path) -> list[str]:
    tmp = data_dir / "tmp"
    if not tmp.exists():
        return []
    return sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if not p.is_dir())


def stop_and_check(server: ServerProcess) -> None:
    """Stop with SIGTERM and assert a clean exit and an empty <data-dir>/tmp."""
    code = server.stop()
    assert code == 0, (
        f"maxiofs did not exit 0 within {STOP_TIMEOUT}s of SIGTERM (exit code {code})\n"
        f"--- server log ---\n{server.log()}"
    )
    leaked = leaked_temp_files(server.data_dir)
    assert not leaked, f"temporary files left in {server.data_dir / 'tmp'}: {leaked[:20]}"


_SESSION_SERVER: list[ServerProcess] = []


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterable[ServerProcess]:
    base = tmp_path_factory.mktemp("maxiofs")
    srv = start_server(base)
    _SESSION_SERVER.append(srv)
    try:
        yield srv
    finally:
        stop_and_check(srv)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for srv in _SESSION_SERVER:
        terminalreporter.write_line(f"maxiofs server log: {srv.log_path}")
        if exitstatus != 0:
            tail = srv.log().splitlines()[-60:]
            terminalreporter.write_line("--- last lines of the server log ---")
            for line in tail:
                terminalreporter.write_line(line)


# --------------------------------------------------------------------------
# boto3 clients and buckets
# --------------------------------------------------------------------------


def make_client(
    endpoint: str,
    access_key: str = ACCESS_KEY,
    secret_key: str = SECRET_KEY,
    *,
    signature_version: str | None = "s3v4",
    region: str = REGION,
    **config_kwargs,
):
    """A path-style boto3 S3 client.

    signature_version "s3v4" applies SigV4 to presigned URLs too; None keeps botocore's
    default, under which requests are SigV4 but presigned URLs are SigV2. The default
    retries={"max_attempts": 1} still allows one retry (legacy mode) of errors botocore
    deems retryable, e.g. 400 BadDigest; pass retries={"total_max_attempts": 1} for none.
    """
    if signature_version is not None:
        config_kwargs["signature_version"] = signature_version
    config_kwargs.setdefault("retries", {"max_attempts": 1})
    config = Config(s3={"addressing_style": "path"}, **config_kwargs)
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=config,
    )


@pytest.fixture(scope="session")
def s3(server):
    return make_client(server.endpoint, server.access_key, server.secret_key, max_pool_connections=16)


@pytest.fixture(scope="session")
def s3_default_config(server):
    """A client with botocore's default signature config: its presigned URLs are SigV2."""
    return make_client(server.endpoint, server.access_key, server.secret_key, signature_version=None)


def unique_name(prefix: str = "it") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def purge_bucket(client, bucket: str) -> None:
    """Best-effort removal of every object and then the bucket itself."""
    try:
        keys = [
            obj["Key"]
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for obj in page.get("Contents", [])
        ]
        for i in range(0, len(keys), 1000):
            batch = keys[i : i + 1000]
            try:
                client.delete_objects(
                    Bucket=bucket,
                    Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
                )
            except ClientError:
                for k in batch:
                    client.delete_object(Bucket=bucket, Key=k)
        client.delete_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchBucket":
            warnings.warn(f"cleanup of bucket {bucket} failed: {exc}")


@contextlib.contextmanager
def temporary_bucket(client, prefix: str = "it"):
    name = unique_name(prefix)
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        purge_bucket(client, name)


@pytest.fixture
def bucket(s3):
    with temporary_bucket(s3) as name:
        yield name


@pytest.fixture
def bucket2(s3):
    with temporary_bucket(s3, "it2") as name:
        yield name


def bucket_exists(client, bucket: str) -> bool:
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404, exc.response
        return False
    return True


def object_exists(client, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise
    return True


def put_many(client, bucket: str, keys: Iterable[str], body: bytes = b"x", workers: int = 8) -> None:
    """PutObject every key, in parallel."""
    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(lambda k: client.put_object(Bucket=bucket, Key=k, Body=body), keys):
            pass


def get_body(client, bucket: str, key: str) -> bytes:
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


# --------------------------------------------------------------------------
# Error assertions
# --------------------------------------------------------------------------


@contextlib.contextmanager
def s3_error(status: int, code: str | Iterable[str]):
    """Expect the boto3 call inside the block to fail with this HTTP status and S3 error code."""
    codes = {code} if isinstance(code, str) else set(code)
    with pytest.raises(ClientError) as excinfo:
        yield excinfo
    resp = excinfo.value.response
    got = (resp["ResponseMetadata"]["HTTPStatusCode"], resp["Error"].get("Code"))
    assert got[0] == status and got[1] in codes, (
        f"expected HTTP {status} {sorted(codes)}, got {got}: {resp.get('Error')}"
    )


def strip_ns(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_xml(data: bytes | str) -> ET.Element:
    root = ET.fromstring(data)
    for el in root.iter():
        el.tag = strip_ns(el.tag)
    return root


def error_fields(body: bytes | str) -> dict[str, str]:
    """Return the children of an S3 <Error> document as a dict."""
    root = parse_xml(body)
    assert root.tag == "Error", f"not an S3 error document: {body!r}"
    return {child.tag: (child.text or "") for child in root}


def assert_error_response(resp: requests.Response, status: int, code: str | Iterable[str]) -> dict[str, str]:
    codes = {code} if isinstance(code, str) else set(code)
    assert resp.status_code == status, (
        f"expected HTTP {status}, got {resp.status_code}: {resp.content[:2000]!r}"
    )
    fields = error_fields(resp.content)
    assert fields.get("Code") in codes, f"expected {sorted(codes)}, got {fields}"
    return fields


# --------------------------------------------------------------------------
# Raw signed requests
# --------------------------------------------------------------------------


def uri_encode(value: str, keep_slash: bool = True) -> str:
    """SigV4 URI encoding: everything but unreserved characters (and '/' for paths)."""
    return quote(value, safe="/~" if keep_slash else "~")


def object_path(bucket: str, key: str = "") -> str:
    return f"/{bucket}/{uri_encode(key)}" if key else f"/{bucket}"


def build_query(query: Mapping[str, str | None] | Iterable[tuple[str, str | None]] | None) -> str:
    """Encode a query; a None value yields a bare `name` subresource (e.g. ?website)."""
    if not query:
        return ""
    items = query.items() if isinstance(query, Mapping) else query
    parts = []
    for k, v in items:
        if v is None:
            parts.append(uri_encode(k, keep_slash=False))
        else:
            parts.append(f"{uri_encode(k, keep_slash=False)}={uri_encode(str(v), keep_slash=False)}")
    return "&".join(parts)


class _RawSigner(S3SigV4Auth):
    """botocore's S3 SigV4 signer, able to sign an arbitrary (possibly lying) or no
    x-amz-content-sha256, and recording the canonical request and string to sign."""

    def payload(self, request):
        forced = request.context.get("forced_content_sha256")
        if forced is not None:
            return forced
        return super().payload(request)

    def _modify_request_before_signing(self, request):
        super()._modify_request_before_signing(request)
        if request.context.get("omit_content_sha256"):
            del request.headers["X-Amz-Content-SHA256"]
            request.context["forced_content_sha256"] = hashlib.sha256(request.body or b"").hexdigest()

    def string_to_sign(self, request, canonical_request):
        sts = super().string_to_sign(request, canonical_request)
        request.context["canonical_request"] = canonical_request
        request.context["string_to_sign"] = sts
        return sts


def sign_request(
    server: ServerProcess,
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    query=None,
    content_sha256: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    region: str = REGION,
    timestamp: dt.datetime | None = None,
    omit_content_sha256: bool = False,
    debug: dict | None = None,
) -> tuple[str, dict[str, str]]:
    """Sign a request with botocore's SigV4; returns (url, headers incl. Authorization).

    `path` must already be URI-encoded (see object_path). All given headers are signed
    (except those botocore never signs such as Expect and User-Agent). If `debug` is a
    dict it receives the canonical_request and string_to_sign.
    """
    qs = build_query(query)
    url = server.endpoint + path + (f"?{qs}" if qs else "")
    request = AWSRequest(method=method, url=url, headers=dict(headers or {}), data=body)
    if content_sha256 is not None:
        request.context["forced_content_sha256"] = content_sha256
    request.context["omit_content_sha256"] = omit_content_sha256
    creds = Credentials(access_key or server.access_key, secret_key or server.secret_key)
    signer = _RawSigner(creds, "s3", region)
    if timestamp is not None:
        with mock.patch("botocore.auth.get_current_datetime", return_value=timestamp):
            signer.add_auth(request)
    else:
        signer.add_auth(request)
    if debug is not None:
        debug["canonical_request"] = request.context["canonical_request"]
        debug["string_to_sign"] = request.context["string_to_sign"]
    return url, dict(request.headers.items())


def raw_request(
    server: ServerProcess,
    method: str,
    path: str,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    query=None,
    *,
    sign: bool = True,
    timeout: float = 30,
    **sign_kwargs,
) -> requests.Response:
    """Send a (by default SigV4-signed) request with `requests` and return the response."""
    if sign:
        url, hdrs = sign_request(server, method, path, headers=headers, body=body, query=query, **sign_kwargs)
    else:
        qs = build_query(query)
        url = server.endpoint + path + (f"?{qs}" if qs else "")
        hdrs = dict(headers or {})
    return requests.request(
        method, url, headers=hdrs, data=body if body else None, timeout=timeout, allow_redirects=False
    )


@pytest.fixture
def raw(server):
    """raw_request bound to the session server."""

    def _raw(method, path, headers=None, body=b"", query=None, **kw):
        return raw_request(server, method, path, headers, body, query, **kw)

    return _raw


# --------------------------------------------------------------------------
# Raw sockets
# --------------------------------------------------------------------------


@dataclass
class HttpResponse:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes


class HttpConnection:
    """Minimal HTTP/1.1 client over a socket, for requests `requests` cannot express."""

    def __init__(self, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_head(self, method: str, target: str, headers: Mapping[str, str]) -> None:
        lines = [f"{method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            if not self._fill():
                raise ConnectionError(f"connection closed before {marker!r}; got {self.buf[:500]!r}")
        head, _, self.buf = self.buf.partition(marker)
        return head

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise ConnectionError("connection closed in the middle of a body")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_head(self) -> tuple[int, str, dict[str, str]]:
        head = self._read_until(b"\r\n\r\n").decode("latin-1")
        status_line, *header_lines = head.split("\r\n")
        _version, status, *reason = status_line.split(" ", 2)
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(status), (reason[0] if reason else ""), headers

    def read_body(self, status: int, headers: Mapping[str, str], method: str = "GET") -> bytes:
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = b""
            while True:
                size = int(self._read_until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    self._read_until(b"\r\n")
                    return body
                body += self._read_exact(size)
                self._read_exact(2)
        if "content-length" in headers:
            return self._read_exact(int(headers["content-length"]))
        while self._fill():
            pass
        body, self.buf = self.buf, b""
        return body

    def read_response(self, method: str = "GET") -> HttpResponse:
        """Read one final response (1xx interim responses are skipped)."""
        while True:
            status, reason, headers = self.read_head()
            if not 100 <= status < 200:
                break
        return HttpResponse(status, reason, headers, self.read_body(status, headers, method))


# --------------------------------------------------------------------------
# Misc helpers
# --------------------------------------------------------------------------


def sealed_size(n: int) -> int:
    """Bytes on disk of an n-byte object sealed with a server or customer key (encryption at rest is on by
    default): an 80-byte header, then 64 KiB chunks with a 16-byte tag each (an empty object has one)."""
    return 80 + n + 16 * max(1, -(-n // 65536))


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def quoted_md5(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def http_date(when: dt.datetime) -> str:
    return email.utils.format_datetime(when.astimezone(dt.timezone.utc), usegmt=True)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def flip_hex(sig: str) -> str:
    """Change the last hex digit of a signature."""
    return sig[:-1] + ("0" if sig[-1] != "0" else "1")


def random_bytes(n: int) -> bytes:
    return os.urandom(n)


# --------------------------------------------------------------------------
# The aws cli
# --------------------------------------------------------------------------


def awscli_runner(server: ServerProcess, home: Path, s3_settings: str = ""):
    """A function running `aws ... --endpoint-url <server>` with its own config in `home` (path-style, the
    server's region, one attempt, plus `s3_settings` lines such as "multipart_threshold = 8MB"); it returns the
    CompletedProcess and, with check=True (the default), asserts the command succeeded."""
    import shutil
    import sys

    settings = "".join(f"    {line.strip()}\n" for line in s3_settings.splitlines() if line.strip())
    config = home / "config"
    config.write_text(f"[default]\nregion = {REGION}\ns3 =\n    addressing_style = path\n{settings}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=server.access_key,
        AWS_SECRET_ACCESS_KEY=server.secret_key,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_MAX_ATTEMPTS="1",
        AWS_PAGER="",
    )
    exe = shutil.which("aws")
    base = [exe] if exe else [sys.executable, "-m", "awscli"]

    def run(*args, check=True):
        proc = subprocess.run(
            [*base, *args, "--endpoint-url", server.endpoint], env=env, capture_output=True, text=True, timeout=120
        )
        if check:
            assert proc.returncode == 0, f"aws {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}"
        return proc

    return run


# --------------------------------------------------------------------------
# The admin CLI (tenants, users, keys, groups, bucket permissions, quotas)
# --------------------------------------------------------------------------


def admin_cli(
    server: ServerProcess,
    *args: str,
    username: str = "admin",
    password: str | None = None,
    json_out: bool = True,
    check: bool = True,
):
    """Run `maxiofs admin --endpoint <console> --username U --password P <args> [--json]`.

    password None means the server's admin password (MAXIOFS_ADMIN_PASSWORD, normally ADMIN_PASSWORD).
    With check=True a non-zero exit fails the test (showing stdout and stderr) and the result is the parsed
    JSON printed on stdout (None if stdout is empty) when json_out, else the CompletedProcess. With
    check=False the CompletedProcess is returned whatever the exit code.
    """
    if password is None:
        password = server.admin_password or ADMIN_PASSWORD
    cmd = [
        server_binary(),
        "admin",
        "--endpoint",
        server.console_endpoint,
        "--username",
        username,
        "--password",
        password,
        *[str(a) for a in args],
    ] + (["--json"] if json_out else [])
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAXIOFS_")}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    if not check:
        return proc
    shown = " ".join(["maxiofs admin", "--username", username, *[str(a) for a in args]])
    if proc.returncode != 0:
        pytest.fail(
            f"`{shown}` exited {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )
    if not json_out:
        return proc
    if not proc.stdout.strip():
        return None
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"`{shown}` printed no valid JSON ({exc}):\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")


# --------------------------------------------------------------------------
# Files in a server's data directory
# --------------------------------------------------------------------------


def stored_files(server: ServerProcess) -> set[Path]:
    """Every file in the data dir except the SQLite catalog and the credentials file: object blobs
    (<data-dir>/blobs/**), part files wherever the server keeps them, and temporary files."""
    return {
        p
        for p in server.data_dir.rglob("*")
        if p.is_file() and not p.name.startswith(("meta.sqlite", "root-credentials"))
    }


def assert_no_new_files(server: ServerProcess, before: set[Path], timeout: float = 5.0) -> None:
    """Wait (briefly, in case the server unlinks in the background) until no file that was not there before
    remains."""
    deadline = time.monotonic() + timeout
    while True:
        extra = stored_files(server) - before
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not extra, f"files left in the data dir: {sorted(str(p.relative_to(server.data_dir)) for p in extra)}"
