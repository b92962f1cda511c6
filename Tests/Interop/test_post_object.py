"""POST Object: browser form uploads (`POST /bucket` with multipart/form-data).

Forms are signed with boto3's `generate_presigned_post` (SigV4) or built by hand (SigV2: `AWSAccessKeyId` and
`signature`, the base64 HMAC-SHA1 of the base64 policy; SigV4 with a chosen, possibly malformed, policy) and sent
with `requests` (`files=` keeps the fields in order, the file last), or as raw bytes over a socket when the test
needs its own boundary or the body split at chosen places.

What is checked: the stored bytes and the metadata taken from the fields; `${filename}`; the 204 / 200 / 201 /
303 answers; the policy (expiration, eq, starts-with, content-length-range, extra fields); both signatures;
malformed policies and forms; the 64 KiB limit on the fields before the file; streaming of large files and of
bytes that look like a boundary; anonymous uploads under a bucket policy; a tenant user's rights; SSE fields
(501); quotas; and that a refused upload stores nothing and leaves nothing in <data-dir>/tmp.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import random
import socket
import time
import warnings
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    HttpConnection,
    admin_cli,
    assert_error_response,
    assert_no_new_files,
    flip_hex,
    get_body,
    leaked_temp_files,
    make_client,
    md5_b64,
    object_exists,
    parse_xml,
    purge_bucket,
    quoted_md5,
    random_bytes,
    s3_error,
    stored_files,
    temporary_bucket,
    unique_name,
    utcnow,
)

MiB = 1024 * 1024
PW = "P0st-Object-Passw0rd!"
SOSAPI_SYSTEM = ".system-d26a9498-cb7c-4a87-a44a-8ae204f5ba6c/system.xml"


# --------------------------------------------------------------------------
# Forms
# --------------------------------------------------------------------------


def presign(client, bucket: str, key: str, fields: dict | None = None, conditions: list | None = None,
            expires: int = 3600) -> tuple[str, dict]:
    """boto3's SigV4 form: (url, fields). Every field in `fields` gets an eq condition (boto3 adds none)."""
    fields = dict(fields or {})
    conds = [{k: v} for k, v in fields.items()] + list(conditions or [])
    p = client.generate_presigned_post(bucket, key, Fields=fields, Conditions=conds, ExpiresIn=expires)
    return p["url"], p["fields"]


def send_form(url: str, fields: dict, body: bytes = b"data", filename: str = "upload.bin",
              content_type: str | None = None, after: list | None = None, timeout: float = 120) -> requests.Response:
    """POST the fields in order, then the file part, then `after` ((name, value) pairs), as a browser does."""
    parts = [(k, (None, v)) for k, v in fields.items()]
    parts.append(("file", (filename, body) if content_type is None else (filename, body, content_type)))
    parts += [(k, (None, v)) for k, v in (after or [])]
    return requests.post(url, files=parts, allow_redirects=False, timeout=timeout)


def upload(client, bucket: str, key: str, body: bytes = b"data", fields: dict | None = None,
           conditions: list | None = None, **kw) -> requests.Response:
    url, f = presign(client, bucket, key, fields, conditions)
    return send_form(url, f, body, **kw)


def policy_b64(conditions: list, expiration: dt.datetime | None = None) -> str:
    expiration = expiration or utcnow() + dt.timedelta(hours=1)
    doc = {"expiration": expiration.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "conditions": conditions}
    return base64.b64encode(json.dumps(doc).encode()).decode()


def v4_signature(policy: str, date: str, secret: str = SECRET_KEY, region: str = REGION) -> str:
    key = ("AWS4" + secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()


def v2_signature(policy: str, secret: str = SECRET_KEY) -> str:
    return base64.b64encode(hmac.new(secret.encode(), policy.encode(), hashlib.sha1).digest()).decode()


def v4_form(bucket: str, key: str, *, policy: str | None = None, conditions: list = (), extra: dict | None = None,
            access_key: str = ACCESS_KEY, secret: str = SECRET_KEY) -> dict:
    """A SigV4 form signed by hand: with `policy` as given (base64, signed as is), or a policy for the bucket,
    the key, the SigV4 fields, `extra` (eq each) and `conditions`."""
    now = utcnow()
    date, amz_date = now.strftime("%Y%m%d"), now.strftime("%Y%m%dT%H%M%SZ")
    credential = f"{access_key}/{date}/{REGION}/s3/aws4_request"
    sig_fields = {"x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": credential, "x-amz-date": amz_date}
    extra = dict(extra or {})
    if policy is None:
        conds = [{"bucket": bucket}, {"key": key}] + [{k: v} for k, v in {**sig_fields, **extra}.items()]
        policy = policy_b64(conds + list(conditions))
    return {"key": key, **extra, **sig_fields, "policy": policy, "x-amz-signature": v4_signature(policy, date, secret)}


def v2_form(bucket: str, key: str, conditions: list = (), extra: dict | None = None, secret: str = SECRET_KEY) -> dict:
    extra = dict(extra or {})
    policy = policy_b64([{"bucket": bucket}, ["starts-with", "$key", ""]] + [{k: v} for k, v in extra.items()]
                        + list(conditions))
    return {"key": key, **extra, "AWSAccessKeyId": ACCESS_KEY, "policy": policy,
            "signature": v2_signature(policy, secret)}


def multipart(boundary: str, parts: list[tuple[str, bytes, str | None]], close: bool = True) -> bytes:
    """A multipart/form-data body: parts are (name, value, filename or None)."""
    out = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
    return out + (f"--{boundary}--\r\n".encode() if close else b"")


def field_parts(fields: dict) -> list[tuple[str, bytes, None]]:
    return [(k, v.encode(), None) for k, v in fields.items()]


def post_raw(url: str, body: bytes, content_type: str) -> requests.Response:
    return requests.post(url, data=body, headers={"Content-Type": content_type}, allow_redirects=False, timeout=60)


def error_message(resp: requests.Response) -> str:
    return parse_xml(resp.content).findtext("Message") or ""


def wait_no_temp_files(server, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while (leaked := leaked_temp_files(server.data_dir)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not leaked, f"temporary files left in {server.data_dir / 'tmp'}: {leaked[:20]}"


@pytest.fixture
def nothing_stored(server, s3):
    """`with nothing_stored(bucket, key): <refused upload>`: afterwards HEAD is 404, no new file remains in
    the data dir and <data-dir>/tmp is empty."""
    import contextlib

    @contextlib.contextmanager
    def check(bucket: str, key: str):
        before = stored_files(server)
        yield
        assert not object_exists(s3, bucket, key)
        assert_no_new_files(server, before)
        wait_no_temp_files(server)

    return check


# --------------------------------------------------------------------------
# Successful uploads
# --------------------------------------------------------------------------


def test_upload_stores_bytes_and_metadata_from_fields(s3, bucket):
    body = random_bytes(10_000)
    fields = {
        "Content-Type": "text/csv",
        "Cache-Control": "max-age=60",
        "Content-Disposition": 'attachment; filename="report.csv"',
        "Content-Encoding": "identity",
        "Content-Language": "de",
        "Expires": "Wed, 21 Oct 2099 07:28:00 GMT",
        "x-amz-meta-owner": "alice",
        "X-Amz-Meta-Project": "Apollo 11",
        "x-amz-storage-class": "STANDARD_IA",
    }
    r = upload(s3, bucket, "docs/report.csv", body, fields)
    assert r.status_code == 204, r.content
    assert r.content == b""
    head = s3.head_object(Bucket=bucket, Key="docs/report.csv")
    assert r.headers["ETag"] == head["ETag"] == quoted_md5(body)
    assert r.headers["Location"] == f"/{bucket}/docs/report.csv"
    assert "x-amz-version-id" not in r.headers  # a bucket that never had versioning
    assert get_body(s3, bucket, "docs/report.csv") == body
    assert head["ContentLength"] == len(body)
    assert head["ContentType"] == "text/csv"
    assert head["CacheControl"] == "max-age=60"
    assert head["ContentDisposition"] == 'attachment; filename="report.csv"'
    assert head["ContentEncoding"] == "identity"
    assert head["ContentLanguage"] == "de"
    assert head["ExpiresString"] == "Wed, 21 Oct 2099 07:28:00 GMT"
    assert head["Metadata"] == {"owner": "alice", "project": "Apollo 11"}
    assert head["StorageClass"] == "STANDARD_IA"


def test_default_content_type_and_empty_file(s3, bucket):
    r = upload(s3, bucket, "empty", b"")
    assert r.status_code == 204, r.content
    head = s3.head_object(Bucket=bucket, Key="empty")
    assert head["ContentLength"] == 0 and head["ContentType"] == "binary/octet-stream"
    assert r.headers["ETag"] == quoted_md5(b"")


def test_field_names_are_case_insensitive(s3, bucket):
    url, fields = presign(s3, bucket, "ci", conditions=[["eq", "$content-type", "text/plain"]])
    r = send_form(url, {**fields, "CONTENT-TYPE": "text/plain"}, b"x")
    assert r.status_code == 204, r.content
    assert s3.head_object(Bucket=bucket, Key="ci")["ContentType"] == "text/plain"


def test_filename_substitution(s3, bucket):
    r = upload(s3, bucket, "uploads/${filename}", b"photo", filename="holiday photo.jpg")
    assert r.status_code == 204, r.content
    assert get_body(s3, bucket, "uploads/holiday photo.jpg") == b"photo"
    assert r.headers["Location"] == f"/{bucket}/uploads/holiday%20photo.jpg"
    # The policy sees the key as sent: `${filename}` itself, before substitution.
    url, fields = presign(s3, bucket, "fixed/${filename}")  # boto3: ["starts-with", "$key", "fixed/"]
    r = send_form(url, fields, b"again", filename="other.txt")
    assert r.status_code == 204, r.content
    assert get_body(s3, bucket, "fixed/other.txt") == b"again"


@pytest.mark.parametrize("filename", ["dir/sub/name.txt", "/abs/path/name.txt", "../../name.txt"])
def test_filename_path_keeps_only_the_base_name(s3, bucket, filename):
    r = upload(s3, bucket, "in/${filename}", b"base", filename=filename)
    assert r.status_code == 204, r.content
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["in/name.txt"]


def delete_versions(s3, bucket: str) -> None:
    for v in s3.list_object_versions(Bucket=bucket).get("Versions", []):
        s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])


def test_versioned_bucket_returns_version_id(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    try:
        r1 = upload(s3, bucket, "v", b"one")
        r2 = upload(s3, bucket, "v", b"two")
        assert r1.status_code == r2.status_code == 204
        v1, v2 = r1.headers["x-amz-version-id"], r2.headers["x-amz-version-id"]
        assert v1 != v2
        assert s3.head_object(Bucket=bucket, Key="v")["VersionId"] == v2
        assert s3.get_object(Bucket=bucket, Key="v", VersionId=v1)["Body"].read() == b"one"
    finally:
        delete_versions(s3, bucket)


def test_tagging_field(s3, bucket):
    tagging = "<Tagging><TagSet><Tag><Key>team</Key><Value>a b</Value></Tag><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>"
    r = upload(s3, bucket, "tagged", b"x", {"tagging": tagging})
    assert r.status_code == 204, r.content
    assert s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"] == [
        {"Key": "team", "Value": "a b"}, {"Key": "k", "Value": "v"},
    ]


def test_malformed_tagging_field(s3, bucket, nothing_stored):
    with nothing_stored(bucket, "tagged"):
        r = upload(s3, bucket, "tagged", b"x", {"tagging": "<Tagging><TagSet>"})
        assert_error_response(r, 400, "MalformedXML")


@pytest.mark.parametrize(
    "fields, status, code",
    [
        ({"x-amz-storage-class": "FAST"}, 400, "InvalidStorageClass"),
        ({"x-amz-meta-big": "m" * 2100}, 400, "MetadataTooLarge"),
        ({"x-amz-website-redirect-location": "/elsewhere"}, 501, "NotImplemented"),
    ],
    ids=["storage-class", "metadata-too-large", "website-redirect"],
)
def test_fields_checked_like_putobject_headers(s3, bucket, nothing_stored, fields, status, code):
    with nothing_stored(bucket, "k"):
        assert_error_response(upload(s3, bucket, "k", b"x", fields), status, code)


def test_key_too_long(s3, bucket):
    r = upload(s3, bucket, "k" * 1025, b"x")
    fields = assert_error_response(r, 400, "KeyTooLongError")
    assert fields["Size"] == "1025"


def test_post_to_an_object_path_is_not_post_object(s3, bucket):
    url, fields = presign(s3, bucket, "k")
    r = send_form(url + "/k", fields, b"x")
    assert_error_response(r, 405, "MethodNotAllowed")


def test_missing_bucket(s3):
    name = unique_name("nob")
    url, fields = presign(s3, name, "k")
    assert_error_response(send_form(url, fields, b"x"), 404, "NoSuchBucket")


# --------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [None, "204", "203", "abc"])
def test_default_answer_is_204(s3, bucket, status):
    r = upload(s3, bucket, "k", b"x", {"success_action_status": status} if status else None)
    assert r.status_code == 204, r.content
    assert r.content == b""
    assert r.headers["ETag"] == quoted_md5(b"x")


def test_success_action_status_200(s3, bucket):
    r = upload(s3, bucket, "k", b"two hundred", {"success_action_status": "200"})
    assert r.status_code == 200, r.content
    assert r.content == b"" and r.headers["Content-Length"] == "0"
    assert r.headers["ETag"] == s3.head_object(Bucket=bucket, Key="k")["ETag"] == quoted_md5(b"two hundred")
    assert r.headers["Location"] == f"/{bucket}/k"


def test_success_action_status_201_returns_post_response(s3, bucket):
    key = "dir/a b&c+d.txt"
    r = upload(s3, bucket, key, b"created", {"success_action_status": "201"})
    assert r.status_code == 201, r.content
    assert r.headers["Content-Type"] == "application/xml"
    root = parse_xml(r.content)
    assert root.tag == "PostResponse"
    doc = {child.tag: child.text for child in root}
    etag = s3.head_object(Bucket=bucket, Key=key)["ETag"]
    assert doc == {
        "Location": f"/{bucket}/dir/a%20b%26c%2Bd.txt", "Bucket": bucket, "Key": key, "ETag": etag,
    }
    assert r.headers["ETag"] == etag == quoted_md5(b"created")
    assert r.headers["Location"] == doc["Location"]


def test_success_action_redirect(s3, bucket):
    key = "photos/me & you.jpg"
    redirect = "https://app.example.com/done?session=42"
    r = upload(s3, bucket, key, b"jpeg", {"success_action_redirect": redirect, "success_action_status": "201"})
    assert r.status_code == 303, r.content  # the redirect wins over the status
    assert r.content == b""
    location = urlsplit(r.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "app.example.com", "/done")
    etag = s3.head_object(Bucket=bucket, Key=key)["ETag"]
    assert parse_qs(location.query) == {"session": ["42"], "bucket": [bucket], "key": [key], "etag": [etag]}
    assert r.headers["ETag"] == etag


def test_legacy_redirect_field(s3, bucket):
    r = upload(s3, bucket, "k", b"x", {"redirect": "http://example.com/ok"})
    assert r.status_code == 303, r.content
    query = parse_qs(urlsplit(r.headers["Location"]).query)
    assert query == {"bucket": [bucket], "key": ["k"], "etag": [quoted_md5(b"x")]}


def test_redirect_query_encodes_plus(s3, bucket):
    r = upload(s3, bucket, "a+b.txt", b"x", {"success_action_redirect": "https://app.example.com/done"})
    assert r.status_code == 303, r.content
    assert parse_qs(urlsplit(r.headers["Location"]).query)["key"] == ["a+b.txt"]


def test_redirect_that_is_not_a_url_is_ignored(s3, bucket):
    r = upload(s3, bucket, "k", b"x", {"success_action_redirect": "not a url", "success_action_status": "200"})
    assert r.status_code == 200, r.content
    assert r.headers["Location"] == f"/{bucket}/k"


# --------------------------------------------------------------------------
# content-length-range
# --------------------------------------------------------------------------


def test_content_length_range_bounds_are_inclusive(s3, bucket):
    for size in (10, 20):
        r = upload(s3, bucket, f"k{size}", b"r" * size, conditions=[["content-length-range", 10, 20]])
        assert r.status_code == 204, r.content
        assert s3.head_object(Bucket=bucket, Key=f"k{size}")["ContentLength"] == size


def test_content_length_range_too_large(s3, bucket, nothing_stored):
    with nothing_stored(bucket, "big"):
        r = upload(s3, bucket, "big", b"b" * 101, conditions=[["content-length-range", 0, 100]])
        fields = assert_error_response(r, 400, "EntityTooLarge")
        assert fields["MaxSizeAllowed"] == "100"


def test_content_length_range_too_large_while_streaming(s3, bucket, nothing_stored):
    """A file far over the range is refused as it arrives (ProposedSize: what was read by then)."""
    with nothing_stored(bucket, "big"):
        r = upload(s3, bucket, "big", random_bytes(2 * MiB), conditions=[["content-length-range", 0, 64 * 1024]])
        fields = assert_error_response(r, 400, "EntityTooLarge")
        assert fields["MaxSizeAllowed"] == str(64 * 1024)
        assert 64 * 1024 < int(fields["ProposedSize"]) <= 2 * MiB


@pytest.mark.parametrize("size", [0, 99])
def test_content_length_range_too_small(s3, bucket, nothing_stored, size):
    with nothing_stored(bucket, "small"):
        r = upload(s3, bucket, "small", b"s" * size, conditions=[["content-length-range", 100, 1000]])
        fields = assert_error_response(r, 400, "EntityTooSmall")
        assert (fields["ProposedSize"], fields["MinSizeAllowed"]) == (str(size), "100")


def test_too_large_does_not_replace_the_existing_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"original")
    r = upload(s3, bucket, "keep", b"x" * 50, conditions=[["content-length-range", 0, 10]])
    assert_error_response(r, 400, "EntityTooLarge")
    assert get_body(s3, bucket, "keep") == b"original"


# --------------------------------------------------------------------------
# Policy conditions
# --------------------------------------------------------------------------


def test_extra_field_not_in_policy(s3, bucket, nothing_stored):
    url, fields = presign(s3, bucket, "k")
    with nothing_stored(bucket, "k"):
        r = send_form(url, {**fields, "x-amz-meta-sneaky": "1", "Content-Type": "text/html"}, b"x")
        assert_error_response(r, 403, "AccessDenied")
        assert error_message(r) == "Invalid according to Policy: Extra input fields: content-type, x-amz-meta-sneaky"


def test_x_ignore_fields_need_no_condition(s3, bucket):
    url, fields = presign(s3, bucket, "k")
    r = send_form(url, {**fields, "x-ignore-submit": "Upload", "X-Ignore-Other": "1"}, b"x")
    assert r.status_code == 204, r.content
    assert s3.head_object(Bucket=bucket, Key="k")["Metadata"] == {}


def test_eq_condition_failure(s3, bucket, nothing_stored):
    url, fields = presign(s3, bucket, "k", conditions=[{"x-amz-meta-color": "blue"}])
    with nothing_stored(bucket, "k"):
        r = send_form(url, {**fields, "x-amz-meta-color": "red"}, b"x")
        assert_error_response(r, 403, "AccessDenied")
        assert error_message(r) == 'Invalid according to Policy: Policy Condition failed: ["eq", "$x-amz-meta-color", "blue"]'
    # A field the condition names must be present (it compares as empty).
    r = send_form(url, fields, b"x")
    assert_error_response(r, 403, "AccessDenied")
    assert "Policy Condition failed" in error_message(r)


def test_key_condition_failure(s3, bucket, nothing_stored):
    url, fields = presign(s3, bucket, "exact-key")  # {"key": "exact-key"}
    with nothing_stored(bucket, "other-key"):
        r = send_form(url, {**fields, "key": "other-key"}, b"x")
        assert_error_response(r, 403, "AccessDenied")
        assert error_message(r) == 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "exact-key"]'


def test_starts_with_conditions(s3, bucket, nothing_stored):
    url, fields = presign(s3, bucket, "user/alice/${filename}",
                          conditions=[["starts-with", "$Content-Type", "image/"], ["starts-with", "$x-amz-meta-tag", ""]])
    ok = {**fields, "Content-Type": "image/png", "x-amz-meta-tag": "anything"}
    r = send_form(url, ok, b"png", filename="a.png")
    assert r.status_code == 204, r.content
    assert s3.head_object(Bucket=bucket, Key="user/alice/a.png")["ContentType"] == "image/png"
    with nothing_stored(bucket, "user/bob/b.png"):
        r = send_form(url, {**ok, "key": "user/bob/${filename}"}, b"png", filename="b.png")
        assert_error_response(r, 403, "AccessDenied")
        assert error_message(r) == 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/alice/"]'
    with nothing_stored(bucket, "user/alice/c.html"):
        r = send_form(url, {**ok, "Content-Type": "text/html"}, b"html", filename="c.html")
        assert_error_response(r, 403, "AccessDenied")
        assert error_message(r) == 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$content-type", "image/"]'
    # Content-Type may list several types: each must match.
    with nothing_stored(bucket, "user/alice/d.png"):
        r = send_form(url, {**ok, "Content-Type": "image/png, text/html"}, b"x", filename="d.png")
        assert_error_response(r, 403, "AccessDenied")


def test_form_posted_to_another_bucket(s3, bucket, bucket2, nothing_stored):
    url, fields = presign(s3, bucket, "k")
    with nothing_stored(bucket2, "k"):
        r = send_form(url.rsplit("/", 1)[0] + "/" + bucket2, fields, b"x")
        assert_error_response(r, 403, "AccessDenied")
        assert error_message(r) == f'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "{bucket}"]'


def test_expired_policy(s3, bucket, nothing_stored):
    url, fields = presign(s3, bucket, "k", expires=-60)
    with nothing_stored(bucket, "k"):
        r = send_form(url, fields, b"x")
        assert_error_response(r, 403, "AccessDenied")
        assert error_message(r) == "Invalid according to Policy: Policy expired."


def test_sigv4_fields_must_be_in_the_policy(server, bucket, nothing_stored):
    now = utcnow()
    date = now.strftime("%Y%m%d")
    policy = policy_b64([{"bucket": bucket}, {"key": "k"}])
    form = {"key": "k", "x-amz-algorithm": "AWS4-HMAC-SHA256",
            "x-amz-credential": f"{ACCESS_KEY}/{date}/{REGION}/s3/aws4_request",
            "x-amz-date": now.strftime("%Y%m%dT%H%M%SZ"), "policy": policy, "x-amz-signature": v4_signature(policy, date)}
    with nothing_stored(bucket, "k"):
        r = send_form(f"{server.endpoint}/{bucket}", form, b"x")
        assert_error_response(r, 403, "AccessDenied")
        assert error_message(r) == (
            "Invalid according to Policy: Extra input fields: x-amz-algorithm, x-amz-credential, x-amz-date"
        )


@pytest.mark.parametrize(
    "document, message",
    [
        (b"!!! not base64 !!!", "Invalid Policy: Invalid Base64."),
        (base64.b64encode(b"{not json"), "Invalid Policy: Invalid JSON."),
        (base64.b64encode(b'{"conditions": []}'), "Invalid Policy: Policy missing expiration."),
        (base64.b64encode(b'{"expiration": "tomorrow", "conditions": []}'),
         "Invalid Policy: Invalid 'expiration' value: 'tomorrow'"),
        (base64.b64encode(b'{"expiration": "2100-01-01T00:00:00Z"}'), "Invalid Policy: Policy missing conditions."),
        (base64.b64encode(b'{"expiration": "2100-01-01T00:00:00Z", "conditions": [["like", "$key", "a"]]}'),
         "Invalid Policy: Invalid condition operator: like"),
        (base64.b64encode(b'{"expiration": "2100-01-01T00:00:00Z", "conditions": [["content-length-range", 10, 5]]}'),
         "Invalid Policy: Invalid content-length-range condition."),
        (base64.b64encode(b'{"expiration": "2100-01-01T00:00:00Z", "conditions": [["eq", "key", "a"]]}'),
         "Invalid Policy: Invalid eq condition."),
        (base64.b64encode(b'{"expiration": "2100-01-01T00:00:00Z", "conditions": [{"a": "1", "b": "2"}]}'),
         "Invalid Policy: Invalid simple condition: an object holds exactly one field."),
    ],
    ids=["not-base64", "not-json", "no-expiration", "bad-expiration", "no-conditions", "bad-operator",
         "bad-range", "eq-without-dollar", "two-fields-in-one-object"],
)
def test_malformed_policy(server, bucket, nothing_stored, document, message):
    form = v4_form(bucket, "k", policy=document.decode())  # validly signed, so the document itself is judged
    with nothing_stored(bucket, "k"):
        r = send_form(f"{server.endpoint}/{bucket}", form, b"x")
        assert_error_response(r, 400, "InvalidPolicyDocument")
        assert error_message(r) == message


# --------------------------------------------------------------------------
# Signatures
# --------------------------------------------------------------------------


def test_hand_signed_sigv4_form(server, s3, bucket):
    form = v4_form(bucket, "hand/signed", extra={"Content-Type": "text/plain"})
    r = send_form(f"{server.endpoint}/{bucket}", form, b"by hand")
    assert r.status_code == 204, r.content
    assert get_body(s3, bucket, "hand/signed") == b"by hand"


def test_tampered_signature(s3, bucket, nothing_stored):
    url, fields = presign(s3, bucket, "k")
    with nothing_stored(bucket, "k"):
        r = send_form(url, {**fields, "x-amz-signature": flip_hex(fields["x-amz-signature"])}, b"x")
        body = assert_error_response(r, 403, "SignatureDoesNotMatch")
        assert body["AWSAccessKeyId"] == ACCESS_KEY


def test_policy_changed_after_signing(s3, bucket, nothing_stored):
    url, fields = presign(s3, bucket, "k", conditions=[["content-length-range", 0, 10]])
    doc = json.loads(base64.b64decode(fields["policy"]))
    doc["conditions"] = [c for c in doc["conditions"] if not (isinstance(c, list) and c[0] == "content-length-range")]
    forged = base64.b64encode(json.dumps(doc).encode()).decode()
    with nothing_stored(bucket, "k"):
        assert_error_response(send_form(url, {**fields, "policy": forged}, b"x" * 100), 403, "SignatureDoesNotMatch")


def test_wrong_secret(server, bucket, nothing_stored):
    client = make_client(server.endpoint, ACCESS_KEY, "W" * 40)
    url, fields = presign(client, bucket, "k")
    with nothing_stored(bucket, "k"):
        assert_error_response(send_form(url, fields, b"x"), 403, "SignatureDoesNotMatch")


def test_unknown_access_key(server, bucket, nothing_stored):
    client = make_client(server.endpoint, "AKIANOSUCHKEY0000000", "x" * 40)
    url, fields = presign(client, bucket, "k")
    with nothing_stored(bucket, "k"):
        body = assert_error_response(send_form(url, fields, b"x"), 403, "InvalidAccessKeyId")
        assert body["AWSAccessKeyId"] == "AKIANOSUCHKEY0000000"


def test_credential_for_another_region(server, bucket):
    client = make_client(server.endpoint, region="eu-west-1")
    url, fields = presign(client, bucket, "k")
    r = send_form(url, fields, b"x")
    assert_error_response(r, 400, "InvalidArgument")
    assert "the region 'eu-west-1' is wrong; expecting 'us-east-1'" in error_message(r)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"x-amz-algorithm": "AWS4-HMAC-SHA1"}, "Only the AWS4-HMAC-SHA256 algorithm is supported for x-amz-algorithm."),
        ({"x-amz-credential": None}, "Bucket POST must contain a field named 'x-amz-credential'."),
        ({"x-amz-date": None}, "Bucket POST must contain a field named 'x-amz-date'."),
        ({"policy": None}, "Bucket POST must contain a field named 'policy'."),
        ({"x-amz-credential": f"{ACCESS_KEY}/20260101/{REGION}/ec2/aws4_request"},
         'The credential is malformed; incorrect service "ec2". This endpoint belongs to "s3".'),
    ],
    ids=["algorithm", "no-credential", "no-date", "no-policy", "credential-service"],
)
def test_incomplete_sigv4_form(s3, bucket, change, message):
    url, fields = presign(s3, bucket, "k")
    form = {k: v for k, v in {**fields, **change}.items() if v is not None}
    r = send_form(url, form, b"x")
    assert_error_response(r, 400, "InvalidArgument")
    assert error_message(r) == message


def test_sigv2_form(server, s3, bucket):
    form = v2_form(bucket, "v2/${filename}", extra={"Content-Type": "text/plain", "success_action_status": "201"})
    r = send_form(f"{server.endpoint}/{bucket}", form, b"signed with v2", filename="note.txt")
    assert r.status_code == 201, r.content
    assert parse_xml(r.content).findtext("Key") == "v2/note.txt"
    head = s3.head_object(Bucket=bucket, Key="v2/note.txt")
    assert head["ContentType"] == "text/plain" and head["ETag"] == quoted_md5(b"signed with v2")
    assert get_body(s3, bucket, "v2/note.txt") == b"signed with v2"


def test_sigv2_form_errors(server, bucket, nothing_stored):
    url = f"{server.endpoint}/{bucket}"
    with nothing_stored(bucket, "k"):
        r = send_form(url, v2_form(bucket, "k", secret="W" * 40), b"x")
        assert assert_error_response(r, 403, "SignatureDoesNotMatch")["AWSAccessKeyId"] == ACCESS_KEY
        form = v2_form(bucket, "k")
        del form["AWSAccessKeyId"]
        r = send_form(url, form, b"x")
        assert_error_response(r, 400, "InvalidArgument")
        assert error_message(r) == "Bucket POST must contain a field named 'AWSAccessKeyId'."
        form = v2_form(bucket, "k", conditions=[["content-length-range", 0, 1]])
        assert_error_response(send_form(url, form, b"xx"), 400, "EntityTooLarge")
        form = v2_form(bucket, "k", extra={"x-amz-meta-a": "1"})
        r = send_form(url, {**form, "x-amz-meta-b": "2"}, b"x")
        assert_error_response(r, 403, "AccessDenied")
        assert error_message(r) == "Invalid according to Policy: Extra input fields: x-amz-meta-b"


# --------------------------------------------------------------------------
# Form structure
# --------------------------------------------------------------------------


def test_missing_key_field(s3, bucket):
    url, fields = presign(s3, bucket, "k")
    r = send_form(url, {k: v for k, v in fields.items() if k != "key"}, b"x")
    body = assert_error_response(r, 400, "InvalidArgument")
    assert body["ArgumentName"] == "key"


def test_missing_file(s3, bucket):
    url, fields = presign(s3, bucket, "k")
    r = requests.post(url, files=[(k, (None, v)) for k, v in fields.items()], timeout=30)
    body = assert_error_response(r, 400, "InvalidArgument")
    assert (body["ArgumentName"], body["ArgumentValue"]) == ("file", "0")
    assert error_message(r) == "POST requires exactly one file upload per request."


def test_fields_after_the_file_are_ignored(s3, bucket):
    url, fields = presign(s3, bucket, "k", conditions=[["starts-with", "$x-amz-meta-late", ""],
                                                        ["starts-with", "$Content-Type", ""]])
    after = [("x-amz-meta-late", "v"), ("Content-Type", "text/html"), ("file", "second file"), ("x-amz-meta-x", "y")]
    r = send_form(url, fields, b"first", after=after)
    assert r.status_code == 204, r.content
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["Metadata"] == {} and head["ContentType"] == "binary/octet-stream"
    assert get_body(s3, bucket, "k") == b"first"


def test_key_after_the_file_does_not_count(s3, bucket):
    url, fields = presign(s3, bucket, "k")
    r = send_form(url, {k: v for k, v in fields.items() if k != "key"}, b"x", after=[("key", "k")])
    assert_error_response(r, 400, "InvalidArgument")
    assert not object_exists(s3, bucket, "k")


def test_signature_after_the_file_leaves_the_form_anonymous(s3, bucket):
    url, fields = presign(s3, bucket, "k")
    before = {k: v for k, v in fields.items() if k != "x-amz-signature"}
    r = send_form(url, before, b"x", after=[("x-amz-signature", fields["x-amz-signature"])])
    assert_error_response(r, 403, "AccessDenied")
    assert not object_exists(s3, bucket, "k")


@pytest.mark.parametrize(
    "content_type", [None, "application/x-www-form-urlencoded", "multipart/mixed; boundary=xyz", "multipart/form-data"],
    ids=["none", "urlencoded", "multipart-mixed", "no-boundary"],
)
def test_body_that_is_not_multipart_form_data(s3, bucket, content_type):
    url, fields = presign(s3, bucket, "k")
    body = multipart("xyz", field_parts(fields) + [("file", b"x", "a")])
    headers = {"Content-Type": content_type} if content_type else {}
    r = requests.post(url, data=body, headers=headers, timeout=30)
    body = assert_error_response(r, 412, "PreconditionFailed")
    assert body["Condition"] == "Bucket POST must be of the enclosure-type multipart/form-data"
    assert not object_exists(s3, bucket, "k")


def test_malformed_multipart(s3, bucket):
    url, fields = presign(s3, bucket, "k")
    ct = "multipart/form-data; boundary=xyz"
    assert_error_response(post_raw(url, b"no boundary anywhere", ct), 400, "MalformedPOSTRequest")
    no_disposition = b"--xyz\r\nX-Other: 1\r\n\r\nvalue\r\n--xyz--\r\n"
    assert_error_response(post_raw(url, no_disposition, ct), 400, "MalformedPOSTRequest")
    # A quoted boundary parameter is understood.
    body = multipart("ab:cd ef", field_parts(fields) + [("file", b"quoted", "a")])
    r = post_raw(url, body, 'multipart/form-data; charset=utf-8; boundary="ab:cd ef"')
    assert r.status_code == 204, r.content
    assert get_body(s3, bucket, "k") == b"quoted"


def test_body_ending_inside_the_file(s3, bucket, nothing_stored):
    url, fields = presign(s3, bucket, "cut")
    body = multipart("xyz", field_parts(fields), close=False)
    body += b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n' + b"x" * 5000
    with nothing_stored(bucket, "cut"):
        r = post_raw(url, body, "multipart/form-data; boundary=xyz")
        assert_error_response(r, 400, "IncompleteBody")


def test_fields_before_the_file_are_limited_to_64_kib(s3, bucket, nothing_stored):
    url, fields = presign(s3, bucket, "k")
    r = send_form(url, {**fields, "x-ignore-padding": "p" * 60_000}, b"fits")
    assert r.status_code == 204, r.content
    with nothing_stored(bucket, "k2"):
        url, fields = presign(s3, bucket, "k2")
        r = send_form(url, {**fields, "x-ignore-padding": "p" * (64 * 1024)}, b"too much")
        assert_error_response(r, 400, "MaxPostPreDataLengthExceeded")
        # The limit is on the fields together.
        r = send_form(url, {**fields, "x-ignore-a": "a" * 40_000, "x-ignore-b": "b" * 40_000}, b"too much")
        assert_error_response(r, 400, "MaxPostPreDataLengthExceeded")


# --------------------------------------------------------------------------
# Streaming
# --------------------------------------------------------------------------


def test_five_mib_file(s3, bucket):
    body = random_bytes(5 * MiB + 123)
    r = upload(s3, bucket, "big.bin", body, conditions=[["content-length-range", 0, 6 * MiB]])
    assert r.status_code == 204, r.content
    assert r.headers["ETag"] == quoted_md5(body)
    assert get_body(s3, bucket, "big.bin") == body


def test_binary_file_with_crlfs_and_dashes(s3, bucket):
    body = b"\r\n" * 1000 + b"--\r\n--\r\n\r\n--" + bytes(range(256)) * 64 + b"\r\n--\r\n" + b"\x00\r\n\r\n--"
    r = upload(s3, bucket, "crlf.bin", body)
    assert r.status_code == 204, r.content
    assert get_body(s3, bucket, "crlf.bin") == body


def send_raw_pieces(server, bucket: str, body: bytes, content_type: str, pieces, headers=None):
    """Send the request over a socket, the body in pieces of the sizes `pieces` yields (Nagle off, so most
    arrive as separate reads); returns the HttpResponse."""
    with HttpConnection(server.s3_port, timeout=60) as conn:
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.send_head("POST", f"/{bucket}", {"Host": server.host, "Content-Type": content_type,
                                              "Content-Length": str(len(body)), **(headers or {})})
        pos = 0
        for n in pieces:
            if pos >= len(body):
                break
            conn.send(body[pos:pos + n])
            pos += n
        if pos < len(body):
            conn.send(body[pos:])
        return conn.read_response()


def test_partial_boundaries_split_across_reads(server, s3, bucket):
    """The file holds prefixes of the delimiter (CRLF--boundary) at many places, including across the 64 KiB
    point where the reader hands a chunk on and at the very end; the body arrives in small, odd pieces."""
    url, fields = presign(s3, bucket, "split.bin")
    boundary = "MaxIOFSboundary" + os.urandom(6).hex()
    delim = b"\r\n--" + boundary.encode()
    data = bytearray(random_bytes(300_000))
    rng = random.Random(7)

    def plant(offset: int, k: int) -> None:  # k bytes of the delimiter, then a byte that breaks it off
        data[offset:offset + k + 1] = delim[:k] + bytes([delim[k] ^ 0xFF])

    for offset in [0, 1, 4095, 65_500, 65_536, 65_536 + len(delim) + 1, 131_070, 200_000]:
        plant(offset, rng.randrange(1, len(delim)))
    for offset in range(250_000, 299_000, 997):
        plant(offset, len(delim) - 1)
    data = bytes(data) + delim[:-1]  # ends with all but the last byte of the delimiter
    assert delim not in data
    body = multipart(boundary, field_parts(fields) + [("file", data, "split.bin")])
    sizes = [1, 2, 3, 5, 7, len(delim) // 2, len(delim) - 1, 100, 4096, 65_536]
    rng2 = random.Random(11)
    resp = send_raw_pieces(server, bucket, body, f"multipart/form-data; boundary={boundary}",
                           (rng2.choice(sizes) for _ in range(1_000_000)))
    assert resp.status == 204, resp.body
    assert resp.headers["etag"] == quoted_md5(data)
    assert get_body(s3, bucket, "split.bin") == data


def test_connection_is_reused_after_trailing_fields(server, s3, bucket):
    """The rest of the body after the file is read and dropped: the next request on the connection works."""
    url, fields = presign(s3, bucket, "k")
    body = multipart("bnd", field_parts(fields) + [("file", b"DATA", "a")] + [("x-ignore", b"t" * 100, None)] * 500)
    with HttpConnection(server.s3_port) as conn:
        conn.send_head("POST", f"/{bucket}", {"Host": server.host, "Content-Type": "multipart/form-data; boundary=bnd",
                                              "Content-Length": str(len(body))})
        conn.send(body)
        first = conn.read_response()
        assert first.status == 204, first.body
        conn.send_head("HEAD", f"/{bucket}/k", {"Host": server.host})
        second = conn.read_response("HEAD")
        assert second.status == 403  # anonymous HEAD, answered as a request of its own
    assert get_body(s3, bucket, "k") == b"DATA"


def test_expect_100_continue(server, s3, bucket):
    url, fields = presign(s3, bucket, "k")
    body = multipart("bnd", field_parts(fields) + [("file", b"after continue", "a")])
    with HttpConnection(server.s3_port) as conn:
        conn.send_head("POST", f"/{bucket}", {"Host": server.host, "Content-Type": "multipart/form-data; boundary=bnd",
                                              "Content-Length": str(len(body)), "Expect": "100-continue"})
        status, _, _ = conn.read_head()
        assert status == 100
        conn.send(body)
        resp = conn.read_response()
    assert resp.status == 204, resp.body
    assert get_body(s3, bucket, "k") == b"after continue"


# --------------------------------------------------------------------------
# Authorization
# --------------------------------------------------------------------------


def test_anonymous_form_needs_a_bucket_policy(server, s3, bucket, nothing_stored):
    url = f"{server.endpoint}/{bucket}"
    with nothing_stored(bucket, "public/a.txt"):
        assert_error_response(send_form(url, {"key": "public/${filename}"}, b"anon", filename="a.txt"), 403, "AccessDenied")
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/public/*",
    }]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    r = send_form(url, {"key": "public/${filename}", "Content-Type": "text/plain"}, b"anon", filename="a.txt")
    assert r.status_code == 204, r.content
    assert get_body(s3, bucket, "public/a.txt") == b"anon"
    assert s3.head_object(Bucket=bucket, Key="public/a.txt")["ContentType"] == "text/plain"
    with nothing_stored(bucket, "private/a.txt"):  # outside the policy's resource
        assert_error_response(send_form(url, {"key": "private/a.txt"}, b"anon"), 403, "AccessDenied")


def test_anonymous_form_to_a_missing_bucket(server):
    r = send_form(f"{server.endpoint}/{unique_name('nob')}", {"key": "k"}, b"x")
    assert_error_response(r, 404, "NoSuchBucket")


@pytest.fixture(scope="module")
def tenant_user(server):
    """A tenant with one user (role user) and its key: (tenant name, user name, client, key)."""
    tenant = admin_cli(server, "tenant", "create", unique_name("pt"))["name"]
    user = unique_name("pu")
    admin_cli(server, "user", "create", user, "--password", PW, "--tenant", tenant, "--role", "user")
    key = admin_cli(server, "key", "create", "--user", user)
    client = make_client(server.endpoint, key["access_key_id"], key["secret_access_key"],
                         retries={"total_max_attempts": 1})
    return tenant, user, client, key


def test_tenant_user_needs_write_access(server, s3, bucket, tenant_user, nothing_stored):
    _, user, client, key = tenant_user
    url, fields = presign(client, bucket, "k")  # `bucket` belongs to the global admin
    with nothing_stored(bucket, "k"):
        assert_error_response(send_form(url, fields, b"x"), 403, "AccessDenied")
        admin_cli(server, "bucket-permission", "grant", bucket, "--user", user, "--level", "read")
        assert_error_response(send_form(url, fields, b"x"), 403, "AccessDenied")
    admin_cli(server, "bucket-permission", "grant", bucket, "--user", user, "--level", "write")
    r = send_form(url, fields, b"granted")
    assert r.status_code == 204, r.content
    assert get_body(s3, bucket, "k") == b"granted"
    # SigV2 with the same user's key.
    policy = policy_b64([{"bucket": bucket}, {"key": "v2"}])
    form = {"key": "v2", "AWSAccessKeyId": key["access_key_id"], "policy": policy,
            "signature": v2_signature(policy, key["secret_access_key"])}
    r = send_form(f"{server.endpoint}/{bucket}", form, b"v2 granted")
    assert r.status_code == 204, r.content


def test_disabled_key_and_disabled_user(server, s3, bucket, tenant_user, nothing_stored):
    tenant = tenant_user[0]
    name = unique_name("pd")
    admin_cli(server, "user", "create", name, "--password", PW, "--tenant", tenant, "--role", "user")
    key = admin_cli(server, "key", "create", "--user", name)
    admin_cli(server, "bucket-permission", "grant", bucket, "--user", name, "--level", "write")
    client = make_client(server.endpoint, key["access_key_id"], key["secret_access_key"])
    assert upload(client, bucket, "ok", b"x").status_code == 204
    with nothing_stored(bucket, "k"):
        admin_cli(server, "user", "update", name, "--status", "disabled")
        r = upload(client, bucket, "k", b"x")
        assert_error_response(r, 403, "AccessDenied")
        assert error_message(r) == "The user of this access key is disabled."
        admin_cli(server, "user", "update", name, "--status", "active")
        admin_cli(server, "key", "disable", key["access_key_id"])
        assert_error_response(upload(client, bucket, "k", b"x"), 403, "InvalidAccessKeyId")


@pytest.fixture
def tenant_bucket(s3, tenant_user):
    _, _, client, _ = tenant_user
    name = unique_name("ptb")
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        purge_bucket(s3, name)


def test_tenant_user_own_bucket(s3, tenant_user, tenant_bucket):
    _, _, client, _ = tenant_user
    r = upload(client, tenant_bucket, "mine", b"own bucket")
    assert r.status_code == 204, r.content
    assert get_body(client, tenant_bucket, "mine") == b"own bucket"


def test_bucket_object_quota(server, tenant_user, tenant_bucket, nothing_stored):
    _, _, client, _ = tenant_user
    admin_cli(server, "bucket-quota", "set", tenant_bucket, "--max-objects", "1")
    assert upload(client, tenant_bucket, "one", b"1").status_code == 204
    with nothing_stored(tenant_bucket, "two"):
        r = upload(client, tenant_bucket, "two", b"2")
        assert_error_response(r, 403, "QuotaExceeded")
    r = upload(client, tenant_bucket, "one", b"replaced")  # an overwrite adds no object
    assert r.status_code == 204, r.content


def test_bucket_byte_quota(server, tenant_user, tenant_bucket, nothing_stored):
    _, _, client, _ = tenant_user
    admin_cli(server, "bucket-quota", "set", tenant_bucket, "--max-bytes", "10000")
    r = upload(client, tenant_bucket, "a", b"a" * 6000, conditions=[["content-length-range", 0, 6000]])
    assert r.status_code == 204, r.content
    with nothing_stored(tenant_bucket, "b"):
        r = upload(client, tenant_bucket, "b", b"b" * 5000, conditions=[["content-length-range", 0, 5000]])
        assert_error_response(r, 403, "QuotaExceeded")
    shown = admin_cli(server, "bucket-quota", "show", tenant_bucket)
    assert (shown["used_bytes"], shown["object_count"]) == (6000, 1), shown  # the file's bytes, not the form's


def test_tenant_storage_quota(server, tenant_user, tenant_bucket, nothing_stored):
    tenant, _, client, _ = tenant_user
    admin_cli(server, "tenant", "update", tenant, "--max-storage-bytes", "4000")
    try:
        with nothing_stored(tenant_bucket, "big"):
            r = upload(client, tenant_bucket, "big", b"b" * 5000, conditions=[["content-length-range", 0, 5000]])
            assert_error_response(r, 403, "QuotaExceeded")
        r = upload(client, tenant_bucket, "small", b"s" * 100, conditions=[["content-length-range", 0, 100]])
        assert r.status_code == 204, r.content
    finally:
        admin_cli(server, "tenant", "update", tenant, "--max-storage-bytes", "0")


def test_quota_counts_the_file_not_the_form(server, tenant_user, tenant_bucket):
    _, _, client, _ = tenant_user
    admin_cli(server, "bucket-quota", "set", tenant_bucket, "--max-bytes", "1000")
    r = upload(client, tenant_bucket, "fits", b"f" * 900)  # ~1.5 KiB of SigV4 fields around it
    assert r.status_code == 204, r.content


# --------------------------------------------------------------------------
# ACLs, Object Lock, SSE
# --------------------------------------------------------------------------


def test_x_amz_acl_field(s3, nothing_stored):
    with temporary_bucket(s3, "pacl") as enforced:
        with nothing_stored(enforced, "k"):
            r = upload(s3, enforced, "k", b"x", {"x-amz-acl": "public-read"})
            assert_error_response(r, 400, "AccessControlListNotSupported")
    name = unique_name("pacl")
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    try:
        r = upload(s3, name, "k", b"x", {"x-amz-acl": "public-read"})
        assert r.status_code == 204, r.content
        grants = s3.get_object_acl(Bucket=name, Key="k")["Grants"]
        assert {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                "Permission": "READ"} in grants
    finally:
        purge_bucket(s3, name)


def test_acl_field(s3, nothing_stored):
    name = unique_name("pacl")
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    try:
        r = upload(s3, name, "k", b"x", {"acl": "public-read"})
        assert r.status_code == 204, r.content
        grants = s3.get_object_acl(Bucket=name, Key="k")["Grants"]
        assert {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                "Permission": "READ"} in grants
    finally:
        purge_bucket(s3, name)


def test_object_lock_fields(s3, nothing_stored):
    with temporary_bucket(s3, "plock") as plain:
        with nothing_stored(plain, "k"):
            r = upload(s3, plain, "k", b"x", {"x-amz-object-lock-legal-hold": "ON"})
            assert_error_response(r, 400, "InvalidRequest")
            assert error_message(r) == "Bucket is missing Object Lock Configuration"
    name = unique_name("plock")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    try:
        r = upload(s3, name, "held", b"x", {"x-amz-object-lock-legal-hold": "ON"})
        assert r.status_code == 204, r.content
        assert s3.get_object_legal_hold(Bucket=name, Key="held")["LegalHold"]["Status"] == "ON"
        r = upload(s3, name, "kept", b"x", {"x-amz-object-lock-mode": "GOVERNANCE",
                                             "x-amz-object-lock-retain-until-date": "2099-01-01T00:00:00Z"})
        assert r.status_code == 204, r.content
        retention = s3.get_object_retention(Bucket=name, Key="kept")["Retention"]
        assert retention["Mode"] == "GOVERNANCE" and retention["RetainUntilDate"].year == 2099
        r = upload(s3, name, "bad", b"x", {"x-amz-object-lock-mode": "FOREVER",
                                            "x-amz-object-lock-retain-until-date": "2099-01-01T00:00:00Z"})
        assert_error_response(r, 400, "InvalidArgument")
        # The bucket's default retention applies to a form upload (no integrity field is needed).
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
        r = upload(s3, name, "default", b"x")
        assert r.status_code == 204, r.content
        assert s3.get_object_retention(Bucket=name, Key="default")["Retention"]["Mode"] == "GOVERNANCE"
    finally:
        for v in s3.list_object_versions(Bucket=name).get("Versions", []):
            try:
                s3.put_object_legal_hold(Bucket=name, Key=v["Key"], VersionId=v["VersionId"], LegalHold={"Status": "OFF"})
            except ClientError:
                pass
            s3.delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"], BypassGovernanceRetention=True)
        s3.delete_bucket(Bucket=name)


@pytest.mark.parametrize(
    "fields",
    [
        {"x-amz-server-side-encryption": "aws:kms"},
        {"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": "k1"},
    ],
    ids=["sse-kms", "sse-kms-key"],
)
def test_sse_kms_fields_not_implemented(s3, bucket, nothing_stored, fields):
    with nothing_stored(bucket, "k"):
        r = upload(s3, bucket, "k", b"secret", fields)
        assert_error_response(r, 501, "NotImplemented")


def test_sse_s3_field_encrypts(s3, bucket):
    r = upload(s3, bucket, "k", b"secret", {"x-amz-server-side-encryption": "AES256"})
    assert r.status_code in (200, 204), r.text
    assert r.headers["x-amz-server-side-encryption"] == "AES256"
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"secret"


def test_sse_c_fields_need_tls(s3, bucket, nothing_stored):
    key = b"k" * 32
    fields = {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": base64.b64encode(key).decode(),
        "x-amz-server-side-encryption-customer-key-MD5": base64.b64encode(hashlib.md5(key).digest()).decode(),
    }
    with nothing_stored(bucket, "k"):
        r = upload(s3, bucket, "k", b"secret", fields)
        assert_error_response(r, 400, "InvalidRequest")
        assert "secure connection" in r.text


def test_sse_field_outside_the_policy_is_an_extra_field(s3, bucket, nothing_stored):
    url, fields = presign(s3, bucket, "k")
    with nothing_stored(bucket, "k"):
        r = send_form(url, {**fields, "x-amz-server-side-encryption": "AES256"}, b"x")
        assert_error_response(r, 403, "AccessDenied")


# --------------------------------------------------------------------------
# Server bugs
# --------------------------------------------------------------------------


def test_sosapi_key_cannot_be_written(s3):
    name = unique_name("psos")
    s3.create_bucket(Bucket=name)
    with s3_error(403, "AccessDenied"):
        s3.put_object(Bucket=name, Key=SOSAPI_SYSTEM, Body=b"x")
    try:
        r = upload(s3, name, SOSAPI_SYSTEM, b"<not the server's document/>")
        assert_error_response(r, 403, "AccessDenied")
        assert "Contents" not in s3.list_objects_v2(Bucket=name)
    finally:
        with warnings.catch_warnings():  # with the bug the object (and so the bucket) cannot be deleted
            warnings.simplefilter("ignore")
            purge_bucket(s3, name)


def test_content_md5_field_is_verified(s3, bucket):
    wrong = md5_b64(b"something else")
    r = upload(s3, bucket, "md5", b"payload", {"Content-MD5": wrong})
    assert_error_response(r, 400, "BadDigest")
    assert not object_exists(s3, bucket, "md5")
