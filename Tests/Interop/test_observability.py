"""Operations: bounded graceful shutdown, the header size limit, per-bucket and per-tenant gauges, /metrics with
an administrator's console session, and the sampled metrics history behind the dashboards."""

from __future__ import annotations

import os
import signal
import socket
import time

import requests

from conftest import (
    ADMIN_PASSWORD,
    make_client,
    sign_request,
    start_server,
    stop_and_check,
)


def login(srv) -> str:
    r = requests.post(
        srv.console_endpoint + "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}, timeout=10
    )
    assert r.status_code == 200, r.text
    return r.json()["token"]


def metric(text: str, name: str, **labels) -> float | None:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    prefix = f"{name}{{{want}}} " if labels else f"{name} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix):])
    return None


def test_graceful_shutdown_is_bounded(tmp_path):
    """A request that never finishes (a PUT whose body stops arriving) does not hold the server past
    --shutdown-timeout: it exits 0 soon after, and the half-received body leaves nothing behind."""
    srv = start_server(tmp_path, extra_args=["--shutdown-timeout", "2"])
    s3 = make_client(srv.endpoint)
    s3.create_bucket(Bucket="slow")
    url, headers = sign_request(
        srv, "PUT", "/slow/k", headers={"Content-Length": "1000000"}, content_sha256="UNSIGNED-PAYLOAD"
    )
    sock = socket.create_connection(("127.0.0.1", srv.s3_port))
    try:
        headers.setdefault("Host", srv.host)
        head = "PUT /slow/k HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode() + b"x" * 1000)
        sock.settimeout(0.5)
        try:
            early = sock.recv(100)
        except socket.timeout:
            early = b""
        assert early == b"", early  # still receiving the body
        started = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        code = srv.proc.wait(timeout=20)
        elapsed = time.monotonic() - started
        assert code == 0, srv.log()
        assert 1.5 <= elapsed < 12, (elapsed, srv.log())
    finally:
        sock.close()
    stop_and_check(srv)
    # The object was never written.
    again = start_server(tmp_path, data_dir=srv.data_dir, log_name="again.log")
    try:
        listing = make_client(again.endpoint).list_objects_v2(Bucket="slow")
        assert listing["KeyCount"] == 0
    finally:
        stop_and_check(again)


def test_header_section_limit(tmp_path):
    srv = start_server(tmp_path, extra_args=["--http-max-header-bytes", "16384"])
    try:
        def send(size: int) -> bytes:
            with socket.create_connection(("127.0.0.1", srv.s3_port), timeout=5) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * size + b"\r\n\r\n")
                return s.recv(200)

        assert send(8000).startswith(b"HTTP/1.1 403")  # within the limit: answered (anonymous ListBuckets)
        assert send(20000).startswith(b"HTTP/1.1 400")  # over it: refused, connection closed
        assert requests.get(srv.console_endpoint + "/health", timeout=5).status_code == 200
    finally:
        stop_and_check(srv)


def test_usage_gauges_and_history(tmp_path):
    srv = start_server(tmp_path, extra_args=["--metrics-history-interval", "1"])
    try:
        token = login(srv)
        auth = {"Authorization": f"Bearer {token}"}
        tenant = requests.post(
            srv.console_endpoint + "/api/v1/tenants", json={"name": "gauges", "max_storage_bytes": 10**9},
            headers=auth, timeout=10,
        )
        assert tenant.status_code == 200, tenant.text
        s3 = make_client(srv.endpoint)
        s3.create_bucket(Bucket="gauge-a")
        for i in range(5):
            s3.put_object(Bucket="gauge-a", Key=f"k{i}", Body=b"x" * 100)
        time.sleep(2.5)

        text = requests.get(srv.console_endpoint + "/metrics", timeout=10).text
        assert metric(text, "maxiofs_bucket_bytes", bucket="gauge-a", tenant="") == 500
        assert metric(text, "maxiofs_bucket_objects", bucket="gauge-a", tenant="") == 5
        assert metric(text, "maxiofs_tenant_quota_bytes", tenant="gauges") == 10**9
        assert metric(text, "maxiofs_tenant_bytes", tenant="gauges") == 0
        assert metric(text, "maxiofs_stored_bytes") == 500 and metric(text, "maxiofs_objects") == 5
        assert metric(text, "maxiofs_lifecycle_passes_total") == 0
        assert metric(text, "maxiofs_startup_removed_files", kind="temporary") == 0

        r = requests.get(srv.console_endpoint + "/api/v1/metrics/history", headers=auth, timeout=10)
        assert r.status_code == 200, r.text
        points = r.json()["points"]
        assert len(points) >= 2
        assert sum(p["requests"] for p in points) >= 6  # CreateBucket + 5 PUTs
        busy = [p for p in points if p["requests"] > 0]
        assert busy and all(p["latency_p50"] is not None and p["latency_p99"] >= p["latency_p50"] for p in busy)
        assert points[-1]["storage_bytes"] == 500 and points[-1]["objects"] == 5
        assert all(p["requests_per_second"] >= 0 for p in points)
        times = [p["time"] for p in points]
        assert times == sorted(times)

        merged = requests.get(
            srv.console_endpoint + "/api/v1/metrics/history", params={"step": "3600"}, headers=auth, timeout=10
        ).json()["points"]
        assert 1 <= len(merged) <= 2
        assert sum(p["requests"] for p in merged) >= 6

        bad = requests.get(
            srv.console_endpoint + "/api/v1/metrics/history", params={"step": "0"}, headers=auth, timeout=10
        )
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidArgument"
        assert requests.get(srv.console_endpoint + "/api/v1/metrics/history", timeout=10).status_code == 401
    finally:
        stop_and_check(srv)


def test_metrics_token_or_admin_session(tmp_path):
    os.environ["MAXIOFS_METRICS_TOKEN"] = "scrape-token-1"
    try:
        srv = start_server(tmp_path)
    finally:
        del os.environ["MAXIOFS_METRICS_TOKEN"]
    try:
        base = srv.console_endpoint + "/metrics"
        assert requests.get(base, timeout=10).status_code == 401
        assert requests.get(base, headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
        assert requests.get(base, headers={"Authorization": "Bearer scrape-token-1"}, timeout=10).status_code == 200
        token = login(srv)
        assert requests.get(base, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200
        # A session of a user who is not a global administrator does not open it.
        auth = {"Authorization": f"Bearer {token}"}
        t = requests.post(srv.console_endpoint + "/api/v1/tenants", json={"name": "metrics-t"}, headers=auth, timeout=10)
        assert t.status_code == 200, t.text
        r = requests.post(
            srv.console_endpoint + "/api/v1/users",
            json={"name": "plain-user", "password": "Plain-User-pass-1", "tenant": "metrics-t", "role": "tenant-admin"},
            headers=auth, timeout=10,
        )
        assert r.status_code == 200, r.text
        other = requests.post(
            srv.console_endpoint + "/api/v1/auth/login",
            json={"username": "plain-user", "password": "Plain-User-pass-1"}, timeout=10,
        ).json()["token"]
        assert requests.get(base, headers={"Authorization": f"Bearer {other}"}, timeout=10).status_code == 401
    finally:
        stop_and_check(srv)
