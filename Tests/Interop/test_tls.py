"""HTTPS on the S3 and console ports with a certificate made here, reloaded on SIGHUP without dropping
connections, and the configuration errors around it."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config

from conftest import (
    ACCESS_KEY,
    SECRET_KEY,
    make_client,
    server_binary,
    start_server,
    stop_and_check,
)


def make_certificate(directory: Path, name: str = "server") -> tuple[Path, Path]:
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
            "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True, capture_output=True,
    )
    return cert, key


def tls_client(endpoint: str, cafile: Path):
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, verify=str(cafile),
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"total_max_attempts": 1}),
    )


def peer_certificate(port: int, cafile: Path) -> bytes:
    ctx = ssl.create_default_context(cafile=str(cafile))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.getpeercert(binary_form=True)


def der(cert: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.read_text())


def tls_args(cert: Path, key: Path, *extra: str) -> list[str]:
    return ["--tls-cert-file", str(cert), "--tls-key-file", str(key), "--console-tls", "false", *extra]


def wait_for_log(srv, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in srv.log():
            return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in the server log:\n{srv.log()}")


def test_s3_over_https_with_boto3(tmp_path):
    cert, key = make_certificate(tmp_path)
    srv = start_server(tmp_path, extra_args=tls_args(cert, key))
    try:
        endpoint = f"https://127.0.0.1:{srv.s3_port}"
        s3 = tls_client(endpoint, cert)
        s3.create_bucket(Bucket="tls-bucket")
        s3.put_object(Bucket="tls-bucket", Key="k", Body=b"over tls")
        assert s3.get_object(Bucket="tls-bucket", Key="k")["Body"].read() == b"over tls"
        assert f"S3 API listening on https://127.0.0.1:{srv.s3_port}" in srv.log()
        assert f"console listening on http://127.0.0.1:{srv.console_port}" in srv.log()
        # A client that does not trust the certificate is refused by its own TLS check.
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(endpoint + "/", timeout=5)
        # Plain HTTP to the TLS port gets no HTTP answer.
        with pytest.raises(requests.RequestException):
            requests.get(f"http://127.0.0.1:{srv.s3_port}/", timeout=5)
        # The server still answers afterwards.
        assert s3.list_buckets()["Buckets"][0]["Name"] == "tls-bucket"
    finally:
        stop_and_check(srv)


def test_console_over_https(tmp_path):
    cert, key = make_certificate(tmp_path)
    srv = start_server(
        tmp_path, wait=False, extra_args=["--tls-cert-file", str(cert), "--tls-key-file", str(key)]
    )
    try:
        base = f"https://127.0.0.1:{srv.console_port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                r = requests.get(base + "/health/ready", verify=str(cert), timeout=2)
                break
            except requests.RequestException:
                assert srv.proc.poll() is None, srv.log()
                assert time.monotonic() < deadline, srv.log()
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["status"] == "ready"
        login = requests.post(
            base + "/api/v1/auth/login", json={"username": "admin", "password": srv.admin_password},
            verify=str(cert), timeout=5,
        )
        assert login.status_code == 200, login.text
        assert f"console listening on https://127.0.0.1:{srv.console_port}" in srv.log()
    finally:
        stop_and_check(srv)


def test_sighup_reloads_the_certificate_without_dropping_connections(tmp_path):
    cert, key = make_certificate(tmp_path)
    srv = start_server(tmp_path, extra_args=tls_args(cert, key))
    try:
        old = der(cert)
        ca_old = tmp_path / "old.crt"
        ca_old.write_bytes(cert.read_bytes())
        assert peer_certificate(srv.s3_port, ca_old) == old

        # A keep-alive connection opened before the reload.
        conn = http.client.HTTPSConnection(
            "127.0.0.1", srv.s3_port, context=ssl.create_default_context(cafile=str(ca_old)), timeout=5
        )
        conn.request("GET", "/")
        first = conn.getresponse()
        first.read()
        assert first.status == 403
        sock_before = conn.sock

        new_cert, new_key = make_certificate(tmp_path, "next")
        cert.write_bytes(new_cert.read_bytes())
        key.write_bytes(new_key.read_bytes())
        srv.proc.send_signal(signal.SIGHUP)
        wait_for_log(srv, "reloaded the TLS certificate")

        # New connections get the new certificate.
        assert peer_certificate(srv.s3_port, new_cert) == der(new_cert)
        # The old connection is still open and served.
        conn.request("GET", "/")
        second = conn.getresponse()
        second.read()
        assert second.status == 403 and conn.sock is sock_before
        conn.close()

        # A broken file is refused; the last good certificate stays in use.
        cert.write_text("not a certificate\n")
        srv.proc.send_signal(signal.SIGHUP)
        wait_for_log(srv, "could not reload the TLS certificate")
        assert srv.proc.poll() is None
        assert peer_certificate(srv.s3_port, new_cert) == der(new_cert)
    finally:
        stop_and_check(srv)


def test_sighup_without_tls_does_not_stop_the_server(tmp_path):
    srv = start_server(tmp_path)
    try:
        srv.proc.send_signal(signal.SIGHUP)
        wait_for_log(srv, "SIGHUP: no TLS certificate to reload")
        assert requests.get(srv.console_endpoint + "/health", timeout=5).status_code == 200
    finally:
        stop_and_check(srv)


def test_secure_transport_condition_follows_the_listener(tmp_path):
    """A bucket policy that lets anonymous readers in only over TLS: allowed on the HTTPS server, refused on
    a plain one."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pub/*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        }],
    }
    cert, key = make_certificate(tmp_path)
    for secure in (True, False):
        base = tmp_path / ("tls" if secure else "plain")
        base.mkdir()
        srv = start_server(base, extra_args=tls_args(cert, key) if secure else [])
        try:
            endpoint = f"{'https' if secure else 'http'}://127.0.0.1:{srv.s3_port}"
            s3 = tls_client(endpoint, cert) if secure else make_client(endpoint)
            s3.create_bucket(Bucket="pub")
            s3.put_object(Bucket="pub", Key="doc", Body=b"public over tls")
            s3.put_bucket_policy(Bucket="pub", Policy=json.dumps(policy))
            r = requests.get(endpoint + "/pub/doc", verify=str(cert) if secure else True, timeout=5)
            assert r.status_code == (200 if secure else 403), r.text
        finally:
            stop_and_check(srv)


@pytest.mark.parametrize(
    "args, message",
    [
        (lambda c, k: ["--tls-cert-file", str(c)], "set both tls.cert_file and tls.key_file"),
        (lambda c, k: ["--tls-cert-file", "/nonexistent.crt", "--tls-key-file", str(k)], "--tls-cert-file: cannot read /nonexistent.crt"),
        (lambda c, k: ["--s3-tls", "true"], "no certificate is configured"),
        (lambda c, k: ["--tls-cert-file", str(k), "--tls-key-file", str(k)], "tls.cert_file: cannot read a PEM certificate chain"),
        (lambda c, k: ["--tls-cert-file", str(c), "--tls-key-file", str(c)], "tls.key_file: cannot read a PEM private key"),
        (lambda c, k: ["--tls-cert-file", str(c), "--tls-key-file", str(k.parent / "other.key")], "do not make a usable pair"),
    ],
    ids=["half-a-pair", "missing-file", "tls-without-certificate", "key-as-certificate", "certificate-as-key", "mismatched-key"],
)
def test_tls_configuration_errors(tmp_path, args, message):
    cert, key = make_certificate(tmp_path)
    make_certificate(tmp_path, "other")
    proc = subprocess.run(
        [server_binary(), "serve", "--data-dir", str(tmp_path / "d"), "--s3-address", "127.0.0.1:0",
         "--console-address", "127.0.0.1:0", *args(cert, key)],
        env={"MAXIOFS_ROOT_ACCESS_KEY": ACCESS_KEY, "MAXIOFS_ROOT_SECRET_KEY": SECRET_KEY, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr
