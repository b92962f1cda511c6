"""S3 Object Lock: CreateBucket with x-amz-bucket-object-lock-enabled, Put/GetObjectLockConfiguration (default
retention), the x-amz-object-lock-* headers of PutObject / CopyObject / CreateMultipartUpload and GET/HEAD,
Put/GetObjectRetention, Put/GetObjectLegalHold, and the WORM rules of DeleteObject / DeleteObjects.

AWS rules the tests rely on (User Guide "Locking objects with Object Lock", "Object Lock considerations",
"Configuring Object Lock"; API reference API_PutObjectLockConfiguration, API_DefaultRetention,
API_PutObjectRetention, API_PutObjectLegalHold, API_PutObject, API_DeleteObject, API_DeleteObjects, API_Error):
- a bucket created with Object Lock has versioning Enabled for good (suspending it: 409 InvalidBucketState);
  Object Lock can be turned on for an existing bucket only while its versioning is Enabled;
- a default retention has a Mode and exactly one of Days / Years (a positive integer); new versions written
  without their own retention get it, existing versions are not touched;
- x-amz-object-lock-mode and x-amz-object-lock-retain-until-date come together, the date in the future; a
  PutObject with Object Lock parameters needs Content-MD5 or an x-amz-checksum-* header; any of these headers on
  a bucket without Object Lock is 400 InvalidRequest;
- a version under retention or legal hold cannot be removed: GOVERNANCE yields to
  x-amz-bypass-governance-retention: true, COMPLIANCE to nothing until its date passes, a legal hold to
  nothing until it is turned OFF; the refusal is 403 AccessDenied (per key, with its VersionId, in
  DeleteObjects); a simple DELETE (no version id) only adds a delete marker and always works;
- anyone may lengthen a retention; GOVERNANCE may be shortened, removed or changed only with the bypass
  header; COMPLIANCE can be neither shortened, removed nor changed to GOVERNANCE, but GOVERNANCE may become
  COMPLIANCE;
- CopyObject never copies the source's retention or legal hold: the copy gets the request's headers or the
  destination bucket's default.

Cleanup: locked versions cannot be deleted. The tests use GOVERNANCE retention (removed by the fixtures with
the bypass header), legal holds (turned OFF by the fixtures), or COMPLIANCE retention that is either waited out
in the test or left behind in the session server's temporary data dir (the fixtures tolerate that).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import os
import re
import time
import warnings

import pytest
from botocore.exceptions import ClientError

from conftest import (
    assert_no_new_files,
    stored_files,
    PAST,
    make_client,
    md5_b64,
    object_exists,
    object_path,
    parse_xml,
    quoted_md5,
    raw_request,
    s3_error,
    unique_name,
    utcnow,
)

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
ISO_HEADER = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


# ==========================================================================
# Helpers
# ==========================================================================


def status(resp) -> int:
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def future(*, seconds: float = 0, days: float = 0) -> dt.datetime:
    """A retain-until date ahead of now, in whole seconds (the precision every tested client sends)."""
    return (utcnow() + dt.timedelta(days=days, seconds=seconds)).replace(microsecond=0)


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_past(when: dt.datetime, margin: float = 1.0) -> None:
    """Sleep until `when` (plus a margin) has passed."""
    delay = (when - utcnow()).total_seconds() + margin
    if delay > 0:
        time.sleep(delay)


def put(client, bucket: str, key: str, body: bytes, **kwargs) -> str:
    """PutObject into a versioned bucket; returns the new version id."""
    resp = client.put_object(Bucket=bucket, Key=key, Body=body, **kwargs)
    assert resp["ETag"] == quoted_md5(body)
    vid = resp.get("VersionId")
    assert vid and vid != "null", resp
    return vid


def put_locked(client, bucket: str, key: str, body: bytes = b"locked", mode: str = "GOVERNANCE", until=None, **kw):
    until = until or future(days=1)
    return put(client, bucket, key, body, ObjectLockMode=mode, ObjectLockRetainUntilDate=until, **kw)


def retention(client, bucket: str, key: str, vid: str | None = None) -> tuple[str, dt.datetime]:
    kw = {"VersionId": vid} if vid else {}
    r = client.get_object_retention(Bucket=bucket, Key=key, **kw)["Retention"]
    return r["Mode"], r["RetainUntilDate"]


def legal_hold(client, bucket: str, key: str, vid: str | None = None) -> str:
    kw = {"VersionId": vid} if vid else {}
    return client.get_object_legal_hold(Bucket=bucket, Key=key, **kw)["LegalHold"]["Status"]


def set_legal_hold(client, bucket: str, key: str, vid: str, state: str) -> None:
    resp = client.put_object_legal_hold(Bucket=bucket, Key=key, VersionId=vid, LegalHold={"Status": state})
    assert status(resp) == 200


def set_retention(client, bucket: str, key: str, vid: str, mode: str | None, until=None, **kw):
    body = {"Mode": mode, "RetainUntilDate": until} if mode else {}
    return client.put_object_retention(Bucket=bucket, Key=key, VersionId=vid, Retention=body, **kw)


def lock_of(resp) -> tuple[str | None, dt.datetime | None, str | None]:
    """(ObjectLockMode, ObjectLockRetainUntilDate, ObjectLockLegalHoldStatus) of a GET/HEAD response."""
    return resp.get("ObjectLockMode"), resp.get("ObjectLockRetainUntilDate"), resp.get("ObjectLockLegalHoldStatus")


def version_ids(client, bucket: str) -> list[tuple[str, str, bool]]:
    """(key, version id, is delete marker) of every entry of ListObjectVersions."""
    out = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        out += [(v["Key"], v["VersionId"], False) for v in page.get("Versions", [])]
        out += [(m["Key"], m["VersionId"], True) for m in page.get("DeleteMarkers", [])]
    return sorted(out)


def get_version(client, bucket: str, key: str, vid: str) -> bytes:
    resp = client.get_object(Bucket=bucket, Key=key, VersionId=vid)
    assert resp["VersionId"] == vid
    return resp["Body"].read()


def assert_close(actual: dt.datetime, expected: dt.datetime, tolerance: float = 120.0) -> None:
    delta = abs((actual - expected).total_seconds())
    assert delta <= tolerance, f"{actual} is {delta:.0f}s away from {expected}"


def set_lock_configuration(client, bucket: str, mode: str | None = None, **period) -> None:
    config: dict = {"ObjectLockEnabled": "Enabled"}
    if mode:
        config["Rule"] = {"DefaultRetention": {"Mode": mode, **period}}
    resp = client.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=config)
    assert status(resp) == 200


# ------------------------------------------------------------- files on disk (as in test_versioning.py)




# ------------------------------------------------------------- cleanup


def purge_locked(client, bucket: str) -> None:
    """Best-effort removal of every version, marker and upload, and of the bucket: legal holds are turned OFF
    and GOVERNANCE retention bypassed. Versions under COMPLIANCE retention stay (and so does the bucket) in the
    session server's temporary data dir; that is expected and not reported."""
    try:
        entries = version_ids(client, bucket)
        try:
            client.get_object_lock_configuration(Bucket=bucket)
            locked = True
        except ClientError:
            locked = False
        if locked:
            for key, vid, marker in entries:
                if not marker:
                    with contextlib.suppress(ClientError):
                        client.put_object_legal_hold(
                            Bucket=bucket, Key=key, VersionId=vid, LegalHold={"Status": "OFF"}
                        )
        for i in range(0, len(entries), 1000):
            batch = entries[i : i + 1000]
            with contextlib.suppress(ClientError):
                client.delete_objects(
                    Bucket=bucket,
                    BypassGovernanceRetention=True,
                    Delete={"Objects": [{"Key": k, "VersionId": v} for k, v, _ in batch], "Quiet": True},
                )
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for upload in page.get("Uploads", []):
                with contextlib.suppress(ClientError):
                    client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        client.delete_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("NoSuchBucket", "BucketNotEmpty"):
            warnings.warn(f"cleanup of bucket {bucket} failed: {exc}")


@contextlib.contextmanager
def lock_bucket(client, prefix: str = "lock", *, object_lock: bool = True, versioning: str | None = None):
    name = unique_name(prefix)
    if object_lock:
        client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    else:
        client.create_bucket(Bucket=name)
    try:
        if versioning:
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
        yield name
    finally:
        purge_locked(client, name)


# ==========================================================================
# Fixtures
# ==========================================================================


@pytest.fixture
def lbucket(s3):
    """A fresh bucket created with Object Lock enabled (and so versioning Enabled), no default retention."""
    with lock_bucket(s3, "lock") as name:
        yield name


@pytest.fixture
def lbucket2(s3):
    with lock_bucket(s3, "lock2") as name:
        yield name


@pytest.fixture
def ubucket(s3):
    """A fresh bucket without Object Lock and never versioned."""
    with lock_bucket(s3, "nolock", object_lock=False) as name:
        yield name


@pytest.fixture
def vbucket(s3):
    """A fresh bucket without Object Lock, versioning Enabled."""
    with lock_bucket(s3, "nolockv", object_lock=False, versioning="Enabled") as name:
        yield name


@pytest.fixture(params=["unversioned", "versioned"])
def nolock_bucket(request, ubucket, vbucket):
    """Each bucket without Object Lock in turn."""
    return ubucket if request.param == "unversioned" else vbucket


@pytest.fixture(scope="module")
def s3_plain(server):
    """Sends no checksum unless the operation requires one (PutObject does not)."""
    return make_client(
        server.endpoint,
        server.access_key,
        server.secret_key,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


# ==========================================================================
# CreateBucket / Get/PutObjectLockConfiguration
# ==========================================================================


def test_create_bucket_with_object_lock_enables_versioning(server, s3, lbucket):
    assert s3.get_bucket_versioning(Bucket=lbucket).get("Status") == "Enabled"
    resp = s3.get_object_lock_configuration(Bucket=lbucket)
    assert resp["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled"}
    raw = raw_request(server, "GET", f"/{lbucket}", query={"object-lock": None})
    assert raw.status_code == 200, raw.content
    root = parse_xml(raw.content)
    assert root.tag == "ObjectLockConfiguration"
    assert root.findtext("ObjectLockEnabled") == "Enabled"
    assert root.find("Rule") is None


def test_versioning_cannot_be_suspended_under_object_lock(s3, lbucket):
    with s3_error(409, "InvalidBucketState"):
        s3.put_bucket_versioning(Bucket=lbucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=lbucket).get("Status") == "Enabled"
    # Enabling it again is no change and allowed.
    s3.put_bucket_versioning(Bucket=lbucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=lbucket).get("Status") == "Enabled"


def test_bucket_without_object_lock_has_no_configuration(s3, nolock_bucket):
    with s3_error(404, "ObjectLockConfigurationNotFoundError"):
        s3.get_object_lock_configuration(Bucket=nolock_bucket)


def test_object_lock_configuration_of_a_missing_bucket(s3):
    name = unique_name("missing")
    with s3_error(404, "NoSuchBucket"):
        s3.get_object_lock_configuration(Bucket=name)
    with s3_error(404, "NoSuchBucket"):
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})


def test_object_lock_on_an_existing_bucket_needs_enabled_versioning(s3, ubucket):
    with s3_error(409, "InvalidBucketState"):
        set_lock_configuration(s3, ubucket)
    with s3_error(404, "ObjectLockConfigurationNotFoundError"):
        s3.get_object_lock_configuration(Bucket=ubucket)
    s3.put_bucket_versioning(Bucket=ubucket, VersioningConfiguration={"Status": "Suspended"})
    with s3_error(409, "InvalidBucketState"):
        set_lock_configuration(s3, ubucket)
    s3.put_bucket_versioning(Bucket=ubucket, VersioningConfiguration={"Status": "Enabled"})
    set_lock_configuration(s3, ubucket)
    assert s3.get_object_lock_configuration(Bucket=ubucket)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"
    }
    with s3_error(409, "InvalidBucketState"):
        s3.put_bucket_versioning(Bucket=ubucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=ubucket).get("Status") == "Enabled"
    vid = put_locked(s3, ubucket, "k")
    assert retention(s3, ubucket, "k", vid)[0] == "GOVERNANCE"


@pytest.mark.parametrize(
    "mode,period,seconds",
    [
        ("GOVERNANCE", {"Days": 2}, (2 * 86400, 2 * 86400)),
        ("GOVERNANCE", {"Years": 1}, (365 * 86400, 366 * 86400)),
        ("COMPLIANCE", {"Days": 1}, (86400, 86400)),  # leaves a COMPLIANCE version behind (tolerated)
    ],
    ids=["governance-days", "governance-years", "compliance-days"],
)
def test_default_retention_applies_to_new_objects(s3, lbucket, mode, period, seconds):
    set_lock_configuration(s3, lbucket, mode, **period)
    config = s3.get_object_lock_configuration(Bucket=lbucket)["ObjectLockConfiguration"]
    assert config == {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": mode, **period}}}
    before = utcnow()
    vid = put(s3, lbucket, "k", b"data")
    after = utcnow()
    head = s3.head_object(Bucket=lbucket, Key="k")
    got_mode, got_until, _ = lock_of(head)
    assert got_mode == mode
    low, high = before + dt.timedelta(seconds=seconds[0]), after + dt.timedelta(seconds=seconds[1])
    assert low - dt.timedelta(seconds=2) <= got_until <= high + dt.timedelta(seconds=2), (got_until, low, high)
    assert retention(s3, lbucket, "k", vid) == (mode, got_until)
    assert lock_of(s3.get_object(Bucket=lbucket, Key="k", VersionId=vid))[:2] == (mode, got_until)


def test_default_retention_leaves_existing_versions_alone(s3, lbucket):
    old = put(s3, lbucket, "k", b"old")
    set_lock_configuration(s3, lbucket, "GOVERNANCE", Days=1)
    new = put(s3, lbucket, "k", b"new")
    with s3_error(404, "NoSuchObjectLockConfiguration"):
        retention(s3, lbucket, "k", old)
    assert retention(s3, lbucket, "k", new)[0] == "GOVERNANCE"
    assert status(s3.delete_object(Bucket=lbucket, Key="k", VersionId=old)) == 204


def test_request_retention_overrides_the_default(s3, lbucket):
    set_lock_configuration(s3, lbucket, "GOVERNANCE", Days=1)
    until = future(days=3)
    vid = put_locked(s3, lbucket, "explicit", until=until)
    assert retention(s3, lbucket, "explicit", vid) == ("GOVERNANCE", until)
    # A legal hold alone is no retention: the default still applies.
    vid = put(s3, lbucket, "hold", b"x", ObjectLockLegalHoldStatus="ON")
    mode, until, hold = lock_of(s3.head_object(Bucket=lbucket, Key="hold"))
    assert (mode, hold) == ("GOVERNANCE", "ON")
    assert_close(until, utcnow() + dt.timedelta(days=1))


def test_configuration_without_rule_removes_the_default(s3, lbucket):
    set_lock_configuration(s3, lbucket, "GOVERNANCE", Days=1)
    set_lock_configuration(s3, lbucket)
    assert s3.get_object_lock_configuration(Bucket=lbucket)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"
    }
    vid = put(s3, lbucket, "k", b"x")
    with s3_error(404, "NoSuchObjectLockConfiguration"):
        retention(s3, lbucket, "k", vid)
    assert lock_of(s3.head_object(Bucket=lbucket, Key="k")) == (None, None, None)


@pytest.mark.parametrize(
    "config,code",
    [
        ({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}},
         "MalformedXML"),
        ({"Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}, "MalformedXML"),
        ({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 0}}},
         "InvalidArgument"),
        ({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": -1}}},
         "InvalidArgument"),
        ({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 0}}},
         "InvalidArgument"),
    ],
    ids=["days-and-years", "enabled-missing", "days-zero", "days-negative", "years-zero"],
)
def test_invalid_lock_configuration(s3, lbucket, config, code):
    set_lock_configuration(s3, lbucket, "GOVERNANCE", Days=5)
    with s3_error(400, code):
        s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration=config)
    # The configuration in force is unchanged.
    assert s3.get_object_lock_configuration(Bucket=lbucket)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 5}},
    }


# ==========================================================================
# PutObject headers, GET / HEAD
# ==========================================================================


@pytest.mark.parametrize("mode", ["GOVERNANCE", "COMPLIANCE"])
def test_put_with_retention_headers(server, s3, lbucket, mode):
    # COMPLIANCE: a short retention, left to expire in the temporary data dir.
    until = future(days=1) if mode == "GOVERNANCE" else future(seconds=5)
    vid = put_locked(s3, lbucket, "k", b"data", mode=mode, until=until)
    assert lock_of(s3.head_object(Bucket=lbucket, Key="k")) == (mode, until, None)
    got = s3.get_object(Bucket=lbucket, Key="k", VersionId=vid)
    assert got["Body"].read() == b"data"
    assert lock_of(got) == (mode, until, None)
    assert retention(s3, lbucket, "k", vid) == (mode, until)
    raw = raw_request(server, "HEAD", object_path(lbucket, "k"))
    assert raw.status_code == 200
    assert raw.headers["x-amz-object-lock-mode"] == mode
    assert ISO_HEADER.match(raw.headers["x-amz-object-lock-retain-until-date"]), raw.headers


def test_put_with_legal_hold_header(s3, lbucket):
    vid = put(s3, lbucket, "k", b"held", ObjectLockLegalHoldStatus="ON")
    assert lock_of(s3.head_object(Bucket=lbucket, Key="k")) == (None, None, "ON")
    assert lock_of(s3.get_object(Bucket=lbucket, Key="k")) == (None, None, "ON")
    assert legal_hold(s3, lbucket, "k", vid) == "ON"
    with s3_error(404, "NoSuchObjectLockConfiguration"):
        retention(s3, lbucket, "k", vid)


def test_put_with_retention_and_legal_hold(s3, lbucket):
    until = future(days=2)
    vid = put_locked(s3, lbucket, "k", until=until, ObjectLockLegalHoldStatus="ON")
    assert lock_of(s3.head_object(Bucket=lbucket, Key="k", VersionId=vid)) == ("GOVERNANCE", until, "ON")


@pytest.mark.parametrize(
    "params",
    [
        {"ObjectLockMode": "GOVERNANCE"},
        {"ObjectLockRetainUntilDate": "FUTURE"},
        {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": PAST},
        {"ObjectLockMode": "FOREVER", "ObjectLockRetainUntilDate": "FUTURE"},
        {"ObjectLockLegalHoldStatus": "MAYBE"},
    ],
    ids=["mode-only", "date-only", "date-in-the-past", "bad-mode", "bad-legal-hold"],
)
def test_invalid_lock_headers(s3, lbucket, params):
    params = {k: (future(days=1) if v == "FUTURE" else v) for k, v in params.items()}
    with s3_error(400, "InvalidArgument"):
        s3.put_object(Bucket=lbucket, Key="k", Body=b"x", **params)
    assert version_ids(s3, lbucket) == []


@pytest.mark.parametrize(
    "params",
    [
        {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": "FUTURE"},
        {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": "FUTURE"},
        {"ObjectLockLegalHoldStatus": "ON"},
    ],
    ids=["governance", "compliance", "legal-hold"],
)
def test_lock_headers_on_a_bucket_without_object_lock(server, s3, nolock_bucket, params):
    params = {k: (future(days=1) if v == "FUTURE" else v) for k, v in params.items()}
    before = stored_files(server)
    with s3_error(400, "InvalidRequest"):
        s3.put_object(Bucket=nolock_bucket, Key="k", Body=os.urandom(3000), **params)
    assert not object_exists(s3, nolock_bucket, "k")
    assert version_ids(s3, nolock_bucket) == []
    assert_no_new_files(server, before)


def test_lock_headers_need_content_md5_or_a_checksum(server, s3, lbucket):
    body = b"worm data"
    lock = {"x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": iso(future(days=1))}
    before = stored_files(server)
    resp = raw_request(server, "PUT", object_path(lbucket, "k"), dict(lock), body)
    assert resp.status_code == 400, resp.content
    assert b"<Code>InvalidRequest</Code>" in resp.content, resp.content
    assert version_ids(s3, lbucket) == []
    assert_no_new_files(server, before)
    resp = raw_request(server, "PUT", object_path(lbucket, "md5"), {**lock, "Content-MD5": md5_b64(body)}, body)
    assert resp.status_code == 200, resp.content
    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    resp = raw_request(server, "PUT", object_path(lbucket, "sha"), {**lock, "x-amz-checksum-sha256": sha}, body)
    assert resp.status_code == 200, resp.content
    for key in ("md5", "sha"):
        assert lock_of(s3.head_object(Bucket=lbucket, Key=key))[0] == "GOVERNANCE"


def test_legal_hold_header_needs_content_md5_or_a_checksum(server, s3, lbucket):
    # x-amz-object-lock-legal-hold is an Object Lock parameter too (AWS answers the same InvalidRequest).
    body = b"held data"
    before = stored_files(server)
    resp = raw_request(server, "PUT", object_path(lbucket, "k"), {"x-amz-object-lock-legal-hold": "ON"}, body)
    assert resp.status_code == 400, resp.content
    assert b"<Code>InvalidRequest</Code>" in resp.content, resp.content
    assert version_ids(s3, lbucket) == []
    assert_no_new_files(server, before)
    resp = raw_request(
        server, "PUT", object_path(lbucket, "k"),
        {"x-amz-object-lock-legal-hold": "ON", "Content-MD5": md5_b64(body)}, body,
    )
    assert resp.status_code == 200, resp.content
    assert lock_of(s3.head_object(Bucket=lbucket, Key="k"))[2] == "ON"


def test_default_retention_needs_content_md5_or_a_checksum(server, s3, lbucket):
    # A PutObject that would get the bucket's default retention is a write "with a retention period configured
    # using Object Lock": AWS wants Content-MD5 or an x-amz-checksum-* header for it as well.
    set_lock_configuration(s3, lbucket, "GOVERNANCE", Days=1)
    body = b"defaulted"
    resp = raw_request(server, "PUT", object_path(lbucket, "k"), {}, body)
    assert resp.status_code == 400, resp.content
    assert b"<Code>InvalidRequest</Code>" in resp.content, resp.content
    assert version_ids(s3, lbucket) == []
    resp = raw_request(server, "PUT", object_path(lbucket, "k"), {"Content-MD5": md5_b64(body)}, body)
    assert resp.status_code == 200, resp.content
    assert lock_of(s3.head_object(Bucket=lbucket, Key="k"))[0] == "GOVERNANCE"


def test_retain_until_date_with_a_utc_offset(server, s3, lbucket):
    # An ISO 8601 date with an offset must be refused or read as the instant it names, never as if it were UTC
    # (which here would shorten the retention by five hours).
    local = future(days=1).replace(tzinfo=None)
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + "-05:00"
    meant = local.replace(tzinfo=dt.timezone.utc) + dt.timedelta(hours=5)
    body = b"x"
    resp = raw_request(
        server, "PUT", object_path(lbucket, "k"),
        {"x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": text,
         "Content-MD5": md5_b64(body)},
        body,
    )
    if resp.status_code == 400:
        assert b"<Code>InvalidArgument</Code>" in resp.content, resp.content
    else:
        assert resp.status_code == 200, resp.content
        assert lock_of(s3.head_object(Bucket=lbucket, Key="k"))[1] == meant
    vid = put(s3, lbucket, "r", b"y")
    xml = (
        f'<Retention xmlns="{NS}"><Mode>GOVERNANCE</Mode><RetainUntilDate>{text}</RetainUntilDate></Retention>'
    ).encode()
    resp = raw_request(
        server, "PUT", object_path(lbucket, "r"), {"Content-MD5": md5_b64(xml)}, xml,
        {"retention": None, "versionId": vid},
    )
    if resp.status_code == 400:
        assert re.search(rb"<Code>(InvalidArgument|MalformedXML)</Code>", resp.content), resp.content
    else:
        assert resp.status_code == 200, resp.content
        assert retention(s3, lbucket, "r", vid) == ("GOVERNANCE", meant)


def test_boto3_without_checksum_is_refused(s3_plain, s3, lbucket):
    with s3_error(400, "InvalidRequest"):
        s3_plain.put_object(
            Bucket=lbucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future(days=1)
        )
    assert version_ids(s3, lbucket) == []
    # With Content-MD5 the same client is accepted.
    s3_plain.put_object(
        Bucket=lbucket, Key="k", Body=b"x", ContentMD5=md5_b64(b"x"),
        ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future(days=1),
    )
    assert lock_of(s3.head_object(Bucket=lbucket, Key="k"))[0] == "GOVERNANCE"


def test_object_without_lock_has_no_lock_headers(s3, lbucket):
    put(s3, lbucket, "k", b"x")
    assert lock_of(s3.head_object(Bucket=lbucket, Key="k")) == (None, None, None)


# ==========================================================================
# DeleteObject by version
# ==========================================================================


def test_governance_version_is_deleted_only_with_bypass(s3, lbucket):
    vid = put_locked(s3, lbucket, "k", b"gov")
    with s3_error(403, "AccessDenied"):
        s3.delete_object(Bucket=lbucket, Key="k", VersionId=vid)
    with s3_error(403, "AccessDenied"):
        s3.delete_object(Bucket=lbucket, Key="k", VersionId=vid, BypassGovernanceRetention=False)
    assert get_version(s3, lbucket, "k", vid) == b"gov"
    resp = s3.delete_object(Bucket=lbucket, Key="k", VersionId=vid, BypassGovernanceRetention=True)
    assert status(resp) == 204
    assert version_ids(s3, lbucket) == []


def test_compliance_version_is_deleted_only_after_its_date(s3, lbucket):
    until = future(seconds=3)
    vid = put_locked(s3, lbucket, "k", b"comp", mode="COMPLIANCE", until=until)
    with s3_error(403, "AccessDenied"):
        s3.delete_object(Bucket=lbucket, Key="k", VersionId=vid)
    with s3_error(403, "AccessDenied"):
        s3.delete_object(Bucket=lbucket, Key="k", VersionId=vid, BypassGovernanceRetention=True)
    assert get_version(s3, lbucket, "k", vid) == b"comp"
    wait_past(until)
    assert status(s3.delete_object(Bucket=lbucket, Key="k", VersionId=vid)) == 204
    assert version_ids(s3, lbucket) == []


def test_legal_hold_blocks_delete_regardless_of_retention(s3, lbucket):
    held = put(s3, lbucket, "held", b"h", ObjectLockLegalHoldStatus="ON")
    both = put_locked(s3, lbucket, "both", b"b", ObjectLockLegalHoldStatus="ON")
    for key, vid in (("held", held), ("both", both)):
        with s3_error(403, "AccessDenied"):
            s3.delete_object(Bucket=lbucket, Key=key, VersionId=vid)
        with s3_error(403, "AccessDenied"):
            s3.delete_object(Bucket=lbucket, Key=key, VersionId=vid, BypassGovernanceRetention=True)
        set_legal_hold(s3, lbucket, key, vid, "OFF")
        assert legal_hold(s3, lbucket, key, vid) == "OFF"
    # Without the hold: no retention at all, or GOVERNANCE that the bypass overrides.
    assert status(s3.delete_object(Bucket=lbucket, Key="held", VersionId=held)) == 204
    with s3_error(403, "AccessDenied"):
        s3.delete_object(Bucket=lbucket, Key="both", VersionId=both)
    assert status(s3.delete_object(Bucket=lbucket, Key="both", VersionId=both, BypassGovernanceRetention=True)) == 204
    assert version_ids(s3, lbucket) == []


def test_legal_hold_off_header_is_no_lock(s3, lbucket):
    vid = put(s3, lbucket, "k", b"x", ObjectLockLegalHoldStatus="OFF")
    assert lock_of(s3.head_object(Bucket=lbucket, Key="k"))[2] in (None, "OFF")
    assert status(s3.delete_object(Bucket=lbucket, Key="k", VersionId=vid)) == 204


def test_expired_governance_version_is_deletable_without_bypass(s3, lbucket):
    until = future(seconds=2)
    vid = put_locked(s3, lbucket, "k", until=until)
    wait_past(until)
    assert status(s3.delete_object(Bucket=lbucket, Key="k", VersionId=vid)) == 204


def test_simple_delete_of_a_locked_object_adds_a_delete_marker(s3, lbucket):
    vid = put_locked(s3, lbucket, "k", b"still here", ObjectLockLegalHoldStatus="ON")
    resp = s3.delete_object(Bucket=lbucket, Key="k")
    assert status(resp) == 204
    assert resp.get("DeleteMarker") is True
    marker = resp["VersionId"]
    assert marker != vid
    assert not object_exists(s3, lbucket, "k")
    assert get_version(s3, lbucket, "k", vid) == b"still here"
    assert version_ids(s3, lbucket) == sorted([("k", vid, False), ("k", marker, True)])
    # A delete marker is not locked: removing it brings the object back.
    assert status(s3.delete_object(Bucket=lbucket, Key="k", VersionId=marker)) == 204
    assert s3.get_object(Bucket=lbucket, Key="k")["Body"].read() == b"still here"


def test_overwriting_a_locked_key_adds_a_version(s3, lbucket):
    until = future(days=1)
    v1 = put_locked(s3, lbucket, "k", b"first", until=until)
    v2 = put(s3, lbucket, "k", b"second")
    assert v2 != v1
    assert s3.get_object(Bucket=lbucket, Key="k")["Body"].read() == b"second"
    assert lock_of(s3.head_object(Bucket=lbucket, Key="k")) == (None, None, None)
    assert get_version(s3, lbucket, "k", v1) == b"first"
    assert retention(s3, lbucket, "k", v1) == ("GOVERNANCE", until)
    assert status(s3.delete_object(Bucket=lbucket, Key="k", VersionId=v2)) == 204
    with s3_error(403, "AccessDenied"):
        s3.delete_object(Bucket=lbucket, Key="k", VersionId=v1)
    assert s3.get_object(Bucket=lbucket, Key="k")["Body"].read() == b"first"


# ==========================================================================
# DeleteObjects
# ==========================================================================


def test_delete_objects_reports_locked_versions(s3, lbucket):
    gov = put_locked(s3, lbucket, "gov", b"g")
    comp = put_locked(s3, lbucket, "comp", b"c", mode="COMPLIANCE", until=future(seconds=5))
    hold = put(s3, lbucket, "hold", b"h", ObjectLockLegalHoldStatus="ON")
    free = put(s3, lbucket, "free", b"f")
    targets = [{"Key": k, "VersionId": v} for k, v in (("gov", gov), ("comp", comp), ("hold", hold), ("free", free))]
    resp = s3.delete_objects(Bucket=lbucket, Delete={"Objects": targets})
    assert status(resp) == 200
    assert [(d["Key"], d["VersionId"]) for d in resp.get("Deleted", [])] == [("free", free)]
    errors = {e["Key"]: e["Code"] for e in resp.get("Errors", [])}
    assert errors == {"gov": "AccessDenied", "comp": "AccessDenied", "hold": "AccessDenied"}
    assert {k for k, _, _ in version_ids(s3, lbucket)} == {"gov", "comp", "hold"}
    # With the bypass header only the GOVERNANCE version goes.
    resp = s3.delete_objects(Bucket=lbucket, Delete={"Objects": targets[:3]}, BypassGovernanceRetention=True)
    assert [(d["Key"], d["VersionId"]) for d in resp.get("Deleted", [])] == [("gov", gov)]
    assert {e["Key"]: e["Code"] for e in resp.get("Errors", [])} == {"comp": "AccessDenied", "hold": "AccessDenied"}
    assert get_version(s3, lbucket, "comp", comp) == b"c"
    assert get_version(s3, lbucket, "hold", hold) == b"h"


def test_delete_objects_error_names_the_locked_version(s3, lbucket):
    # Two versions of one key, only the older locked: the Error must say which version failed (API_Error
    # has Key, VersionId, Code and Message).
    locked = put_locked(s3, lbucket, "k", b"old")
    unlocked = put(s3, lbucket, "k", b"new")
    resp = s3.delete_objects(
        Bucket=lbucket, Delete={"Objects": [{"Key": "k", "VersionId": locked}, {"Key": "k", "VersionId": unlocked}]}
    )
    assert [(d["Key"], d["VersionId"]) for d in resp.get("Deleted", [])] == [("k", unlocked)]
    assert [(e["Key"], e.get("VersionId"), e["Code"]) for e in resp.get("Errors", [])] == [
        ("k", locked, "AccessDenied")
    ]


def test_quiet_delete_objects_still_reports_locked_versions(s3, lbucket):
    gov = put_locked(s3, lbucket, "gov")
    free = put(s3, lbucket, "free", b"f")
    resp = s3.delete_objects(
        Bucket=lbucket,
        Delete={"Objects": [{"Key": "gov", "VersionId": gov}, {"Key": "free", "VersionId": free}], "Quiet": True},
    )
    assert "Deleted" not in resp
    assert [(e["Key"], e["Code"]) for e in resp.get("Errors", [])] == [("gov", "AccessDenied")]
    assert version_ids(s3, lbucket) == [("gov", gov, False)]


def test_delete_objects_without_version_ids_adds_markers_over_locked_keys(s3, lbucket):
    gov = put_locked(s3, lbucket, "gov", b"g")
    hold = put(s3, lbucket, "hold", b"h", ObjectLockLegalHoldStatus="ON")
    resp = s3.delete_objects(Bucket=lbucket, Delete={"Objects": [{"Key": "gov"}, {"Key": "hold"}]})
    assert resp.get("Errors", []) == []
    assert sorted((d["Key"], d.get("DeleteMarker")) for d in resp["Deleted"]) == [("gov", True), ("hold", True)]
    assert not object_exists(s3, lbucket, "gov") and not object_exists(s3, lbucket, "hold")
    assert get_version(s3, lbucket, "gov", gov) == b"g"
    assert get_version(s3, lbucket, "hold", hold) == b"h"


# ==========================================================================
# Put/GetObjectRetention
# ==========================================================================


def test_retention_by_version(s3, lbucket):
    until = future(days=1)
    v1 = put_locked(s3, lbucket, "k", b"one", until=until)
    v2 = put(s3, lbucket, "k", b"two")
    assert retention(s3, lbucket, "k", v1) == ("GOVERNANCE", until)
    with s3_error(404, "NoSuchObjectLockConfiguration"):
        retention(s3, lbucket, "k", v2)
    with s3_error(404, "NoSuchObjectLockConfiguration"):
        retention(s3, lbucket, "k")  # the latest version, v2
    later = future(days=2)
    assert status(set_retention(s3, lbucket, "k", v2, "GOVERNANCE", later)) == 200
    assert retention(s3, lbucket, "k", v2) == ("GOVERNANCE", later)
    assert retention(s3, lbucket, "k") == ("GOVERNANCE", later)
    assert retention(s3, lbucket, "k", v1) == ("GOVERNANCE", until)
    assert lock_of(s3.head_object(Bucket=lbucket, Key="k", VersionId=v2))[:2] == ("GOVERNANCE", later)
    # Retention changes only metadata.
    assert get_version(s3, lbucket, "k", v2) == b"two"


def test_retention_without_version_id_targets_the_latest(s3, lbucket):
    v1 = put(s3, lbucket, "k", b"one")
    put(s3, lbucket, "k", b"two")
    until = future(days=1)
    s3.put_object_retention(Bucket=lbucket, Key="k", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until})
    assert retention(s3, lbucket, "k") == ("GOVERNANCE", until)
    with s3_error(404, "NoSuchObjectLockConfiguration"):
        retention(s3, lbucket, "k", v1)


def test_governance_retention_can_be_extended_without_bypass(s3, lbucket):
    vid = put_locked(s3, lbucket, "k", until=future(days=1))
    later = future(days=3)
    set_retention(s3, lbucket, "k", vid, "GOVERNANCE", later)
    assert retention(s3, lbucket, "k", vid) == ("GOVERNANCE", later)


def test_governance_retention_is_shortened_or_removed_only_with_bypass(s3, lbucket):
    until = future(days=3)
    vid = put_locked(s3, lbucket, "k", until=until)
    shorter = future(days=1)
    with s3_error(403, "AccessDenied"):
        set_retention(s3, lbucket, "k", vid, "GOVERNANCE", shorter)
    with s3_error(403, "AccessDenied"):
        set_retention(s3, lbucket, "k", vid, None)
    assert retention(s3, lbucket, "k", vid) == ("GOVERNANCE", until)
    set_retention(s3, lbucket, "k", vid, "GOVERNANCE", shorter, BypassGovernanceRetention=True)
    assert retention(s3, lbucket, "k", vid) == ("GOVERNANCE", shorter)
    set_retention(s3, lbucket, "k", vid, None, BypassGovernanceRetention=True)
    with s3_error(404, "NoSuchObjectLockConfiguration"):
        retention(s3, lbucket, "k", vid)
    assert lock_of(s3.head_object(Bucket=lbucket, Key="k", VersionId=vid)) == (None, None, None)
    assert status(s3.delete_object(Bucket=lbucket, Key="k", VersionId=vid)) == 204


def test_compliance_retention_cannot_be_shortened_changed_or_removed(s3, lbucket):
    # Leaves a COMPLIANCE version behind (tolerated by the fixture).
    until = future(seconds=30)
    vid = put_locked(s3, lbucket, "k", mode="COMPLIANCE", until=until)
    for mode, date in (
        ("COMPLIANCE", future(seconds=10)),  # shorter
        ("GOVERNANCE", future(seconds=60)),  # a change of mode, even with a later date
        (None, None),  # removal
    ):
        for bypass in (False, True):
            with s3_error(403, "AccessDenied"):
                set_retention(s3, lbucket, "k", vid, mode, date, BypassGovernanceRetention=bypass)
    assert retention(s3, lbucket, "k", vid) == ("COMPLIANCE", until)
    later = future(seconds=60)
    set_retention(s3, lbucket, "k", vid, "COMPLIANCE", later)
    assert retention(s3, lbucket, "k", vid) == ("COMPLIANCE", later)


def test_governance_retention_can_become_compliance(s3, lbucket):
    # Leaves a COMPLIANCE version behind (tolerated by the fixture).
    vid = put_locked(s3, lbucket, "k", until=future(seconds=20))
    later = future(seconds=30)
    set_retention(s3, lbucket, "k", vid, "COMPLIANCE", later)
    assert retention(s3, lbucket, "k", vid) == ("COMPLIANCE", later)
    with s3_error(403, "AccessDenied"):
        s3.delete_object(Bucket=lbucket, Key="k", VersionId=vid, BypassGovernanceRetention=True)


def test_retention_in_the_past_is_invalid_argument(s3, lbucket):
    vid = put(s3, lbucket, "k", b"x")
    with s3_error(400, "InvalidArgument"):
        set_retention(s3, lbucket, "k", vid, "GOVERNANCE", PAST)
    with s3_error(404, "NoSuchObjectLockConfiguration"):
        retention(s3, lbucket, "k", vid)


def test_retention_and_legal_hold_of_a_missing_key(s3, lbucket):
    with s3_error(404, "NoSuchKey"):
        retention(s3, lbucket, "missing")
    with s3_error(404, "NoSuchKey"):
        legal_hold(s3, lbucket, "missing")


def test_retention_and_legal_hold_on_a_bucket_without_object_lock(s3, nolock_bucket):
    s3.put_object(Bucket=nolock_bucket, Key="k", Body=b"x")
    with s3_error(400, "InvalidRequest"):
        retention(s3, nolock_bucket, "k")
    with s3_error(400, "InvalidRequest"):
        s3.put_object_retention(
            Bucket=nolock_bucket, Key="k", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": future(days=1)}
        )
    with s3_error(400, "InvalidRequest"):
        legal_hold(s3, nolock_bucket, "k")
    with s3_error(400, "InvalidRequest"):
        s3.put_object_legal_hold(Bucket=nolock_bucket, Key="k", LegalHold={"Status": "ON"})
    assert lock_of(s3.head_object(Bucket=nolock_bucket, Key="k")) == (None, None, None)


# ==========================================================================
# Put/GetObjectLegalHold
# ==========================================================================


def test_legal_hold_by_version(s3, lbucket):
    v1 = put(s3, lbucket, "k", b"one")
    v2 = put(s3, lbucket, "k", b"two")
    set_legal_hold(s3, lbucket, "k", v1, "ON")
    assert legal_hold(s3, lbucket, "k", v1) == "ON"
    assert lock_of(s3.head_object(Bucket=lbucket, Key="k", VersionId=v1))[2] == "ON"
    assert lock_of(s3.head_object(Bucket=lbucket, Key="k"))[2] is None  # v2
    with s3_error(403, "AccessDenied"):
        s3.delete_object(Bucket=lbucket, Key="k", VersionId=v1)
    assert status(s3.delete_object(Bucket=lbucket, Key="k", VersionId=v2)) == 204
    set_legal_hold(s3, lbucket, "k", v1, "OFF")
    assert legal_hold(s3, lbucket, "k", v1) == "OFF"
    assert status(s3.delete_object(Bucket=lbucket, Key="k", VersionId=v1)) == 204


def test_legal_hold_of_a_version_that_never_had_one(s3, lbucket):
    vid = put(s3, lbucket, "k", b"x")
    # This server answers Status OFF; AWS may answer 404 NoSuchObjectLockConfiguration. Either is accepted.
    try:
        assert legal_hold(s3, lbucket, "k", vid) == "OFF"
    except ClientError as exc:
        err = exc.response
        assert (err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]) == (
            404,
            "NoSuchObjectLockConfiguration",
        ), err


def test_legal_hold_without_version_id_targets_the_latest(s3, lbucket):
    v1 = put(s3, lbucket, "k", b"one")
    v2 = put(s3, lbucket, "k", b"two")
    s3.put_object_legal_hold(Bucket=lbucket, Key="k", LegalHold={"Status": "ON"})
    assert legal_hold(s3, lbucket, "k", v2) == "ON"
    assert lock_of(s3.head_object(Bucket=lbucket, Key="k", VersionId=v1))[2] is None


# ==========================================================================
# CopyObject
# ==========================================================================


def test_copy_does_not_copy_retention_or_legal_hold(s3, lbucket):
    src = put_locked(s3, lbucket, "src", b"source", ObjectLockLegalHoldStatus="ON")
    resp = s3.copy_object(Bucket=lbucket, Key="copy", CopySource={"Bucket": lbucket, "Key": "src", "VersionId": src})
    copy = resp["VersionId"]
    assert lock_of(s3.head_object(Bucket=lbucket, Key="copy")) == (None, None, None)
    with s3_error(404, "NoSuchObjectLockConfiguration"):
        retention(s3, lbucket, "copy", copy)
    assert s3.get_object(Bucket=lbucket, Key="copy")["Body"].read() == b"source"
    assert status(s3.delete_object(Bucket=lbucket, Key="copy", VersionId=copy)) == 204
    # The source keeps its lock.
    assert lock_of(s3.head_object(Bucket=lbucket, Key="src"))[0::2] == ("GOVERNANCE", "ON")


def test_copy_takes_the_request_lock_headers(s3, lbucket, ubucket):
    s3.put_object(Bucket=ubucket, Key="src", Body=b"plain source")
    until = future(days=2)
    resp = s3.copy_object(
        Bucket=lbucket, Key="copy", CopySource={"Bucket": ubucket, "Key": "src"},
        ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON",
    )
    copy = resp["VersionId"]
    assert lock_of(s3.head_object(Bucket=lbucket, Key="copy")) == ("GOVERNANCE", until, "ON")
    assert retention(s3, lbucket, "copy", copy) == ("GOVERNANCE", until)
    assert legal_hold(s3, lbucket, "copy", copy) == "ON"
    # Copying a locked object onto a key with other headers: the copy's own headers win.
    later = future(days=4)
    resp = s3.copy_object(
        Bucket=lbucket, Key="copy2", CopySource={"Bucket": lbucket, "Key": "copy", "VersionId": copy},
        ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=later,
    )
    assert lock_of(s3.head_object(Bucket=lbucket, Key="copy2")) == ("GOVERNANCE", later, None)


def test_copy_gets_the_destination_default_retention(s3, lbucket, lbucket2):
    set_lock_configuration(s3, lbucket2, "GOVERNANCE", Days=1)
    src = put_locked(s3, lbucket, "src", b"s", until=future(days=5))
    s3.copy_object(Bucket=lbucket2, Key="copy", CopySource={"Bucket": lbucket, "Key": "src", "VersionId": src})
    mode, until, hold = lock_of(s3.head_object(Bucket=lbucket2, Key="copy"))
    assert (mode, hold) == ("GOVERNANCE", None)
    assert_close(until, utcnow() + dt.timedelta(days=1))


def test_copy_with_lock_headers_into_a_bucket_without_object_lock(s3, lbucket, nolock_bucket):
    s3.put_object(Bucket=nolock_bucket, Key="src", Body=b"s")
    with s3_error(400, "InvalidRequest"):
        s3.copy_object(
            Bucket=nolock_bucket, Key="copy", CopySource={"Bucket": nolock_bucket, "Key": "src"},
            ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future(days=1),
        )
    assert not object_exists(s3, nolock_bucket, "copy")
    # A locked source copies into a bucket without Object Lock, without its lock.
    src = put_locked(s3, lbucket, "locked", b"L")
    s3.copy_object(Bucket=nolock_bucket, Key="copy", CopySource={"Bucket": lbucket, "Key": "locked", "VersionId": src})
    assert lock_of(s3.head_object(Bucket=nolock_bucket, Key="copy")) == (None, None, None)


# ==========================================================================
# Multipart uploads
# ==========================================================================


def multipart(client, bucket: str, key: str, parts: list[bytes], **create_kwargs):
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, **create_kwargs)["UploadId"]
    done = []
    for number, body in enumerate(parts, start=1):
        resp = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
        done.append({"PartNumber": number, "ETag": resp["ETag"]})
    return client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
    )


def test_multipart_upload_with_lock_headers(s3, lbucket):
    until = future(days=1)
    parts = [os.urandom(5 * 1024 * 1024), b"tail"]
    resp = multipart(
        s3, lbucket, "mp", parts,
        ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON",
    )
    vid = resp["VersionId"]
    assert lock_of(s3.head_object(Bucket=lbucket, Key="mp")) == ("GOVERNANCE", until, "ON")
    assert retention(s3, lbucket, "mp", vid) == ("GOVERNANCE", until)
    assert legal_hold(s3, lbucket, "mp", vid) == "ON"
    assert get_version(s3, lbucket, "mp", vid) == b"".join(parts)
    with s3_error(403, "AccessDenied"):
        s3.delete_object(Bucket=lbucket, Key="mp", VersionId=vid, BypassGovernanceRetention=True)


def test_multipart_upload_gets_the_default_retention(s3, lbucket):
    set_lock_configuration(s3, lbucket, "GOVERNANCE", Days=1)
    vid = multipart(s3, lbucket, "mp", [b"only part"])["VersionId"]
    mode, until = retention(s3, lbucket, "mp", vid)
    assert mode == "GOVERNANCE"
    assert_close(until, utcnow() + dt.timedelta(days=1))


@pytest.mark.parametrize(
    "params",
    [
        {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": "FUTURE"},
        {"ObjectLockLegalHoldStatus": "ON"},
    ],
    ids=["retention", "legal-hold"],
)
def test_multipart_lock_headers_on_a_bucket_without_object_lock(s3, nolock_bucket, params):
    params = {k: (future(days=1) if v == "FUTURE" else v) for k, v in params.items()}
    with s3_error(400, "InvalidRequest"):
        s3.create_multipart_upload(Bucket=nolock_bucket, Key="mp", **params)
    assert s3.list_multipart_uploads(Bucket=nolock_bucket).get("Uploads", []) == []


def test_multipart_invalid_lock_headers(s3, lbucket):
    with s3_error(400, "InvalidArgument"):
        s3.create_multipart_upload(Bucket=lbucket, Key="mp", ObjectLockMode="GOVERNANCE")
    with s3_error(400, "InvalidArgument"):
        s3.create_multipart_upload(
            Bucket=lbucket, Key="mp", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=PAST
        )
    assert s3.list_multipart_uploads(Bucket=lbucket).get("Uploads", []) == []


# ==========================================================================
# Files on disk
# ==========================================================================


def test_locked_data_stays_on_disk_after_refused_deletes(server, s3, lbucket):
    before = stored_files(server)
    data = os.urandom(4000)
    vid = put_locked(s3, lbucket, "k", data, ObjectLockLegalHoldStatus="ON")
    blobs = stored_files(server) - before
    assert blobs, "the version's data is not stored as files in the data dir"
    with s3_error(403, "AccessDenied"):
        s3.delete_object(Bucket=lbucket, Key="k", VersionId=vid, BypassGovernanceRetention=True)
    resp = s3.delete_objects(
        Bucket=lbucket, Delete={"Objects": [{"Key": "k", "VersionId": vid}]}, BypassGovernanceRetention=True
    )
    assert [e["Code"] for e in resp.get("Errors", [])] == ["AccessDenied"]
    s3.delete_object(Bucket=lbucket, Key="k")  # a delete marker on top
    time.sleep(0.2)  # give any (wrong) asynchronous blob removal a chance
    assert blobs <= stored_files(server), "a locked version's data files were removed"
    assert get_version(s3, lbucket, "k", vid) == data
    # Once unlocked, deleting the version frees its data.
    set_legal_hold(s3, lbucket, "k", vid, "OFF")
    s3.delete_object(Bucket=lbucket, Key="k", VersionId=vid, BypassGovernanceRetention=True)
    for key, v, _ in version_ids(s3, lbucket):
        s3.delete_object(Bucket=lbucket, Key=key, VersionId=v)
    assert_no_new_files(server, before)
