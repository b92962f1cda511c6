"""Bucket versioning: PutBucketVersioning / GetBucketVersioning, version ids, delete markers, deleting
versions, the Suspended state and the "null" version, ListObjectVersions (with the boto3 paginator),
DeleteObjects / CopyObject / UploadPartCopy / CompleteMultipartUpload / GetObjectAttributes with
versions, DeleteBucket of a bucket holding only old versions, the aws cli, and that the data of every
version is kept and then freed.

AWS rules the tests rely on (User Guide "Using versioning in S3 buckets", "Working with delete
markers", "Deleting object versions"; API reference API_GetObject, API_HeadObject, API_DeleteObject,
API_DeleteObjects, API_DeletedObject, API_ListObjectVersions, API_CopyObject, API_PutBucketVersioning):
- a bucket is unversioned, Enabled or Suspended; once versioning was enabled it can only be suspended;
- objects stored before versioning was enabled, and every write while Suspended, are the "null" version;
- a simple DELETE (no versionId) in an Enabled bucket inserts a delete marker (a new version) even when
  the key does not exist; GET/HEAD without versionId then answer 404 with x-amz-delete-marker: true, and
  GET/HEAD naming the marker's versionId answer 405 Method Not Allowed with a Last-Modified header;
- DELETE with versionId removes that version for good; x-amz-delete-marker: true when it was a marker;
- the source of a copy may not name a delete marker by version id (400 InvalidRequest);
- a bucket holding any version or delete marker is not empty (409 BucketNotEmpty).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError

from conftest import (
    assert_no_new_files,
    stored_files,
    ACCESS_KEY,
    SECRET_KEY,
    assert_error_response,
    awscli_runner,
    md5_b64,
    object_exists,
    parse_xml,
    quoted_md5,
    raw_request,
    s3_error,
    unique_name,
    utcnow,
)

MiB = 1024 * 1024
PART = 5 * MiB  # AWS's minimum size of every multipart part but the last
NS = "http://s3.amazonaws.com/doc/2006-03-01/"
URL_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


# ==========================================================================
# Helpers
# ==========================================================================


def headers(resp) -> dict[str, str]:
    return resp["ResponseMetadata"]["HTTPHeaders"]


def status(resp) -> int:
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def assert_version_id(vid) -> str:
    """A real (not "null") version id: 32 URL-safe characters."""
    assert isinstance(vid, str) and len(vid) == 32 and set(vid) <= URL_SAFE, f"bad version id {vid!r}"
    return vid


def other_version_id() -> str:
    """A well-formed version id that no object has."""
    return uuid.uuid4().hex


def set_versioning(client, bucket: str, state: str) -> None:
    resp = client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": state})
    assert status(resp) == 200
    assert client.get_bucket_versioning(Bucket=bucket).get("Status") == state


def put(client, bucket: str, key: str, body: bytes, **kwargs) -> str | None:
    """PutObject; returns the x-amz-version-id header (None when absent)."""
    resp = client.put_object(Bucket=bucket, Key=key, Body=body, **kwargs)
    assert resp["ETag"] == quoted_md5(body)
    return headers(resp).get("x-amz-version-id")


def versions_of(client, bucket: str, prefix: str | None = None) -> list[tuple[str, str, bool, bool]]:
    """Every entry of ListObjectVersions as (key, version id, is latest, is delete marker) in the
    server's order (key ascending, newest first within a key), following NextKeyMarker and
    NextVersionIdMarker. Raw XML, because boto3 splits Versions from DeleteMarkers and so loses
    their interleaving within a key."""
    endpoint = SimpleNamespace(endpoint=client.meta.endpoint_url, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    query: dict[str, str] = {"prefix": prefix} if prefix is not None else {}
    entries = []
    for _ in range(10_000):
        root = raw_versions(endpoint, bucket, query)
        entries.extend((k, v, latest == "true", tag == "DeleteMarker") for tag, k, v, latest in raw_entries(root))
        if root.findtext("IsTruncated") != "true":
            return entries
        query = dict(query, **{"key-marker": root.findtext("NextKeyMarker"),
                               "version-id-marker": root.findtext("NextVersionIdMarker")})
    raise AssertionError("ListObjectVersions never stopped")


def raw_versions(server, bucket: str, query: dict | None = None):
    """ListObjectVersions with a signed raw request; returns the parsed <ListVersionsResult>."""
    q = {"versions": None}
    q.update(query or {})
    resp = raw_request(server, "GET", f"/{bucket}", query=q)
    assert resp.status_code == 200, resp.content
    root = parse_xml(resp.content)
    assert root.tag == "ListVersionsResult", resp.content
    return root


def raw_entries(root) -> list[tuple[str, str, str, str]]:
    """(element name, key, version id, IsLatest) of every Version/DeleteMarker in document order."""
    return [
        (el.tag, el.findtext("Key"), el.findtext("VersionId"), el.findtext("IsLatest"))
        for el in root
        if el.tag in ("Version", "DeleteMarker")
    ]


def purge_versions(client, bucket: str, delete_bucket: bool = True) -> None:
    """Best-effort removal of every version and delete marker, every upload in progress, and the bucket."""
    try:
        targets = []
        for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                targets.append((entry["Key"], entry["VersionId"]))
        for i in range(0, len(targets), 1000):
            batch = targets[i : i + 1000]
            try:
                resp = client.delete_objects(
                    Bucket=bucket,
                    Delete={"Objects": [{"Key": k, "VersionId": v} for k, v in batch], "Quiet": True},
                )
                failed = [(e["Key"], e.get("VersionId")) for e in resp.get("Errors", [])]
            except ClientError:
                failed = batch
            for key, vid in failed:
                with contextlib.suppress(ClientError):
                    client.delete_object(Bucket=bucket, Key=key, VersionId=vid)
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for upload in page.get("Uploads", []):
                with contextlib.suppress(ClientError):
                    client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        if delete_bucket:
            client.delete_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchBucket":
            warnings.warn(f"cleanup of versioned bucket {bucket} failed: {exc}")


@contextlib.contextmanager
def versioned_bucket(client, prefix: str = "ver", state: str | None = "Enabled"):
    name = unique_name(prefix)
    client.create_bucket(Bucket=name)
    try:
        if state:
            set_versioning(client, name, state)
        yield name
    finally:
        purge_versions(client, name)


def multipart_put(client, bucket: str, key: str, parts: list[bytes]):
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    done = []
    for number, body in enumerate(parts, start=1):
        resp = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
        done.append({"PartNumber": number, "ETag": resp["ETag"]})
    return client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
    )


def mpu_etag(parts: list[bytes]) -> str:
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def get_version(client, bucket: str, key: str, vid: str) -> bytes:
    resp = client.get_object(Bucket=bucket, Key=key, VersionId=vid)
    # A null version stored before versioning was enabled may come without x-amz-version-id.
    assert resp.get("VersionId", "null" if vid == "null" else None) == vid
    return resp["Body"].read()


def error_headers(excinfo) -> dict[str, str]:
    return excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]


# ------------------------------------------------------------- files on disk (as in test_multipart.py)




# ==========================================================================
# Fixtures
# ==========================================================================


@pytest.fixture
def vbucket(s3):
    """A fresh bucket with versioning Enabled; every version and marker is removed at teardown."""
    with versioned_bucket(s3, "ver") as name:
        yield name


@pytest.fixture
def ubucket(s3):
    """A fresh never-versioned bucket, cleaned like vbucket (tests may enable versioning on it)."""
    with versioned_bucket(s3, "unver", state=None) as name:
        yield name


# ==========================================================================
# PutBucketVersioning / GetBucketVersioning
# ==========================================================================


def test_new_bucket_has_no_versioning_status(server, s3, ubucket):
    resp = s3.get_bucket_versioning(Bucket=ubucket)
    assert status(resp) == 200
    assert "Status" not in resp and "MFADelete" not in resp
    raw = raw_request(server, "GET", f"/{ubucket}", query={"versioning": None})
    assert raw.status_code == 200, raw.content
    root = parse_xml(raw.content)
    assert root.tag == "VersioningConfiguration"
    assert root.find("Status") is None


def test_enable_suspend_enable(server, s3, ubucket):
    for state in ("Enabled", "Suspended", "Enabled", "Suspended"):
        set_versioning(s3, ubucket, state)
        root = parse_xml(raw_request(server, "GET", f"/{ubucket}", query={"versioning": None}).content)
        assert root.findtext("Status") == state


def test_cannot_go_back_to_unversioned(server, s3, vbucket):
    # There is no "Disabled" status, and a configuration without Status changes nothing (accepted
    # or rejected as MalformedXML: AWS does not document which).
    body = f'<VersioningConfiguration xmlns="{NS}"></VersioningConfiguration>'.encode()
    resp = raw_request(server, "PUT", f"/{vbucket}", {"Content-MD5": md5_b64(body)}, body, {"versioning": None})
    if resp.status_code != 200:
        assert_error_response(resp, 400, "MalformedXML")
    assert s3.get_bucket_versioning(Bucket=vbucket)["Status"] == "Enabled"
    with s3_error(400, "MalformedXML"):
        s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Disabled"})
    set_versioning(s3, vbucket, "Suspended")
    with s3_error(400, "MalformedXML"):
        s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Disabled"})
    assert s3.get_bucket_versioning(Bucket=vbucket)["Status"] == "Suspended"


def test_mfa_delete_disabled_is_accepted(s3, ubucket):
    resp = s3.put_bucket_versioning(
        Bucket=ubucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"}
    )
    assert status(resp) == 200
    assert s3.get_bucket_versioning(Bucket=ubucket)["Status"] == "Enabled"


def test_mfa_delete_enabled_is_not_implemented(s3, ubucket):
    with s3_error(501, "NotImplemented"):
        s3.put_bucket_versioning(
            Bucket=ubucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"}
        )
    assert "Status" not in s3.get_bucket_versioning(Bucket=ubucket)


@pytest.mark.parametrize(
    "body",
    [
        b"this is not xml",
        f'<VersioningConfiguration xmlns="{NS}"><Status>Enabled</Status>'.encode(),  # truncated
        f'<Versioning xmlns="{NS}"><Status>Enabled</Status></Versioning>'.encode(),  # wrong root
        f'<VersioningConfiguration xmlns="{NS}"><Status>enabled</Status></VersioningConfiguration>'.encode(),
        f'<VersioningConfiguration xmlns="{NS}"><Status>On</Status></VersioningConfiguration>'.encode(),
        f'<VersioningConfiguration xmlns="{NS}"><Status>Disabled</Status></VersioningConfiguration>'.encode(),
    ],
    ids=["garbage", "truncated", "wrong-root", "lowercase-status", "unknown-status", "disabled-status"],
)
def test_put_versioning_malformed_xml(server, s3, ubucket, body):
    resp = raw_request(server, "PUT", f"/{ubucket}", {"Content-MD5": md5_b64(body)}, body, {"versioning": None})
    assert_error_response(resp, 400, "MalformedXML")
    assert "Status" not in s3.get_bucket_versioning(Bucket=ubucket)


def test_put_versioning_empty_body(server, s3, ubucket):
    # AWS does not document the code for an empty body: MalformedXML or MissingRequestBodyError.
    resp = raw_request(server, "PUT", f"/{ubucket}", {"Content-MD5": md5_b64(b"")}, b"", {"versioning": None})
    assert_error_response(resp, 400, {"MalformedXML", "MissingRequestBodyError"})
    assert "Status" not in s3.get_bucket_versioning(Bucket=ubucket)


def test_versioning_of_missing_bucket(s3):
    name = unique_name("missing")
    with s3_error(404, "NoSuchBucket"):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    with s3_error(404, "NoSuchBucket"):
        s3.get_bucket_versioning(Bucket=name)
    with s3_error(404, "NoSuchBucket"):
        s3.list_object_versions(Bucket=name)


# ==========================================================================
# Version ids in responses
# ==========================================================================


def test_never_versioned_bucket_sends_no_version_id(s3, ubucket):
    resp = s3.put_object(Bucket=ubucket, Key="k", Body=b"one")
    assert "x-amz-version-id" not in headers(resp)
    for resp in (s3.get_object(Bucket=ubucket, Key="k"), s3.head_object(Bucket=ubucket, Key="k")):
        assert "x-amz-version-id" not in headers(resp)
    resp = s3.copy_object(Bucket=ubucket, Key="copy", CopySource={"Bucket": ubucket, "Key": "k"})
    assert "x-amz-version-id" not in headers(resp)
    assert "x-amz-copy-source-version-id" not in headers(resp)
    resp = multipart_put(s3, ubucket, "mp", [b"part"])
    assert "x-amz-version-id" not in headers(resp)
    resp = s3.delete_object(Bucket=ubucket, Key="copy")
    assert status(resp) == 204
    assert "x-amz-version-id" not in headers(resp) and "x-amz-delete-marker" not in headers(resp)
    # The objects of a never-versioned bucket are listed as the null version.
    assert versions_of(s3, ubucket) == [("k", "null", True, False), ("mp", "null", True, False)]


def test_never_versioned_bucket_accepts_the_null_version_id(s3, ubucket):
    put(s3, ubucket, "k", b"one")
    assert s3.get_object(Bucket=ubucket, Key="k", VersionId="null")["Body"].read() == b"one"
    assert s3.head_object(Bucket=ubucket, Key="k", VersionId="null")["ContentLength"] == 3
    with s3_error(404, "NoSuchVersion"):
        s3.get_object(Bucket=ubucket, Key="k", VersionId=other_version_id())
    resp = s3.delete_object(Bucket=ubucket, Key="k", VersionId="null")
    assert status(resp) == 204
    assert not object_exists(s3, ubucket, "k")
    assert versions_of(s3, ubucket) == []


def test_enabled_bucket_returns_version_ids(s3, vbucket):
    v1 = assert_version_id(put(s3, vbucket, "k", b"one"))
    resp = s3.put_object(Bucket=vbucket, Key="k", Body=b"two")
    v2 = assert_version_id(resp["VersionId"])
    assert headers(resp)["x-amz-version-id"] == v2
    resp = s3.copy_object(Bucket=vbucket, Key="copy", CopySource={"Bucket": vbucket, "Key": "k"})
    v3 = assert_version_id(resp["VersionId"])
    resp = multipart_put(s3, vbucket, "mp", [b"part"])
    v4 = assert_version_id(resp["VersionId"])
    assert len({v1, v2, v3, v4}) == 4
    for key, vid in (("k", v2), ("copy", v3), ("mp", v4)):
        assert s3.head_object(Bucket=vbucket, Key=key)["VersionId"] == vid
        assert s3.get_object(Bucket=vbucket, Key=key)["VersionId"] == vid


def test_suspended_bucket_writes_null_version(s3, vbucket):
    set_versioning(s3, vbucket, "Suspended")
    assert put(s3, vbucket, "k", b"one") == "null"
    resp = s3.copy_object(Bucket=vbucket, Key="copy", CopySource={"Bucket": vbucket, "Key": "k"})
    assert headers(resp)["x-amz-version-id"] == "null"
    resp = multipart_put(s3, vbucket, "mp", [b"part"])
    assert headers(resp)["x-amz-version-id"] == "null"
    for key in ("k", "copy", "mp"):
        assert s3.head_object(Bucket=vbucket, Key=key)["VersionId"] == "null"
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId="null")["Body"].read() == b"one"


# ==========================================================================
# Enabled: versions
# ==========================================================================


def test_every_put_creates_a_readable_version(s3, vbucket):
    bodies = [b"first", b"second version", b"third and longest version"]
    vids = [assert_version_id(put(s3, vbucket, "k", b)) for b in bodies]
    assert len(set(vids)) == 3
    for vid, body in zip(vids, bodies):
        assert get_version(s3, vbucket, "k", vid) == body
        head = s3.head_object(Bucket=vbucket, Key="k", VersionId=vid)
        assert (head["VersionId"], head["ETag"], head["ContentLength"]) == (vid, quoted_md5(body), len(body))
    latest = s3.get_object(Bucket=vbucket, Key="k")
    assert (latest["VersionId"], latest["Body"].read()) == (vids[-1], bodies[-1])
    # Listing objects shows the key once, as its latest version.
    [obj] = s3.list_objects_v2(Bucket=vbucket)["Contents"]
    assert (obj["Key"], obj["ETag"], obj["Size"]) == ("k", quoted_md5(bodies[-1]), len(bodies[-1]))
    assert versions_of(s3, vbucket) == [("k", vids[2], True, False), ("k", vids[1], False, False), ("k", vids[0], False, False)]


def test_range_get_of_an_old_version(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"0123456789")
    put(s3, vbucket, "k", b"abcdefghij")
    resp = s3.get_object(Bucket=vbucket, Key="k", VersionId=v1, Range="bytes=2-4")
    assert status(resp) == 206
    assert (resp["Body"].read(), resp["ContentRange"], resp["VersionId"]) == (b"234", "bytes 2-4/10", v1)


def test_concurrent_puts_to_one_key_keep_every_version(s3, vbucket):
    # "If you enable versioning for a bucket and Amazon S3 receives multiple write requests for the
    # same object simultaneously, all versions of the object are stored."
    bodies = [f"writer {i}".encode() * (i + 1) for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        vids = list(pool.map(lambda b: put(s3, vbucket, "hot", b), bodies))
    assert len(set(vids)) == 40
    entries = versions_of(s3, vbucket)
    assert sorted(e[1] for e in entries) == sorted(vids)
    assert [e[2] for e in entries] == [True] + [False] * 39
    latest = s3.get_object(Bucket=vbucket, Key="hot")
    assert latest["VersionId"] == entries[0][1]
    assert latest["Body"].read() == bodies[vids.index(entries[0][1])]
    for vid, body in list(zip(vids, bodies))[::7]:
        assert get_version(s3, vbucket, "hot", vid) == body


def test_each_version_keeps_its_metadata(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"a", ContentType="text/plain", Metadata={"n": "1"})
    v2 = put(s3, vbucket, "k", b"bb", ContentType="application/json", Metadata={"n": "2"})
    for vid, ctype, n in ((v1, "text/plain", "1"), (v2, "application/json", "2")):
        head = s3.head_object(Bucket=vbucket, Key="k", VersionId=vid)
        assert (head["ContentType"], head["Metadata"]) == (ctype, {"n": n})


def test_data_of_every_version_survives_overwrites_and_delete(s3, vbucket):
    bodies = [os.urandom(n) for n in (1, 64 * 1024 + 7, 1000, 3 * 1024 * 1024 + 1)]
    vids = [put(s3, vbucket, "data.bin", b) for b in bodies]  # a write and 3 overwrites
    marker = s3.delete_object(Bucket=vbucket, Key="data.bin")
    assert marker["DeleteMarker"] is True
    assert not object_exists(s3, vbucket, "data.bin")
    for vid, body in zip(vids, bodies):
        got = get_version(s3, vbucket, "data.bin", vid)
        assert hashlib.md5(got).hexdigest() == hashlib.md5(body).hexdigest(), f"version {vid} changed"
        assert s3.head_object(Bucket=vbucket, Key="data.bin", VersionId=vid)["ETag"] == quoted_md5(body)


# ==========================================================================
# Enabled: delete markers
# ==========================================================================


def test_simple_delete_creates_a_delete_marker(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"one")
    put(s3, vbucket, "other", b"x")
    resp = s3.delete_object(Bucket=vbucket, Key="k")
    assert status(resp) == 204
    assert headers(resp)["x-amz-delete-marker"] == "true"
    assert resp["DeleteMarker"] is True
    marker = assert_version_id(headers(resp)["x-amz-version-id"])
    assert marker != v1

    with s3_error(404, "NoSuchKey") as exc:
        s3.get_object(Bucket=vbucket, Key="k")
    assert error_headers(exc)["x-amz-delete-marker"] == "true"
    assert error_headers(exc)["x-amz-version-id"] == marker
    with s3_error(404, "404") as exc:
        s3.head_object(Bucket=vbucket, Key="k")
    assert error_headers(exc)["x-amz-delete-marker"] == "true"
    assert error_headers(exc)["x-amz-version-id"] == marker

    assert [o["Key"] for o in s3.list_objects_v2(Bucket=vbucket)["Contents"]] == ["other"]
    assert [o["Key"] for o in s3.list_objects(Bucket=vbucket)["Contents"]] == ["other"]
    assert get_version(s3, vbucket, "k", v1) == b"one"

    listing = s3.list_object_versions(Bucket=vbucket, Prefix="k")
    [dm] = listing["DeleteMarkers"]
    assert (dm["Key"], dm["VersionId"], dm["IsLatest"]) == ("k", marker, True)
    assert "ID" in dm["Owner"]
    [ver] = listing["Versions"]
    assert (ver["Key"], ver["VersionId"], ver["IsLatest"]) == ("k", v1, False)


def test_deleted_keys_leave_no_common_prefix(s3, vbucket):
    put(s3, vbucket, "gone/a", b"1")
    put(s3, vbucket, "kept/b", b"2")
    s3.delete_object(Bucket=vbucket, Key="gone/a")
    for resp in (s3.list_objects_v2(Bucket=vbucket, Delimiter="/"), s3.list_objects(Bucket=vbucket, Delimiter="/")):
        assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["kept/"]
        assert "Contents" not in resp
    # ListObjectVersions still shows both prefixes.
    resp = s3.list_object_versions(Bucket=vbucket, Delimiter="/")
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["gone/", "kept/"]


def test_get_and_head_of_a_delete_marker_version_is_405(s3, vbucket):
    put(s3, vbucket, "k", b"one")
    marker = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    with s3_error(405, "MethodNotAllowed") as get_exc:
        s3.get_object(Bucket=vbucket, Key="k", VersionId=marker)
    with s3_error(405, "405") as head_exc:
        s3.head_object(Bucket=vbucket, Key="k", VersionId=marker)
    # API_GetObject / API_HeadObject: "the response returns a 405 Method Not Allowed error and the
    # Last-Modified: timestamp response header".
    for exc in (get_exc, head_exc):
        assert "last-modified" in error_headers(exc), error_headers(exc)


def test_delete_of_deleted_key_adds_another_marker(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"one")
    m1 = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    m2 = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    assert m1 != m2
    assert versions_of(s3, vbucket) == [("k", m2, True, True), ("k", m1, False, True), ("k", v1, False, False)]


def test_delete_of_missing_key_creates_a_marker(s3, vbucket):
    resp = s3.delete_object(Bucket=vbucket, Key="never-written")
    assert status(resp) == 204
    assert resp["DeleteMarker"] is True
    marker = assert_version_id(resp["VersionId"])
    assert versions_of(s3, vbucket) == [("never-written", marker, True, True)]


# ==========================================================================
# Enabled: deleting versions
# ==========================================================================


def test_delete_a_version_permanently(s3, vbucket):
    v1, v2, v3 = (put(s3, vbucket, "k", b) for b in (b"1", b"22", b"333"))
    resp = s3.delete_object(Bucket=vbucket, Key="k", VersionId=v2)
    assert status(resp) == 204
    assert headers(resp)["x-amz-version-id"] == v2
    assert headers(resp).get("x-amz-delete-marker", "false") == "false"
    with s3_error(404, "NoSuchVersion"):
        s3.get_object(Bucket=vbucket, Key="k", VersionId=v2)
    assert versions_of(s3, vbucket) == [("k", v3, True, False), ("k", v1, False, False)]
    assert get_version(s3, vbucket, "k", v1) == b"1"
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"333"


def test_delete_latest_version_promotes_the_previous(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"old")
    v2 = put(s3, vbucket, "k", b"new")
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=v2)
    resp = s3.get_object(Bucket=vbucket, Key="k")
    assert (resp["VersionId"], resp["Body"].read()) == (v1, b"old")
    assert versions_of(s3, vbucket) == [("k", v1, True, False)]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=vbucket)["Contents"]] == ["k"]
    # Removing the last version removes the key.
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=v1)
    assert versions_of(s3, vbucket) == []
    assert s3.list_objects_v2(Bucket=vbucket).get("Contents", []) == []
    with s3_error(404, "NoSuchKey") as exc:
        s3.get_object(Bucket=vbucket, Key="k")
    assert "x-amz-delete-marker" not in error_headers(exc)


def test_deleting_the_delete_marker_undeletes(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"precious")
    marker = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    assert not object_exists(s3, vbucket, "k")
    resp = s3.delete_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert status(resp) == 204
    assert headers(resp)["x-amz-delete-marker"] == "true"
    assert headers(resp)["x-amz-version-id"] == marker
    resp = s3.get_object(Bucket=vbucket, Key="k")
    assert (resp["VersionId"], resp["Body"].read()) == (v1, b"precious")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=vbucket)["Contents"]] == ["k"]
    assert versions_of(s3, vbucket) == [("k", v1, True, False)]


def test_delete_noncurrent_marker_keeps_latest(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"1")
    marker = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    v2 = put(s3, vbucket, "k", b"2")
    resp = s3.delete_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert headers(resp)["x-amz-delete-marker"] == "true"
    assert versions_of(s3, vbucket) == [("k", v2, True, False), ("k", v1, False, False)]
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"2"


def test_delete_unknown_version_is_204(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"1")
    for key in ("k", "missing"):
        resp = s3.delete_object(Bucket=vbucket, Key=key, VersionId=other_version_id())
        assert status(resp) == 204
        assert headers(resp).get("x-amz-delete-marker", "false") == "false"
    assert versions_of(s3, vbucket) == [("k", v1, True, False)]


@pytest.mark.parametrize("bad", ["abc", "not a version id"])
def test_malformed_version_id_is_invalid_argument(s3, vbucket, bad):
    put(s3, vbucket, "k", b"1")
    with s3_error(400, "InvalidArgument"):
        s3.get_object(Bucket=vbucket, Key="k", VersionId=bad)
    with s3_error(400, "400"):
        s3.head_object(Bucket=vbucket, Key="k", VersionId=bad)
    with s3_error(400, "InvalidArgument"):
        s3.delete_object(Bucket=vbucket, Key="k", VersionId=bad)
    assert object_exists(s3, vbucket, "k")


def test_unknown_version_is_no_such_version(s3, vbucket):
    put(s3, vbucket, "k", b"1")
    v_other = put(s3, vbucket, "other", b"2")
    for vid in (other_version_id(), v_other):  # unknown, or a version of another key
        with s3_error(404, "NoSuchVersion"):
            s3.get_object(Bucket=vbucket, Key="k", VersionId=vid)
        with s3_error(404, "404"):
            s3.head_object(Bucket=vbucket, Key="k", VersionId=vid)
    with s3_error(404, "NoSuchVersion"):
        s3.get_object(Bucket=vbucket, Key="k", VersionId="null")  # there is no null version


def test_raw_delete_marker_headers(server, vbucket, s3):
    put(s3, vbucket, "k", b"1")
    resp = raw_request(server, "DELETE", f"/{vbucket}/k")
    assert resp.status_code == 204
    assert resp.headers["x-amz-delete-marker"] == "true"
    marker = assert_version_id(resp.headers["x-amz-version-id"])
    resp = raw_request(server, "GET", f"/{vbucket}/k")
    assert_error_response(resp, 404, "NoSuchKey")
    assert (resp.headers["x-amz-delete-marker"], resp.headers["x-amz-version-id"]) == ("true", marker)
    resp = raw_request(server, "GET", f"/{vbucket}/k", query={"versionId": marker})
    assert_error_response(resp, 405, "MethodNotAllowed")


# ==========================================================================
# Suspended and the null version
# ==========================================================================


def test_suspended_put_replaces_only_the_null_version(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"versioned")
    set_versioning(s3, vbucket, "Suspended")
    assert put(s3, vbucket, "k", b"null one") == "null"
    assert versions_of(s3, vbucket) == [("k", "null", True, False), ("k", v1, False, False)]
    assert put(s3, vbucket, "k", b"null two") == "null"
    assert versions_of(s3, vbucket) == [("k", "null", True, False), ("k", v1, False, False)]
    assert get_version(s3, vbucket, "k", "null") == b"null two"
    assert get_version(s3, vbucket, "k", v1) == b"versioned"
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"null two"


def test_suspended_put_over_older_null_version_moves_it_to_latest(s3, ubucket):
    # null (pre-versioning), then v1 (Enabled), then Suspended PUT replaces the null version and is latest.
    put(s3, ubucket, "k", b"original")
    set_versioning(s3, ubucket, "Enabled")
    v1 = put(s3, ubucket, "k", b"v1")
    set_versioning(s3, ubucket, "Suspended")
    put(s3, ubucket, "k", b"replacement")
    assert versions_of(s3, ubucket) == [("k", "null", True, False), ("k", v1, False, False)]
    assert s3.get_object(Bucket=ubucket, Key="k")["Body"].read() == b"replacement"


def test_suspended_delete_creates_null_marker(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"versioned")
    set_versioning(s3, vbucket, "Suspended")
    put(s3, vbucket, "k", b"null data")
    resp = s3.delete_object(Bucket=vbucket, Key="k")
    assert status(resp) == 204
    assert headers(resp)["x-amz-delete-marker"] == "true"
    if "x-amz-version-id" in headers(resp):
        assert headers(resp)["x-amz-version-id"] == "null"
    # The null version was replaced by the null delete marker; v1 is kept.
    assert versions_of(s3, vbucket) == [("k", "null", True, True), ("k", v1, False, False)]
    assert not object_exists(s3, vbucket, "k")
    assert get_version(s3, vbucket, "k", v1) == b"versioned"
    # A second simple delete replaces the null marker instead of adding one.
    s3.delete_object(Bucket=vbucket, Key="k")
    assert versions_of(s3, vbucket) == [("k", "null", True, True), ("k", v1, False, False)]
    # Removing the null marker by id brings v1 back.
    resp = s3.delete_object(Bucket=vbucket, Key="k", VersionId="null")
    assert headers(resp)["x-amz-delete-marker"] == "true"
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"versioned"


def test_suspended_delete_objects_creates_null_markers(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"versioned")
    set_versioning(s3, vbucket, "Suspended")
    resp = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "k"}]})
    [entry] = resp["Deleted"]
    assert entry["Key"] == "k" and entry["DeleteMarker"] is True
    assert entry.get("DeleteMarkerVersionId", "null") == "null"
    assert versions_of(s3, vbucket) == [("k", "null", True, True), ("k", v1, False, False)]


def test_objects_from_before_versioning_are_the_null_version(s3, ubucket):
    put(s3, ubucket, "old", b"before versioning")
    set_versioning(s3, ubucket, "Enabled")
    assert versions_of(s3, ubucket) == [("old", "null", True, False)]
    resp = s3.get_object(Bucket=ubucket, Key="old", VersionId="null")
    assert resp["Body"].read() == b"before versioning"
    # AWS documents no x-amz-version-id for an object stored before versioning (it has no stored
    # version id; writes while Suspended get an explicit "null"); absent or "null" are both fine.
    assert headers(resp).get("x-amz-version-id", "null") == "null"
    assert s3.head_object(Bucket=ubucket, Key="old").get("VersionId", "null") == "null"

    v1 = assert_version_id(put(s3, ubucket, "old", b"after"))
    assert versions_of(s3, ubucket) == [("old", v1, True, False), ("old", "null", False, False)]
    assert get_version(s3, ubucket, "old", "null") == b"before versioning"
    [entry] = [v for v in s3.list_object_versions(Bucket=ubucket)["Versions"] if v["VersionId"] == "null"]
    assert (entry["ETag"], entry["Size"]) == (quoted_md5(b"before versioning"), len(b"before versioning"))

    # Deleting the null version by id removes it for good.
    resp = s3.delete_object(Bucket=ubucket, Key="old", VersionId="null")
    assert status(resp) == 204 and headers(resp)["x-amz-version-id"] == "null"
    assert versions_of(s3, ubucket) == [("old", v1, True, False)]


def test_reenabled_bucket_keeps_null_version(s3, vbucket):
    set_versioning(s3, vbucket, "Suspended")
    put(s3, vbucket, "k", b"null")
    set_versioning(s3, vbucket, "Enabled")
    v2 = assert_version_id(put(s3, vbucket, "k", b"v2"))
    assert versions_of(s3, vbucket) == [("k", v2, True, False), ("k", "null", False, False)]
    assert get_version(s3, vbucket, "k", "null") == b"null"


# ==========================================================================
# ListObjectVersions
# ==========================================================================


def test_list_versions_order_and_fields(server, s3, vbucket):
    written = {}
    for key in ("b", "a", "c"):
        written[key] = []
        for i in range(3):
            body = f"{key}{i}".encode() * (i + 1)
            written[key].append((put(s3, vbucket, key, body), body))
    m_b = s3.delete_object(Bucket=vbucket, Key="b")["VersionId"]
    # a: 3 versions; b: marker + 3 versions; c: 3 versions
    expected = []
    for key in ("a", "b", "c"):
        if key == "b":
            expected.append(("DeleteMarker", key, m_b, "true"))
        for n, (vid, _) in enumerate(reversed(written[key])):
            expected.append(("Version", key, vid, "true" if n == 0 and key != "b" else "false"))
    root = raw_versions(server, vbucket)
    assert raw_entries(root) == expected
    assert root.findtext("Name") == vbucket
    assert root.findtext("IsTruncated") == "false"
    assert root.findtext("MaxKeys") == "1000"

    resp = s3.list_object_versions(Bucket=vbucket)
    assert resp["IsTruncated"] is False
    bodies = {vid: body for key in written for vid, body in written[key]}
    for v in resp["Versions"]:
        body = bodies[v["VersionId"]]
        assert (v["ETag"], v["Size"], v["StorageClass"]) == (quoted_md5(body), len(body), "STANDARD")
        assert "ID" in v["Owner"]
        assert abs((v["LastModified"] - utcnow()).total_seconds()) < 300
    [dm] = resp["DeleteMarkers"]
    assert (dm["Key"], dm["VersionId"], dm["IsLatest"]) == ("b", m_b, True)
    assert "ID" in dm["Owner"] and "ETag" not in dm and "Size" not in dm


def test_list_versions_of_empty_bucket(s3, vbucket):
    resp = s3.list_object_versions(Bucket=vbucket)
    assert status(resp) == 200
    assert "Versions" not in resp and "DeleteMarkers" not in resp
    assert resp["IsTruncated"] is False


def test_list_versions_prefix_and_delimiter(s3, vbucket):
    for key in ("photos/2024/a.jpg", "photos/2025/b.jpg", "photos/c.jpg", "docs/d.txt", "top"):
        put(s3, vbucket, key, b"1")
        put(s3, vbucket, key, b"2")
    s3.delete_object(Bucket=vbucket, Key="photos/c.jpg")

    resp = s3.list_object_versions(Bucket=vbucket, Prefix="photos/", Delimiter="/")
    assert resp["Prefix"] == "photos/" and resp["Delimiter"] == "/"
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["photos/2024/", "photos/2025/"]
    assert [v["Key"] for v in resp["Versions"]] == ["photos/c.jpg"] * 2
    assert [m["Key"] for m in resp["DeleteMarkers"]] == ["photos/c.jpg"]

    resp = s3.list_object_versions(Bucket=vbucket, Delimiter="/")
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["docs/", "photos/"]
    assert [v["Key"] for v in resp["Versions"]] == ["top", "top"]
    assert "DeleteMarkers" not in resp

    resp = s3.list_object_versions(Bucket=vbucket, Prefix="photos/2")
    assert [v["Key"] for v in resp["Versions"]] == ["photos/2024/a.jpg"] * 2 + ["photos/2025/b.jpg"] * 2
    assert "CommonPrefixes" not in resp
    assert "Versions" not in s3.list_object_versions(Bucket=vbucket, Prefix="nothing")


def test_list_versions_max_keys_and_markers(server, s3, vbucket):
    vids = {key: [put(s3, vbucket, key, f"{key}{i}".encode()) for i in range(3)] for key in ("a", "b", "c")}
    marker_b = s3.delete_object(Bucket=vbucket, Key="b")["VersionId"]
    everything = raw_entries(raw_versions(server, vbucket))
    assert len(everything) == 10

    # Walk with max-keys=4 using the Next* markers; pages cut inside a key's versions.
    collected, query, pages = [], {"max-keys": "4"}, 0
    while True:
        root = raw_versions(server, vbucket, query)
        pages += 1
        entries = raw_entries(root)
        collected.extend(entries)
        if root.findtext("IsTruncated") == "false":
            assert root.find("NextKeyMarker") is None and root.find("NextVersionIdMarker") is None
            break
        assert len(entries) == 4
        next_key, next_vid = root.findtext("NextKeyMarker"), root.findtext("NextVersionIdMarker")
        assert (next_key, next_vid) == entries[-1][1:3]
        query = {"max-keys": "4", "key-marker": next_key, "version-id-marker": next_vid}
    assert pages == 3
    assert collected == everything

    # boto3 and the same walk.
    resp = s3.list_object_versions(Bucket=vbucket, MaxKeys=2)
    assert resp["IsTruncated"] is True and resp["MaxKeys"] == 2
    assert [v["VersionId"] for v in resp["Versions"]] == [vids["a"][2], vids["a"][1]]
    assert (resp["NextKeyMarker"], resp["NextVersionIdMarker"]) == ("a", vids["a"][1])
    resp = s3.list_object_versions(
        Bucket=vbucket, MaxKeys=2, KeyMarker=resp["NextKeyMarker"], VersionIdMarker=resp["NextVersionIdMarker"]
    )
    assert resp["KeyMarker"] == "a" and resp["VersionIdMarker"] == vids["a"][1]
    assert [v["VersionId"] for v in resp["Versions"]] == [vids["a"][0]]
    assert [m["VersionId"] for m in resp["DeleteMarkers"]] == [marker_b]

    # A key marker alone starts after every version of that key.
    resp = s3.list_object_versions(Bucket=vbucket, KeyMarker="b")
    assert [v["Key"] for v in resp["Versions"]] == ["c"] * 3
    assert "DeleteMarkers" not in resp
    resp = s3.list_object_versions(Bucket=vbucket, KeyMarker="a0")  # not a key: starts after it
    assert [v["Key"] for v in resp["Versions"]] == ["b"] * 3 + ["c"] * 3


def test_version_id_marker_without_key_marker(server, s3, vbucket):
    vid = put(s3, vbucket, "k", b"1")
    resp = raw_request(server, "GET", f"/{vbucket}", query={"versions": None, "version-id-marker": vid})
    assert_error_response(resp, 400, "InvalidArgument")
    with s3_error(400, "InvalidArgument"):
        s3.list_object_versions(Bucket=vbucket, VersionIdMarker=vid)


ODD_KEY = "dir/ü & <x>.bin"


def _assert_url_encoded(text, expected):
    assert text is not None
    assert text.isascii() and not any(c in text for c in " <>&"), f"not URL-encoded: {text!r}"
    assert unquote_plus(text) == expected


def test_list_versions_encoding_type_url(server, s3, vbucket):
    v1 = put(s3, vbucket, ODD_KEY, b"1")
    put(s3, vbucket, "dir/ü/nested", b"2")
    s3.delete_object(Bucket=vbucket, Key=ODD_KEY)

    root = raw_versions(server, vbucket, {"encoding-type": "url", "prefix": "dir/ü &"})
    assert root.findtext("EncodingType") == "url"
    _assert_url_encoded(root.findtext("Prefix"), "dir/ü &")
    entries = raw_entries(root)
    assert [e[0] for e in entries] == ["DeleteMarker", "Version"]
    for _, key, _, _ in entries:
        _assert_url_encoded(key, ODD_KEY)

    root = raw_versions(server, vbucket, {"encoding-type": "url", "delimiter": "/", "prefix": "dir/", "max-keys": "1"})
    [entry] = raw_entries(root)
    _assert_url_encoded(entry[1], ODD_KEY)
    _assert_url_encoded(root.findtext("NextKeyMarker"), ODD_KEY)

    # Without encoding-type the keys are as they are (XML-escaped on the wire).
    root = raw_versions(server, vbucket, {"prefix": "dir/"})
    assert [e[1] for e in raw_entries(root)] == [ODD_KEY, ODD_KEY, "dir/ü/nested"]

    # boto3 asks for url encoding and decodes the answer.
    resp = s3.list_object_versions(Bucket=vbucket, Prefix="dir/", Delimiter="/")
    assert [v["Key"] for v in resp["Versions"]] == [ODD_KEY]
    assert resp["Versions"][0]["VersionId"] == v1
    assert [m["Key"] for m in resp["DeleteMarkers"]] == [ODD_KEY]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["dir/ü/"]
    resp = s3.list_object_versions(Bucket=vbucket, MaxKeys=1)
    assert resp["NextKeyMarker"] == ODD_KEY
    resp = s3.list_object_versions(
        Bucket=vbucket, KeyMarker=resp["NextKeyMarker"], VersionIdMarker=resp["NextVersionIdMarker"]
    )
    assert [v["Key"] for v in resp["Versions"]] == [ODD_KEY, "dir/ü/nested"]


def test_paginator_returns_every_version_once(s3, vbucket):
    keys = [f"k/{i:04d}" for i in range(250)]
    per_key = 10

    def write(key):
        return key, [put(s3, vbucket, key, f"{key}#{n}".encode()) for n in range(per_key)]

    with ThreadPoolExecutor(16) as pool:
        written = dict(pool.map(write, keys))
    expected = {(key, vid) for key, vids in written.items() for vid in vids}
    assert len(expected) == len(keys) * per_key

    for page_size in (1000, 333):
        seen, pages = [], 0
        for page in s3.get_paginator("list_object_versions").paginate(
            Bucket=vbucket, PaginationConfig={"PageSize": page_size}
        ):
            pages += 1
            assert "DeleteMarkers" not in page
            seen.extend((v["Key"], v["VersionId"]) for v in page.get("Versions", []))
        assert len(seen) == len(expected), f"page size {page_size}: {len(seen)} entries"
        assert set(seen) == expected
        assert pages == -(-len(expected) // page_size)
        # Key ascending, newest first within a key.
        assert seen == [(key, vid) for key in keys for vid in reversed(written[key])]


# ==========================================================================
# DeleteObjects
# ==========================================================================


def test_delete_objects_with_version_ids(s3, vbucket):
    a1 = put(s3, vbucket, "a", b"a1")
    a2 = put(s3, vbucket, "a", b"a2")
    b1 = put(s3, vbucket, "b", b"b1")
    b_marker = s3.delete_object(Bucket=vbucket, Key="b")["VersionId"]
    unknown = other_version_id()
    resp = s3.delete_objects(
        Bucket=vbucket,
        Delete={
            "Objects": [
                {"Key": "a", "VersionId": a2},
                {"Key": "b", "VersionId": b_marker},
                {"Key": "a", "VersionId": unknown},
            ]
        },
    )
    assert resp.get("Errors", []) == []
    deleted = {(d["Key"], d["VersionId"]): d for d in resp["Deleted"]}
    assert set(deleted) == {("a", a2), ("b", b_marker), ("a", unknown)}
    assert not deleted[("a", a2)].get("DeleteMarker", False)
    assert deleted[("b", b_marker)]["DeleteMarker"] is True
    assert versions_of(s3, vbucket) == [("a", a1, True, False), ("b", b1, True, False)]
    assert s3.get_object(Bucket=vbucket, Key="a")["Body"].read() == b"a1"
    assert s3.get_object(Bucket=vbucket, Key="b")["Body"].read() == b"b1"


def test_delete_objects_without_version_creates_markers(s3, vbucket):
    x1 = put(s3, vbucket, "x", b"x")
    resp = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "x"}, {"Key": "never"}]})
    assert resp.get("Errors", []) == []
    deleted = {d["Key"]: d for d in resp["Deleted"]}
    assert set(deleted) == {"x", "never"}
    for entry in deleted.values():
        assert entry["DeleteMarker"] is True
        assert_version_id(entry["DeleteMarkerVersionId"])
    assert versions_of(s3, vbucket) == [
        ("never", deleted["never"]["DeleteMarkerVersionId"], True, True),
        ("x", deleted["x"]["DeleteMarkerVersionId"], True, True),
        ("x", x1, False, False),
    ]
    assert s3.list_objects_v2(Bucket=vbucket).get("Contents", []) == []
    assert get_version(s3, vbucket, "x", x1) == b"x"


def test_delete_objects_malformed_version_id(s3, vbucket):
    vid = put(s3, vbucket, "k", b"1")
    # AWS does not document whether this fails the whole request (400 InvalidArgument) or only the
    # key (an <Error> entry); either way nothing may be deleted and no delete marker created.
    try:
        resp = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "k", "VersionId": "abc"}]})
    except ClientError as exc:
        got = (exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"])
        assert got == (400, "InvalidArgument"), exc.response
    else:
        assert resp.get("Deleted", []) == []
        [err] = resp["Errors"]
        assert err["Key"] == "k"
    assert versions_of(s3, vbucket) == [("k", vid, True, False)]


# ==========================================================================
# CopyObject / UploadPartCopy with versions
# ==========================================================================


def test_copy_a_specific_source_version(s3, vbucket):
    v1 = put(s3, vbucket, "src", b"old source")
    put(s3, vbucket, "src", b"new source")
    resp = s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1})
    assert resp["CopySourceVersionId"] == v1
    assert headers(resp)["x-amz-copy-source-version-id"] == v1
    assert resp["CopyObjectResult"]["ETag"] == quoted_md5(b"old source")
    dst_vid = assert_version_id(resp["VersionId"])
    assert get_version(s3, vbucket, "dst", dst_vid) == b"old source"
    assert s3.get_object(Bucket=vbucket, Key="src")["Body"].read() == b"new source"


def test_copy_old_version_onto_its_own_key_restores_it(s3, vbucket):
    # User Guide "Restoring previous versions": copy a previous version of the object into the same
    # bucket; the copy becomes the current version and all versions are preserved. Naming a version
    # makes the source a different object, so this is not a (rejected) copy of an object onto itself.
    v1 = put(s3, vbucket, "src", b"old source")
    v2 = put(s3, vbucket, "src", b"new source")
    resp = s3.copy_object(Bucket=vbucket, Key="src", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1})
    assert resp["CopySourceVersionId"] == v1
    restored = assert_version_id(resp["VersionId"])
    assert restored not in (v1, v2)
    assert s3.get_object(Bucket=vbucket, Key="src")["Body"].read() == b"old source"
    assert versions_of(s3, vbucket) == [("src", restored, True, False), ("src", v2, False, False), ("src", v1, False, False)]


def test_copy_source_version_into_another_bucket(s3, vbucket, ubucket):
    v1 = put(s3, vbucket, "src", b"old")
    put(s3, vbucket, "src", b"new")
    resp = s3.copy_object(Bucket=ubucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1})
    assert resp["CopySourceVersionId"] == v1
    assert "x-amz-version-id" not in headers(resp)
    assert s3.get_object(Bucket=ubucket, Key="dst")["Body"].read() == b"old"


def test_copy_from_deleted_key_is_no_such_key(s3, vbucket):
    put(s3, vbucket, "src", b"data")
    s3.delete_object(Bucket=vbucket, Key="src")
    with s3_error(404, "NoSuchKey"):
        s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src"})
    assert not object_exists(s3, vbucket, "dst")


def test_copy_naming_a_delete_marker_is_invalid_request(s3, vbucket):
    put(s3, vbucket, "src", b"data")
    marker = s3.delete_object(Bucket=vbucket, Key="src")["VersionId"]
    with s3_error(400, "InvalidRequest"):
        s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": marker})
    assert not object_exists(s3, vbucket, "dst")


def test_copy_unknown_source_version(s3, vbucket):
    put(s3, vbucket, "src", b"data")
    with s3_error(404, "NoSuchVersion"):
        s3.copy_object(
            Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": other_version_id()}
        )
    with s3_error(400, "InvalidArgument"):
        s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": "abc"})


def test_upload_part_copy_from_a_source_version(s3, vbucket):
    old = os.urandom(PART)
    v1 = put(s3, vbucket, "src", old)
    put(s3, vbucket, "src", b"newer and short")
    upload_id = s3.create_multipart_upload(Bucket=vbucket, Key="dst")["UploadId"]
    source = {"Bucket": vbucket, "Key": "src", "VersionId": v1}
    first = s3.upload_part_copy(Bucket=vbucket, Key="dst", UploadId=upload_id, PartNumber=1, CopySource=source)
    assert first["CopySourceVersionId"] == v1
    assert first["CopyPartResult"]["ETag"] == quoted_md5(old)
    second = s3.upload_part_copy(
        Bucket=vbucket, Key="dst", UploadId=upload_id, PartNumber=2, CopySource=source, CopySourceRange="bytes=0-99"
    )
    assert second["CopySourceVersionId"] == v1
    done = s3.complete_multipart_upload(
        Bucket=vbucket,
        Key="dst",
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [
                {"PartNumber": 1, "ETag": first["CopyPartResult"]["ETag"]},
                {"PartNumber": 2, "ETag": second["CopyPartResult"]["ETag"]},
            ]
        },
    )
    assert done["ETag"] == mpu_etag([old, old[:100]])
    assert get_version(s3, vbucket, "dst", assert_version_id(done["VersionId"])) == old + old[:100]

    marker = s3.delete_object(Bucket=vbucket, Key="src")["VersionId"]
    upload_id = s3.create_multipart_upload(Bucket=vbucket, Key="dst2")["UploadId"]
    with s3_error(400, "InvalidRequest"):
        s3.upload_part_copy(
            Bucket=vbucket, Key="dst2", UploadId=upload_id, PartNumber=1,
            CopySource={"Bucket": vbucket, "Key": "src", "VersionId": marker},
        )
    with s3_error(404, "NoSuchKey"):
        s3.upload_part_copy(
            Bucket=vbucket, Key="dst2", UploadId=upload_id, PartNumber=1, CopySource={"Bucket": vbucket, "Key": "src"}
        )


# ==========================================================================
# Multipart upload
# ==========================================================================


def test_multipart_complete_creates_a_new_version(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"single put")
    parts = [os.urandom(PART), b"tail"]
    resp = multipart_put(s3, vbucket, "k", parts)
    v2 = assert_version_id(resp["VersionId"])
    assert headers(resp)["x-amz-version-id"] == v2
    assert resp["ETag"] == mpu_etag(parts)
    assert v2 != v1
    assert get_version(s3, vbucket, "k", v1) == b"single put"
    assert get_version(s3, vbucket, "k", v2) == b"".join(parts)
    head = s3.head_object(Bucket=vbucket, Key="k", VersionId=v2, PartNumber=2)
    assert head["ContentLength"] == 4 and head["PartsCount"] == 2
    assert versions_of(s3, vbucket) == [("k", v2, True, False), ("k", v1, False, False)]
    # Deleting the multipart version by id brings back the single PUT.
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"single put"


# ==========================================================================
# DeleteBucket
# ==========================================================================


def test_delete_bucket_with_only_old_versions_is_not_empty(s3):
    with versioned_bucket(s3, "vdel") as name:
        put(s3, name, "k", b"1")
        s3.delete_object(Bucket=name, Key="k")  # only a marker and a noncurrent version are left
        assert s3.list_objects_v2(Bucket=name).get("Contents", []) == []
        with s3_error(409, "BucketNotEmpty"):
            s3.delete_bucket(Bucket=name)
        purge_versions(s3, name, delete_bucket=False)
        assert versions_of(s3, name) == []
        assert status(s3.delete_bucket(Bucket=name)) == 204
        with s3_error(404, "404"):
            s3.head_bucket(Bucket=name)


def test_delete_bucket_with_only_delete_markers_is_not_empty(s3):
    with versioned_bucket(s3, "vdel") as name:
        s3.delete_object(Bucket=name, Key="ghost")
        s3.delete_object(Bucket=name, Key="ghost")
        with s3_error(409, "BucketNotEmpty"):
            s3.delete_bucket(Bucket=name)
        for _, vid, _, _ in versions_of(s3, name):
            s3.delete_object(Bucket=name, Key="ghost", VersionId=vid)
        assert status(s3.delete_bucket(Bucket=name)) == 204


def test_delete_bucket_with_only_a_suspended_null_marker_is_not_empty(s3):
    with versioned_bucket(s3, "vdel", state="Suspended") as name:
        s3.delete_object(Bucket=name, Key="ghost")
        assert versions_of(s3, name) == [("ghost", "null", True, True)]
        with s3_error(409, "BucketNotEmpty"):
            s3.delete_bucket(Bucket=name)
        s3.delete_object(Bucket=name, Key="ghost", VersionId="null")
        assert status(s3.delete_bucket(Bucket=name)) == 204


# ==========================================================================
# GetObjectAttributes
# ==========================================================================


def test_get_object_attributes_with_version_id(s3, vbucket):
    v1 = put(s3, vbucket, "k", b"first version")
    v2 = put(s3, vbucket, "k", b"2nd")
    for vid, body in ((v1, b"first version"), (v2, b"2nd")):
        resp = s3.get_object_attributes(
            Bucket=vbucket, Key="k", VersionId=vid, ObjectAttributes=["ETag", "ObjectSize", "StorageClass"]
        )
        assert resp["VersionId"] == vid
        assert resp["ETag"].strip('"') == hashlib.md5(body).hexdigest()
        assert resp["ObjectSize"] == len(body)
    latest = s3.get_object_attributes(Bucket=vbucket, Key="k", ObjectAttributes=["ObjectSize"])
    assert (latest["VersionId"], latest["ObjectSize"]) == (v2, 3)
    with s3_error(404, "NoSuchVersion"):
        s3.get_object_attributes(Bucket=vbucket, Key="k", VersionId=other_version_id(), ObjectAttributes=["ETag"])
    marker = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    with s3_error(404, "NoSuchKey") as exc:
        s3.get_object_attributes(Bucket=vbucket, Key="k", ObjectAttributes=["ETag"])
    assert error_headers(exc)["x-amz-delete-marker"] == "true"
    assert error_headers(exc).get("x-amz-version-id", marker) == marker
    resp = s3.get_object_attributes(Bucket=vbucket, Key="k", VersionId=v1, ObjectAttributes=["ObjectSize"])
    assert resp["ObjectSize"] == len(b"first version")


# ==========================================================================
# The aws cli
# ==========================================================================

@pytest.fixture(scope="module")
def aws(server, tmp_path_factory):
    """Run `aws ... --endpoint-url <server>` (as in test_awscli.py); returns the CompletedProcess."""
    return awscli_runner(server, tmp_path_factory.mktemp("awscli-ver"), '')


def test_awscli_versioning(aws, s3, ubucket, tmp_path):
    aws("s3api", "put-bucket-versioning", "--bucket", ubucket, "--versioning-configuration", "Status=Enabled")
    out = json.loads(aws("s3api", "get-bucket-versioning", "--bucket", ubucket).stdout)
    assert out["Status"] == "Enabled"
    src = tmp_path / "f.txt"
    vids = []
    for text in ("one", "two"):
        src.write_text(text)
        put_out = json.loads(aws("s3api", "put-object", "--bucket", ubucket, "--key", "f.txt", "--body", str(src)).stdout)
        vids.append(assert_version_id(put_out["VersionId"]))
    deleted = json.loads(aws("s3api", "delete-object", "--bucket", ubucket, "--key", "f.txt").stdout)
    assert deleted["DeleteMarker"] is True
    marker = assert_version_id(deleted["VersionId"])

    listing = json.loads(aws("s3api", "list-object-versions", "--bucket", ubucket).stdout)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in listing["Versions"]] == [
        ("f.txt", vids[1], False),
        ("f.txt", vids[0], False),
    ]
    assert [(m["Key"], m["VersionId"], m["IsLatest"]) for m in listing["DeleteMarkers"]] == [("f.txt", marker, True)]
    # The cli's own pagination (page size 1) still sees all three entries.
    paged = json.loads(aws("s3api", "list-object-versions", "--bucket", ubucket, "--page-size", "1").stdout)
    assert len(paged["Versions"]) == 2 and len(paged["DeleteMarkers"]) == 1

    dst = tmp_path / "old.txt"
    aws("s3api", "get-object", "--bucket", ubucket, "--key", "f.txt", "--version-id", vids[0], str(dst))
    assert dst.read_text() == "one"

    aws("s3api", "put-bucket-versioning", "--bucket", ubucket, "--versioning-configuration", "Status=Suspended")
    assert json.loads(aws("s3api", "get-bucket-versioning", "--bucket", ubucket).stdout)["Status"] == "Suspended"


# ==========================================================================
# Files on disk
# ==========================================================================


def test_deleting_every_version_frees_all_files(server, s3, vbucket):
    before = stored_files(server)
    v1 = put(s3, vbucket, "k", os.urandom(1000))
    put(s3, vbucket, "k", os.urandom(2000))
    multipart_put(s3, vbucket, "k", [os.urandom(PART), os.urandom(10)])
    s3.copy_object(Bucket=vbucket, Key="k2", CopySource={"Bucket": vbucket, "Key": "k", "VersionId": v1})
    s3.delete_object(Bucket=vbucket, Key="k")
    entries = versions_of(s3, vbucket)
    assert [(e[0], e[3]) for e in entries] == [("k", True)] + [("k", False)] * 3 + [("k2", False)]
    assert stored_files(server) - before, "the versions' data is not stored as files in the data dir"
    for key, vid, _, _ in entries:
        assert status(s3.delete_object(Bucket=vbucket, Key=key, VersionId=vid)) == 204
    assert versions_of(s3, vbucket) == []
    assert_no_new_files(server, before)


def test_delete_objects_of_versions_frees_all_files(server, s3, vbucket):
    before = stored_files(server)
    for key in ("a", "b"):
        put(s3, vbucket, key, os.urandom(3000))
        put(s3, vbucket, key, os.urandom(4000))
    multipart_put(s3, vbucket, "c", [os.urandom(PART), os.urandom(10)])
    targets = [{"Key": k, "VersionId": v} for k, v, _, _ in versions_of(s3, vbucket)]
    resp = s3.delete_objects(Bucket=vbucket, Delete={"Objects": targets})
    assert resp.get("Errors", []) == [] and len(resp["Deleted"]) == 5
    assert_no_new_files(server, before)


def test_suspended_overwrite_frees_the_replaced_null_version(server, s3, vbucket):
    v1 = put(s3, vbucket, "k", b"kept")
    set_versioning(s3, vbucket, "Suspended")
    put(s3, vbucket, "k", os.urandom(5000))
    after_first_null = stored_files(server)
    multipart_put(s3, vbucket, "k", [os.urandom(PART), os.urandom(10)])  # replaces the null version
    s3.put_object(Bucket=vbucket, Key="k", Body=b"small null")  # replaces it again
    s3.delete_object(Bucket=vbucket, Key="k")  # the null marker replaces it once more
    assert versions_of(s3, vbucket) == [("k", "null", True, True), ("k", v1, False, False)]
    # Nothing but the first null version's blob can have gone; nothing new may remain.
    assert_no_new_files(server, after_first_null)
    assert get_version(s3, vbucket, "k", v1) == b"kept"
