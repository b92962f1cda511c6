"""Quotas, all hard limits: a tenant's --max-buckets (TooManyBuckets), --max-access-keys (`key create` fails) and
--max-storage-bytes (403 QuotaExceeded), and a bucket's --max-bytes / --max-objects (403 QuotaExceeded).

A refused write is refused before its body is stored: nothing new is visible and no file is left behind. Usage
counts the logical bytes of every stored version plus the parts of uploads in progress; `tenant show` and
`bucket-quota show` report it exactly. The race tests fire many concurrent PUTs / UploadParts at a tenant
whose quota fits only a few of them: the stored total may never exceed the quota."""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import (
    admin_cli,
    assert_no_new_files,
    bucket_exists,
    get_body,
    leaked_temp_files,
    make_client,
    object_exists,
    s3_error,
    stored_files,
    unique_name,
)

MiB = 1024 * 1024
PW = "Qu0ta-Passw0rd!"


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def error_of(exc: ClientError) -> tuple[int, str]:
    return exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"].get("Code")


def purge_everything(s3, bucket: str) -> None:
    """Remove every version, delete marker and upload, then the bucket (ignoring a missing bucket)."""
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
                s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
        for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        s3.delete_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_of(exc)[1] != "NoSuchBucket":
            raise


@dataclass
class Tenant:
    server: Any = field(repr=False)
    name: str
    user: str
    user_id: str
    key: dict
    client: Any = field(repr=False)
    buckets: list[str] = field(default_factory=list)

    def show(self) -> dict:
        return admin_cli(self.server, "tenant", "show", self.name)

    def usage(self) -> tuple[int, int, int]:
        t = self.show()
        return t["used_bytes"], t["object_count"], t["bucket_count"]

    def set(self, **quotas) -> dict:
        return admin_cli(self.server, "tenant", "update", self.name, *quota_options(quotas))

    def new_bucket(self, prefix: str = "q", client=None) -> str:
        name = unique_name(prefix)
        self.buckets.append(name)
        (client or self.client).create_bucket(Bucket=name)
        return name


def quota_options(quotas: dict) -> list[str]:
    return [arg for option, value in quotas.items() for arg in (f"--{option.replace('_', '-')}", str(value))]


def client_for(server, key: dict, pool: int = 16):
    return make_client(
        server.endpoint, key["access_key_id"], key["secret_access_key"], max_pool_connections=pool,
        retries={"total_max_attempts": 1}, read_timeout=120,
    )


def add_user(server, tenant: str) -> tuple[dict, dict]:
    name = unique_name("qu")
    user = admin_cli(server, "user", "create", name, "--password", PW, "--tenant", tenant, "--role", "user")
    return user, admin_cli(server, "key", "create", "--user", name)


class TenantPool:
    """Tenants with one user (role user) and one key each, made ahead by a background thread (three CLI calls
    each) while the tests run."""

    def __init__(self, server, count: int):
        self.server = server
        self._executor = ThreadPoolExecutor(1)
        self._pending = [self._executor.submit(self._make) for _ in range(count)]

    def _make(self) -> tuple[str, dict, dict]:
        name = admin_cli(self.server, "tenant", "create", unique_name("qt"))["name"]
        user, key = add_user(self.server, name)
        return name, user, key

    def take(self) -> tuple[str, dict, dict]:
        future = self._pending.pop(0) if self._pending else self._executor.submit(self._make)
        return future.result()

    def close(self) -> None:
        for future in self._pending:
            future.cancel()
        self._executor.shutdown(wait=True)


@pytest.fixture(scope="module")
def tenant_pool(server):
    pool = TenantPool(server, count=14)
    yield pool
    pool.close()


@pytest.fixture
def new_tenant(server, s3, tenant_pool):
    """make(pool=16, **quotas) -> a Tenant with these quotas, one user (role user) and its key, whose client
    has `pool` connections. Its buckets are removed afterwards; the tenant (unique, empty) stays, which saves
    a CLI call per test."""
    made: list[Tenant] = []

    def make(pool: int = 16, **quotas) -> Tenant:
        name, user, key = tenant_pool.take()
        tenant = Tenant(server, name, user["name"], user["id"], key, client_for(server, key, pool))
        made.append(tenant)
        if quotas:
            tenant.set(**quotas)
        return tenant

    yield make
    for tenant in made:
        for bucket in tenant.buckets:
            purge_everything(s3, bucket)


def listed_sizes(s3, bucket: str) -> dict[str, int]:
    return {
        o["Key"]: o["Size"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
    }


def wait_no_temp_files(server, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while (leaked := leaked_temp_files(server.data_dir)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not leaked, f"temporary files left in {server.data_dir / 'tmp'}: {leaked[:20]}"


def quota_exceeded():
    return s3_error(403, "QuotaExceeded")


@pytest.fixture
def no_new_files(server):
    """Assert that a refused write leaves no file: `with no_new_files(): <refused call>`."""

    @contextlib.contextmanager
    def check():
        before = stored_files(server)
        yield
        assert_no_new_files(server, before)
        wait_no_temp_files(server)

    return check


# --------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------


def test_cli_quota_commands(server, s3):
    name, bucket = unique_name("qcli"), unique_name("qcli")
    created = admin_cli(
        server, "tenant", "create", name, "--max-storage-bytes", "1000", "--max-buckets", "1", "--max-access-keys", "1",
    )
    try:
        assert (created["max_storage_bytes"], created["max_buckets"], created["max_access_keys"]) == (1000, 1, 1), created
        user, key = add_user(server, name)
        client = client_for(server, key)
        client.create_bucket(Bucket=bucket)
        with s3_error(400, "TooManyBuckets"):
            client.create_bucket(Bucket=unique_name("qcli"))
        client.put_object(Bucket=bucket, Key="a", Body=b"a" * 600)
        with quota_exceeded():
            client.put_object(Bucket=bucket, Key="b", Body=b"b" * 401)
        with ThreadPoolExecutor(2) as pool:
            shown = pool.submit(admin_cli, server, "tenant", "show", name)
            extra_key = pool.submit(admin_cli, server, "key", "create", "--user", user["name"], check=False)
            shown, extra_key = shown.result(), extra_key.result()
        counts = (shown["used_bytes"], shown["object_count"], shown["bucket_count"], shown["access_key_count"])
        assert counts == (600, 1, 1, 1), shown
        assert extra_key.returncode != 0 and extra_key.stderr.strip(), extra_key.stdout  # --max-access-keys 1
        expected = {"bucket": bucket, "max_bytes": 700, "max_objects": 1, "used_bytes": 600, "object_count": 1}
        quota = admin_cli(server, "bucket-quota", "set", bucket, "--max-bytes", "700", "--max-objects", "1")
        assert quota is None or quota == expected, quota
        with quota_exceeded():
            client.put_object(Bucket=bucket, Key="c", Body=b"c")  # a second object
        with quota_exceeded():
            client.put_object(Bucket=bucket, Key="a", Body=b"a" * 701)  # over the bucket's bytes
        assert admin_cli(server, "bucket-quota", "show", bucket) == expected
    finally:
        purge_everything(s3, bucket)


def test_tenant_show_counts_usage_exactly(server, s3, new_tenant):
    t = new_tenant()
    assert t.usage() == (0, 0, 0)
    b1, b2 = t.new_bucket(), t.new_bucket()
    assert t.usage() == (0, 0, 2)
    t.client.put_object(Bucket=b1, Key="a", Body=b"a" * 100)
    t.client.put_object(Bucket=b1, Key="b", Body=b"b" * 200)
    t.client.put_object(Bucket=b2, Key="c", Body=b"c" * 300)
    t.client.put_object(Bucket=b2, Key="empty", Body=b"")
    assert t.usage() == (600, 4, 2)
    t.client.put_object(Bucket=b1, Key="a", Body=b"a" * 150)  # an overwrite counts the difference
    assert t.usage() == (650, 4, 2)
    t.client.copy_object(Bucket=b2, Key="a-copy", CopySource={"Bucket": b1, "Key": "a"})
    assert t.usage() == (800, 5, 2)
    t.client.delete_object(Bucket=b1, Key="b")
    t.client.delete_objects(Bucket=b2, Delete={"Objects": [{"Key": "c"}, {"Key": "empty"}, {"Key": "missing"}]})
    assert t.usage() == (300, 2, 2)
    t.client.delete_object(Bucket=b2, Key="a-copy")
    t.client.delete_bucket(Bucket=b2)
    assert t.usage() == (150, 1, 1)
    shown = t.show()
    assert shown["access_key_count"] == 1 and shown["name"] == t.name, shown


def test_tenant_usage_of_a_versioned_bucket(server, s3, new_tenant):
    t = new_tenant(max_storage_bytes=1000)
    bucket = t.new_bucket()
    t.client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = t.client.put_object(Bucket=bucket, Key="k", Body=b"1" * 400)["VersionId"]
    v2 = t.client.put_object(Bucket=bucket, Key="k", Body=b"2" * 400)["VersionId"]
    assert t.usage()[0] == 800  # every version counts
    with quota_exceeded():
        t.client.put_object(Bucket=bucket, Key="k", Body=b"3" * 400)
    assert len(s3.list_object_versions(Bucket=bucket)["Versions"]) == 2
    marker = t.client.delete_object(Bucket=bucket, Key="k")["VersionId"]
    assert t.usage()[0] == 800  # a delete marker frees nothing
    t.client.delete_object(Bucket=bucket, Key="k", VersionId=v1)
    assert t.usage()[0] == 400
    t.client.put_object(Bucket=bucket, Key="k", Body=b"4" * 600)
    assert t.usage()[0] == 1000
    with quota_exceeded():
        t.client.put_object(Bucket=bucket, Key="other", Body=b"x")
    for version in (v2, marker):
        t.client.delete_object(Bucket=bucket, Key="k", VersionId=version)
    assert t.usage()[0] == 600


# --------------------------------------------------------------------------
# Buckets and keys
# --------------------------------------------------------------------------


def test_max_buckets(server, s3, new_tenant):
    t = new_tenant(max_buckets=2)
    _, key2 = add_user(server, t.name)
    other = client_for(server, key2)
    first = t.new_bucket()
    t.new_bucket(client=other)  # the limit is per tenant, whoever creates the bucket
    for client in (t.client, other):
        name = unique_name("q")
        with s3_error(400, "TooManyBuckets"):
            client.create_bucket(Bucket=name)
        assert not bucket_exists(s3, name)
    assert t.usage()[2] == 2
    t.client.delete_bucket(Bucket=first)  # deleting a bucket frees its slot
    t.new_bucket(client=other)
    with s3_error(400, "TooManyBuckets"):
        t.client.create_bucket(Bucket=unique_name("q"))
    t.set(max_buckets=3)
    t.new_bucket()
    assert t.usage()[2] == 3
    t.set(max_buckets=0)  # 0 = unlimited
    t.new_bucket()
    assert t.usage()[2] == 4


def test_max_buckets_race(server, s3, new_tenant):
    t = new_tenant(max_buckets=3, pool=16)
    names = [unique_name("qr") for _ in range(12)]

    def create(name):
        try:
            t.client.create_bucket(Bucket=name)
            return None
        except ClientError as exc:
            return error_of(exc)

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(create, names))
    created = [n for n, r in zip(names, results) if r is None]
    t.buckets.extend(names)  # cleanup skips the ones that do not exist
    assert all(r in (None, (400, "TooManyBuckets")) for r in results), results
    assert 1 <= len(created) <= 3, results
    owned = {b["Name"] for b in t.client.list_buckets()["Buckets"]} & set(names)
    assert owned == set(created)
    assert t.usage()[2] == len(created)


def test_max_access_keys(server, new_tenant):
    t = new_tenant(max_access_keys=2)  # the tenant's user already has one key
    user2, key2 = add_user(server, t.name)  # the second key of the tenant
    assert t.show()["access_key_count"] == 2
    for user in (t.user, user2["name"]):
        proc = admin_cli(server, "key", "create", "--user", user, check=False)
        assert proc.returncode != 0 and proc.stderr.strip(), proc.stdout
    assert t.show()["access_key_count"] == 2
    assert len(admin_cli(server, "key", "list", "--user", user2["name"])) == 1
    admin_cli(server, "key", "delete", key2["access_key_id"], json_out=False)
    assert t.show()["access_key_count"] == 1
    new = admin_cli(server, "key", "create", "--user", user2["name"])
    client_for(server, new).list_buckets()
    t.set(max_access_keys=0)  # 0 = unlimited
    admin_cli(server, "key", "create", "--user", user2["name"])
    assert t.show()["access_key_count"] == 3
    # Concurrent creations: with room for two more keys, at most two succeed.
    t.set(max_access_keys=5)
    with ThreadPoolExecutor(6) as pool:
        procs = list(pool.map(lambda _: admin_cli(server, "key", "create", "--user", t.user, check=False), range(6)))
    ok = [p for p in procs if p.returncode == 0]
    assert 1 <= len(ok) <= 2, [(p.returncode, p.stderr) for p in procs]
    assert all(p.stderr.strip() for p in procs if p.returncode != 0)
    keys = admin_cli(server, "key", "list", "--user", t.user)
    assert len(keys) == 1 + len(ok), keys
    assert t.show()["access_key_count"] == 3 + len(ok) <= 5


# --------------------------------------------------------------------------
# Tenant storage quota
# --------------------------------------------------------------------------


def test_storage_quota_put_overwrite_delete(server, s3, new_tenant, no_new_files):
    t = new_tenant(max_storage_bytes=1000)
    bucket = t.new_bucket()
    t.client.put_object(Bucket=bucket, Key="a", Body=b"a" * 600)
    with no_new_files(), quota_exceeded():
        t.client.put_object(Bucket=bucket, Key="b", Body=b"b" * 401)
    assert not object_exists(s3, bucket, "b")
    assert t.usage()[:2] == (600, 1)
    t.client.put_object(Bucket=bucket, Key="b", Body=b"b" * 400)  # exactly the quota
    assert t.usage()[:2] == (1000, 2)
    with no_new_files(), quota_exceeded():
        t.client.put_object(Bucket=bucket, Key="c", Body=b"c")
    t.client.put_object(Bucket=bucket, Key="empty", Body=b"")  # takes nothing over the quota
    # An overwrite counts the difference only.
    t.client.put_object(Bucket=bucket, Key="a", Body=b"A" * 500)
    assert t.usage()[0] == 900
    with no_new_files(), quota_exceeded():
        t.client.put_object(Bucket=bucket, Key="a", Body=b"X" * 601)
    assert get_body(s3, bucket, "a") == b"A" * 500
    t.client.put_object(Bucket=bucket, Key="a", Body=b"Y" * 600)
    assert t.usage()[:2] == (1000, 3)
    assert sum(listed_sizes(s3, bucket).values()) == 1000
    # Deletes give the bytes back.
    t.client.delete_object(Bucket=bucket, Key="b")
    assert t.usage()[:2] == (600, 2)
    t.client.put_object(Bucket=bucket, Key="c", Body=b"c" * 400)
    t.client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "c"}]})
    assert t.usage()[:2] == (0, 1)
    t.client.put_object(Bucket=bucket, Key="full", Body=b"f" * 1000)
    assert listed_sizes(s3, bucket) == {"empty": 0, "full": 1000}
    # A new quota applies at once, even below the usage: writes are refused, reads and deletes work.
    t.set(max_storage_bytes=500)
    with quota_exceeded():
        t.client.put_object(Bucket=bucket, Key="b", Body=b"b")
    assert get_body(t.client, bucket, "full") == b"f" * 1000
    t.client.delete_object(Bucket=bucket, Key="full")
    t.client.put_object(Bucket=bucket, Key="b", Body=b"b" * 500)
    t.set(max_storage_bytes=0)  # unlimited
    t.client.put_object(Bucket=bucket, Key="c", Body=b"c" * 5000)
    assert t.usage()[:2] == (5500, 3)


def test_storage_quota_refuses_large_bodies_before_storing(server, s3, new_tenant, no_new_files):
    t = new_tenant(max_storage_bytes=2 * MiB)
    bucket = t.new_bucket()
    t.client.put_object(Bucket=bucket, Key="small", Body=b"s" * 1000)
    for size, as_stream in [(2 * MiB + 1, False), (2 * MiB + 1, True), (9 * MiB, False)]:
        data = b"L" * size  # as a file, botocore sends Expect: 100-continue
        with no_new_files(), quota_exceeded():
            t.client.put_object(Bucket=bucket, Key="large", Body=io.BytesIO(data) if as_stream else data)
        assert not object_exists(s3, bucket, "large"), (size, as_stream)
    assert t.usage()[:2] == (1000, 1)
    t.client.put_object(Bucket=bucket, Key="fits", Body=b"f" * (2 * MiB - 1000))  # the rest fits exactly
    assert t.usage()[0] == 2 * MiB


def test_storage_quota_copy_object(server, s3, new_tenant, no_new_files):
    t = new_tenant(max_storage_bytes=1000)
    bucket = t.new_bucket()
    t.client.put_object(Bucket=bucket, Key="src", Body=b"s" * 600)
    with no_new_files(), quota_exceeded():
        t.client.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "src"})
    assert not object_exists(s3, bucket, "copy")
    # Copying over itself (new metadata) replaces the object: the difference (0) counts, not another 600 bytes.
    t.client.copy_object(
        Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"}, MetadataDirective="REPLACE",
        Metadata={"m": "1"},
    )
    assert t.usage()[:2] == (600, 1)
    t.client.put_object(Bucket=bucket, Key="small", Body=b"x" * 400)
    with no_new_files(), quota_exceeded():
        t.client.copy_object(Bucket=bucket, Key="small-copy", CopySource={"Bucket": bucket, "Key": "small"})
    # A copy that replaces a larger object shrinks the usage.
    t.client.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "small"})
    assert t.usage()[:2] == (800, 2)
    # The quota also guards copies from a bucket outside the tenant.
    outside = unique_name("qo")
    s3.create_bucket(Bucket=outside)
    try:
        s3.put_object(Bucket=outside, Key="big", Body=b"b" * 300)
        admin_cli(server, "bucket-permission", "grant", outside, "--user", t.user, "--level", "read")
        with no_new_files(), quota_exceeded():
            t.client.copy_object(Bucket=bucket, Key="from-outside", CopySource={"Bucket": outside, "Key": "big"})
        assert not object_exists(s3, bucket, "from-outside")
    finally:
        purge_everything(s3, outside)
    assert t.usage()[:2] == (800, 2)


def test_storage_quota_multipart(server, s3, new_tenant, no_new_files):
    t = new_tenant(max_storage_bytes=12 * MiB)
    bucket = t.new_bucket()
    c = t.client
    part = b"p" * (5 * MiB)
    upload = c.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    e1 = c.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=part)["ETag"]
    assert t.usage()[0] == 5 * MiB  # parts of an upload in progress count
    e2 = c.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=2, Body=part)["ETag"]
    assert t.usage()[0] == 10 * MiB
    with no_new_files(), quota_exceeded():
        c.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=3, Body=part)
    parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1, 2]
    # A second upload: its 1 MiB part fits; a part copied from a 10 MiB source does not.
    c.put_object(Bucket=bucket, Key="tiny", Body=b"t" * 1000)
    other = c.create_multipart_upload(Bucket=bucket, Key="other")["UploadId"]
    c.upload_part(Bucket=bucket, Key="other", UploadId=other, PartNumber=1, Body=b"o" * MiB)
    assert t.usage()[0] == 11 * MiB + 1000
    c.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    assert t.usage()[:2] == (11 * MiB + 1000, 2)  # completing keeps the total: the parts became the object
    assert s3.head_object(Bucket=bucket, Key="mp")["ContentLength"] == 10 * MiB
    with no_new_files(), quota_exceeded():
        c.upload_part_copy(Bucket=bucket, Key="other", UploadId=other, PartNumber=2,
                           CopySource={"Bucket": bucket, "Key": "mp"})
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key="other", UploadId=other)["Parts"]] == [1]
    c.abort_multipart_upload(Bucket=bucket, Key="other", UploadId=other)  # aborting gives the part back
    assert t.usage()[0] == 10 * MiB + 1000
    c.delete_object(Bucket=bucket, Key="mp")
    assert t.usage()[:2] == (1000, 1)


# --------------------------------------------------------------------------
# Bucket quotas
# --------------------------------------------------------------------------


def bucket_quota(server, bucket: str) -> dict:
    return admin_cli(server, "bucket-quota", "show", bucket)


def set_bucket_quota(server, bucket: str, max_bytes: int, max_objects: int) -> dict | None:
    return admin_cli(server, "bucket-quota", "set", bucket, "--max-bytes", str(max_bytes), "--max-objects", str(max_objects))


def test_bucket_quota_bytes_and_objects(server, s3, bucket, no_new_files):
    expected = {"bucket": bucket, "max_bytes": 1000, "max_objects": 3, "used_bytes": 0, "object_count": 0}
    shown = set_bucket_quota(server, bucket, 1000, 3)
    assert shown is None or shown == expected, shown
    assert bucket_quota(server, bucket) == expected
    s3.put_object(Bucket=bucket, Key="a", Body=b"a" * 400)
    s3.put_object(Bucket=bucket, Key="b", Body=b"b" * 400)
    with no_new_files(), quota_exceeded():
        s3.put_object(Bucket=bucket, Key="c", Body=b"c" * 201)  # bytes
    s3.put_object(Bucket=bucket, Key="c", Body=b"c" * 200)
    assert bucket_quota(server, bucket) == dict(expected, used_bytes=1000, object_count=3)
    with no_new_files(), quota_exceeded():
        s3.put_object(Bucket=bucket, Key="d", Body=b"")  # objects
    with no_new_files(), quota_exceeded():
        s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "c"})
    assert not object_exists(s3, bucket, "d")
    s3.put_object(Bucket=bucket, Key="a", Body=b"A" * 100)  # an overwrite adds no object
    assert bucket_quota(server, bucket) == dict(expected, used_bytes=700, object_count=3)
    s3.delete_object(Bucket=bucket, Key="b")
    s3.put_object(Bucket=bucket, Key="d", Body=b"d" * 300)
    assert bucket_quota(server, bucket) == dict(expected, used_bytes=600, object_count=3)
    assert listed_sizes(s3, bucket) == {"a": 100, "c": 200, "d": 300}
    # 0 lifts a limit.
    set_bucket_quota(server, bucket, 1000, 0)
    s3.put_object(Bucket=bucket, Key="e", Body=b"e" * 400)
    with quota_exceeded():
        s3.put_object(Bucket=bucket, Key="f", Body=b"f")
    set_bucket_quota(server, bucket, 0, 0)
    s3.put_object(Bucket=bucket, Key="f", Body=b"f" * 5000)
    assert bucket_quota(server, bucket) == {
        "bucket": bucket, "max_bytes": 0, "max_objects": 0, "used_bytes": 6000, "object_count": 5,
    }


def test_bucket_quota_multipart(server, s3, bucket, no_new_files):
    set_bucket_quota(server, bucket, 6 * MiB, 0)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    try:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"1" * (5 * MiB))
        with no_new_files(), quota_exceeded():
            s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=2, Body=b"2" * (5 * MiB))
        assert bucket_quota(server, bucket)["used_bytes"] == 5 * MiB
        with quota_exceeded():
            s3.put_object(Bucket=bucket, Key="k", Body=b"k" * (MiB + 1))
    finally:
        s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload)
    assert bucket_quota(server, bucket)["used_bytes"] == 0
    s3.put_object(Bucket=bucket, Key="k", Body=b"k" * (MiB + 1))


def test_bucket_quota_inside_a_tenant_quota(server, new_tenant):
    t = new_tenant(max_storage_bytes=1000)
    small, big = t.new_bucket(), t.new_bucket()
    set_bucket_quota(server, small, 300, 0)
    with quota_exceeded():
        t.client.put_object(Bucket=small, Key="k", Body=b"k" * 301)  # the bucket's limit
    t.client.put_object(Bucket=small, Key="k", Body=b"k" * 300)
    t.client.put_object(Bucket=big, Key="k", Body=b"k" * 700)
    with quota_exceeded():
        t.client.put_object(Bucket=big, Key="more", Body=b"m")  # the tenant's limit
    assert t.usage()[0] == 1000
    assert bucket_quota(server, small)["used_bytes"] == 300 and bucket_quota(server, big)["used_bytes"] == 700


def test_bucket_quota_errors(server, bucket):
    missing = unique_name("nobucket")
    with ThreadPoolExecutor(4) as pool:
        procs = list(pool.map(lambda args: admin_cli(server, "bucket-quota", *args, check=False), [
            ["show", missing],
            ["set", missing, "--max-bytes", "1"],
            ["set", bucket, "--max-bytes", "-1"],
            ["set", bucket, "--max-objects", "many"],
        ]))
    for proc in procs:
        assert proc.returncode != 0 and proc.stderr.strip(), (proc.args[-5:], proc.stdout)
    assert bucket_quota(server, bucket)["max_bytes"] == 0


# --------------------------------------------------------------------------
# Races
# --------------------------------------------------------------------------


class UsageSampler:
    """Polls the tenant's used_bytes (`tenant show`) in the background; `peak` is the highest value seen."""

    def __init__(self, server, tenant: str):
        self.server, self.tenant = server, tenant
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            proc = admin_cli(self.server, "tenant", "show", self.tenant, check=False)
            if proc.returncode == 0:
                self.samples.append(json.loads(proc.stdout)["used_bytes"])

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(60)

    @property
    def peak(self) -> int:
        return max(self.samples, default=0)


def concurrent_calls(fn, items, workers: int) -> list:
    """Run fn(item) concurrently; each result is None (success) or the (status, code) of a ClientError or the
    repr of any other exception."""
    barrier = threading.Barrier(min(workers, len(items)))

    def one(item):
        try:
            barrier.wait(30)
        except threading.BrokenBarrierError:
            pass
        try:
            fn(item)
            return None
        except ClientError as exc:
            return error_of(exc)
        except Exception as exc:  # a connection reset instead of an answer is a failure too
            return repr(exc)

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, items))


@pytest.mark.parametrize(
    "size, count",
    [(MiB, 120), (MiB + 1, 120), (2 * MiB, 12)],
    ids=["120x1MiB", "120x1MiB+1", "12x2MiB"],
)
def test_race_concurrent_puts_never_exceed_the_quota(server, s3, new_tenant, size, count):
    quota = 10 * MiB
    t = new_tenant(max_storage_bytes=quota, pool=128)
    bucket = t.new_bucket()
    body = b"r" * size
    keys = [f"race/{i:03d}" for i in range(count)]
    with UsageSampler(server, t.name) as sampler:
        results = concurrent_calls(lambda k: t.client.put_object(Bucket=bucket, Key=k, Body=body), keys, count)
    succeeded = [k for k, r in zip(keys, results) if r is None]
    failures = [r for r in results if r is not None]
    assert all(r == (403, "QuotaExceeded") for r in failures), sorted(set(map(str, failures)))
    assert succeeded, "no PUT succeeded"
    assert len(succeeded) * size <= quota, f"{len(succeeded)} PUTs of {size} bytes succeeded"
    sizes = listed_sizes(s3, bucket)
    assert set(sizes) == set(succeeded), "what is listed is not what succeeded"
    assert sum(sizes.values()) <= quota
    used, objects, _ = t.usage()
    assert (used, objects) == (sum(sizes.values()), len(succeeded))
    assert sampler.peak <= quota, f"used_bytes reached {sampler.peak} during the race"
    wait_no_temp_files(server)

    # Deleting gives every byte back: the quota then holds exactly floor(quota / size) new objects.
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in succeeded], "Quiet": True})
    assert t.usage()[:2] == (0, 0)
    fits = quota // size
    refill = [f"refill/{i:03d}" for i in range(fits)]
    results = concurrent_calls(lambda k: t.client.put_object(Bucket=bucket, Key=k, Body=body), refill, fits)
    assert results == [None] * fits, results
    with quota_exceeded():
        t.client.put_object(Bucket=bucket, Key="one-too-many", Body=body)
    assert t.usage()[:2] == (fits * size, fits)
    wait_no_temp_files(server)


def test_race_concurrent_upload_parts_never_exceed_the_quota(server, s3, new_tenant):
    quota = 12 * MiB
    t = new_tenant(max_storage_bytes=quota, pool=32)
    bucket = t.new_bucket()
    part = b"m" * (5 * MiB)
    uploads = {f"mp/{i}": t.client.create_multipart_upload(Bucket=bucket, Key=f"mp/{i}")["UploadId"] for i in range(4)}
    jobs = [(key, n) for key in uploads for n in (1, 2)]

    def upload_part(job):
        key, n = job
        t.client.upload_part(Bucket=bucket, Key=key, UploadId=uploads[key], PartNumber=n, Body=part)

    with UsageSampler(server, t.name) as sampler:
        results = concurrent_calls(upload_part, jobs, len(jobs))
    failures = [r for r in results if r is not None]
    assert all(r == (403, "QuotaExceeded") for r in failures), sorted(set(map(str, failures)))
    ok = [job for job, r in zip(jobs, results) if r is None]
    assert 1 <= len(ok) and len(ok) * len(part) <= quota, results
    stored = {
        key: [(p["PartNumber"], p["Size"]) for p in s3.list_parts(Bucket=bucket, Key=key, UploadId=up).get("Parts", [])]
        for key, up in uploads.items()
    }
    assert sorted((k, n) for k, parts in stored.items() for n, _ in parts) == sorted(ok)
    total = sum(size for parts in stored.values() for _, size in parts)
    assert total <= quota and t.usage()[0] == total
    assert sampler.peak <= quota, f"used_bytes reached {sampler.peak} during the race"
    wait_no_temp_files(server)

    # Completing an upload keeps the total; aborting the others and deleting the object frees everything.
    key = next(k for k, parts in stored.items() if parts)
    etags = {p["PartNumber"]: p["ETag"] for p in s3.list_parts(Bucket=bucket, Key=key, UploadId=uploads[key])["Parts"]}
    t.client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=uploads.pop(key),
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in sorted(etags.items())]},
    )
    assert t.usage()[0] == total
    for k, up in uploads.items():
        t.client.abort_multipart_upload(Bucket=bucket, Key=k, UploadId=up)
    t.client.delete_object(Bucket=bucket, Key=key)
    assert t.usage()[:2] == (0, 0)
    t.client.put_object(Bucket=bucket, Key="after", Body=b"a" * (10 * MiB))


def test_race_bucket_object_quota(server, s3, bucket):
    set_bucket_quota(server, bucket, 0, 10)
    client = make_client(server.endpoint, max_pool_connections=64, retries={"total_max_attempts": 1})
    keys = [f"o/{i:02d}" for i in range(60)]
    results = concurrent_calls(lambda k: client.put_object(Bucket=bucket, Key=k, Body=b"x"), keys, 60)
    assert all(r in (None, (403, "QuotaExceeded")) for r in results), sorted(set(map(str, results)))
    succeeded = [k for k, r in zip(keys, results) if r is None]
    assert 1 <= len(succeeded) <= 10, results
    assert set(listed_sizes(s3, bucket)) == set(succeeded)
    shown = bucket_quota(server, bucket)
    assert (shown["object_count"], shown["used_bytes"]) == (len(succeeded), len(succeeded))
    set_bucket_quota(server, bucket, 0, 0)
