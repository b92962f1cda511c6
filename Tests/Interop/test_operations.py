"""Operations endpoints on the console port: /health, /health/live, /health/ready and Prometheus /metrics."""

from __future__ import annotations

import re

import requests

from conftest import start_server, stop_and_check


def console(server, path, **kw):
    return requests.get(f"http://127.0.0.1:{server.console_port}{path}", timeout=10, **kw)


def test_health_endpoints(server):
    for path in ("/health", "/health/live"):
        resp = console(server, path)
        assert resp.status_code == 200 and resp.text.strip() == "ok"
    ready = console(server, "/health/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"catalog": "ok", "data_dir": "ok"}
    assert body["version"]


def metric(text: str, name: str, **labels) -> float | None:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(want) + r"\}" if labels else "") + r" (\S+)$"
    for line in text.splitlines():
        m = re.match(pattern, line)
        if m:
            return float(m.group(1))
    return None


def test_metrics_count_requests_by_operation_and_status(server, s3, bucket):
    before = console(server, "/metrics").text
    gets_before = metric(before, "maxiofs_s3_requests_total", operation="GetObject", status_class="2xx") or 0
    missing_before = metric(before, "maxiofs_s3_requests_total", operation="GetObject", status_class="4xx") or 0
    s3.put_object(Bucket=bucket, Key="m", Body=b"x" * 1000)
    for _ in range(3):
        s3.get_object(Bucket=bucket, Key="m")["Body"].read()
    try:
        s3.get_object(Bucket=bucket, Key="missing")
    except Exception:  # noqa: BLE001 - 404 expected
        pass
    resp = console(server, "/metrics")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    text = resp.text
    assert metric(text, "maxiofs_s3_requests_total", operation="GetObject", status_class="2xx") == gets_before + 3
    assert metric(text, "maxiofs_s3_requests_total", operation="GetObject", status_class="4xx") == missing_before + 1
    count = metric(text, "maxiofs_s3_request_duration_seconds_count", operation="GetObject")
    assert count is not None and count >= 4
    assert metric(text, "maxiofs_s3_request_duration_seconds_bucket", operation="GetObject", le="+Inf") == count
    assert (metric(text, "maxiofs_s3_sent_bytes_total") or 0) >= 3000
    assert (metric(text, "maxiofs_s3_received_bytes_total") or 0) >= 1000
    assert metric(text, "maxiofs_storage_total_bytes") > 0
    assert "maxiofs_build_info{version=" in text
    # Bounded labels: never a key; a bucket only as the label of its own usage gauges.
    assert '"m"' not in text
    lines_with_bucket = [line for line in text.splitlines() if bucket in line]
    assert lines_with_bucket and all(line.startswith("maxiofs_bucket_") for line in lines_with_bucket), lines_with_bucket
    assert metric(text, "maxiofs_bucket_bytes", bucket=bucket, tenant="") == 1000
    assert metric(text, "maxiofs_bucket_objects", bucket=bucket, tenant="") == 1


def test_metrics_token(tmp_path):
    import os

    os.environ["MAXIOFS_METRICS_TOKEN"] = "s3cr3t-token"
    try:
        srv = start_server(tmp_path)
    finally:
        del os.environ["MAXIOFS_METRICS_TOKEN"]
    try:
        assert console(srv, "/metrics").status_code == 401
        assert console(srv, "/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = console(srv, "/metrics", headers={"Authorization": "Bearer s3cr3t-token"})
        assert ok.status_code == 200 and "maxiofs_s3_requests_in_flight" in ok.text
        assert console(srv, "/health/ready").status_code == 200  # health stays open
    finally:
        stop_and_check(srv)
