"""Server-side encryption: every new object sealed with the server key by default (SSE-S3, encryption at
rest), bucket default encryption when at-rest is off, customer keys (SSE-C), and the on-disk form of a sealed
blob (`MXB1` header, 64 KiB chunks each with a 16-byte tag, no plaintext anywhere in the data dir).

The session server runs with the defaults (at rest on, SSE-C refused over plain HTTP). This module starts a
server with encryption at rest off, one that accepts SSE-C over plain HTTP, one over HTTPS, and the servers
of the master-key restart tests.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import uuid
from pathlib import Path
from unittest import mock

import boto3
import pytest
from botocore.config import Config

from conftest import (
    ACCESS_KEY,
    admin_cli,
    SECRET_KEY,
    assert_error_response,
    get_body,
    make_client,
    md5_b64,
    object_exists,
    object_path,
    random_bytes,
    raw_request,
    s3_error,
    server_binary,
    start_server,
    stop_and_check,
    stored_files,
    temporary_bucket,
)

CHUNK = 65536
HEADER = 80
TAG = 16
MIB = 1024 * 1024
PART = 5 * MIB

SSE_C_ALGORITHM = "x-amz-server-side-encryption-customer-algorithm"
SSE_C_KEY = "x-amz-server-side-encryption-customer-key"
SSE_C_MD5 = "x-amz-server-side-encryption-customer-key-MD5"


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def sealed_size(n: int) -> int:
    """Bytes on disk of a sealed blob holding n bytes."""
    return HEADER + n + TAG * max(1, -(-n // CHUNK))


def marker_payload(size: int = 200 * 1024) -> tuple[bytes, bytes]:
    """A distinctive needle and a `size`-byte body made of it repeated."""
    needle = f"<<maxiofs-plaintext-marker-{uuid.uuid4().hex}>>".encode()
    return needle, (needle * (size // len(needle) + 1))[:size]


def disk_state(server) -> dict[Path, tuple[int, int]]:
    """Size and mtime of every file in the data dir."""
    state = {}
    for p in server.data_dir.rglob("*"):
        try:
            if p.is_file():
                st = p.stat()
                state[p] = (st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            pass
    return state


def files_containing(server, needle: bytes, since: dict[Path, tuple[int, int]] | None = None) -> list[str]:
    """Files in the data dir (blobs, parts, tmp, meta.sqlite*) whose bytes contain `needle`. With `since`
    (a disk_state), files unchanged since then are skipped, except the catalog, which is always read."""
    hits = []
    for p, stat in disk_state(server).items():
        if since is not None and since.get(p) == stat and not p.name.startswith("meta.sqlite"):
            continue
        try:
            if needle in p.read_bytes():
                hits.append(str(p.relative_to(server.data_dir)))
        except FileNotFoundError:
            pass
    return hits


def new_blobs(server, before: set[Path]) -> list[Path]:
    """Files under <data-dir>/blobs that were not there before."""
    return sorted(p for p in stored_files(server) - before if p.relative_to(server.data_dir).parts[0] == "blobs")


def the_new_blob(server, before: set[Path]) -> Path:
    blobs = new_blobs(server, before)
    assert len(blobs) == 1, f"expected one new blob, got {[str(b.relative_to(server.data_dir)) for b in blobs]}"
    rel = blobs[0].relative_to(server.data_dir).parts
    assert len(rel) == 4 and len(rel[1]) == 2 and len(rel[2]) == 2, f"blob not at blobs/ab/cd/<id>: {rel}"
    return blobs[0]


def assert_sealed_blob(path: Path, plain_size: int) -> None:
    data = path.read_bytes()
    assert data[:4] == b"MXB1", f"{path} does not start with MXB1: {data[:16]!r}"
    assert len(data) == sealed_size(plain_size), (
        f"{path}: {len(data)} bytes on disk for {plain_size} plaintext bytes, expected {sealed_size(plain_size)}"
    )


def ranged(client, bucket: str, key: str, spec: str, **kw) -> dict:
    return client.get_object(Bucket=bucket, Key=key, Range=spec, **kw)


def expected_slice(data: bytes, spec: str) -> tuple[bytes, int, int]:
    """The bytes an HTTP range `bytes=...` selects, with its first and last offsets."""
    first, last = spec.removeprefix("bytes=").split("-")
    n = len(data)
    if first == "":
        start, end = max(0, n - int(last)), n - 1
    else:
        start, end = int(first), min(n - 1, int(last)) if last else n - 1
    return data[start : end + 1], start, end


def check_range(client, bucket: str, key: str, data: bytes, spec: str, **kw) -> None:
    resp = ranged(client, bucket, key, spec, **kw)
    body = resp["Body"].read()
    want, start, end = expected_slice(data, spec)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 206, f"{spec}: {resp['ResponseMetadata']}"
    assert resp["ContentRange"] == f"bytes {start}-{end}/{len(data)}", f"{spec}: {resp['ContentRange']}"
    assert len(body) == len(want) and body == want, (
        f"{spec}: got {len(body)} bytes that {'match' if body == want else 'differ from'} the {len(want)} expected"
    )


def ssec(key: bytes) -> dict:
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def copy_ssec(key: bytes) -> dict:
    return {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": key}


def ssec_headers(key: bytes, *, md5: str | None = None, algorithm: str = "AES256", with_md5: bool = True) -> dict:
    h = {SSE_C_ALGORITHM: algorithm, SSE_C_KEY: base64.b64encode(key).decode()}
    if with_md5:
        h[SSE_C_MD5] = md5 if md5 is not None else md5_b64(key)
    return h


def new_master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def start_with_env(base: Path, env: dict[str, str], **kw):
    """start_server with extra environment variables (it passes os.environ through)."""
    with mock.patch.dict(os.environ, env):
        return start_server(base, **kw)


def make_certificate(directory: Path) -> Path:
    cert, key = directory / "server.crt", directory / "server.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
            "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True, capture_output=True,
    )
    return cert


def multipart(client, bucket: str, key: str, parts: list[bytes], create_kw=None, part_kw=None) -> tuple[dict, list[dict], dict]:
    """Create, upload `parts`, complete; returns the three kinds of responses."""
    created = client.create_multipart_upload(Bucket=bucket, Key=key, **(create_kw or {}))
    uid = created["UploadId"]
    uploaded = []
    for i, body in enumerate(parts, 1):
        uploaded.append(
            client.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=i, Body=body, **(part_kw or {}))
        )
    done = client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": i, "ETag": r["ETag"]} for i, r in enumerate(uploaded, 1)]},
    )
    return created, uploaded, done


# --------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def enc_bucket(s3):
    """A bucket on the session server (encryption at rest on) shared by this module's tests."""
    with temporary_bucket(s3, "enc") as name:
        yield name


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory):
    """A server with encryption at rest off."""
    srv = start_server(tmp_path_factory.mktemp("enc-off"), extra_args=["--encryption-at-rest", "false"])
    try:
        yield srv
    finally:
        stop_and_check(srv)


@pytest.fixture(scope="module")
def plain_s3(plain_server):
    return make_client(plain_server.endpoint)


@pytest.fixture
def plain_bucket(plain_s3):
    with temporary_bucket(plain_s3, "plain") as name:
        yield name


@pytest.fixture(scope="module")
def ssec_server(tmp_path_factory):
    """A server (encryption at rest on) that accepts SSE-C over plain HTTP."""
    srv = start_server(tmp_path_factory.mktemp("sse-c"), extra_args=["--encryption-sse-c-over-http", "true"])
    try:
        yield srv
    finally:
        stop_and_check(srv)


@pytest.fixture(scope="module")
def ssec_s3(ssec_server):
    return make_client(ssec_server.endpoint, retries={"total_max_attempts": 1})


@pytest.fixture
def ssec_bucket(ssec_s3):
    with temporary_bucket(ssec_s3, "ssec") as name:
        yield name


@pytest.fixture(scope="module")
def ssec_object(ssec_s3):
    """A bucket on the SSE-C server holding `obj`: 3 chunks + 123 bytes sealed with a customer key."""
    key = os.urandom(32)
    data = random_bytes(3 * CHUNK + 123)
    with temporary_bucket(ssec_s3, "ssecobj") as name:
        ssec_s3.put_object(Bucket=name, Key="obj", Body=data, **ssec(key))
        yield name, key, data


# --------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------


def test_encryption_settings_have_flags(tmp_path):
    """encryption.at_rest and encryption.sse_c_over_http are not secrets: they have flags."""
    proc = subprocess.run(
        [server_binary(), "config", "print", "--data-dir", str(tmp_path / "d"),
         "--encryption-at-rest", "false", "--encryption-sse-c-over-http", "true"],
        env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 0, f"config print refused the flags:\n{proc.stderr}"
    assert re.search(r"^encryption\.at_rest = false\s+# flag", proc.stdout, re.M), proc.stdout
    assert re.search(r"^encryption\.sse_c_over_http = true\s+# flag", proc.stdout, re.M), proc.stdout


def test_encryption_settings_from_the_environment(tmp_path):
    proc = subprocess.run(
        [server_binary(), "config", "print", "--data-dir", str(tmp_path / "d")],
        env={"PATH": "/usr/bin:/bin", "MAXIOFS_ENCRYPTION_AT_REST": "false",
             "MAXIOFS_ENCRYPTION_SSE_C_OVER_HTTP": "true"},
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^encryption\.at_rest = false\s+# environment", proc.stdout, re.M), proc.stdout
    assert re.search(r"^encryption\.sse_c_over_http = true\s+# environment", proc.stdout, re.M), proc.stdout


# --------------------------------------------------------------------------
# Encryption at rest (the session server's default)
# --------------------------------------------------------------------------


def test_put_get_head_report_sse_s3_without_headers(s3, enc_bucket):
    data = random_bytes(1000)
    put = s3.put_object(Bucket=enc_bucket, Key="plain-request", Body=data)
    assert put.get("ServerSideEncryption") == "AES256", put
    assert put["ETag"] == '"' + hashlib.md5(data).hexdigest() + '"', "an SSE-S3 ETag is the MD5 of the body"
    head = s3.head_object(Bucket=enc_bucket, Key="plain-request")
    assert head.get("ServerSideEncryption") == "AES256", head
    got = s3.get_object(Bucket=enc_bucket, Key="plain-request")
    assert got.get("ServerSideEncryption") == "AES256", got
    assert got["Body"].read() == data


def test_copy_and_multipart_responses_report_sse_s3(s3, enc_bucket):
    data = random_bytes(4000)
    s3.put_object(Bucket=enc_bucket, Key="copy-src", Body=data)
    copied = s3.copy_object(Bucket=enc_bucket, Key="copy-dst", CopySource={"Bucket": enc_bucket, "Key": "copy-src"})
    assert copied.get("ServerSideEncryption") == "AES256", copied
    assert get_body(s3, enc_bucket, "copy-dst") == data
    created, uploaded, done = multipart(s3, enc_bucket, "mpu-headers", [b"only part"])
    assert created.get("ServerSideEncryption") == "AES256", created
    assert uploaded[0].get("ServerSideEncryption") == "AES256", uploaded[0]
    assert done.get("ServerSideEncryption") == "AES256", done
    assert s3.head_object(Bucket=enc_bucket, Key="mpu-headers").get("ServerSideEncryption") == "AES256"


def test_get_bucket_encryption_defaults_to_aes256_with_at_rest_on(s3, enc_bucket):
    rules = s3.get_bucket_encryption(Bucket=enc_bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert len(rules) == 1, rules
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", rules
    assert rules[0].get("BucketKeyEnabled", False) is False, rules


def test_plaintext_is_not_on_disk(server, s3, enc_bucket):
    needle, payload = marker_payload()
    before_files, before = stored_files(server), disk_state(server)
    s3.put_object(Bucket=enc_bucket, Key="marker", Body=payload)
    assert get_body(s3, enc_bucket, "marker") == payload
    blob = the_new_blob(server, before_files)
    assert_sealed_blob(blob, len(payload))
    hits = files_containing(server, needle, since=before)
    assert not hits, f"the plaintext marker is on disk in {hits}"


def test_small_object_plaintext_is_not_on_disk(server, s3, enc_bucket):
    needle, payload = marker_payload(300)
    before = disk_state(server)
    s3.put_object(Bucket=enc_bucket, Key="small-marker", Body=payload)
    assert get_body(s3, enc_bucket, "small-marker") == payload
    hits = files_containing(server, needle, since=before)
    assert not hits, f"the plaintext marker of a small object is on disk in {hits}"


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK])
def test_sizes_round_trip_and_blob_size(server, s3, enc_bucket, size):
    data = random_bytes(size)
    key = f"size-{size}"
    before = stored_files(server)
    put = s3.put_object(Bucket=enc_bucket, Key=key, Body=data)
    assert put.get("ServerSideEncryption") == "AES256"
    got = s3.get_object(Bucket=enc_bucket, Key=key)
    body = got["Body"].read()
    assert got["ContentLength"] == size and body == data, f"{size}-byte object read back as {len(body)} bytes"
    # Even an empty object has a blob: the header and one empty, tagged chunk.
    assert_sealed_blob(the_new_blob(server, before), size)


RANGE_SIZE = 3 * CHUNK + 123
RANGES = [
    "bytes=0-0",
    f"bytes=0-{CHUNK - 1}",
    f"bytes={CHUNK - 1}-{CHUNK}",
    f"bytes={CHUNK}-{2 * CHUNK - 1}",
    f"bytes={2 * CHUNK - 1}-{2 * CHUNK}",
    f"bytes={3 * CHUNK - 1}-{3 * CHUNK}",
    f"bytes={RANGE_SIZE - 1}-{RANGE_SIZE - 1}",
    "bytes=-1",
    f"bytes=-{CHUNK + 1}",
    f"bytes=-{RANGE_SIZE + 10}",
    f"bytes={CHUNK - 6}-",
    f"bytes={3 * CHUNK}-",
    "bytes=70000-70099",
    f"bytes=100-{RANGE_SIZE + 1000}",
    f"bytes=1-{RANGE_SIZE - 2}",
]


@pytest.fixture(scope="module")
def chunked_object(s3, enc_bucket):
    data = random_bytes(RANGE_SIZE)
    s3.put_object(Bucket=enc_bucket, Key="chunked", Body=data)
    return data


@pytest.mark.parametrize("spec", RANGES)
def test_ranged_get_of_sealed_object(s3, enc_bucket, chunked_object, spec):
    check_range(s3, enc_bucket, "chunked", chunked_object, spec)


def test_unsatisfiable_range_of_sealed_object(s3, enc_bucket, chunked_object):
    with s3_error(416, "InvalidRange"):
        ranged(s3, enc_bucket, "chunked", f"bytes={RANGE_SIZE}-")


def test_large_object_streamed(server, s3, enc_bucket):
    size = 5 * MIB + 1234
    data = random_bytes(size)
    before = stored_files(server)
    put = s3.put_object(Bucket=enc_bucket, Key="large", Body=data)
    assert put.get("ServerSideEncryption") == "AES256"
    got = s3.get_object(Bucket=enc_bucket, Key="large")
    assert got.get("ServerSideEncryption") == "AES256"
    body = got["Body"].read()
    assert len(body) == size and body == data, f"read back {len(body)} bytes of {size}"
    assert_sealed_blob(the_new_blob(server, before), size)
    for spec in (
        f"bytes={MIB - 10}-{MIB + 10}",
        f"bytes={2 * MIB - CHUNK - 5}-{3 * MIB + 7}",
        f"bytes={size - CHUNK - 1}-",
        "bytes=-300000",
        f"bytes=300000-{size - 2}",
    ):
        check_range(s3, enc_bucket, "large", data, spec)


def check_multipart_object(client, bucket: str, key: str, parts: list[bytes], **kw) -> None:
    whole = b"".join(parts)
    got = client.get_object(Bucket=bucket, Key=key, **kw)
    body = got["Body"].read()
    assert len(body) == len(whole) and body == whole, f"multipart object read back as {len(body)} bytes"
    boundary = len(parts[0])
    for spec in (
        f"bytes={boundary - 10}-{boundary + 9}",
        f"bytes={boundary - CHUNK}-{boundary + CHUNK}",
        f"bytes={boundary}-{boundary}",
        f"bytes={len(whole) - 3}-",
        "bytes=-5",
    ):
        check_range(client, bucket, key, whole, spec, **kw)
    part2 = client.get_object(Bucket=bucket, Key=key, PartNumber=2, **kw)
    assert part2["ResponseMetadata"]["HTTPStatusCode"] == 206, part2["ResponseMetadata"]
    assert part2.get("PartsCount") == len(parts), part2
    p2 = part2["Body"].read()
    assert p2 == parts[1], f"partNumber=2 returned {len(p2)} bytes, expected part 2 ({len(parts[1])} bytes)"


def test_multipart_sealed_by_default(server, s3, enc_bucket):
    parts = [random_bytes(PART), random_bytes(PART), random_bytes(4321)]
    before = disk_state(server)
    created, uploaded, done = multipart(s3, enc_bucket, "mpu", parts)
    assert created.get("ServerSideEncryption") == "AES256", created
    assert all(u.get("ServerSideEncryption") == "AES256" for u in uploaded), uploaded
    assert done.get("ServerSideEncryption") == "AES256", done
    assert s3.head_object(Bucket=enc_bucket, Key="mpu").get("ServerSideEncryption") == "AES256"
    check_multipart_object(s3, enc_bucket, "mpu", parts)
    for i, p in enumerate(parts, 1):
        hits = files_containing(server, p[1000:1256], since=before)
        assert not hits, f"plaintext of part {i} is on disk in {hits}"


def test_upload_part_copy_from_encrypted_source(s3, enc_bucket):
    src = random_bytes(PART + 70000)
    s3.put_object(Bucket=enc_bucket, Key="upc-src", Body=src)
    uid = s3.create_multipart_upload(Bucket=enc_bucket, Key="upc-dst")["UploadId"]
    source = {"Bucket": enc_bucket, "Key": "upc-src"}
    r1 = s3.upload_part_copy(
        Bucket=enc_bucket, Key="upc-dst", UploadId=uid, PartNumber=1, CopySource=source,
        CopySourceRange=f"bytes=0-{PART - 1}",
    )
    r2 = s3.upload_part_copy(
        Bucket=enc_bucket, Key="upc-dst", UploadId=uid, PartNumber=2, CopySource=source,
        CopySourceRange=f"bytes={PART}-{len(src) - 1}",
    )
    assert r1.get("ServerSideEncryption") == "AES256", r1
    s3.complete_multipart_upload(
        Bucket=enc_bucket, Key="upc-dst", UploadId=uid,
        MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]},
            {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]},
        ]},
    )
    assert get_body(s3, enc_bucket, "upc-dst") == src
    assert s3.head_object(Bucket=enc_bucket, Key="upc-dst").get("ServerSideEncryption") == "AES256"


def test_copy_encrypted_to_encrypted(s3, enc_bucket):
    data = random_bytes(3 * CHUNK + 5)
    s3.put_object(Bucket=enc_bucket, Key="e2e-src", Body=data, ServerSideEncryption="AES256")
    r = s3.copy_object(
        Bucket=enc_bucket, Key="e2e-dst", CopySource={"Bucket": enc_bucket, "Key": "e2e-src"},
        ServerSideEncryption="AES256",
    )
    assert r.get("ServerSideEncryption") == "AES256", r
    assert get_body(s3, enc_bucket, "e2e-dst") == data
    check_range(s3, enc_bucket, "e2e-dst", data, f"bytes={CHUNK - 2}-{2 * CHUNK + 2}")


def test_sse_header_on_a_read_is_refused(server, s3, enc_bucket):
    s3.put_object(Bucket=enc_bucket, Key="read-sse", Body=b"data")
    r = raw_request(server, "GET", object_path(enc_bucket, "read-sse"), {"x-amz-server-side-encryption": "AES256"})
    assert_error_response(r, 400, "InvalidArgument")


def test_sse_kms_request_header_not_implemented(s3, enc_bucket):
    with s3_error(501, "NotImplemented"):
        s3.put_object(Bucket=enc_bucket, Key="kms", Body=b"x", ServerSideEncryption="aws:kms")
    assert not object_exists(s3, enc_bucket, "kms")


# --------------------------------------------------------------------------
# Encryption at rest off: plain objects, the request header, bucket default encryption
# --------------------------------------------------------------------------


def test_plain_object_is_plain_on_disk(plain_server, plain_s3, plain_bucket):
    """The check the other tests rely on can fail: an unencrypted object's marker is found on disk."""
    needle, payload = marker_payload()
    before_files, before = stored_files(plain_server), disk_state(plain_server)
    put = plain_s3.put_object(Bucket=plain_bucket, Key="plain", Body=payload)
    assert "ServerSideEncryption" not in put, put
    head = plain_s3.head_object(Bucket=plain_bucket, Key="plain")
    assert "ServerSideEncryption" not in head, head
    assert get_body(plain_s3, plain_bucket, "plain") == payload
    blob = the_new_blob(plain_server, before_files)
    raw = blob.read_bytes()
    assert raw == payload, f"a plain blob holds the body as sent ({len(raw)} bytes, starts {raw[:8]!r})"
    hits = files_containing(plain_server, needle, since=before)
    assert hits, "the marker of an unencrypted object was not found on disk: the plaintext check is blind"


def test_request_header_seals_with_at_rest_off(plain_server, plain_s3, plain_bucket):
    needle, payload = marker_payload()
    before_files, before = stored_files(plain_server), disk_state(plain_server)
    put = plain_s3.put_object(Bucket=plain_bucket, Key="sse", Body=payload, ServerSideEncryption="AES256")
    assert put.get("ServerSideEncryption") == "AES256", put
    assert plain_s3.head_object(Bucket=plain_bucket, Key="sse").get("ServerSideEncryption") == "AES256"
    assert get_body(plain_s3, plain_bucket, "sse") == payload
    assert_sealed_blob(the_new_blob(plain_server, before_files), len(payload))
    hits = files_containing(plain_server, needle, since=before)
    assert not hits, f"the plaintext marker is on disk in {hits}"


def test_get_bucket_encryption_without_configuration(plain_s3, plain_bucket):
    with s3_error(404, "ServerSideEncryptionConfigurationNotFoundError"):
        plain_s3.get_bucket_encryption(Bucket=plain_bucket)


def encryption_config(algorithm: str = "AES256", bucket_key: bool | None = None) -> dict:
    rule: dict = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": algorithm}}
    if bucket_key is not None:
        rule["BucketKeyEnabled"] = bucket_key
    return {"Rules": [rule]}


def test_bucket_encryption_round_trip(plain_s3, plain_bucket):
    plain_s3.put_bucket_encryption(
        Bucket=plain_bucket, ServerSideEncryptionConfiguration=encryption_config(bucket_key=True)
    )
    rule = plain_s3.get_bucket_encryption(Bucket=plain_bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", rule
    assert rule.get("BucketKeyEnabled") is True, rule

    plain_s3.put_bucket_encryption(Bucket=plain_bucket, ServerSideEncryptionConfiguration=encryption_config())
    rule = plain_s3.get_bucket_encryption(Bucket=plain_bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule.get("BucketKeyEnabled", False) is False, f"BucketKeyEnabled should default to false: {rule}"

    r = plain_s3.delete_bucket_encryption(Bucket=plain_bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204, r["ResponseMetadata"]
    with s3_error(404, "ServerSideEncryptionConfigurationNotFoundError"):
        plain_s3.get_bucket_encryption(Bucket=plain_bucket)


def test_bucket_default_encryption_takes_effect_at_once(plain_server, plain_s3, plain_bucket):
    plain_s3.put_object(Bucket=plain_bucket, Key="before", Body=b"written before")
    # Fill the server's cache of the bucket's (absent) default encryption.
    assert "ServerSideEncryption" not in plain_s3.head_object(Bucket=plain_bucket, Key="before")
    plain_s3.put_bucket_encryption(Bucket=plain_bucket, ServerSideEncryptionConfiguration=encryption_config())
    needle, payload = marker_payload()
    before_files, before = stored_files(plain_server), disk_state(plain_server)
    put = plain_s3.put_object(Bucket=plain_bucket, Key="after", Body=payload)
    assert put.get("ServerSideEncryption") == "AES256", f"the bucket default did not apply at once: {put}"
    assert plain_s3.head_object(Bucket=plain_bucket, Key="after").get("ServerSideEncryption") == "AES256"
    assert get_body(plain_s3, plain_bucket, "after") == payload
    assert_sealed_blob(the_new_blob(plain_server, before_files), len(payload))
    assert not files_containing(plain_server, needle, since=before)
    # The object written before stays as it was.
    assert "ServerSideEncryption" not in plain_s3.head_object(Bucket=plain_bucket, Key="before")


def test_put_bucket_encryption_kms_not_implemented(plain_s3, plain_bucket):
    with s3_error(501, "NotImplemented"):
        plain_s3.put_bucket_encryption(
            Bucket=plain_bucket, ServerSideEncryptionConfiguration=encryption_config("aws:kms")
        )
    with s3_error(404, "ServerSideEncryptionConfigurationNotFoundError"):
        plain_s3.get_bucket_encryption(Bucket=plain_bucket)


@pytest.mark.parametrize(
    "body",
    [
        b"<ServerSideEncryptionConfiguration><Rule>",
        b"<NotEncryption><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
        b"</ApplyServerSideEncryptionByDefault></Rule></NotEncryption>",
        b"<ServerSideEncryptionConfiguration><Rule></Rule></ServerSideEncryptionConfiguration>",
    ],
    ids=["truncated", "wrong-root", "no-default"],
)
def test_put_bucket_encryption_malformed_xml(plain_server, plain_bucket, body):
    r = raw_request(
        plain_server, "PUT", object_path(plain_bucket), {"Content-MD5": md5_b64(body)}, body,
        query={"encryption": None},
    )
    assert_error_response(r, 400, "MalformedXML")


def test_multipart_with_bucket_default_encryption(plain_server, plain_s3, plain_bucket):
    plain_s3.put_bucket_encryption(Bucket=plain_bucket, ServerSideEncryptionConfiguration=encryption_config())
    parts = [random_bytes(PART), random_bytes(777)]
    before = disk_state(plain_server)
    created, uploaded, done = multipart(plain_s3, plain_bucket, "mpu", parts)
    assert created.get("ServerSideEncryption") == "AES256", created
    assert all(u.get("ServerSideEncryption") == "AES256" for u in uploaded), uploaded
    assert done.get("ServerSideEncryption") == "AES256", done
    assert plain_s3.head_object(Bucket=plain_bucket, Key="mpu").get("ServerSideEncryption") == "AES256"
    check_multipart_object(plain_s3, plain_bucket, "mpu", parts)
    for i, p in enumerate(parts, 1):
        hits = files_containing(plain_server, p[100:356], since=before)
        assert not hits, f"plaintext of part {i} is on disk in {hits}"


def test_multipart_plain_with_at_rest_off(plain_s3, plain_bucket):
    created, uploaded, done = multipart(plain_s3, plain_bucket, "plain-mpu", [b"a" * 10])
    assert "ServerSideEncryption" not in created and "ServerSideEncryption" not in done, (created, done)
    assert "ServerSideEncryption" not in plain_s3.head_object(Bucket=plain_bucket, Key="plain-mpu")


def test_copy_plain_to_encrypted(plain_server, plain_s3, plain_bucket):
    data = random_bytes(2 * CHUNK + 9)
    plain_s3.put_object(Bucket=plain_bucket, Key="src", Body=data)
    before = stored_files(plain_server)
    r = plain_s3.copy_object(
        Bucket=plain_bucket, Key="dst", CopySource={"Bucket": plain_bucket, "Key": "src"},
        ServerSideEncryption="AES256",
    )
    assert r.get("ServerSideEncryption") == "AES256", r
    assert plain_s3.head_object(Bucket=plain_bucket, Key="dst").get("ServerSideEncryption") == "AES256"
    assert "ServerSideEncryption" not in plain_s3.head_object(Bucket=plain_bucket, Key="src")
    assert get_body(plain_s3, plain_bucket, "dst") == data
    assert_sealed_blob(the_new_blob(plain_server, before), len(data))


def test_self_copy_that_adds_encryption(plain_server, plain_s3, plain_bucket):
    data = random_bytes(CHUNK + 1)
    plain_s3.put_object(Bucket=plain_bucket, Key="self", Body=data, Metadata={"colour": "blue"})
    source = {"Bucket": plain_bucket, "Key": "self"}
    # Copying onto itself with nothing changed is refused ...
    with s3_error(400, "InvalidRequest"):
        plain_s3.copy_object(Bucket=plain_bucket, Key="self", CopySource=source, MetadataDirective="COPY")
    # ... but changing the encryption is a change.
    before = stored_files(plain_server)
    r = plain_s3.copy_object(
        Bucket=plain_bucket, Key="self", CopySource=source, MetadataDirective="COPY", ServerSideEncryption="AES256"
    )
    assert r.get("ServerSideEncryption") == "AES256", r
    head = plain_s3.head_object(Bucket=plain_bucket, Key="self")
    assert head.get("ServerSideEncryption") == "AES256", head
    assert head["Metadata"] == {"colour": "blue"}, head["Metadata"]
    assert get_body(plain_s3, plain_bucket, "self") == data
    assert_sealed_blob(the_new_blob(plain_server, before), len(data))


# --------------------------------------------------------------------------
# SSE-C
# --------------------------------------------------------------------------


def test_sse_c_refused_over_plain_http(server, s3, enc_bucket):
    key = os.urandom(32)
    before = stored_files(server)
    with s3_error(400, "InvalidRequest") as exc:
        s3.put_object(Bucket=enc_bucket, Key="ssec-http", Body=b"secret over http", **ssec(key))
    assert "secure connection" in exc.value.response["Error"].get("Message", ""), exc.value.response["Error"]
    assert not object_exists(s3, enc_bucket, "ssec-http")
    assert not new_blobs(server, before), "a refused SSE-C PUT left a blob"


def test_sse_c_put_response(ssec_s3, ssec_bucket):
    key = os.urandom(32)
    data = random_bytes(5000)
    put = ssec_s3.put_object(Bucket=ssec_bucket, Key="k", Body=data, **ssec(key))
    assert put.get("SSECustomerAlgorithm") == "AES256", put
    assert put.get("SSECustomerKeyMD5") == md5_b64(key), put
    assert "ServerSideEncryption" not in put, put
    etag = put["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag), etag
    assert etag != '"' + hashlib.md5(data).hexdigest() + '"', "an SSE-C ETag must not be the MD5 of the body"


def test_sse_c_key_as_str(ssec_s3, ssec_bucket):
    key = "k" * 32
    ssec_s3.put_object(Bucket=ssec_bucket, Key="strkey", Body=b"text key", **ssec(key))
    assert ssec_s3.get_object(Bucket=ssec_bucket, Key="strkey", **ssec(key))["Body"].read() == b"text key"
    assert ssec_s3.get_object(Bucket=ssec_bucket, Key="strkey", **ssec(key.encode()))["Body"].read() == b"text key"


def test_sse_c_get_and_head_with_the_key(ssec_s3, ssec_object):
    bucket, key, data = ssec_object
    got = ssec_s3.get_object(Bucket=bucket, Key="obj", **ssec(key))
    assert got["Body"].read() == data
    assert got.get("SSECustomerAlgorithm") == "AES256" and got.get("SSECustomerKeyMD5") == md5_b64(key), got
    assert "ServerSideEncryption" not in got, got
    head = ssec_s3.head_object(Bucket=bucket, Key="obj", **ssec(key))
    assert head["ContentLength"] == len(data), head
    assert head.get("SSECustomerAlgorithm") == "AES256" and head.get("SSECustomerKeyMD5") == md5_b64(key), head
    assert "ServerSideEncryption" not in head, head


@pytest.mark.parametrize(
    "spec",
    ["bytes=0-0", f"bytes={CHUNK - 1}-{CHUNK}", f"bytes={CHUNK}-{2 * CHUNK - 1}", f"bytes={2 * CHUNK - 1}-{2 * CHUNK}",
     "bytes=-1", f"bytes=-{CHUNK + 1}", f"bytes={CHUNK - 6}-", "bytes=70000-70099"],
)
def test_sse_c_ranged_get(ssec_s3, ssec_object, spec):
    bucket, key, data = ssec_object
    check_range(ssec_s3, bucket, "obj", data, spec, **ssec(key))


def test_sse_c_read_without_the_key(ssec_s3, ssec_object):
    bucket, _key, _data = ssec_object
    with s3_error(400, "InvalidRequest"):
        ssec_s3.get_object(Bucket=bucket, Key="obj")
    with s3_error(400, "400"):
        ssec_s3.head_object(Bucket=bucket, Key="obj")


def test_sse_c_read_with_a_wrong_key(ssec_s3, ssec_object):
    bucket, _key, _data = ssec_object
    with s3_error(403, "AccessDenied"):
        ssec_s3.get_object(Bucket=bucket, Key="obj", **ssec(os.urandom(32)))
    with s3_error(403, "403"):
        ssec_s3.head_object(Bucket=bucket, Key="obj", **ssec(os.urandom(32)))
    with s3_error(403, "AccessDenied"):
        ssec_s3.get_object(Bucket=bucket, Key="obj", Range="bytes=0-10", **ssec(os.urandom(32)))


def test_sse_c_headers_on_an_object_without_sse_c(ssec_s3, ssec_bucket):
    ssec_s3.put_object(Bucket=ssec_bucket, Key="sse-s3", Body=b"server key")
    with s3_error(400, "InvalidRequest"):
        ssec_s3.get_object(Bucket=ssec_bucket, Key="sse-s3", **ssec(os.urandom(32)))
    with s3_error(400, "400"):
        ssec_s3.head_object(Bucket=ssec_bucket, Key="sse-s3", **ssec(os.urandom(32)))
    assert get_body(ssec_s3, ssec_bucket, "sse-s3") == b"server key"


def test_sse_c_get_without_key_md5_is_accepted(ssec_server, ssec_object):
    bucket, key, data = ssec_object
    r = raw_request(ssec_server, "GET", object_path(bucket, "obj"), ssec_headers(key, with_md5=False))
    assert r.status_code == 200, r.content[:500]
    assert r.content == data


def test_sse_c_raw_put_and_get_round_trip(ssec_server, ssec_s3, ssec_bucket):
    key = os.urandom(32)
    r = raw_request(ssec_server, "PUT", object_path(ssec_bucket, "raw"), ssec_headers(key), b"raw body")
    assert r.status_code == 200, r.content[:500]
    assert r.headers.get(SSE_C_ALGORITHM) == "AES256" and r.headers.get(SSE_C_MD5) == md5_b64(key), r.headers
    assert ssec_s3.get_object(Bucket=ssec_bucket, Key="raw", **ssec(key))["Body"].read() == b"raw body"


@pytest.mark.parametrize(
    "headers, code",
    [
        (lambda k: ssec_headers(k, with_md5=False), "InvalidArgument"),
        (lambda k: ssec_headers(k, md5=md5_b64(b"another key")), "InvalidArgument"),
        (lambda k: ssec_headers(k, algorithm="AES128"), "InvalidEncryptionAlgorithmError"),
        (lambda k: ssec_headers(k[:16]), "InvalidArgument"),
        (lambda k: {**ssec_headers(k), "x-amz-server-side-encryption": "AES256"}, "InvalidArgument"),
        (lambda k: {SSE_C_KEY: base64.b64encode(k).decode(), SSE_C_MD5: md5_b64(k)}, "InvalidArgument"),
    ],
    ids=["no-md5", "wrong-md5", "wrong-algorithm", "short-key", "with-sse-s3", "no-algorithm"],
)
def test_sse_c_bad_put_headers(ssec_server, ssec_s3, ssec_bucket, headers, code):
    key = os.urandom(32)
    before = stored_files(ssec_server)
    r = raw_request(ssec_server, "PUT", object_path(ssec_bucket, "bad"), headers(key), b"must not be stored")
    assert_error_response(r, 400, code)
    assert not object_exists(ssec_s3, ssec_bucket, "bad")
    assert not new_blobs(ssec_server, before), "a refused SSE-C PUT left a blob"


def test_sse_c_sse_header_on_a_read(ssec_server, ssec_object):
    bucket, key, _data = ssec_object
    r = raw_request(
        ssec_server, "GET", object_path(bucket, "obj"), {**ssec_headers(key), "x-amz-server-side-encryption": "AES256"}
    )
    assert_error_response(r, 400, "InvalidArgument")


def test_sse_c_plaintext_is_not_on_disk(ssec_server, ssec_s3, ssec_bucket):
    key = os.urandom(32)
    needle, payload = marker_payload()
    before_files, before = stored_files(ssec_server), disk_state(ssec_server)
    ssec_s3.put_object(Bucket=ssec_bucket, Key="marker", Body=payload, **ssec(key))
    assert ssec_s3.get_object(Bucket=ssec_bucket, Key="marker", **ssec(key))["Body"].read() == payload
    assert_sealed_blob(the_new_blob(ssec_server, before_files), len(payload))
    hits = files_containing(ssec_server, needle, since=before)
    assert not hits, f"the plaintext marker of an SSE-C object is on disk in {hits}"


def test_sse_c_multipart(ssec_server, ssec_s3, ssec_bucket):
    key, other = os.urandom(32), os.urandom(32)
    parts = [random_bytes(PART), random_bytes(3000)]
    before = disk_state(ssec_server)
    created = ssec_s3.create_multipart_upload(Bucket=ssec_bucket, Key="mpu", **ssec(key))
    assert created.get("SSECustomerAlgorithm") == "AES256", created
    assert created.get("SSECustomerKeyMD5") == md5_b64(key), created
    uid = created["UploadId"]
    with s3_error(400, "InvalidRequest"):
        ssec_s3.upload_part(Bucket=ssec_bucket, Key="mpu", UploadId=uid, PartNumber=1, Body=b"no key")
    with s3_error(403, "AccessDenied"):
        ssec_s3.upload_part(Bucket=ssec_bucket, Key="mpu", UploadId=uid, PartNumber=1, Body=b"other", **ssec(other))
    etags = []
    for i, body in enumerate(parts, 1):
        r = ssec_s3.upload_part(Bucket=ssec_bucket, Key="mpu", UploadId=uid, PartNumber=i, Body=body, **ssec(key))
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert r.get("SSECustomerKeyMD5") == md5_b64(key), r
        etags.append(r["ETag"])
    ssec_s3.complete_multipart_upload(
        Bucket=ssec_bucket, Key="mpu", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": i, "ETag": e} for i, e in enumerate(etags, 1)]},
    )
    whole = b"".join(parts)
    got = ssec_s3.get_object(Bucket=ssec_bucket, Key="mpu", **ssec(key))["Body"].read()
    assert got == whole, f"read back {len(got)} bytes of {len(whole)}"
    check_range(ssec_s3, ssec_bucket, "mpu", whole, f"bytes={PART - 100}-{PART + 99}", **ssec(key))
    with s3_error(400, "InvalidRequest"):
        ssec_s3.get_object(Bucket=ssec_bucket, Key="mpu")
    with s3_error(403, "AccessDenied"):
        ssec_s3.get_object(Bucket=ssec_bucket, Key="mpu", **ssec(other))
    for i, p in enumerate(parts, 1):
        hits = files_containing(ssec_server, p[500:756], since=before)
        assert not hits, f"plaintext of SSE-C part {i} is on disk in {hits}"


def test_copy_from_sse_c_source_needs_the_source_key(ssec_s3, ssec_object):
    bucket, _key, _data = ssec_object
    with s3_error(400, "InvalidRequest"):
        ssec_s3.copy_object(Bucket=bucket, Key="copy-nokey", CopySource={"Bucket": bucket, "Key": "obj"})
    assert not object_exists(ssec_s3, bucket, "copy-nokey")


def test_copy_from_sse_c_to_sse_s3(ssec_s3, ssec_object):
    bucket, key, data = ssec_object
    r = ssec_s3.copy_object(Bucket=bucket, Key="copy-s3", CopySource={"Bucket": bucket, "Key": "obj"}, **copy_ssec(key))
    assert r.get("ServerSideEncryption") == "AES256", r
    head = ssec_s3.head_object(Bucket=bucket, Key="copy-s3")
    assert head.get("ServerSideEncryption") == "AES256", head
    assert "SSECustomerAlgorithm" not in head, head
    assert get_body(ssec_s3, bucket, "copy-s3") == data


def test_copy_from_sse_c_to_sse_c_with_a_new_key(ssec_s3, ssec_object):
    bucket, key, data = ssec_object
    new = os.urandom(32)
    r = ssec_s3.copy_object(
        Bucket=bucket, Key="copy-c", CopySource={"Bucket": bucket, "Key": "obj"}, **copy_ssec(key), **ssec(new)
    )
    assert r.get("SSECustomerKeyMD5") == md5_b64(new), r
    assert ssec_s3.get_object(Bucket=bucket, Key="copy-c", **ssec(new))["Body"].read() == data
    with s3_error(403, "AccessDenied"):
        ssec_s3.get_object(Bucket=bucket, Key="copy-c", **ssec(key))
    with s3_error(400, "InvalidRequest"):
        ssec_s3.get_object(Bucket=bucket, Key="copy-c")


def test_upload_part_copy_from_sse_c_source(ssec_s3, ssec_bucket):
    key = os.urandom(32)
    src = random_bytes(PART + 1000)
    ssec_s3.put_object(Bucket=ssec_bucket, Key="src", Body=src, **ssec(key))
    uid = ssec_s3.create_multipart_upload(Bucket=ssec_bucket, Key="dst")["UploadId"]
    with s3_error(400, "InvalidRequest"):
        ssec_s3.upload_part_copy(
            Bucket=ssec_bucket, Key="dst", UploadId=uid, PartNumber=1, CopySource={"Bucket": ssec_bucket, "Key": "src"}
        )
    r = ssec_s3.upload_part_copy(
        Bucket=ssec_bucket, Key="dst", UploadId=uid, PartNumber=1, CopySource={"Bucket": ssec_bucket, "Key": "src"},
        **copy_ssec(key),
    )
    ssec_s3.complete_multipart_upload(
        Bucket=ssec_bucket, Key="dst", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}]},
    )
    assert get_body(ssec_s3, ssec_bucket, "dst") == src


def test_sse_c_over_https(tmp_path):
    """Without --encryption-sse-c-over-http, SSE-C works over TLS."""
    cert = make_certificate(tmp_path)
    srv = start_server(
        tmp_path,
        extra_args=["--tls-cert-file", str(cert), "--tls-key-file", str(tmp_path / "server.key"), "--console-tls", "false"],
    )
    try:
        client = boto3.session.Session().client(
            "s3", endpoint_url=f"https://127.0.0.1:{srv.s3_port}", region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, verify=str(cert),
            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", retries={"total_max_attempts": 1}),
        )
        key = os.urandom(32)
        data = random_bytes(CHUNK + 17)
        client.create_bucket(Bucket="tls-ssec")
        put = client.put_object(Bucket="tls-ssec", Key="k", Body=data, **ssec(key))
        assert put.get("SSECustomerKeyMD5") == md5_b64(key), put
        got = client.get_object(Bucket="tls-ssec", Key="k", **ssec(key))
        assert got["Body"].read() == data
        assert got.get("SSECustomerAlgorithm") == "AES256", got
        with s3_error(403, "AccessDenied"):
            client.get_object(Bucket="tls-ssec", Key="k", **ssec(os.urandom(32)))
        client.delete_object(Bucket="tls-ssec", Key="k")
        client.delete_bucket(Bucket="tls-ssec")
    finally:
        stop_and_check(srv)


# --------------------------------------------------------------------------
# Restarts and master keys
# --------------------------------------------------------------------------


def test_encrypted_objects_survive_a_restart(tmp_path):
    data_dir = tmp_path / "data"
    srv = start_server(tmp_path, data_dir=data_dir, log_name="first.log")
    try:
        client = make_client(srv.endpoint)
        data = random_bytes(2 * CHUNK + 77)
        client.create_bucket(Bucket="restart")
        assert client.put_object(Bucket="restart", Key="k", Body=data).get("ServerSideEncryption") == "AES256"
    finally:
        stop_and_check(srv)
    assert (data_dir / "master.key").is_file(), "no master.key was generated in the data dir"
    log = srv.log()
    assert "master key is in the data directory" in log, f"no warning about master.key in the data dir:\n{log}"
    srv = start_server(tmp_path, data_dir=data_dir, log_name="second.log")
    try:
        client = make_client(srv.endpoint)
        assert get_body(client, "restart", "k") == data
        check_range(client, "restart", "k", data, f"bytes={CHUNK - 3}-{CHUNK + 3}")
    finally:
        stop_and_check(srv)


def test_another_master_key_cannot_read_until_the_old_one_is_given(tmp_path):
    key_a, key_b = new_master_key(), new_master_key()
    data_dir = tmp_path / "data"
    needle, payload = marker_payload(CHUNK + 500)

    srv = start_with_env(tmp_path, {"MAXIOFS_MASTER_KEY": key_a}, data_dir=data_dir, log_name="a.log")
    try:
        client = make_client(srv.endpoint)
        client.create_bucket(Bucket="keys")
        client.put_object(Bucket="keys", Key="k", Body=payload)
    finally:
        stop_and_check(srv)

    srv = start_with_env(tmp_path, {"MAXIOFS_MASTER_KEY": key_b}, data_dir=data_dir, log_name="b.log")
    try:
        r = raw_request(srv, "GET", object_path("keys", "k"))
        assert needle not in r.content, "an object sealed with another master key was returned"
        assert_error_response(r, 500, "InternalError")
        r = raw_request(srv, "GET", object_path("keys", "k"), {"Range": "bytes=0-99"})
        assert needle not in r.content
        assert_error_response(r, 500, "InternalError")
    finally:
        stop_and_check(srv)

    srv = start_with_env(
        tmp_path, {"MAXIOFS_MASTER_KEY": key_b, "MAXIOFS_ENCRYPTION_PREVIOUS_MASTER_KEYS": key_a},
        data_dir=data_dir, log_name="b-with-a.log",
    )
    try:
        client = make_client(srv.endpoint)
        assert get_body(client, "keys", "k") == payload
        # New objects are sealed with the new key.
        client.put_object(Bucket="keys", Key="new", Body=b"under key B")
        assert get_body(client, "keys", "new") == b"under key B"
    finally:
        stop_and_check(srv)


def run_rewrap(data_dir: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("MAXIOFS_")} | env
    return subprocess.run(
        [server_binary(), "rewrap", "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=60,
        env=full, stdin=subprocess.DEVNULL)


def test_rewrap_moves_blobs_and_secrets_to_the_new_key(tmp_path):
    """The rotation: write under key A (objects and a user's access key), serve with B and previous A, run
    `maxiofs rewrap` with the same keys, and then key B alone reads everything and the user's key still works."""
    key_a, key_b = new_master_key(), new_master_key()
    data_dir = tmp_path / "data"
    _, payload = marker_payload(3 * CHUNK + 7)
    srv = start_with_env(tmp_path, {"MAXIOFS_MASTER_KEY": key_a}, data_dir=data_dir, log_name="a.log")
    try:
        root = make_client(srv.endpoint)
        root.create_bucket(Bucket="rot")
        root.put_object(Bucket="rot", Key="big", Body=payload)
        root.put_object(Bucket="rot", Key="small", Body=b"small one")
        name = "rotuser"
        admin_cli(srv, "user", "create", name, "--password", "Rotation-Passw0rd!", "--role", "admin")
        key = admin_cli(srv, "key", "create", "--user", name)
    finally:
        stop_and_check(srv)
    blobs = sorted(p for p in (data_dir / "blobs").rglob("*") if p.is_file())
    # Sizes and modification times (start-up collects unreferenced blobs by their age).
    sizes = {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in blobs}
    bodies_after_header = {p: p.read_bytes()[HEADER:] for p in blobs}

    # Without any key configured it refuses rather than make one up.
    (data_dir / "master.key").unlink(missing_ok=True)
    proc = run_rewrap(data_dir, {})
    assert proc.returncode != 0 and "no master key" in proc.stderr, proc.stdout + proc.stderr
    assert not (data_dir / "master.key").exists()
    # Without the previous key, rewrap cannot open what key A sealed: it says so and exits 1.
    proc = run_rewrap(data_dir, {"MAXIOFS_MASTER_KEY": key_b})
    assert proc.returncode != 0, proc.stdout
    both = {"MAXIOFS_MASTER_KEY": key_b, "MAXIOFS_ENCRYPTION_PREVIOUS_MASTER_KEYS": key_a}
    proc = run_rewrap(data_dir, both)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"blobs: {len(blobs)} rewrapped" in proc.stdout, proc.stdout
    assert "catalog secrets sealed again: 1" in proc.stdout, proc.stdout
    # Only the headers changed: same sizes and times, same sealed data.
    assert {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in blobs} == sizes
    assert {p: p.read_bytes()[HEADER:] for p in blobs} == bodies_after_header
    # `maxiofs check` knows sealed blobs are longer than their objects.
    check = subprocess.run(
        [server_binary(), "check", "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and "0 wrong size" in check.stdout, check.stdout + check.stderr
    # Running it again finds nothing to do.
    again = run_rewrap(data_dir, both)
    assert again.returncode == 0 and f"blobs: 0 rewrapped, {len(blobs)} already on the current key" in again.stdout

    srv = start_with_env(tmp_path, {"MAXIOFS_MASTER_KEY": key_b}, data_dir=data_dir, log_name="b-only.log")
    try:
        root = make_client(srv.endpoint)
        assert get_body(root, "rot", "big") == payload
        assert get_body(root, "rot", "small") == b"small one"
        user = make_client(srv.endpoint, key["access_key_id"], key["secret_access_key"])
        assert user.get_object(Bucket="rot", Key="small")["Body"].read() == b"small one"
    finally:
        stop_and_check(srv)
