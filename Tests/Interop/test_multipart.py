"""Multipart upload: CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload,
AbortMultipartUpload, ListParts and ListMultipartUploads; GET/HEAD ?partNumber and ranges on the
completed object; additional checksums (COMPOSITE and FULL_OBJECT); part files on disk; the boto3
transfer manager and the aws cli; concurrency; odd keys.

AWS rules the tests rely on (API reference pages API_<Operation>.html, whose text is also in
botocore's service model):
- every part but the last must be at least 5 MiB, else Complete fails with 400 EntityTooSmall, so
  tests that complete several parts use 5 MiB parts (small parts are fine while uploading);
- the ETag of a completed upload is "<md5 of the concatenated binary part MD5s>-<part count>";
- with an additional checksum on every part, the parts given to Complete must start at 1 and be
  consecutive, else 400 InvalidPartOrder (CompletedPart.PartNumber).

botocore (request_checksum_calculation=when_supported, the default) sends x-amz-checksum-crc32 with
every UploadPart even when the upload was created without a checksum algorithm, so the `s3` client
exercises that too; `s3_plain` sends no checksum at all.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import email.utils
import gzip
import hashlib
import io
import json
import os
import threading
import time
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote_plus

import pytest
import requests
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from conftest import (
    assert_no_new_files,
    stored_files,
    FUTURE,
    PAST,
    WRONG_ETAG,
    awscli_runner,
    get_body,
    make_client,
    md5_b64,
    object_exists,
    object_path,
    quoted_md5,
    s3_error,
    sign_request,
    temporary_bucket,
    unique_name,
    utcnow,
)

MiB = 1024 * 1024
PART = 5 * MiB  # AWS's minimum size of every part but the last


# ==========================================================================
# Helpers
# ==========================================================================


def headers(resp) -> dict[str, str]:
    return resp["ResponseMetadata"]["HTTPHeaders"]


def status(resp) -> int:
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def split(data: bytes, sizes: list[int]) -> list[bytes]:
    """Cut data into consecutive pieces of these sizes (their sum must be len(data))."""
    assert sum(sizes) == len(data)
    pieces, offset = [], 0
    for size in sizes:
        pieces.append(data[offset : offset + size])
        offset += size
    return pieces


def mpu_etag(parts: list[bytes]) -> str:
    """AWS's ETag of a completed multipart upload of these parts."""
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def assert_recent(when: dt.datetime) -> None:
    assert abs((when - utcnow()).total_seconds()) < 300, when


@contextlib.contextmanager
def s3_error_in(statuses: set[int], codes: set[str]):
    """Like conftest.s3_error, accepting any of several statuses and codes."""
    with pytest.raises(ClientError) as excinfo:
        yield excinfo
    resp = excinfo.value.response
    got = (resp["ResponseMetadata"]["HTTPStatusCode"], resp["Error"].get("Code"))
    assert got[0] in statuses and got[1] in codes, (
        f"expected HTTP {sorted(statuses)} {sorted(codes)}, got {got}: {resp.get('Error')}"
    )


# ----------------------------------------------------------------- checksums


def _reflected_crc_table(poly: int) -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C_TABLE = _reflected_crc_table(0x82F63B78)


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC32C (Castagnoli); like zlib.crc32, pass the previous result to continue a running CRC.
    Table-driven and pure Python: about 10 MB/s."""
    table = _CRC32C_TABLE
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def checksum_digest(algorithm: str, data: bytes) -> bytes:
    if algorithm == "CRC32":
        return zlib.crc32(data).to_bytes(4, "big")
    if algorithm == "CRC32C":
        return crc32c(data).to_bytes(4, "big")
    return hashlib.new(algorithm.lower(), data).digest()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def checksum_b64(algorithm: str, data: bytes) -> str:
    return b64(checksum_digest(algorithm, data))


def composite_b64(algorithm: str, part_digests: list[bytes]) -> str:
    """AWS's COMPOSITE checksum: the checksum of the concatenated binary part checksums, then -N."""
    return f"{b64(checksum_digest(algorithm, b''.join(part_digests)))}-{len(part_digests)}"


def checksum_headers(resp) -> dict[str, str]:
    return {k: v for k, v in headers(resp).items() if k.startswith("x-amz-checksum-")}


# ------------------------------------------------------------ upload helpers


def create(client, bucket: str, key: str, **kwargs) -> str:
    return client.create_multipart_upload(Bucket=bucket, Key=key, **kwargs)["UploadId"]


def upload_parts(client, bucket: str, key: str, upload_id: str, parts: list[bytes], first: int = 1) -> list[dict]:
    """UploadPart each body as part first, first+1, ...; returns the CompletedPart list."""
    done = []
    for number, body in enumerate(parts, start=first):
        resp = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
        assert resp["ETag"] == quoted_md5(body), f"part {number}"
        done.append({"PartNumber": number, "ETag": resp["ETag"]})
    return done


def complete(client, bucket: str, key: str, upload_id: str, parts: list[dict], **kwargs):
    return client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, **kwargs
    )


def multipart_put(client, bucket: str, key: str, parts: list[bytes], **create_kwargs):
    """Create, upload every part, complete; returns the Complete response."""
    upload_id = create(client, bucket, key, **create_kwargs)
    return complete(client, bucket, key, upload_id, upload_parts(client, bucket, key, upload_id, parts))


def listed_parts(client, bucket: str, key: str, upload_id: str, **kwargs) -> list[tuple[int, str, int]]:
    resp = client.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, **kwargs)
    return [(p["PartNumber"], p["ETag"], p["Size"]) for p in resp.get("Parts", [])]


def listed_uploads(client, bucket: str, **kwargs) -> list[tuple[str, str]]:
    resp = client.list_multipart_uploads(Bucket=bucket, **kwargs)
    return [(u["Key"], u["UploadId"]) for u in resp.get("Uploads", [])]


def abort_all(client, bucket: str) -> None:
    """Best-effort abort of every upload in progress in the bucket."""
    try:
        uploads = [
            (u["Key"], u["UploadId"])
            for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket)
            for u in page.get("Uploads", [])
        ]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchBucket":
            warnings.warn(f"listing the uploads of {bucket} failed: {exc}")
        return
    for key, upload_id in uploads:
        with contextlib.suppress(ClientError):
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


# ------------------------------------------------------------- files on disk




# ==========================================================================
# Fixtures
# ==========================================================================


@pytest.fixture
def bucket(s3):
    """A fresh bucket (overrides conftest's): uploads the test leaves in progress are aborted
    before the bucket is removed."""
    with temporary_bucket(s3, "mp") as name:
        yield name
        abort_all(s3, name)


@pytest.fixture(scope="module")
def s3_plain(server):
    """Sends no additional checksums and does not ask for any (ChecksumMode) in GetObject."""
    return make_client(
        server.endpoint,
        server.access_key,
        server.secret_key,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


@pytest.fixture(scope="module")
def s3_no_retry(server):
    # botocore retries 400 BadDigest unless told not to.
    return make_client(server.endpoint, server.access_key, server.secret_key, retries={"total_max_attempts": 1})


@pytest.fixture(scope="module")
def mp_object(s3):
    """A completed 3-part object (5 MiB, 5 MiB, 1 MiB + 3 bytes), shared by the read-only tests."""
    with temporary_bucket(s3, "mpobj") as name:
        data = os.urandom(2 * PART + MiB + 3)
        parts = split(data, [PART, PART, MiB + 3])
        resp = multipart_put(s3, name, "obj", parts)
        assert resp["ETag"] == mpu_etag(parts)
        yield {"bucket": name, "key": "obj", "data": data, "parts": parts, "etag": resp["ETag"]}


# ==========================================================================
# CreateMultipartUpload
# ==========================================================================


def test_create_returns_bucket_key_and_upload_id(s3, bucket):
    first = s3.create_multipart_upload(Bucket=bucket, Key="dir/k")
    second = s3.create_multipart_upload(Bucket=bucket, Key="dir/k")
    for resp in (first, second):
        assert status(resp) == 200
        assert (resp["Bucket"], resp["Key"]) == (bucket, "dir/k")
        assert isinstance(resp["UploadId"], str) and resp["UploadId"]
    assert first["UploadId"] != second["UploadId"]


def test_create_in_missing_bucket(s3):
    with s3_error(404, "NoSuchBucket"):
        s3.create_multipart_upload(Bucket=unique_name("missing"), Key="k")


def test_create_stores_headers_metadata_and_storage_class(s3, bucket):
    body = gzip.compress(b"multipart upload " * 1000)
    expires = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    metadata = {"color": "blue", "multi-word": "some value with spaces"}
    multipart_put(
        s3,
        bucket,
        "obj",
        [body],
        ContentType="text/plain; charset=utf-8",
        CacheControl="max-age=3600, must-revalidate",
        ContentDisposition='attachment; filename="hello.txt"',
        ContentEncoding="gzip",
        ContentLanguage="en-GB",
        Expires=expires,
        Metadata=metadata,
        StorageClass="STANDARD_IA",
    )
    for resp in (s3.head_object(Bucket=bucket, Key="obj"), s3.get_object(Bucket=bucket, Key="obj")):
        assert resp["ContentType"] == "text/plain; charset=utf-8"
        assert resp["CacheControl"] == "max-age=3600, must-revalidate"
        assert resp["ContentDisposition"] == 'attachment; filename="hello.txt"'
        assert resp["ContentEncoding"] == "gzip"
        assert resp["ContentLanguage"] == "en-GB"
        assert email.utils.parsedate_to_datetime(headers(resp)["expires"]) == expires
        assert resp["Metadata"] == metadata
        assert resp["StorageClass"] == "STANDARD_IA"
        assert resp["ContentLength"] == len(body)
        if "Body" in resp:  # GET
            assert resp["Body"].read() == body
    [listed] = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert (listed["Key"], listed["Size"], listed["StorageClass"]) == ("obj", len(body), "STANDARD_IA")


def test_create_default_content_type(s3, bucket):
    multipart_put(s3, bucket, "obj", [b"abc"])
    head = s3.head_object(Bucket=bucket, Key="obj")
    assert head["ContentType"] == "binary/octet-stream"  # as for PutObject
    assert "x-amz-storage-class" not in headers(head)  # STANDARD is not echoed
    assert head["Metadata"] == {}


def test_list_uploads_shows_storage_class(s3, bucket):
    create(s3, bucket, "ia", StorageClass="STANDARD_IA")
    create(s3, bucket, "std")
    uploads = {u["Key"]: u["StorageClass"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]}
    assert uploads == {"ia": "STANDARD_IA", "std": "STANDARD"}


@pytest.mark.parametrize(
    "algorithm, requested_type, expected_type",
    [
        # AWS's default type: COMPOSITE for SHA1, SHA256, CRC32 and CRC32C; FULL_OBJECT for
        # CRC64NVME (which supports nothing else). User Guide, "Checking object integrity".
        ("CRC32", None, "COMPOSITE"),
        ("CRC32C", None, "COMPOSITE"),
        ("SHA1", None, "COMPOSITE"),
        ("SHA256", None, "COMPOSITE"),
        ("CRC64NVME", None, "FULL_OBJECT"),
        ("CRC32", "COMPOSITE", "COMPOSITE"),
        ("CRC32", "FULL_OBJECT", "FULL_OBJECT"),
        ("CRC32C", "FULL_OBJECT", "FULL_OBJECT"),
        ("CRC64NVME", "FULL_OBJECT", "FULL_OBJECT"),
    ],
)
def test_create_returns_checksum_algorithm_and_type(s3, bucket, algorithm, requested_type, expected_type):
    kwargs = {"ChecksumAlgorithm": algorithm}
    if requested_type:
        kwargs["ChecksumType"] = requested_type
    resp = s3.create_multipart_upload(Bucket=bucket, Key="k", **kwargs)
    assert resp["ChecksumAlgorithm"] == algorithm
    assert resp["ChecksumType"] == expected_type
    assert headers(resp)["x-amz-checksum-algorithm"] == algorithm
    assert headers(resp)["x-amz-checksum-type"] == expected_type


@pytest.mark.parametrize(
    "algorithm, requested_type",
    [("SHA1", "FULL_OBJECT"), ("SHA256", "FULL_OBJECT"), ("CRC64NVME", "COMPOSITE")],
)
def test_create_with_unsupported_checksum_type(s3, bucket, algorithm, requested_type):
    # The User Guide's table ("Checking object integrity") lists these combinations as unsupported;
    # it does not name the error code. AWS answers 400 InvalidRequest as far as we know.
    with s3_error_in({400}, {"InvalidRequest", "InvalidArgument"}):
        s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm=algorithm, ChecksumType=requested_type)
    assert listed_uploads(s3, bucket) == []


# ==========================================================================
# UploadPart
# ==========================================================================


def test_upload_part_etag_is_md5_of_part(s3, bucket):
    data = os.urandom(3000)
    upload_id = create(s3, bucket, "k")
    for number, body in enumerate(split(data, [1, 999, 2000]), start=1):
        resp = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=number, Body=body)
        assert status(resp) == 200
        assert resp["ETag"] == quoted_md5(body)
        assert headers(resp)["etag"] == quoted_md5(body)


def test_part_numbers_from_1_to_10000(s3, bucket):
    upload_id = create(s3, bucket, "k")
    for number in (1, 10000):
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=number, Body=b"x")
    for number in (0, 10001):
        with s3_error(400, "InvalidArgument"):
            s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=number, Body=b"x")
    assert [n for n, _, _ in listed_parts(s3, bucket, "k", upload_id)] == [1, 10000]


def test_upload_part_to_unknown_upload(s3, bucket):
    upload_id = create(s3, bucket, "k")
    with s3_error(404, "NoSuchUpload"):
        s3.upload_part(Bucket=bucket, Key="k", UploadId="no-such-upload-id", PartNumber=1, Body=b"x")
    # An upload id belongs to one key.
    with s3_error(404, "NoSuchUpload"):
        s3.upload_part(Bucket=bucket, Key="other", UploadId=upload_id, PartNumber=1, Body=b"x")
    with s3_error(404, "NoSuchUpload"):
        s3.list_parts(Bucket=bucket, Key="other", UploadId=upload_id)
    assert listed_parts(s3, bucket, "k", upload_id) == []


def test_upload_part_content_md5(s3, s3_no_retry, bucket):
    data = os.urandom(1000)
    upload_id = create(s3, bucket, "k")
    with s3_error(400, "BadDigest"):
        s3_no_retry.upload_part(
            Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=data, ContentMD5=md5_b64(b"other")
        )
    assert listed_parts(s3, bucket, "k", upload_id) == []
    resp = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=data, ContentMD5=md5_b64(data))
    assert resp["ETag"] == quoted_md5(data)


def test_reupload_replaces_the_part(server, s3, bucket):
    before = stored_files(server)
    data = os.urandom(2 * PART + 1024)
    old_first, new_first, second = split(data, [PART, PART, 1024])
    upload_id = create(s3, bucket, "k")
    [stale, part2] = upload_parts(s3, bucket, "k", upload_id, [old_first, second])
    [part1] = upload_parts(s3, bucket, "k", upload_id, [new_first])
    assert listed_parts(s3, bucket, "k", upload_id) == [
        (1, quoted_md5(new_first), PART),
        (2, quoted_md5(second), 1024),
    ]
    with s3_error(400, "InvalidPart"):
        complete(s3, bucket, "k", upload_id, [stale, part2])
    resp = complete(s3, bucket, "k", upload_id, [part1, part2])
    assert resp["ETag"] == mpu_etag([new_first, second])
    assert get_body(s3, bucket, "k") == new_first + second
    # The replaced part is not left behind.
    s3.delete_object(Bucket=bucket, Key="k")
    assert_no_new_files(server, before)


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_upload_part_returns_its_checksum(s3, bucket, algorithm):
    data = os.urandom(1000)
    expected = checksum_b64(algorithm, data)
    upload_id = create(s3, bucket, "k", ChecksumAlgorithm=algorithm)
    resp = s3.upload_part(
        Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=data, **{f"Checksum{algorithm}": expected}
    )
    assert resp["ETag"] == quoted_md5(data)
    assert resp[f"Checksum{algorithm}"] == expected
    assert headers(resp)[f"x-amz-checksum-{algorithm.lower()}"] == expected


def test_upload_part_wrong_crc32_is_bad_digest(s3, s3_no_retry, bucket):
    upload_id = create(s3, bucket, "k", ChecksumAlgorithm="CRC32")
    with s3_error(400, "BadDigest"):
        s3_no_retry.upload_part(
            Bucket=bucket,
            Key="k",
            UploadId=upload_id,
            PartNumber=1,
            Body=os.urandom(1000),
            ChecksumCRC32=checksum_b64("CRC32", b"other data"),
        )
    assert listed_parts(s3, bucket, "k", upload_id) == []


def test_upload_part_wrong_crc32_without_upload_algorithm(s3, s3_no_retry, bucket):
    # A part checksum is verified even when the upload was created without an algorithm.
    upload_id = create(s3, bucket, "k")
    with s3_error(400, "BadDigest"):
        s3_no_retry.upload_part(
            Bucket=bucket,
            Key="k",
            UploadId=upload_id,
            PartNumber=1,
            Body=b"data",
            ChecksumCRC32=checksum_b64("CRC32", b"other data"),
        )
    assert listed_parts(s3, bucket, "k", upload_id) == []


# ==========================================================================
# UploadPartCopy
# ==========================================================================

# "You can copy a range only if the source object is greater than 5 MB" (UploadPartCopy,
# x-amz-copy-source-range), so the source is 6 MiB.
SOURCE_SIZE = PART + MiB


@pytest.fixture
def source(s3, bucket):
    data = os.urandom(SOURCE_SIZE)
    s3.put_object(Bucket=bucket, Key="src", Body=data)
    return {"Bucket": bucket, "Key": "src"}, data


def test_upload_part_copy_ranges_and_whole_object(s3, bucket, source):
    copy_source, data = source
    upload_id = create(s3, bucket, "dst")
    expected = [data[:PART], data, data[10:20]]
    ranges = [f"bytes=0-{PART - 1}", None, "bytes=10-19"]
    parts = []
    for number, (rng, body) in enumerate(zip(ranges, expected), start=1):
        kwargs = {"CopySourceRange": rng} if rng else {}
        resp = s3.upload_part_copy(
            Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=number, CopySource=copy_source, **kwargs
        )
        result = resp["CopyPartResult"]
        assert result["ETag"] == quoted_md5(body), f"part {number}"
        assert_recent(result["LastModified"])
        parts.append({"PartNumber": number, "ETag": result["ETag"]})
    assert listed_parts(s3, bucket, "dst", upload_id) == [
        (n, quoted_md5(body), len(body)) for n, body in enumerate(expected, start=1)
    ]
    resp = complete(s3, bucket, "dst", upload_id, parts)
    assert resp["ETag"] == mpu_etag(expected)
    assert get_body(s3, bucket, "dst") == b"".join(expected)
    assert get_body(s3, bucket, "src") == data


def test_upload_part_copy_mixed_with_upload_part(s3, bucket, source):
    copy_source, data = source
    tail = b"uploaded tail"
    upload_id = create(s3, bucket, "dst")
    copied = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1, CopySource=copy_source)
    parts = [{"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]}]
    parts += upload_parts(s3, bucket, "dst", upload_id, [tail], first=2)
    complete(s3, bucket, "dst", upload_id, parts)
    assert get_body(s3, bucket, "dst") == data + tail


@pytest.mark.parametrize(
    "copy_range",
    [f"bytes=0-{SOURCE_SIZE}", f"bytes={SOURCE_SIZE}-{SOURCE_SIZE + 9}"],
    ids=["end-past-source", "start-past-source"],
)
def test_upload_part_copy_range_beyond_source(s3, bucket, source, copy_range):
    # Unlike a GET Range, a copy-source range is not clamped. AWS: 400 InvalidArgument or
    # 416 InvalidRange (ceph/s3-tests test_multipart_copy_invalid_range accepts 400 and 416).
    copy_source, _ = source
    upload_id = create(s3, bucket, "dst")
    with s3_error_in({400, 416}, {"InvalidArgument", "InvalidRange"}):
        s3.upload_part_copy(
            Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1, CopySource=copy_source, CopySourceRange=copy_range
        )
    assert listed_parts(s3, bucket, "dst", upload_id) == []


def _condition_args(s3, copy_source, condition):
    etag = s3.head_object(**copy_source)["ETag"]
    return {k: (etag if v == "ETAG" else v) for k, v in condition.items()}


@pytest.mark.parametrize(
    "condition",
    [
        {"CopySourceIfMatch": WRONG_ETAG},
        {"CopySourceIfNoneMatch": "ETAG"},
        {"CopySourceIfModifiedSince": FUTURE},
        {"CopySourceIfUnmodifiedSince": PAST},
    ],
    ids=["if-match", "if-none-match", "if-modified-since", "if-unmodified-since"],
)
def test_upload_part_copy_conditions_failing(s3, bucket, source, condition):
    copy_source, _ = source
    upload_id = create(s3, bucket, "dst")
    with s3_error(412, "PreconditionFailed"):
        s3.upload_part_copy(
            Bucket=bucket,
            Key="dst",
            UploadId=upload_id,
            PartNumber=1,
            CopySource=copy_source,
            **_condition_args(s3, copy_source, condition),
        )
    assert listed_parts(s3, bucket, "dst", upload_id) == []


@pytest.mark.parametrize(
    "condition",
    [
        {"CopySourceIfMatch": "ETAG"},
        {"CopySourceIfNoneMatch": WRONG_ETAG},
        {"CopySourceIfModifiedSince": PAST},
        {"CopySourceIfUnmodifiedSince": FUTURE},
    ],
    ids=["if-match", "if-none-match", "if-modified-since", "if-unmodified-since"],
)
def test_upload_part_copy_conditions_passing(s3, bucket, source, condition):
    copy_source, data = source
    upload_id = create(s3, bucket, "dst")
    resp = s3.upload_part_copy(
        Bucket=bucket,
        Key="dst",
        UploadId=upload_id,
        PartNumber=1,
        CopySource=copy_source,
        **_condition_args(s3, copy_source, condition),
    )
    assert resp["CopyPartResult"]["ETag"] == quoted_md5(data)


def test_upload_part_copy_missing_source(s3, bucket):
    upload_id = create(s3, bucket, "dst")
    with s3_error(404, "NoSuchKey"):
        s3.upload_part_copy(
            Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1, CopySource={"Bucket": bucket, "Key": "absent"}
        )
    with s3_error(404, "NoSuchBucket"):
        s3.upload_part_copy(
            Bucket=bucket,
            Key="dst",
            UploadId=upload_id,
            PartNumber=1,
            CopySource={"Bucket": unique_name("missing"), "Key": "k"},
        )
    assert listed_parts(s3, bucket, "dst", upload_id) == []


def test_upload_part_copy_to_unknown_upload(s3, bucket, source):
    copy_source, _ = source
    with s3_error(404, "NoSuchUpload"):
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId="no-such-upload-id", PartNumber=1, CopySource=copy_source)


# ==========================================================================
# CompleteMultipartUpload
# ==========================================================================


def test_complete_three_parts(s3, bucket):
    data = os.urandom(2 * PART + MiB + 7)
    parts = split(data, [PART, PART, MiB + 7])
    upload_id = create(s3, bucket, "k")
    resp = complete(s3, bucket, "k", upload_id, upload_parts(s3, bucket, "k", upload_id, parts))
    assert status(resp) == 200
    assert (resp["Bucket"], resp["Key"]) == (bucket, "k")
    assert resp["ETag"] == mpu_etag(parts)
    assert resp.get("Location"), "AWS always returns a Location"

    get = s3.get_object(Bucket=bucket, Key="k")
    assert (get["ETag"], get["ContentLength"]) == (mpu_etag(parts), len(data))
    assert get["Body"].read() == data
    head = s3.head_object(Bucket=bucket, Key="k")
    assert (head["ETag"], head["ContentLength"]) == (mpu_etag(parts), len(data))
    assert_recent(head["LastModified"])
    # PartsCount is only returned when partNumber is given (GetObject/HeadObject PartsCount).
    assert "x-amz-mp-parts-count" not in headers(head)
    [listed] = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert (listed["Key"], listed["ETag"], listed["Size"]) == ("k", mpu_etag(parts), len(data))
    assert listed_uploads(s3, bucket) == []


@pytest.mark.parametrize("size", [1, 0])
def test_complete_single_small_part(s3, bucket, size):
    # The last (here the only) part may be smaller than 5 MiB, even empty.
    data = os.urandom(size)
    resp = multipart_put(s3, bucket, "k", [data])
    assert resp["ETag"] == mpu_etag([data])
    head = s3.head_object(Bucket=bucket, Key="k")
    assert (head["ETag"], head["ContentLength"]) == (mpu_etag([data]), size)
    assert get_body(s3, bucket, "k") == data


def test_complete_part_smaller_than_5mib(s3, bucket):
    data = os.urandom(PART + 1)
    too_small, last = data[: PART - 1], data[PART:]
    upload_id = create(s3, bucket, "k")
    parts = upload_parts(s3, bucket, "k", upload_id, [too_small, last])
    with s3_error(400, "EntityTooSmall"):
        complete(s3, bucket, "k", upload_id, parts)
    assert not object_exists(s3, bucket, "k")
    # The upload is still there; with a 5 MiB first part it completes.
    assert listed_parts(s3, bucket, "k", upload_id) == [(1, quoted_md5(too_small), PART - 1), (2, quoted_md5(last), 1)]
    [part1] = upload_parts(s3, bucket, "k", upload_id, [data[:PART]])
    resp = complete(s3, bucket, "k", upload_id, [part1, parts[1]])
    assert resp["ETag"] == mpu_etag([data[:PART], last])
    assert get_body(s3, bucket, "k") == data[:PART] + last


def _swap_first_two(parts):
    return [parts[1], parts[0], *parts[2:]]


def _wrong_etag_for_part_2(parts):
    return [parts[0], {**parts[1], "ETag": WRONG_ETAG}, parts[2]]


def _renumber_last_as_4(parts):  # part 4 was never uploaded
    return [parts[0], parts[1], {**parts[2], "PartNumber": 4}]


def _no_parts(parts):
    return []


@pytest.mark.parametrize(
    "mangle, code",
    [
        (_swap_first_two, "InvalidPartOrder"),
        (_wrong_etag_for_part_2, "InvalidPart"),
        (_renumber_last_as_4, "InvalidPart"),
        (_no_parts, "MalformedXML"),
    ],
    ids=["not-ascending", "wrong-etag", "never-uploaded", "empty-list"],
)
def test_complete_with_bad_part_list_leaves_upload_intact(s3, bucket, mangle, code):
    data = os.urandom(2 * PART + 100)
    bodies = split(data, [PART, PART, 100])
    upload_id = create(s3, bucket, "k")
    parts = upload_parts(s3, bucket, "k", upload_id, bodies)
    with s3_error(400, code):
        complete(s3, bucket, "k", upload_id, mangle(parts))
    assert not object_exists(s3, bucket, "k")
    assert listed_parts(s3, bucket, "k", upload_id) == [(n, quoted_md5(b), len(b)) for n, b in enumerate(bodies, 1)]
    assert listed_uploads(s3, bucket) == [("k", upload_id)]
    complete(s3, bucket, "k", upload_id, parts)
    assert get_body(s3, bucket, "k") == data


def test_complete_without_any_part(s3, bucket):
    upload_id = create(s3, bucket, "k")
    with s3_error(400, "MalformedXML"):
        complete(s3, bucket, "k", upload_id, [])  # <CompleteMultipartUpload/>
    # No body at all: ceph/s3-tests test_multipart_upload_empty expects MalformedXML; Swift's s3api
    # answers InvalidRequest "You must specify at least one part". Either is a 400.
    with s3_error_in({400}, {"MalformedXML", "InvalidRequest"}):
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    assert listed_uploads(s3, bucket) == [("k", upload_id)]
    assert not object_exists(s3, bucket, "k")


def test_complete_with_unquoted_etags(s3, bucket):
    # S3 accepts part ETags with or without the double quotes (the minio client sends them
    # bare; observed on AWS by minio (PR #7442) and s3rver (PR #631)).
    data = os.urandom(PART + 10)
    bodies = split(data, [PART, 10])
    upload_id = create(s3, bucket, "k")
    parts = upload_parts(s3, bucket, "k", upload_id, bodies)
    resp = complete(s3, bucket, "k", upload_id, [{**p, "ETag": p["ETag"].strip('"')} for p in parts])
    assert resp["ETag"] == mpu_etag(bodies)
    assert get_body(s3, bucket, "k") == data


def test_complete_unknown_or_aborted_upload(s3, bucket):
    parts = [{"PartNumber": 1, "ETag": quoted_md5(b"x")}]
    with s3_error(404, "NoSuchUpload"):
        complete(s3, bucket, "k", "no-such-upload-id", parts)
    upload_id = create(s3, bucket, "k")
    parts = upload_parts(s3, bucket, "k", upload_id, [b"x"])
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    with s3_error(404, "NoSuchUpload"):
        complete(s3, bucket, "k", upload_id, parts)
    assert not object_exists(s3, bucket, "k")


def test_complete_subset_of_uploaded_parts(server, s3_plain, bucket):
    # s3_plain: no part checksums, since with them the completed parts must be consecutive.
    s3 = s3_plain
    before = stored_files(server)
    data = os.urandom(2 * PART + 100)
    p1, p2, p3 = split(data, [PART, PART, 100])
    upload_id = create(s3, bucket, "k")
    parts = upload_parts(s3, bucket, "k", upload_id, [p1, p2, p3])
    resp = complete(s3, bucket, "k", upload_id, [parts[0], parts[2]])
    assert resp["ETag"] == mpu_etag([p1, p3])
    assert get_body(s3, bucket, "k") == p1 + p3
    # GET/HEAD partNumber counts the parts of the object, not the uploaded part numbers.
    second = s3.get_object(Bucket=bucket, Key="k", PartNumber=2)
    assert second["PartsCount"] == 2
    assert second["ContentRange"] == f"bytes {PART}-{PART + 99}/{PART + 100}"
    assert second["Body"].read() == p3
    with s3_error(416, "InvalidPartNumber"):
        s3.get_object(Bucket=bucket, Key="k", PartNumber=3)
    # The unused part 2 is freed: nothing is left once the object is deleted.
    s3.delete_object(Bucket=bucket, Key="k")
    assert_no_new_files(server, before)


def test_complete_parts_with_gaps(s3_plain, bucket):
    s3 = s3_plain
    data = os.urandom(PART + 100)
    p1, p2 = split(data, [PART, 100])
    upload_id = create(s3, bucket, "k")
    parts = upload_parts(s3, bucket, "k", upload_id, [p1]) + upload_parts(s3, bucket, "k", upload_id, [p2], first=1000)
    assert [n for n, _, _ in listed_parts(s3, bucket, "k", upload_id)] == [1, 1000]
    complete(s3, bucket, "k", upload_id, parts)
    assert get_body(s3, bucket, "k") == data
    assert s3.head_object(Bucket=bucket, Key="k", PartNumber=2)["ContentLength"] == 100


def test_complete_retry_is_idempotent(s3, bucket):
    data = os.urandom(PART + 100)
    bodies = split(data, [PART, 100])
    upload_id = create(s3, bucket, "k")
    parts = upload_parts(s3, bucket, "k", upload_id, bodies)
    first = complete(s3, bucket, "k", upload_id, parts)
    # A retry (e.g. after a lost response) of the same Complete succeeds with the same result
    # while the object is still the one the upload created (Swift's s3api test_mpu.py
    # test_create_upload_complete_complete, run against AWS).
    again = complete(s3, bucket, "k", upload_id, parts)
    assert first["ETag"] == mpu_etag(bodies)
    assert status(again) == 200
    assert (again["Bucket"], again["Key"], again["ETag"]) == (bucket, "k", first["ETag"])
    assert get_body(s3, bucket, "k") == data
    # The upload itself is gone.
    with s3_error(404, "NoSuchUpload"):
        s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
    with s3_error(404, "NoSuchUpload"):
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=3, Body=b"late")
    assert listed_uploads(s3, bucket) == []


@pytest.mark.parametrize("change", ["deleted", "overwritten"])
def test_complete_retry_after_the_object_changed(s3, bucket, change):
    # Confirmed on AWS for "deleted" (Swift's test_create_upload_complete_delete_complete);
    # "overwritten" follows the same rule: the object is no longer the one this upload created.
    upload_id = create(s3, bucket, "k")
    parts = upload_parts(s3, bucket, "k", upload_id, [b"only part"])
    complete(s3, bucket, "k", upload_id, parts)
    if change == "deleted":
        s3.delete_object(Bucket=bucket, Key="k")
    else:
        s3.put_object(Bucket=bucket, Key="k", Body=b"newer")
    with s3_error(404, "NoSuchUpload"):
        complete(s3, bucket, "k", upload_id, parts)
    if change == "overwritten":
        assert get_body(s3, bucket, "k") == b"newer"
    else:
        assert not object_exists(s3, bucket, "k")


def test_complete_overwrites_existing_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"old", Metadata={"old": "1"}, ContentType="text/old")
    multipart_put(s3, bucket, "k", [b"new"], Metadata={"new": "1"})
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["Metadata"] == {"new": "1"}
    assert head["ContentType"] == "binary/octet-stream"
    assert get_body(s3, bucket, "k") == b"new"


# ==========================================================================
# GET/HEAD with partNumber, and ranges, on a completed upload
# ==========================================================================


def _part_bounds(parts: list[bytes], number: int) -> tuple[int, int]:
    start = sum(len(p) for p in parts[: number - 1])
    return start, start + len(parts[number - 1]) - 1


@pytest.mark.parametrize("number", [1, 2, 3])
def test_get_part_number(s3, mp_object, number):
    o = mp_object
    start, end = _part_bounds(o["parts"], number)
    resp = s3.get_object(Bucket=o["bucket"], Key=o["key"], PartNumber=number)
    assert status(resp) == 206
    assert resp["ContentRange"] == f"bytes {start}-{end}/{len(o['data'])}"
    assert resp["ContentLength"] == end - start + 1
    assert resp["PartsCount"] == 3
    assert headers(resp)["x-amz-mp-parts-count"] == "3"
    # ETag and the other headers are the object's (Swift's test_mpu.py, run against AWS).
    assert resp["ETag"] == o["etag"]
    assert resp["Body"].read() == o["parts"][number - 1]


@pytest.mark.parametrize("number", [1, 2, 3])
def test_head_part_number(s3, mp_object, number):
    o = mp_object
    resp = s3.head_object(Bucket=o["bucket"], Key=o["key"], PartNumber=number)
    assert status(resp) == 206
    assert resp["ContentLength"] == len(o["parts"][number - 1])
    assert resp["PartsCount"] == 3
    assert resp["ETag"] == o["etag"]


def test_part_number_beyond_part_count(s3, mp_object):
    o = mp_object
    with s3_error(416, "InvalidPartNumber"):
        s3.get_object(Bucket=o["bucket"], Key=o["key"], PartNumber=4)
    with s3_error(416, "416"):  # a HEAD error has no body
        s3.head_object(Bucket=o["bucket"], Key=o["key"], PartNumber=4)
    with s3_error(416, "InvalidPartNumber"):
        s3.get_object(Bucket=o["bucket"], Key=o["key"], PartNumber=10000)


@pytest.mark.parametrize("number", [0, 10001])
def test_part_number_out_of_range(s3, mp_object, number):
    with s3_error(400, "InvalidArgument"):
        s3.get_object(Bucket=mp_object["bucket"], Key=mp_object["key"], PartNumber=number)


def test_part_number_with_range(s3, mp_object):
    with s3_error(400, "InvalidRequest"):
        s3.get_object(Bucket=mp_object["bucket"], Key=mp_object["key"], PartNumber=1, Range="bytes=0-9")


@pytest.mark.parametrize(
    "range_header, start, end",
    [
        (f"bytes={PART - 10}-{PART + 9}", PART - 10, PART + 9),  # spans parts 1 and 2
        (f"bytes={PART - 1}-{2 * PART}", PART - 1, 2 * PART),  # spans all three
        (f"bytes={2 * PART + 5}-{2 * PART + 50}", 2 * PART + 5, 2 * PART + 50),  # inside the last part
        ("bytes=-100", 2 * PART + MiB + 3 - 100, 2 * PART + MiB + 2),  # suffix
        (f"bytes={PART}-", PART, 2 * PART + MiB + 2),  # from the start of part 2 to the end
        (f"bytes={PART}-{PART}", PART, PART),  # first byte of part 2
    ],
    ids=["parts-1-2", "parts-1-2-3", "in-last-part", "suffix", "open-ended", "one-byte"],
)
def test_range_get(s3, mp_object, range_header, start, end):
    o = mp_object
    resp = s3.get_object(Bucket=o["bucket"], Key=o["key"], Range=range_header)
    assert status(resp) == 206
    assert resp["ContentRange"] == f"bytes {start}-{end}/{len(o['data'])}"
    assert resp["ContentLength"] == end - start + 1
    assert resp["ETag"] == o["etag"]
    assert resp["Body"].read() == o["data"][start : end + 1]


def test_unsatisfiable_range(s3, mp_object):
    size = len(mp_object["data"])
    with s3_error(416, "InvalidRange"):
        s3.get_object(Bucket=mp_object["bucket"], Key=mp_object["key"], Range=f"bytes={size}-")


def test_conditional_get_with_multipart_etag(s3, mp_object):
    o = mp_object
    resp = s3.get_object(Bucket=o["bucket"], Key=o["key"], IfMatch=o["etag"], Range="bytes=0-9")
    assert resp["Body"].read() == o["data"][:10]
    with s3_error(304, "304"):
        s3.get_object(Bucket=o["bucket"], Key=o["key"], IfNoneMatch=o["etag"])
    with s3_error(412, "PreconditionFailed"):
        s3.get_object(Bucket=o["bucket"], Key=o["key"], IfMatch=quoted_md5(o["data"]))


def test_copy_multipart_object_part_by_part(s3, mp_object, bucket):
    # How a client copies a multipart object preserving its ETag: HEAD ?partNumber for the part
    # sizes, UploadPartCopy of each range (Swift's test_copy_mpu_from_parts, run against AWS).
    o = mp_object
    source = {"Bucket": o["bucket"], "Key": o["key"]}
    count = s3.head_object(**source, PartNumber=1)["PartsCount"]
    upload_id = create(s3, bucket, "copy")
    parts, start = [], 0
    for number in range(1, count + 1):
        size = s3.head_object(**source, PartNumber=number)["ContentLength"]
        resp = s3.upload_part_copy(
            Bucket=bucket,
            Key="copy",
            UploadId=upload_id,
            PartNumber=number,
            CopySource=source,
            CopySourceRange=f"bytes={start}-{start + size - 1}",
        )
        parts.append({"PartNumber": number, "ETag": resp["CopyPartResult"]["ETag"]})
        start += size
    assert complete(s3, bucket, "copy", upload_id, parts)["ETag"] == o["etag"]
    assert get_body(s3, bucket, "copy") == o["data"]


def test_copy_object_of_multipart_object(s3, mp_object, bucket):
    # A CopyObject of a multipart object is one new part: its ETag is the plain MD5.
    o = mp_object
    resp = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": o["bucket"], "Key": o["key"]})
    assert resp["CopyObjectResult"]["ETag"] == quoted_md5(o["data"])
    assert get_body(s3, bucket, "copy") == o["data"]


# ==========================================================================
# AbortMultipartUpload
# ==========================================================================


def test_abort(server, s3, bucket):
    before = stored_files(server)
    data = os.urandom(300 * 1024)
    upload_id = create(s3, bucket, "k")
    parts = upload_parts(s3, bucket, "k", upload_id, split(data, [100 * 1024, 200 * 1024]))
    assert stored_files(server) - before, "the uploaded parts are not stored as files in the data dir"

    resp = s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    assert status(resp) == 204
    with s3_error(404, "NoSuchUpload"):
        s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
    with s3_error(404, "NoSuchUpload"):
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=3, Body=b"late")
    with s3_error(404, "NoSuchUpload"):
        complete(s3, bucket, "k", upload_id, parts)
    assert listed_uploads(s3, bucket) == []
    assert not object_exists(s3, bucket, "k")
    assert_no_new_files(server, before)


def test_abort_unknown_upload(s3, bucket):
    with s3_error(404, "NoSuchUpload"):
        s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId="no-such-upload-id")
    upload_id = create(s3, bucket, "k")
    with s3_error(404, "NoSuchUpload"):
        s3.abort_multipart_upload(Bucket=bucket, Key="other", UploadId=upload_id)
    assert listed_uploads(s3, bucket) == [("k", upload_id)]


def test_abort_leaves_existing_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"existing")
    upload_id = create(s3, bucket, "k")
    upload_parts(s3, bucket, "k", upload_id, [b"replacement"])
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    assert get_body(s3, bucket, "k") == b"existing"


# ==========================================================================
# ListParts
# ==========================================================================


def test_list_parts(s3, bucket):
    upload_id = create(s3, bucket, "dir/k")
    bodies = {10000: b"c" * 3, 1: b"a", 42: b"bb"}  # uploaded out of order
    for number, body in bodies.items():
        s3.upload_part(Bucket=bucket, Key="dir/k", UploadId=upload_id, PartNumber=number, Body=body)
    resp = s3.list_parts(Bucket=bucket, Key="dir/k", UploadId=upload_id)
    assert (resp["Bucket"], resp["Key"], resp["UploadId"]) == (bucket, "dir/k", upload_id)
    assert resp["IsTruncated"] is False
    assert resp["MaxParts"] == 1000
    assert [p["PartNumber"] for p in resp["Parts"]] == [1, 42, 10000]
    for part in resp["Parts"]:
        body = bodies[part["PartNumber"]]
        assert (part["ETag"], part["Size"]) == (quoted_md5(body), len(body))
        assert_recent(part["LastModified"])


def test_list_parts_of_new_upload(s3, bucket):
    upload_id = create(s3, bucket, "k")
    resp = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
    assert resp.get("Parts", []) == []
    assert resp["IsTruncated"] is False


def test_list_parts_unknown_upload(s3, bucket):
    with s3_error(404, "NoSuchUpload"):
        s3.list_parts(Bucket=bucket, Key="k", UploadId="no-such-upload-id")


def test_list_parts_pagination(s3, bucket):
    upload_id = create(s3, bucket, "k")
    upload_parts(s3, bucket, "k", upload_id, [b"1", b"2", b"3"])  # small parts are fine until Complete

    page = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, MaxParts=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert page["IsTruncated"] is True
    assert page["MaxParts"] == 2
    assert page["NextPartNumberMarker"] == 2

    page = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, MaxParts=2, PartNumberMarker=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [3]
    assert page["IsTruncated"] is False
    assert page["PartNumberMarker"] == 2

    page = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, MaxParts=1, PartNumberMarker=1)
    assert [p["PartNumber"] for p in page["Parts"]] == [2]
    assert (page["IsTruncated"], page["NextPartNumberMarker"]) == (True, 2)

    page = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, PartNumberMarker=3)
    assert page.get("Parts", []) == []
    assert page["IsTruncated"] is False

    paginator = s3.get_paginator("list_parts")
    pages = list(paginator.paginate(Bucket=bucket, Key="k", UploadId=upload_id, PaginationConfig={"PageSize": 1}))
    assert [p["PartNumber"] for page in pages for p in page.get("Parts", [])] == [1, 2, 3]
    assert len(pages) >= 3


# ==========================================================================
# ListMultipartUploads
# ==========================================================================


def test_list_uploads(s3, bucket):
    ids = {key: create(s3, bucket, key) for key in ("b", "a/x", "c")}
    resp = s3.list_multipart_uploads(Bucket=bucket)
    assert resp["Bucket"] == bucket
    assert resp["IsTruncated"] is False
    assert resp["MaxUploads"] == 1000
    assert [(u["Key"], u["UploadId"]) for u in resp["Uploads"]] == [(k, ids[k]) for k in ("a/x", "b", "c")]
    for upload in resp["Uploads"]:
        assert_recent(upload["Initiated"])


def test_list_uploads_of_empty_and_missing_bucket(s3, bucket):
    resp = s3.list_multipart_uploads(Bucket=bucket)
    assert resp.get("Uploads", []) == []
    assert resp["IsTruncated"] is False
    with s3_error(404, "NoSuchBucket"):
        s3.list_multipart_uploads(Bucket=unique_name("missing"))


def test_list_uploads_same_key_in_initiation_order(s3, bucket):
    # "sorted in ascending order based on their object keys ... uploads that share the same object
    # key ... in ascending order based on the upload initiation time" (ListMultipartUploads).
    ids = []
    for key in ("b", "a", "b", "b"):
        ids.append(create(s3, bucket, key))
        time.sleep(0.01)
    resp = s3.list_multipart_uploads(Bucket=bucket)
    expected = [("a", ids[1]), ("b", ids[0]), ("b", ids[2]), ("b", ids[3])]
    assert [(u["Key"], u["UploadId"]) for u in resp["Uploads"]] == expected
    initiated = [u["Initiated"] for u in resp["Uploads"][1:]]
    assert initiated == sorted(initiated)


def test_list_uploads_prefix_and_delimiter(s3, bucket):
    ids = {key: create(s3, bucket, key) for key in ("a/1", "a/2", "b", "c/x/y", "cz")}
    assert listed_uploads(s3, bucket, Prefix="a/") == [("a/1", ids["a/1"]), ("a/2", ids["a/2"])]
    assert listed_uploads(s3, bucket, Prefix="zzz") == []

    resp = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [(u["Key"], u["UploadId"]) for u in resp["Uploads"]] == [("b", ids["b"]), ("cz", ids["cz"])]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/", "c/"]
    assert resp["Delimiter"] == "/"

    resp = s3.list_multipart_uploads(Bucket=bucket, Prefix="c", Delimiter="/")
    assert [u["Key"] for u in resp.get("Uploads", [])] == ["cz"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["c/"]
    assert resp["Prefix"] == "c"

    resp = s3.list_multipart_uploads(Bucket=bucket, Prefix="c/", Delimiter="/")
    assert resp.get("Uploads", []) == []
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["c/x/"]


def _make_uploads_for_pagination(s3, bucket) -> list[tuple[str, str]]:
    uploads = []
    for key in ("a", "a", "b", "c", "c"):
        uploads.append((key, create(s3, bucket, key)))
        time.sleep(0.01)
    full = listed_uploads(s3, bucket)
    assert sorted(full) == sorted(uploads) and [k for k, _ in full] == ["a", "a", "b", "c", "c"]
    return full


def test_list_uploads_pagination(s3, bucket):
    full = _make_uploads_for_pagination(s3, bucket)
    seen, markers = [], {}
    for _ in range(len(full) + 1):
        page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2, **markers)
        got = [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
        assert len(got) <= 2
        seen += got
        if not page["IsTruncated"]:
            break
        assert page["MaxUploads"] == 2
        assert (page["NextKeyMarker"], page["NextUploadIdMarker"]) == got[-1]
        markers = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}
    assert seen == full

    pages = s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, PaginationConfig={"PageSize": 1})
    assert [(u["Key"], u["UploadId"]) for page in pages for u in page.get("Uploads", [])] == full


def test_list_uploads_key_marker(s3, bucket):
    full = _make_uploads_for_pagination(s3, bucket)
    # key-marker alone: only keys after it.
    assert listed_uploads(s3, bucket, KeyMarker="a") == full[2:]
    assert listed_uploads(s3, bucket, KeyMarker="b") == full[3:]
    assert listed_uploads(s3, bucket, KeyMarker="0") == full
    assert listed_uploads(s3, bucket, KeyMarker="c") == []
    # With upload-id-marker, the uploads of key-marker after that upload come first. (The API
    # reference says "upload IDs lexicographically greater"; uploads of one key are listed in
    # initiation order, so this only agrees when upload ids sort by initiation; what is asserted
    # is that a listing resumed from (key, upload id) continues right after that upload.)
    resp = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="a", UploadIdMarker=full[0][1])
    assert [(u["Key"], u["UploadId"]) for u in resp["Uploads"]] == full[1:]
    assert (resp["KeyMarker"], resp["UploadIdMarker"]) == ("a", full[0][1])
    assert listed_uploads(s3, bucket, KeyMarker="c", UploadIdMarker=full[3][1]) == full[4:]


def test_list_uploads_omits_completed_and_aborted(s3, bucket):
    done = create(s3, bucket, "done")
    complete(s3, bucket, "done", done, upload_parts(s3, bucket, "done", done, [b"x"]))
    aborted = create(s3, bucket, "aborted")
    s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=aborted)
    pending = create(s3, bucket, "pending")
    assert listed_uploads(s3, bucket) == [("pending", pending)]


# ==========================================================================
# Part files are removed with the object
# ==========================================================================


def _two_part_object(s3, bucket, key) -> bytes:
    data = os.urandom(PART + 1024)
    multipart_put(s3, bucket, key, split(data, [PART, 1024]))
    return data


def test_delete_multipart_object_frees_its_files(server, s3, bucket):
    before = stored_files(server)
    _two_part_object(s3, bucket, "k")
    s3.delete_object(Bucket=bucket, Key="k")
    assert not object_exists(s3, bucket, "k")
    assert_no_new_files(server, before)


def test_overwrite_multipart_object_with_put_frees_its_files(server, s3, bucket):
    before = stored_files(server)
    _two_part_object(s3, bucket, "k")
    s3.put_object(Bucket=bucket, Key="k", Body=b"plain")
    assert get_body(s3, bucket, "k") == b"plain"
    assert s3.head_object(Bucket=bucket, Key="k")["ETag"] == quoted_md5(b"plain")
    with s3_error(400, "InvalidArgument"):
        s3.get_object(Bucket=bucket, Key="k", PartNumber=0)
    with s3_error(416, "InvalidPartNumber"):
        s3.get_object(Bucket=bucket, Key="k", PartNumber=2)
    s3.delete_object(Bucket=bucket, Key="k")
    assert_no_new_files(server, before)


def test_overwrite_multipart_object_with_multipart_frees_its_files(server, s3, bucket):
    before = stored_files(server)
    _two_part_object(s3, bucket, "k")
    data = _two_part_object(s3, bucket, "k")
    assert get_body(s3, bucket, "k") == data
    s3.delete_object(Bucket=bucket, Key="k")
    assert_no_new_files(server, before)


def test_delete_objects_of_multipart_objects_frees_their_files(server, s3, bucket):
    before = stored_files(server)
    _two_part_object(s3, bucket, "a")
    multipart_put(s3, bucket, "b", [b"small"])
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}], "Quiet": True})
    assert not resp.get("Errors")
    assert_no_new_files(server, before)


# ==========================================================================
# Conditional CompleteMultipartUpload
# ==========================================================================


def _pending_upload(s3, bucket, key, body=b"new"):
    upload_id = create(s3, bucket, key)
    return upload_id, upload_parts(s3, bucket, key, upload_id, [body])


def test_complete_if_none_match_star(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"existing")
    upload_id, parts = _pending_upload(s3, bucket, "k")
    with s3_error(412, "PreconditionFailed"):
        complete(s3, bucket, "k", upload_id, parts, IfNoneMatch="*")
    assert get_body(s3, bucket, "k") == b"existing"

    upload_id, parts = _pending_upload(s3, bucket, "fresh")
    complete(s3, bucket, "fresh", upload_id, parts, IfNoneMatch="*")
    assert get_body(s3, bucket, "fresh") == b"new"


def test_complete_if_match(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"existing")["ETag"]
    upload_id, parts = _pending_upload(s3, bucket, "k")
    with s3_error(412, "PreconditionFailed"):
        complete(s3, bucket, "k", upload_id, parts, IfMatch=WRONG_ETAG)
    assert get_body(s3, bucket, "k") == b"existing"

    upload_id, parts = _pending_upload(s3, bucket, "k")
    complete(s3, bucket, "k", upload_id, parts, IfMatch=etag)
    assert get_body(s3, bucket, "k") == b"new"

    # If-Match on a missing key: 404 NoSuchKey, as for PutObject (User Guide, "Conditional writes").
    upload_id, parts = _pending_upload(s3, bucket, "missing")
    with s3_error(404, "NoSuchKey"):
        complete(s3, bucket, "missing", upload_id, parts, IfMatch=etag)
    assert not object_exists(s3, bucket, "missing")


# ==========================================================================
# Additional checksums
# ==========================================================================


def _upload_with_checksums(s3, bucket, key, upload_id, algorithm, bodies, digests=None) -> list[dict]:
    """UploadPart each body with an explicit Checksum<algorithm>; returns the CompletedParts,
    checksums included. `digests` may give precomputed binary checksums."""
    parts = []
    for number, body in enumerate(bodies, start=1):
        value = b64(digests[number - 1]) if digests else checksum_b64(algorithm, body)
        resp = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body, **{f"Checksum{algorithm}": value}
        )
        assert resp[f"Checksum{algorithm}"] == value, f"part {number}"
        parts.append({"PartNumber": number, "ETag": resp["ETag"], f"Checksum{algorithm}": value})
    return parts


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_composite_checksum(s3, bucket, algorithm):
    data = os.urandom(PART + 1024)
    bodies = split(data, [PART, 1024])
    digests = [checksum_digest(algorithm, b) for b in bodies]
    expected = composite_b64(algorithm, digests)
    field, header = f"Checksum{algorithm}", f"x-amz-checksum-{algorithm.lower()}"

    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm=algorithm)["UploadId"]
    parts = _upload_with_checksums(s3, bucket, "k", upload_id, algorithm, bodies, digests)
    resp = complete(s3, bucket, "k", upload_id, parts)
    assert resp[field] == expected
    assert resp["ChecksumType"] == "COMPOSITE"
    assert resp["ETag"] == mpu_etag(bodies)

    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert (head.get(field), head.get("ChecksumType")) == (expected, "COMPOSITE")
    assert checksum_headers(head) == {header: expected, "x-amz-checksum-type": "COMPOSITE"}
    get = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert (get.get(field), get.get("ChecksumType")) == (expected, "COMPOSITE")
    assert get["Body"].read() == data
    # Without x-amz-checksum-mode: ENABLED no checksum is returned.
    assert checksum_headers(s3.head_object(Bucket=bucket, Key="k")) == {}


def test_full_object_crc32(s3, bucket):
    data = os.urandom(PART + 1024)
    bodies = split(data, [PART, 1024])
    expected = checksum_b64("CRC32", data)
    resp = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    upload_id = resp["UploadId"]
    parts = _upload_with_checksums(s3, bucket, "k", upload_id, "CRC32", bodies)
    # The full-object value and the type may be sent with Complete as well (s3transfer does so
    # when the caller gives a full-object checksum).
    resp = complete(s3, bucket, "k", upload_id, parts, ChecksumCRC32=expected, ChecksumType="FULL_OBJECT")
    assert (resp["ChecksumCRC32"], resp["ChecksumType"]) == (expected, "FULL_OBJECT")

    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert checksum_headers(head) == {"x-amz-checksum-crc32": expected, "x-amz-checksum-type": "FULL_OBJECT"}
    get = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")  # botocore verifies the body
    assert (get["ChecksumCRC32"], get["ChecksumType"]) == (expected, "FULL_OBJECT")
    assert get["Body"].read() == data


def test_full_object_crc32c(s3, bucket):
    data = os.urandom(PART + 1)
    bodies = split(data, [PART, 1])
    first = crc32c(bodies[0])
    digests = [first.to_bytes(4, "big"), crc32c(bodies[1]).to_bytes(4, "big")]
    expected = b64(crc32c(bodies[1], first).to_bytes(4, "big"))  # the running CRC over the whole object
    upload_id = create(s3, bucket, "k", ChecksumAlgorithm="CRC32C", ChecksumType="FULL_OBJECT")
    parts = _upload_with_checksums(s3, bucket, "k", upload_id, "CRC32C", bodies, digests)
    resp = complete(s3, bucket, "k", upload_id, parts)
    assert (resp["ChecksumCRC32C"], resp["ChecksumType"]) == (expected, "FULL_OBJECT")
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert checksum_headers(head) == {"x-amz-checksum-crc32c": expected, "x-amz-checksum-type": "FULL_OBJECT"}
    assert get_body(s3, bucket, "k") == data


def test_checksums_in_list_parts_and_list_uploads(s3, bucket):
    bodies = [b"first part", b"second"]
    upload_id = create(s3, bucket, "k", ChecksumAlgorithm="SHA256")
    _upload_with_checksums(s3, bucket, "k", upload_id, "SHA256", bodies)
    resp = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
    assert (resp["ChecksumAlgorithm"], resp["ChecksumType"]) == ("SHA256", "COMPOSITE")
    assert [p["ChecksumSHA256"] for p in resp["Parts"]] == [checksum_b64("SHA256", b) for b in bodies]
    [upload] = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert (upload["ChecksumAlgorithm"], upload["ChecksumType"]) == ("SHA256", "COMPOSITE")


def test_part_without_checksum_in_checksum_upload(s3, s3_plain, bucket):
    # AWS rejects the part itself: 400 InvalidRequest "Checksum Type mismatch occurred, expected
    # checksum Type: crc32, actual checksum Type: null" (observed on AWS: floci PR #3093,
    # versitygw issue #1342, for COMPOSITE uploads). A server that accepts the part must reject
    # the Complete instead.
    data = os.urandom(PART + 10)
    bodies = split(data, [PART, 10])
    upload_id = create(s3, bucket, "k", ChecksumAlgorithm="CRC32")
    [part1] = _upload_with_checksums(s3, bucket, "k", upload_id, "CRC32", bodies[:1])
    try:
        resp = s3_plain.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=2, Body=bodies[1])
    except ClientError as exc:
        got = (exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"])
        assert got == (400, "InvalidRequest"), exc.response
    else:
        with s3_error_in({400}, {"InvalidRequest", "InvalidPart"}):
            complete(s3, bucket, "k", upload_id, [part1, {"PartNumber": 2, "ETag": resp["ETag"]}])
    assert not object_exists(s3, bucket, "k")


def test_complete_without_part_checksums(s3, bucket):
    # AWS: 400 InvalidRequest "The upload was created using a crc32 checksum. The complete request
    # must include the checksum for each part. It was missing for part 1 in the request."
    # (observed on AWS: floci PR #3093, apache/opendal PR #4580).
    data = os.urandom(PART + 10)
    upload_id = create(s3, bucket, "k", ChecksumAlgorithm="CRC32")
    parts = _upload_with_checksums(s3, bucket, "k", upload_id, "CRC32", split(data, [PART, 10]))
    with s3_error_in({400}, {"InvalidRequest", "InvalidPart"}):
        complete(s3, bucket, "k", upload_id, [{k: p[k] for k in ("PartNumber", "ETag")} for p in parts])
    assert not object_exists(s3, bucket, "k")
    complete(s3, bucket, "k", upload_id, parts)
    assert get_body(s3, bucket, "k") == data


def test_complete_with_wrong_part_checksum(s3, bucket):
    # AWS: 400 InvalidPart (observed on AWS: floci PR #3093).
    data = os.urandom(PART + 10)
    upload_id = create(s3, bucket, "k", ChecksumAlgorithm="CRC32")
    parts = _upload_with_checksums(s3, bucket, "k", upload_id, "CRC32", split(data, [PART, 10]))
    wrong = [parts[0], {**parts[1], "ChecksumCRC32": checksum_b64("CRC32", b"other")}]
    with s3_error(400, "InvalidPart"):
        complete(s3, bucket, "k", upload_id, wrong)
    complete(s3, bucket, "k", upload_id, parts)
    assert get_body(s3, bucket, "k") == data


def test_part_checksum_of_another_algorithm(s3, bucket):
    # AWS: 400 InvalidRequest "Checksum Type mismatch occurred, expected checksum Type: crc32,
    # actual checksum Type: sha256" (observed on AWS: versitygw issue #1342, floci PR #3093).
    upload_id = create(s3, bucket, "k", ChecksumAlgorithm="CRC32")
    with s3_error(400, "InvalidRequest"):
        s3.upload_part(
            Bucket=bucket,
            Key="k",
            UploadId=upload_id,
            PartNumber=1,
            Body=b"data",
            ChecksumSHA256=checksum_b64("SHA256", b"data"),
        )
    assert listed_parts(s3, bucket, "k", upload_id) == []


def test_checksum_parts_must_be_consecutive(s3, bucket):
    # "when a additional checksum ... is applied to each part, the PartNumber must start at 1 and
    # the part numbers must be consecutive. Otherwise ... InvalidPartOrder" (CompletedPart).
    data = os.urandom(PART + 10)
    bodies = split(data, [PART, 10])
    upload_id = create(s3, bucket, "k", ChecksumAlgorithm="CRC32")
    parts = _upload_with_checksums(s3, bucket, "k", upload_id, "CRC32", [bodies[0], b"unused", bodies[1]])
    with s3_error(400, "InvalidPartOrder"):
        complete(s3, bucket, "k", upload_id, [parts[0], parts[2]])
    assert listed_uploads(s3, bucket) == [("k", upload_id)]


def test_complete_checksum_type_mismatch_is_bad_digest(s3, bucket):
    # "If the checksum type doesn't match the checksum type that was specified for the object
    # during the CreateMultipartUpload request, it'll result in a BadDigest error"
    # (CompleteMultipartUpload, x-amz-checksum-type).
    upload_id = create(s3, bucket, "k", ChecksumAlgorithm="CRC32")
    parts = _upload_with_checksums(s3, bucket, "k", upload_id, "CRC32", [b"only part"])
    with s3_error(400, "BadDigest"):
        complete(s3, bucket, "k", upload_id, parts, ChecksumType="FULL_OBJECT")
    assert not object_exists(s3, bucket, "k")
    resp = complete(s3, bucket, "k", upload_id, parts, ChecksumType="COMPOSITE")
    assert resp["ChecksumType"] == "COMPOSITE"


def test_complete_mpu_object_size(s3, bucket):
    # "If there's a mismatch between the specified object size value and the actual object size
    # value, it results in an HTTP 400 InvalidRequest error" (x-amz-mp-object-size).
    upload_id, parts = _pending_upload(s3, bucket, "k", body=b"12345")
    with s3_error(400, "InvalidRequest"):
        complete(s3, bucket, "k", upload_id, parts, MpuObjectSize=6)
    assert not object_exists(s3, bucket, "k")
    complete(s3, bucket, "k", upload_id, parts, MpuObjectSize=5)
    assert get_body(s3, bucket, "k") == b"12345"


# ==========================================================================
# High-level clients: the boto3 transfer manager and the aws cli
# ==========================================================================


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_boto3_transfer_manager(s3, bucket, tmp_path):
    config = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=4)
    data = os.urandom(17 * MiB)
    chunks = split(data, [PART, PART, PART, 2 * MiB])
    src = tmp_path / "src.bin"
    src.write_bytes(data)

    s3.upload_file(str(src), bucket, "file.bin", Config=config)
    s3.upload_fileobj(io.BytesIO(data), bucket, "fileobj.bin", Config=config)
    for key in ("file.bin", "fileobj.bin"):
        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        assert head["ETag"] == mpu_etag(chunks), key
        assert head["ContentLength"] == len(data)
        # s3transfer creates the upload with ChecksumAlgorithm=CRC32 (COMPOSITE) and sends the part
        # checksums the server returned with Complete.
        digests = [checksum_digest("CRC32", c) for c in chunks]
        assert (head.get("ChecksumCRC32"), head.get("ChecksumType")) == (composite_b64("CRC32", digests), "COMPOSITE")

    down = tmp_path / "down.bin"
    s3.download_file(bucket, "file.bin", str(down), Config=config)  # ranged GETs with If-Match
    assert _sha256(down) == _sha256(src)
    buf = io.BytesIO()
    s3.download_fileobj(bucket, "fileobj.bin", buf, Config=config)
    assert hashlib.sha256(buf.getvalue()).hexdigest() == _sha256(src)
    assert listed_uploads(s3, bucket) == []


@pytest.fixture(scope="module")
def aws(server, tmp_path_factory):
    """Run `aws ... --endpoint-url <server>` with the cli's default multipart settings (8 MB)."""
    return awscli_runner(server, tmp_path_factory.mktemp("awscli-mp"), 'multipart_threshold = 8MB\nmultipart_chunksize = 8MB')


def test_awscli_cp_multipart(aws, s3, bucket, tmp_path):
    data = os.urandom(20 * MiB)
    chunks = split(data, [8 * MiB, 8 * MiB, 4 * MiB])
    src = tmp_path / "big.bin"
    src.write_bytes(data)

    aws("s3", "cp", str(src), f"s3://{bucket}/big.bin")
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert (head["ETag"], head["ContentLength"]) == (mpu_etag(chunks), len(data))

    down = tmp_path / "down.bin"
    aws("s3", "cp", f"s3://{bucket}/big.bin", str(down))
    assert _sha256(down) == _sha256(src)

    # Above the threshold a bucket-to-bucket copy is CreateMultipartUpload + UploadPartCopy.
    aws("s3", "cp", f"s3://{bucket}/big.bin", f"s3://{bucket}/copy.bin")
    assert s3.head_object(Bucket=bucket, Key="copy.bin")["ETag"] == mpu_etag(chunks)
    assert hashlib.sha256(get_body(s3, bucket, "copy.bin")).hexdigest() == _sha256(src)

    out = aws("s3api", "list-multipart-uploads", "--bucket", bucket).stdout.strip()
    assert not (json.loads(out) if out else {}).get("Uploads")


# ==========================================================================
# Concurrency
# ==========================================================================


def test_parallel_part_uploads(s3, bucket):
    data = os.urandom(4 * PART)
    bodies = split(data, [PART] * 4)
    upload_id = create(s3, bucket, "k")

    def put(numbered):
        number, body = numbered
        resp = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=number, Body=body)
        return {"PartNumber": number, "ETag": resp["ETag"]}

    with ThreadPoolExecutor(4) as pool:
        parts = list(pool.map(put, enumerate(bodies, start=1)))
    assert [p["ETag"] for p in parts] == [quoted_md5(b) for b in bodies]
    assert listed_parts(s3, bucket, "k", upload_id) == [(n, quoted_md5(b), PART) for n, b in enumerate(bodies, 1)]
    resp = complete(s3, bucket, "k", upload_id, parts)
    assert resp["ETag"] == mpu_etag(bodies)
    assert get_body(s3, bucket, "k") == data


def test_concurrent_uploads_of_one_part_number(server, s3, bucket):
    before = stored_files(server)
    data = os.urandom(4 * MiB + 1)
    candidates = split(data, [2 * MiB, 2 * MiB + 1])  # different sizes and contents
    upload_id = create(s3, bucket, "k")
    barrier = threading.Barrier(2)

    def put(body):
        barrier.wait(timeout=30)
        return s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=body)["ETag"]

    with ThreadPoolExecutor(2) as pool:
        etags = list(pool.map(put, candidates))
    assert etags == [quoted_md5(c) for c in candidates]

    [(number, etag, size)] = listed_parts(s3, bucket, "k", upload_id)
    assert number == 1 and etag in etags
    winner = candidates[etags.index(etag)]
    assert size == len(winner)
    loser_etag = etags[1 - etags.index(etag)]
    with s3_error(400, "InvalidPart"):
        complete(s3, bucket, "k", upload_id, [{"PartNumber": 1, "ETag": loser_etag}])
    resp = complete(s3, bucket, "k", upload_id, [{"PartNumber": 1, "ETag": etag}])
    assert resp["ETag"] == mpu_etag([winner])
    assert get_body(s3, bucket, "k") == winner
    # The losing part's file is not left behind.
    s3.delete_object(Bucket=bucket, Key="k")
    assert_no_new_files(server, before)


def test_streaming_get_survives_overwrite_and_delete(server, s3, bucket):
    # A GET that started before an overwrite or a delete returns the whole old object, as for a
    # single-blob object (test_concurrency.py); here the parts it has not reached yet must stay
    # readable, and are removed once it ends.
    before = stored_files(server)
    data = os.urandom(5 * PART + 1000)
    etag = multipart_put(s3, bucket, "big", split(data, [PART] * 5 + [1000]))["ETag"]
    url, hdrs = sign_request(server, "GET", object_path(bucket, "big"))
    with requests.get(url, headers=hdrs, stream=True, timeout=60) as resp:
        assert resp.status_code == 200, resp.content
        assert (resp.headers["ETag"], resp.headers["Content-Length"]) == (etag, str(len(data)))
        chunks = resp.iter_content(64 * 1024)
        first = next(chunks)
        assert first and data.startswith(first)

        s3.put_object(Bucket=bucket, Key="big", Body=b"replacement")
        assert get_body(s3, bucket, "big") == b"replacement"
        s3.delete_object(Bucket=bucket, Key="big")
        assert not object_exists(s3, bucket, "big")

        digest, received = hashlib.md5(first), len(first)
        for chunk in chunks:
            digest.update(chunk)
            received += len(chunk)
    assert received == len(data), f"GET ended after {received} of {len(data)} bytes"
    assert digest.hexdigest() == hashlib.md5(data).hexdigest(), "GET body is not the original object"
    assert_no_new_files(server, before)


def test_concurrent_uploads_to_one_key(s3, bucket):
    # Two uploads of the same key are independent; the last Complete wins.
    data = os.urandom(2 * MiB)
    first_body, second_body = split(data, [MiB, MiB])
    first, second = create(s3, bucket, "k"), create(s3, bucket, "k")
    first_parts = upload_parts(s3, bucket, "k", first, [first_body])
    second_parts = upload_parts(s3, bucket, "k", second, [second_body])
    complete(s3, bucket, "k", second, second_parts)
    assert get_body(s3, bucket, "k") == second_body
    assert listed_uploads(s3, bucket) == [("k", first)]
    complete(s3, bucket, "k", first, first_parts)
    assert get_body(s3, bucket, "k") == first_body
    assert listed_uploads(s3, bucket) == []


# ==========================================================================
# Keys with unicode and XML special characters
# ==========================================================================

ODD_KEY = "dir/ü & <x>.bin"


@pytest.mark.parametrize(
    "key", [ODD_KEY, "spaces and+plus", "q?uestion#hash&amp", "a%2Fliteral percent", "日本語/😀"]
)
def test_odd_key_roundtrip(s3, bucket, key):
    resp = s3.create_multipart_upload(Bucket=bucket, Key=key)
    assert resp["Key"] == key
    upload_id = resp["UploadId"]
    parts = upload_parts(s3, bucket, key, upload_id, [key.encode()])
    assert s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)["Key"] == key
    assert listed_uploads(s3, bucket) == [(key, upload_id)]
    resp = complete(s3, bucket, key, upload_id, parts)
    assert resp["Key"] == key
    assert get_body(s3, bucket, key) == key.encode()
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]


def _assert_url_encoded(text, expected):
    assert text is not None
    assert text.isascii() and not any(c in text for c in " <>&"), f"not URL-encoded: {text!r}"
    assert unquote_plus(text) == expected


def test_list_uploads_encoding_type_url(s3, bucket):
    upload_id = create(s3, bucket, ODD_KEY)
    other = create(s3, bucket, "dir/ü/nested")
    # botocore decodes EncodingType=url answers of ListObjects* only, so the keys arrive encoded.
    resp = s3.list_multipart_uploads(Bucket=bucket, EncodingType="url", Prefix="dir/ü &")
    assert resp["EncodingType"] == "url"
    _assert_url_encoded(resp["Prefix"], "dir/ü &")
    [upload] = resp["Uploads"]
    _assert_url_encoded(upload["Key"], ODD_KEY)
    assert upload["UploadId"] == upload_id

    resp = s3.list_multipart_uploads(Bucket=bucket, EncodingType="url", Delimiter="/", Prefix="dir/")
    [upload] = resp["Uploads"]
    _assert_url_encoded(upload["Key"], ODD_KEY)
    [prefix] = resp["CommonPrefixes"]
    _assert_url_encoded(prefix["Prefix"], "dir/ü/")

    # Without EncodingType the keys come back as they are (XML-escaped on the wire).
    # (" " sorts before "/").
    assert listed_uploads(s3, bucket) == [(ODD_KEY, upload_id), ("dir/ü/nested", other)]


def test_full_object_crc64nvme_is_the_default_type(s3, bucket):
    # CRC64NVME supports only FULL_OBJECT, which is also its default type. The expected values come from
    # the pure-Python CRC of test_checksums (one pass over the data: the running register of part 1
    # continues over part 2).
    from test_checksums import _CRC64NVME_TABLE

    ones = 0xFFFFFFFFFFFFFFFF

    def run(register: int, data: bytes) -> int:
        for byte in data:
            register = _CRC64NVME_TABLE[(register ^ byte) & 0xFF] ^ (register >> 8)
        return register

    bodies = [os.urandom(PART), b"\x01tail"]
    first = run(ones, bodies[0])
    digests = [(first ^ ones).to_bytes(8, "big"), (run(ones, bodies[1]) ^ ones).to_bytes(8, "big")]
    expected = b64((run(first, bodies[1]) ^ ones).to_bytes(8, "big"))
    resp = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC64NVME")
    assert resp["ChecksumType"] == "FULL_OBJECT"
    parts = _upload_with_checksums(s3, bucket, "k", resp["UploadId"], "CRC64NVME", bodies, digests)
    done = complete(s3, bucket, "k", resp["UploadId"], parts)
    assert (done["ChecksumCRC64NVME"], done["ChecksumType"]) == (expected, "FULL_OBJECT")
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert checksum_headers(head) == {"x-amz-checksum-crc64nvme": expected, "x-amz-checksum-type": "FULL_OBJECT"}
    assert get_body(s3, bucket, "k") == b"".join(bodies)


def test_boto3_transfer_manager_64_mib_file(s3, bucket, tmp_path):
    # The case: 5 MiB parts over a 64 MiB file, 8 threads, with the SDK's default checksums.
    config = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=8)
    data = os.urandom(64 * MiB)
    src, dst = tmp_path / "src.bin", tmp_path / "dst.bin"
    src.write_bytes(data)
    s3.upload_file(str(src), bucket, "big.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="big.bin", ChecksumMode="ENABLED")
    parts = [PART] * 12 + [64 * MiB - 12 * PART]
    assert head["ETag"] == mpu_etag(split(data, parts))
    assert head["ContentLength"] == len(data)
    s3.download_file(bucket, "big.bin", str(dst), Config=config)
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
