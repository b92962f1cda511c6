"""Process lifecycle with dedicated server instances: startup output, generated root
credentials, restart with the same data dir, graceful SIGTERM, `maxiofs version`."""

import re
import stat
import subprocess

from botocore.exceptions import ClientError

from conftest import (
    get_body,
    make_client,
    port_is_open,
    server_binary,
    start_server,
    stop_and_check,
    unique_name,
)

ACCESS_KEY_RE = re.compile(r"(?<![A-Z0-9])AKIA[A-Z0-9]{16}(?![A-Z0-9])")
SECRET_CANDIDATE_RE = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=])")


def test_version_command():
    proc = subprocess.run([server_binary(), "version"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"\d+\.\d+\.\d+", proc.stdout), proc.stdout


def test_sigterm_stops_cleanly(tmp_path):
    srv = start_server(tmp_path)
    try:
        client = make_client(srv.endpoint, srv.access_key, srv.secret_key)
        client.create_bucket(Bucket="shutdown-test")
        client.put_object(Bucket="shutdown-test", Key="k", Body=b"v" * 100_000)
        assert port_is_open(srv.s3_port) and port_is_open(srv.console_port)
    finally:
        stop_and_check(srv)
    assert not port_is_open(srv.s3_port), "S3 port still accepts connections after exit"
    assert not port_is_open(srv.console_port), "console port still accepts connections after exit"
    log = srv.log()
    # The listening addresses are announced on startup.
    assert f"127.0.0.1:{srv.s3_port}" in log, log
    assert f"127.0.0.1:{srv.console_port}" in log, log


def test_data_survives_restart(tmp_path):
    srv = start_server(tmp_path, log_name="first.log")
    try:
        client = make_client(srv.endpoint, srv.access_key, srv.secret_key)
        client.create_bucket(Bucket="persistent")
        client.put_object(Bucket="persistent", Key="dir/k", Body=b"survives", Metadata={"m": "1"})
    finally:
        stop_and_check(srv)
    srv = start_server(tmp_path, data_dir=srv.data_dir, log_name="second.log")
    try:
        client = make_client(srv.endpoint, srv.access_key, srv.secret_key)
        assert get_body(client, "persistent", "dir/k") == b"survives"
        assert client.head_object(Bucket="persistent", Key="dir/k")["Metadata"] == {"m": "1"}
    finally:
        stop_and_check(srv)


def _credentials_work(endpoint, access_key, secret_key):
    try:
        make_client(endpoint, access_key, secret_key).list_buckets()
    except ClientError as exc:
        # Only an authentication refusal means "wrong key"; anything else is a failure.
        got = (exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"].get("Code"))
        assert got in {(403, "SignatureDoesNotMatch"), (403, "InvalidAccessKeyId")}, exc.response
        return False
    return True


def test_generated_root_credentials(tmp_path):
    # First start without MAXIOFS_ROOT_*: keys are generated and printed once.
    first = start_server(tmp_path, credentials=None, log_name="first.log")
    stop_and_check(first)  # read the log after exit so output buffering cannot matter
    first_log = first.log()
    access_keys = set(ACCESS_KEY_RE.findall(first_log))
    assert len(access_keys) == 1, f"expected one generated AKIA... access key in:\n{first_log}"
    (access_key,) = access_keys
    candidates = set(SECRET_CANDIDATE_RE.findall(first_log)) - {access_key}
    assert candidates, f"no 40-character secret key printed:\n{first_log}"

    # Files holding the credentials are private to the owner.
    holders = [
        p
        for p in first.data_dir.rglob("*")
        if p.is_file() and any(s.encode() in p.read_bytes() for s in [access_key, *candidates])
    ]
    assert holders, "the generated credentials are not stored in the data dir"
    for p in holders:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, f"{p} has mode {oct(p.stat().st_mode)}"

    # Second start with the same data dir reuses the keys and does not print the secret.
    second = start_server(tmp_path, credentials=None, data_dir=first.data_dir, log_name="second.log")
    try:
        working = [c for c in candidates if _credentials_work(second.endpoint, access_key, c)]
        assert len(working) == 1, "exactly one printed 40-character token must be the secret key"
        (secret,) = working
        client = make_client(second.endpoint, access_key, secret)
        name = unique_name("gen")
        client.create_bucket(Bucket=name)
        assert name in [b["Name"] for b in client.list_buckets()["Buckets"]]
        assert not _credentials_work(second.endpoint, access_key, secret[::-1])
    finally:
        stop_and_check(second)
    assert secret not in second.log(), "the secret key was printed again on the second start"


def test_sigterm_lets_an_inflight_upload_finish(tmp_path):
    """SIGTERM during an upload: the request in flight completes and its object is whole after a restart."""
    import hashlib
    import signal
    import socket
    import time

    from conftest import object_path, sign_request

    srv = start_server(tmp_path)
    body = bytes(range(256)) * 16384  # 4 MiB
    try:
        client = make_client(srv.endpoint, srv.access_key, srv.secret_key)
        client.create_bucket(Bucket="inflight")
        url, headers = sign_request(
            srv, "PUT", object_path("inflight", "big"), body=body, content_sha256="UNSIGNED-PAYLOAD"
        )
        path = url[len(srv.endpoint):]
        head = f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{srv.s3_port}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head += f"Content-Length: {len(body)}\r\n\r\n"
        sock = socket.create_connection(("127.0.0.1", srv.s3_port), timeout=20)
        sock.sendall(head.encode() + body[: len(body) // 2])
        time.sleep(0.3)
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        sock.sendall(body[len(body) // 2 :])
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = sock.recv(4096)
            if not chunk:
                break
            response += chunk
        sock.close()
        status_line = response.split(b"\r\n", 1)[0]
        assert b" 200 " in status_line, response
        assert f'"{hashlib.md5(body).hexdigest()}"'.encode() in response
        assert srv.proc.wait(timeout=10) == 0, srv.log()
    finally:
        if srv.proc.poll() is None:
            srv.kill()
    restarted = start_server(tmp_path, data_dir=srv.data_dir, log_name="restart.log")
    try:
        client = make_client(restarted.endpoint, restarted.access_key, restarted.secret_key)
        assert get_body(client, "inflight", "big") == body
    finally:
        stop_and_check(restarted)
