"""Concurrent access to one key: a streaming GET racing an overwrite and a delete, and
simultaneous PUTs of the same key."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from conftest import (
    sealed_size,
    get_body,
    leaked_temp_files,
    object_exists,
    object_path,
    quoted_md5,
    random_bytes,
    s3_error,
    sign_request,
)

MiB = 1024 * 1024


def test_streaming_get_survives_overwrite_and_delete(server, s3, bucket):
    original = random_bytes(40 * MiB)
    replacement = random_bytes(40 * MiB)  # same size: an in-place rewrite would corrupt the GET
    s3.put_object(Bucket=bucket, Key="big", Body=original)

    url, headers = sign_request(server, "GET", object_path(bucket, "big"))
    with requests.get(url, headers=headers, stream=True, timeout=60) as resp:
        assert resp.status_code == 200, resp.content
        assert resp.headers["Content-Length"] == str(len(original))
        assert resp.headers["ETag"] == quoted_md5(original)
        chunks = resp.iter_content(64 * 1024)
        first = next(chunks)
        assert first and original.startswith(first)

        # While the GET is in flight: overwrite, check that the overwrite is visible...
        put = s3.put_object(Bucket=bucket, Key="big", Body=replacement)
        assert put["ETag"] == quoted_md5(replacement)
        head = s3.head_object(Bucket=bucket, Key="big")
        assert head["ETag"] == quoted_md5(replacement)
        ranged = s3.get_object(Bucket=bucket, Key="big", Range="bytes=0-4095")["Body"].read()
        assert ranged == replacement[:4096]
        # ... then delete.
        assert s3.delete_object(Bucket=bucket, Key="big")["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert not object_exists(s3, bucket, "big")

        digest, received = hashlib.md5(first), len(first)
        for chunk in chunks:
            digest.update(chunk)
            received += len(chunk)
    assert received == len(original), f"GET ended after {received} of {len(original)} bytes"
    assert digest.hexdigest() == hashlib.md5(original).hexdigest(), "GET body is not the original object"
    with s3_error(404, "NoSuchKey"):
        s3.get_object(Bucket=bucket, Key="big")


def _blob_files(data_dir: Path) -> dict[Path, int]:
    blobs = data_dir / "blobs"
    return {p: p.stat().st_size for p in blobs.rglob("*") if p.is_file()} if blobs.exists() else {}


def test_concurrent_puts_of_one_key(server, s3, bucket):
    writers = 8
    blobs_before = _blob_files(server.data_dir)
    for round_ in range(3):
        # Distinct sizes (256 KiB .. 2 MiB, plus a per-writer tail) and contents.
        payloads = [random_bytes(256 * 1024 * (i + 1) + 1000 + i) for i in range(writers)]
        by_md5 = {hashlib.md5(p).hexdigest(): p for p in payloads}
        barrier = threading.Barrier(writers)

        def put(data: bytes):
            barrier.wait(timeout=30)
            return s3.put_object(Bucket=bucket, Key="contended", Body=data)

        with ThreadPoolExecutor(writers) as pool:
            results = list(pool.map(put, payloads))
        # Every writer succeeds (last writer wins; S3 has no write conflicts for plain PUTs).
        for data, result in zip(payloads, results):
            assert result["ResponseMetadata"]["HTTPStatusCode"] == 200
            assert result["ETag"] == quoted_md5(data)

        got = s3.get_object(Bucket=bucket, Key="contended")
        body = got["Body"].read()
        winner = by_md5.get(hashlib.md5(body).hexdigest())
        assert winner is not None, f"round {round_}: object ({len(body)} bytes) is none of the written payloads"
        assert body == winner
        assert got["ETag"] == quoted_md5(body)
        assert got["ContentLength"] == len(body)
        head = s3.head_object(Bucket=bucket, Key="contended")
        assert (head["ETag"], head["ContentLength"]) == (quoted_md5(body), len(body))
        listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
        assert [(o["Key"], o["ETag"], o["Size"]) for o in listed] == [("contended", quoted_md5(body), len(body))]

        assert leaked_temp_files(server.data_dir) == [], f"round {round_}: temporary files left behind"
        # The seven losing blobs (and the previous round's winner) are gone as well.
        new_blobs = {p: n for p, n in _blob_files(server.data_dir).items() if p not in blobs_before}
        assert sorted(new_blobs.values()) == [sealed_size(len(body))], f"round {round_}: blobs left: {new_blobs}"
    assert get_body(s3, bucket, "contended") == body
