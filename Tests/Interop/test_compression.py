"""Transparent compression (`compression.enabled`, off by default): objects of the configured content types are
stored compressed, and clients see the object as written: sizes, ETags (the MD5 of the data), checksums,
ranges, multipart parts, copies. Checked on disk (smaller blobs, no plain text) with encryption at rest off,
and read back with it on (compressed, then sealed)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from conftest import (
    get_body,
    make_client,
    random_bytes,
    server_binary,
    start_server,
    stop_and_check,
)

MIB = 1024 * 1024
TEXT = b"".join(b"line %07d: the quick brown fox jumps over the lazy dog\n" % i for i in range(40000))  # ~2.3 MB


def blob_sizes(data_dir: Path) -> dict[Path, int]:
    return {p: p.stat().st_size for p in (data_dir / "blobs").rglob("*") if p.is_file()}


def new_blobs(data_dir: Path, before: dict[Path, int]) -> dict[Path, int]:
    return {p: n for p, n in blob_sizes(data_dir).items() if p not in before}


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory):
    srv = start_server(
        tmp_path_factory.mktemp("compress-plain"),
        extra_args=["--compression-enabled", "true", "--encryption-at-rest", "false"],
    )
    try:
        yield srv
    finally:
        stop_and_check(srv)


@pytest.fixture(scope="module")
def sealed_server(tmp_path_factory):
    srv = start_server(
        tmp_path_factory.mktemp("compress-sealed"),
        extra_args=["--compression-enabled", "true", "--compression-types", "text/*,application/json"],
    )
    try:
        yield srv
    finally:
        stop_and_check(srv)


def test_text_is_stored_compressed_and_read_back_as_written(plain_server):
    s3 = make_client(plain_server.endpoint)
    s3.create_bucket(Bucket="zzz")
    before = blob_sizes(plain_server.data_dir)
    put = s3.put_object(Bucket="zzz", Key="log.txt", Body=TEXT, ContentType="text/plain; charset=utf-8",
                        ChecksumAlgorithm="CRC32")
    assert put["ETag"] == '"%s"' % hashlib.md5(TEXT).hexdigest()
    added = new_blobs(plain_server.data_dir, before)
    assert len(added) == 1, added
    (path, size), = added.items()
    assert size < len(TEXT) // 5, f"{len(TEXT)} bytes of text stored in {size}"
    assert b"the quick brown fox" not in path.read_bytes()
    head = s3.head_object(Bucket="zzz", Key="log.txt", ChecksumMode="ENABLED")
    assert head["ContentLength"] == len(TEXT)
    assert head["ETag"] == put["ETag"] and head["ChecksumCRC32"] == put["ChecksumCRC32"]
    assert head["ContentType"] == "text/plain; charset=utf-8"
    assert get_body(s3, "zzz", "log.txt") == TEXT
    listed = s3.list_objects_v2(Bucket="zzz", Prefix="log.txt")["Contents"][0]
    assert listed["Size"] == len(TEXT)
    for first, last in [(0, 0), (65535, 65536), (65536, 200000), (len(TEXT) - 10, len(TEXT) - 1), (123, 456)]:
        got = s3.get_object(Bucket="zzz", Key="log.txt", Range=f"bytes={first}-{last}")
        assert got["Body"].read() == TEXT[first:last + 1], (first, last)
        assert got["ContentRange"] == f"bytes {first}-{last}/{len(TEXT)}"


def test_other_types_and_small_objects_stay_as_they_are(plain_server):
    s3 = make_client(plain_server.endpoint)
    s3.create_bucket(Bucket="zz2")
    before = blob_sizes(plain_server.data_dir)
    s3.put_object(Bucket="zz2", Key="bin", Body=TEXT, ContentType="application/octet-stream")
    (size,) = new_blobs(plain_server.data_dir, before).values()
    assert size == len(TEXT), "a type outside compression.types was compressed"
    # A small text object goes through the one-job path: compressed too, and read back.
    s3.put_object(Bucket="zz2", Key="small.json", Body=b'{"a": 1}' * 300, ContentType="application/json")
    assert get_body(s3, "zz2", "small.json") == b'{"a": 1}' * 300
    s3.put_object(Bucket="zz2", Key="empty.txt", Body=b"", ContentType="text/plain")
    assert get_body(s3, "zz2", "empty.txt") == b""
    assert s3.head_object(Bucket="zz2", Key="empty.txt")["ContentLength"] == 0


def test_incompressible_text_is_still_read_back(plain_server):
    s3 = make_client(plain_server.endpoint)
    s3.create_bucket(Bucket="zz3")
    noise = random_bytes(300_000)
    s3.put_object(Bucket="zz3", Key="noise.txt", Body=noise, ContentType="text/plain")
    assert get_body(s3, "zz3", "noise.txt") == noise
    got = s3.get_object(Bucket="zz3", Key="noise.txt", Range="bytes=65530-131080")["Body"].read()
    assert got == noise[65530:131081]


def test_multipart_and_copies(plain_server):
    s3 = make_client(plain_server.endpoint)
    s3.create_bucket(Bucket="zzm")
    body = (TEXT * 6)[: 11 * MIB + 5]
    before = blob_sizes(plain_server.data_dir)
    up = s3.create_multipart_upload(Bucket="zzm", Key="big.txt", ContentType="text/csv")["UploadId"]
    parts = []
    for n, start in enumerate(range(0, len(body), 5 * MIB), start=1):
        chunk = body[start:start + 5 * MIB]
        r = s3.upload_part(Bucket="zzm", Key="big.txt", UploadId=up, PartNumber=n, Body=chunk)
        assert r["ETag"] == '"%s"' % hashlib.md5(chunk).hexdigest()
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
    s3.complete_multipart_upload(Bucket="zzm", Key="big.txt", UploadId=up, MultipartUpload={"Parts": parts})
    added = new_blobs(plain_server.data_dir, before)
    assert len(added) == 3 and sum(added.values()) < len(body) // 5, added
    assert get_body(s3, "zzm", "big.txt") == body
    r = s3.get_object(Bucket="zzm", Key="big.txt", Range=f"bytes={5 * MIB - 3}-{5 * MIB + 3}")["Body"].read()
    assert r == body[5 * MIB - 3:5 * MIB + 4]
    assert s3.get_object(Bucket="zzm", Key="big.txt", PartNumber=3)["Body"].read() == body[10 * MIB:]
    # A copy to a type outside the list is stored as it is; back to text, compressed again.
    s3.copy_object(Bucket="zzm", Key="copy.bin", CopySource={"Bucket": "zzm", "Key": "big.txt"},
                   MetadataDirective="REPLACE", ContentType="application/octet-stream")
    assert get_body(s3, "zzm", "copy.bin") == body
    s3.copy_object(Bucket="zzm", Key="copy.txt", CopySource={"Bucket": "zzm", "Key": "copy.bin"},
                   MetadataDirective="REPLACE", ContentType="text/plain")
    assert get_body(s3, "zzm", "copy.txt") == body
    # UploadPartCopy from the compressed object into a new upload.
    up = s3.create_multipart_upload(Bucket="zzm", Key="pc.txt", ContentType="text/plain")["UploadId"]
    r = s3.upload_part_copy(Bucket="zzm", Key="pc.txt", UploadId=up, PartNumber=1,
                            CopySource={"Bucket": "zzm", "Key": "big.txt"}, CopySourceRange="bytes=100-200099")
    s3.complete_multipart_upload(Bucket="zzm", Key="pc.txt", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}]})
    assert get_body(s3, "zzm", "pc.txt") == body[100:200100]


def test_compressed_and_sealed(sealed_server):
    s3 = make_client(sealed_server.endpoint)
    s3.create_bucket(Bucket="zzs")
    before = blob_sizes(sealed_server.data_dir)
    put = s3.put_object(Bucket="zzs", Key="doc.json", Body=TEXT, ContentType="application/json")
    (path, size), = new_blobs(sealed_server.data_dir, before).items()
    assert path.read_bytes()[:4] == b"MXB1" and size < len(TEXT) // 5
    assert s3.head_object(Bucket="zzs", Key="doc.json")["ServerSideEncryption"] == "AES256"
    assert put["ETag"] == '"%s"' % hashlib.md5(TEXT).hexdigest()
    assert get_body(s3, "zzs", "doc.json") == TEXT
    got = s3.get_object(Bucket="zzs", Key="doc.json", Range="bytes=70000-70100")["Body"].read()
    assert got == TEXT[70000:70101]
    # XML is not in this server's list.
    s3.put_object(Bucket="zzs", Key="doc.xml", Body=TEXT, ContentType="application/xml")
    assert get_body(s3, "zzs", "doc.xml") == TEXT


def test_check_accepts_compressed_blobs(tmp_path):
    srv = start_server(tmp_path, extra_args=["--compression-enabled", "true"])
    try:
        s3 = make_client(srv.endpoint)
        s3.create_bucket(Bucket="zzc")
        s3.put_object(Bucket="zzc", Key="a.txt", Body=TEXT, ContentType="text/plain")
        s3.put_object(Bucket="zzc", Key="b.bin", Body=TEXT[:1000], ContentType="application/octet-stream")
    finally:
        stop_and_check(srv)
    proc = subprocess.run([server_binary(), "check", "--data-dir", str(srv.data_dir)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and "0 wrong size" in proc.stdout, proc.stdout + proc.stderr
    # And a restart reads them back.
    srv = start_server(tmp_path, data_dir=srv.data_dir, log_name="again.log")
    try:
        assert get_body(make_client(srv.endpoint), "zzc", "a.txt") == TEXT
    finally:
        stop_and_check(srv)


def test_compression_settings_are_checked(tmp_path):
    for args, message in [
        (["--compression-level", "0"], "--compression-level"),
        (["--compression-types", "text"], "--compression-types"),
        (["--compression-enabled", "maybe"], "--compression-enabled"),
    ]:
        proc = subprocess.run([server_binary(), "config", "print", *args], capture_output=True, text=True,
                              timeout=30, cwd=tmp_path)
        assert proc.returncode != 0 and message in proc.stderr, (args, proc.stderr)
