"""Access control lists, object ownership (OwnershipControls), PublicAccessBlock and bucket-policy status, as
AWS S3 documents them:

- https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html (canned ACLs, grantees, permissions)
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html

New buckets default to BucketOwnerEnforced (ACLs disabled). Buckets created with ObjectOwnership ObjectWriter or
BucketOwnerPreferred honour ACLs. Canonical user ids are MaxIOFS user ids (`user_id` of `key create --json`).

Everything runs against the shared session server with unique names. The root client `s3` (the global admin) sets
things up and inspects them; two tenants' users exercise cross-principal effects; anonymous requests are unsigned.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

import botocore
import pytest
from botocore.exceptions import ClientError

from conftest import (
    admin_cli,
    assert_error_response,
    bucket_exists,
    get_body,
    make_client,
    md5_b64,
    object_exists,
    object_path,
    purge_bucket,
    raw_request,
    s3_error,
    unique_name,
)

PW = "Acl-Passw0rd-1!"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
BODY = b"acl test body"
OW = {"ObjectOwnership": "ObjectWriter"}


# --------------------------------------------------------------------------
# Principals
# --------------------------------------------------------------------------


@dataclass
class Account:
    name: str
    id: str  # canonical id
    client: Any = field(repr=False)


def create_account(server, tenant: str, prefix: str) -> Account:
    name = unique_name(prefix)
    user = admin_cli(server, "user", "create", name, "--password", PW, "--tenant", tenant)
    key = admin_cli(server, "key", "create", "--user", name)
    assert key["user_id"] == user["id"], (user, key)
    return Account(name, key["user_id"], make_client(server.endpoint, key["access_key_id"], key["secret_access_key"]))


@dataclass
class World:
    server: Any = field(repr=False)
    s3: Any = field(repr=False)  # the root key: the global administrator "admin"
    admin_id: str
    tenant_a: str
    tenant_b: str
    owner: Account  # tenant A: creates the buckets of cross-principal tests
    peer: Account  # tenant A: a plain user without grants
    b_user: Account  # tenant B
    b_other: Account  # tenant B
    anon: Any = field(repr=False)  # an unsigned boto3 client


@pytest.fixture(scope="module")
def w(server, s3):
    with ThreadPoolExecutor(3) as pool:
        futures = [
            pool.submit(admin_cli, server, "tenant", "create", unique_name("acla")),
            pool.submit(admin_cli, server, "tenant", "create", unique_name("aclb")),
            pool.submit(admin_cli, server, "user", "show", "admin"),
        ]
        tenant_a, tenant_b, admin = [f.result() for f in futures]
    tenants = (tenant_a["name"], tenant_b["name"])
    try:
        specs = [(tenants[0], "owner"), (tenants[0], "peer"), (tenants[1], "buser"), (tenants[1], "bother")]
        with ThreadPoolExecutor(4) as pool:
            owner, peer, b_user, b_other = pool.map(lambda spec: create_account(server, *spec), specs)
        anon = make_client(server.endpoint, signature_version=botocore.UNSIGNED)
        yield World(server, s3, admin["id"], *tenants, owner, peer, b_user, b_other, anon)
    finally:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(
                lambda t: admin_cli(server, "tenant", "delete", t, "--force", json_out=False, check=False), tenants))


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def error_of(exc: ClientError) -> tuple[int, str]:
    return exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"].get("Code")


def purge(s3, bucket: str) -> None:
    """Every version, delete marker and upload, then the bucket (best effort)."""
    with contextlib.suppress(ClientError):
        s3.delete_bucket_policy(Bucket=bucket)
    with contextlib.suppress(ClientError):
        targets = [
            {"Key": e["Key"], "VersionId": e["VersionId"]}
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
            for e in page.get("Versions", []) + page.get("DeleteMarkers", [])
            if e.get("VersionId") not in (None, "null")
        ]
        for i in range(0, len(targets), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": targets[i : i + 1000], "Quiet": True})
    with contextlib.suppress(ClientError):
        for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    try:
        purge_bucket(s3, bucket)
    except Exception as exc:  # noqa: BLE001 - cleanup only
        warnings.warn(f"cleanup of {bucket} failed: {exc}")


@contextlib.contextmanager
def new_bucket(w: World, creator=None, *, versioned: bool = False, prefix: str = "acl", **create_kw):
    """A bucket created by `creator` (default: the root client) with CreateBucket arguments `create_kw`."""
    name = unique_name(prefix)
    (creator or w.s3).create_bucket(Bucket=name, **create_kw)
    try:
        if versioned:
            w.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        yield name
    finally:
        purge(w.s3, name)


def grants_of(acl: dict) -> list[tuple[str, str, str]]:
    """(kind, who, permission) for each grant: ("id", canonical id, P) or ("uri", group URI, P)."""
    out = []
    for g in acl.get("Grants", []):
        grantee = g["Grantee"]
        if grantee["Type"] == "CanonicalUser":
            out.append(("id", grantee["ID"], g["Permission"]))
        elif grantee["Type"] == "Group":
            out.append(("uri", grantee["URI"], g["Permission"]))
        else:
            out.append((grantee["Type"], grantee.get("EmailAddress", ""), g["Permission"]))
    return out


def grant_set(acl: dict) -> set[tuple[str, str, str]]:
    return set(grants_of(acl))


def full(who: str) -> tuple[str, str, str]:
    return ("id", who, "FULL_CONTROL")


CANNED_EXTRA = {
    "private": set(),
    "public-read": {("uri", ALL_USERS, "READ")},
    "public-read-write": {("uri", ALL_USERS, "READ"), ("uri", ALL_USERS, "WRITE")},
    "authenticated-read": {("uri", AUTH_USERS, "READ")},
}
PUBLIC_READ = {"public-read", "public-read-write"}
SIGNED_READ = PUBLIC_READ | {"authenticated-read"}


def canned(name: str, owner: str) -> set[tuple[str, str, str]]:
    return {full(owner)} | CANNED_EXTRA[name]


def assert_owner_only(acl: dict, owner: str) -> None:
    """What AWS shows when ACLs are disabled: the bucket owner, with exactly one FULL_CONTROL grant to itself."""
    assert acl["Owner"]["ID"] == owner, acl["Owner"]
    assert grants_of(acl) == [full(owner)], acl["Grants"]


def ownership_of(s3, bucket: str) -> str:
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert len(rules) == 1, rules
    return rules[0]["ObjectOwnership"]


def set_ownership(s3, bucket: str, value: str) -> None:
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": value}]})


def anon(w: World, method: str, bucket: str, key: str = "", body: bytes = b"", query=None):
    """An unsigned request (requests)."""
    return raw_request(w.server, method, object_path(bucket, key), body=body, query=query, sign=False)


def anon_get_status(w: World, bucket: str, key: str, **query) -> int:
    resp = anon(w, "GET", bucket, key, query=query or None)
    if resp.status_code == 200:
        assert resp.content != b"" or key == "", resp
    else:
        assert_error_response(resp, 403, "AccessDenied")
    return resp.status_code


def can(call: Callable[[], Any]) -> bool:
    """True if the call works, False on 403 AccessDenied; anything else fails the test."""
    try:
        call()
    except ClientError as exc:
        assert error_of(exc) == (403, "AccessDenied"), exc.response
        return False
    return True


def can_get(client, bucket: str, key: str, **kw) -> bool:
    return can(lambda: client.get_object(Bucket=bucket, Key=key, **kw)["Body"].read())


def can_list(client, bucket: str) -> bool:
    return can(lambda: client.list_objects_v2(Bucket=bucket))


def public_policy(bucket: str, actions=("s3:GetObject",), **extra) -> str:
    statement = {
        "Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": list(actions),
        "Resource": [f"arn:aws:s3:::{bucket}/*", f"arn:aws:s3:::{bucket}"],
    }
    statement.update(extra)
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def account_policy(bucket: str, account: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "OneAccount", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
        }],
    })


def policy_is_public(s3, bucket: str) -> bool:
    return s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"]


def pab(**flags) -> dict:
    return {"PublicAccessBlockConfiguration": flags}


# --------------------------------------------------------------------------
# Object ownership (OwnershipControls)
# --------------------------------------------------------------------------


def test_new_bucket_defaults_to_bucket_owner_enforced(w):
    with new_bucket(w) as b:
        assert ownership_of(w.s3, b) == "BucketOwnerEnforced"
    with new_bucket(w, w.owner.client) as b:
        assert ownership_of(w.owner.client, b) == "BucketOwnerEnforced"


@pytest.mark.parametrize("ownership", ["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"])
def test_create_bucket_with_object_ownership(w, ownership):
    with new_bucket(w, ObjectOwnership=ownership) as b:
        assert ownership_of(w.s3, b) == ownership
        if ownership == "BucketOwnerEnforced":
            with s3_error(400, "AccessControlListNotSupported"):
                w.s3.put_bucket_acl(Bucket=b, ACL="public-read")
            assert_owner_only(w.s3.get_bucket_acl(Bucket=b), w.admin_id)
        else:
            w.s3.put_bucket_acl(Bucket=b, ACL="public-read")
            assert grant_set(w.s3.get_bucket_acl(Bucket=b)) == canned("public-read", w.admin_id)


def test_create_bucket_with_invalid_object_ownership(w):
    name = unique_name("acl")
    with s3_error(400, "InvalidArgument"):
        w.s3.create_bucket(Bucket=name, ObjectOwnership="EveryoneOwnsEverything")
    assert not bucket_exists(w.s3, name)


def test_put_get_delete_ownership_controls(w):
    with new_bucket(w) as b:
        for value in ("ObjectWriter", "BucketOwnerPreferred", "BucketOwnerEnforced", "ObjectWriter"):
            set_ownership(w.s3, b, value)
            assert ownership_of(w.s3, b) == value
        w.s3.delete_bucket_ownership_controls(Bucket=b)
        with s3_error(404, "OwnershipControlsNotFoundError"):
            w.s3.get_bucket_ownership_controls(Bucket=b)
        # Without controls the bucket behaves as ObjectWriter: ACLs count.
        w.s3.put_bucket_acl(Bucket=b, ACL="public-read")
        assert grant_set(w.s3.get_bucket_acl(Bucket=b)) == canned("public-read", w.admin_id)
        w.s3.put_object(Bucket=b, Key="pub", Body=BODY, ACL="public-read")
        assert can_list(w.anon, b)
        assert anon_get_status(w, b, "pub") == 200
        # Setting controls again works.
        w.s3.put_bucket_acl(Bucket=b, ACL="private")
        set_ownership(w.s3, b, "BucketOwnerEnforced")
        assert ownership_of(w.s3, b) == "BucketOwnerEnforced"


def test_enforcing_needs_a_bucket_acl_without_other_grantees(w):
    # AWS: PutBucketOwnershipControls BucketOwnerEnforced on a bucket whose ACL grants to others fails.
    with new_bucket(w, ACL="public-read", **OW) as b:
        with s3_error(400, "InvalidBucketAclWithObjectOwnership"):
            set_ownership(w.s3, b, "BucketOwnerEnforced")
        assert ownership_of(w.s3, b) == "ObjectWriter"
        w.s3.put_bucket_acl(Bucket=b, ACL="private")
        set_ownership(w.s3, b, "BucketOwnerEnforced")
        assert ownership_of(w.s3, b) == "BucketOwnerEnforced"


def test_disabling_acls_suspends_object_acls_and_enabling_restores_them(w):
    with new_bucket(w, **OW) as b:
        w.s3.put_object(Bucket=b, Key="pub", Body=BODY, ACL="public-read")
        assert anon_get_status(w, b, "pub") == 200
        set_ownership(w.s3, b, "BucketOwnerEnforced")
        assert anon_get_status(w, b, "pub") == 403
        assert_owner_only(w.s3.get_object_acl(Bucket=b, Key="pub"), w.admin_id)
        # The ACLs are kept and count again once ACLs are enabled again.
        set_ownership(w.s3, b, "ObjectWriter")
        assert anon_get_status(w, b, "pub") == 200
        assert grant_set(w.s3.get_object_acl(Bucket=b, Key="pub")) == canned("public-read", w.admin_id)


OWNERSHIPS = ["ObjectWriter", "BucketOwnerPreferred", "BucketOwnerEnforced"]


@contextlib.contextmanager
def written_by_another_account(server, w: World, ownership: str):
    """`owner`'s bucket with this ownership, where b_user (tenant B, allowed to write by a MaxIOFS bucket grant)
    wrote "plain" (no ACL) and "bofc" (bucket-owner-full-control); yields (bucket, {key: expected owner id})."""
    with new_bucket(w, w.owner.client, ObjectOwnership=ownership) as b:
        admin_cli(server, "bucket-permission", "grant", b, "--user", w.b_user.name, "--level", "write")
        w.b_user.client.put_object(Bucket=b, Key="plain", Body=BODY)
        w.b_user.client.put_object(Bucket=b, Key="bofc", Body=BODY, ACL="bucket-owner-full-control")
        yield b, {
            "ObjectWriter": {"plain": w.b_user.id, "bofc": w.b_user.id},
            "BucketOwnerPreferred": {"plain": w.b_user.id, "bofc": w.owner.id},
            "BucketOwnerEnforced": {"plain": w.owner.id, "bofc": w.owner.id},
        }[ownership]


@pytest.mark.parametrize("ownership", OWNERSHIPS)
def test_who_owns_an_object_another_account_writes(server, w, ownership):
    with written_by_another_account(server, w, ownership) as (b, expected):
        for key, object_owner in expected.items():
            acl = w.s3.get_object_acl(Bucket=b, Key=key)
            assert acl["Owner"]["ID"] == object_owner, (key, acl)
            if ownership == "BucketOwnerEnforced":
                assert_owner_only(acl, w.owner.id)
            else:
                assert full(object_owner) in grant_set(acl), (key, acl["Grants"])
                if key == "bofc":
                    assert full(w.owner.id) in grant_set(acl), acl["Grants"]


@pytest.mark.parametrize("ownership", OWNERSHIPS)
def test_listings_show_the_object_owner(server, w, ownership):
    # ListObjects(V2) / ListObjectVersions name each object's owner: the writer unless the bucket owner owns it.
    with written_by_another_account(server, w, ownership) as (b, expected):
        v2 = w.s3.list_objects_v2(Bucket=b, FetchOwner=True)["Contents"]
        assert {o["Key"]: o["Owner"]["ID"] for o in v2} == expected
        v1 = w.s3.list_objects(Bucket=b)["Contents"]
        assert {o["Key"]: o["Owner"]["ID"] for o in v1} == expected
        versions = w.s3.list_object_versions(Bucket=b)["Versions"]
        assert {o["Key"]: o["Owner"]["ID"] for o in versions} == expected


# --------------------------------------------------------------------------
# ACLs disabled (BucketOwnerEnforced)
# --------------------------------------------------------------------------


def test_enforced_acls_show_only_the_bucket_owner(server, w):
    with new_bucket(w, w.owner.client) as b:
        admin_cli(server, "bucket-permission", "grant", b, "--user", w.b_user.name, "--level", "write")
        w.owner.client.put_object(Bucket=b, Key="by-owner", Body=BODY)
        w.b_user.client.put_object(Bucket=b, Key="by-b-user", Body=BODY)
        assert_owner_only(w.s3.get_bucket_acl(Bucket=b), w.owner.id)
        assert_owner_only(w.owner.client.get_bucket_acl(Bucket=b), w.owner.id)
        for key in ("by-owner", "by-b-user"):
            assert_owner_only(w.s3.get_object_acl(Bucket=b, Key=key), w.owner.id)


def _owner_only_body(w: World) -> dict:
    return {
        "Owner": {"ID": w.admin_id},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": w.admin_id}, "Permission": "FULL_CONTROL"}],
    }


ENFORCED_ACCEPTED: dict[str, Callable[[World, str], Any]] = {
    "PutBucketAcl-private": lambda w, b: w.s3.put_bucket_acl(Bucket=b, ACL="private"),
    "PutBucketAcl-bucket-owner-full-control": lambda w, b: w.s3.put_bucket_acl(
        Bucket=b, ACL="bucket-owner-full-control"),
    "PutBucketAcl-body-owner-only": lambda w, b: w.s3.put_bucket_acl(Bucket=b, AccessControlPolicy=_owner_only_body(w)),
    "PutObjectAcl-private": lambda w, b: w.s3.put_object_acl(Bucket=b, Key="k", ACL="private"),
    "PutObjectAcl-bucket-owner-full-control": lambda w, b: w.s3.put_object_acl(
        Bucket=b, Key="k", ACL="bucket-owner-full-control"),
    "PutObjectAcl-body-owner-only": lambda w, b: w.s3.put_object_acl(
        Bucket=b, Key="k", AccessControlPolicy=_owner_only_body(w)),
    "PutObject-bucket-owner-full-control": lambda w, b: w.s3.put_object(
        Bucket=b, Key="k", Body=BODY, ACL="bucket-owner-full-control"),
    "CopyObject-bucket-owner-full-control": lambda w, b: w.s3.copy_object(
        Bucket=b, Key="k", CopySource={"Bucket": b, "Key": "k"}, MetadataDirective="REPLACE",
        ACL="bucket-owner-full-control"),
}


@pytest.mark.parametrize("case", ENFORCED_ACCEPTED.keys())
def test_enforced_accepts_owner_only_acls(w, case):
    with new_bucket(w) as b:
        w.s3.put_object(Bucket=b, Key="k", Body=BODY)
        ENFORCED_ACCEPTED[case](w, b)
        assert get_body(w.s3, b, "k") == BODY
        assert_owner_only(w.s3.get_bucket_acl(Bucket=b), w.admin_id)
        assert_owner_only(w.s3.get_object_acl(Bucket=b, Key="k"), w.admin_id)


ENFORCED_REFUSALS: dict[str, Callable[[World, str], Any]] = {
    "PutBucketAcl-public-read": lambda w, b: w.s3.put_bucket_acl(Bucket=b, ACL="public-read"),
    "PutBucketAcl-public-read-write": lambda w, b: w.s3.put_bucket_acl(Bucket=b, ACL="public-read-write"),
    "PutBucketAcl-authenticated-read": lambda w, b: w.s3.put_bucket_acl(Bucket=b, ACL="authenticated-read"),
    "PutBucketAcl-grant-AllUsers": lambda w, b: w.s3.put_bucket_acl(
        Bucket=b, GrantFullControl=f'id="{w.admin_id}"', GrantRead=f'uri="{ALL_USERS}"'),
    "PutBucketAcl-grant-user": lambda w, b: w.s3.put_bucket_acl(
        Bucket=b, GrantFullControl=f'id="{w.admin_id}"', GrantRead=f'id="{w.b_user.id}"'),
    "PutBucketAcl-body-user": lambda w, b: w.s3.put_bucket_acl(Bucket=b, AccessControlPolicy={
        "Owner": {"ID": w.admin_id},
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": w.admin_id}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "CanonicalUser", "ID": w.b_user.id}, "Permission": "READ"},
        ]}),
    "PutObjectAcl-public-read": lambda w, b: w.s3.put_object_acl(Bucket=b, Key="k", ACL="public-read"),
    "PutObjectAcl-authenticated-read": lambda w, b: w.s3.put_object_acl(Bucket=b, Key="k", ACL="authenticated-read"),
    "PutObjectAcl-grant-user": lambda w, b: w.s3.put_object_acl(Bucket=b, Key="k", GrantRead=f'id="{w.b_user.id}"'),
    "PutObject-public-read": lambda w, b: w.s3.put_object(Bucket=b, Key="new", Body=BODY, ACL="public-read"),
    "PutObject-grant-AllUsers": lambda w, b: w.s3.put_object(
        Bucket=b, Key="new", Body=BODY, GrantRead=f'uri="{ALL_USERS}"'),
    "CopyObject-public-read": lambda w, b: w.s3.copy_object(
        Bucket=b, Key="new", CopySource={"Bucket": b, "Key": "k"}, ACL="public-read"),
    "CreateMultipartUpload-public-read": lambda w, b: w.s3.create_multipart_upload(
        Bucket=b, Key="new", ACL="public-read"),
}


@pytest.fixture(scope="module")
def enforced_bucket(w):
    with new_bucket(w, prefix="aclenf") as b:
        w.s3.put_object(Bucket=b, Key="k", Body=BODY)
        yield b


@pytest.mark.parametrize("case", ENFORCED_REFUSALS.keys())
def test_enforced_refuses_other_acls(w, enforced_bucket, case):
    b = enforced_bucket
    with s3_error(400, "AccessControlListNotSupported"):
        ENFORCED_REFUSALS[case](w, b)
    assert not object_exists(w.s3, b, "new")
    assert not w.s3.list_multipart_uploads(Bucket=b).get("Uploads")
    assert_owner_only(w.s3.get_bucket_acl(Bucket=b), w.admin_id)
    assert anon_get_status(w, b, "k") == 403
    assert not can_get(w.b_user.client, b, "k")


@pytest.mark.parametrize("ownership", [None, "BucketOwnerEnforced"])
def test_create_bucket_with_public_acl_and_acls_disabled(w, ownership):
    name = unique_name("acl")
    kw = {"ObjectOwnership": ownership} if ownership else {}
    with s3_error(400, "InvalidBucketAclWithObjectOwnership"):
        w.s3.create_bucket(Bucket=name, ACL="public-read", **kw)
    assert not bucket_exists(w.s3, name)


# --------------------------------------------------------------------------
# ACLs enabled: canned ACLs
# --------------------------------------------------------------------------


@pytest.mark.parametrize("acl", list(CANNED_EXTRA))
def test_bucket_canned_acl(w, acl):
    with new_bucket(w, ACL=acl, **OW) as b:
        got = w.s3.get_bucket_acl(Bucket=b)
        assert got["Owner"]["ID"] == w.admin_id
        assert grant_set(got) == canned(acl, w.admin_id), got["Grants"]
        w.s3.put_object(Bucket=b, Key="private-object", Body=BODY)
        assert can_list(w.anon, b) == (acl in PUBLIC_READ)
        assert can_list(w.b_user.client, b) == (acl in SIGNED_READ)
        # The bucket's READ lists keys; it does not read objects.
        assert anon_get_status(w, b, "private-object") == 403
        put = anon(w, "PUT", b, "by-anonymous", body=b"anonymous")
        if acl == "public-read-write":
            assert put.status_code == 200, put.content
            assert get_body(w.s3, b, "by-anonymous") == b"anonymous"
        else:
            assert_error_response(put, 403, "AccessDenied")
            assert not object_exists(w.s3, b, "by-anonymous")
        # PutBucketAcl replaces the ACL.
        w.s3.put_bucket_acl(Bucket=b, ACL="private")
        assert grant_set(w.s3.get_bucket_acl(Bucket=b)) == canned("private", w.admin_id)
        assert not can_list(w.anon, b)
        assert not can_list(w.b_user.client, b)
        w.s3.put_bucket_acl(Bucket=b, ACL=acl)
        assert grant_set(w.s3.get_bucket_acl(Bucket=b)) == canned(acl, w.admin_id)


def write_with_acl(s3, bucket: str, key: str, method: str, **acl) -> None:
    """Create `key` by `method`, giving it the ACL arguments `acl` (canned ACL= or Grant*=)."""
    if method == "PutObject":
        s3.put_object(Bucket=bucket, Key=key, Body=BODY, **acl)
    elif method == "PutObjectAcl":
        s3.put_object(Bucket=bucket, Key=key, Body=BODY)
        s3.put_object_acl(Bucket=bucket, Key=key, **acl)
    elif method == "CopyObject":
        s3.put_object(Bucket=bucket, Key=key + ".src", Body=BODY)
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key + ".src"}, **acl)
    elif method == "CreateMultipartUpload":
        upload = s3.create_multipart_upload(Bucket=bucket, Key=key, **acl)["UploadId"]
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=BODY)["ETag"]
        s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    else:
        raise AssertionError(method)


OBJECT_METHODS = ["PutObject", "PutObjectAcl", "CopyObject", "CreateMultipartUpload"]


@pytest.fixture(scope="module")
def ow_bucket(w):
    """A bucket of the root user with ACLs enabled (ObjectWriter), shared by the module's object ACL tests."""
    with new_bucket(w, prefix="aclow", **OW) as b:
        yield b


@pytest.mark.parametrize("method", OBJECT_METHODS)
@pytest.mark.parametrize("acl", list(CANNED_EXTRA))
def test_object_canned_acl(w, ow_bucket, acl, method):
    key = unique_name(f"{acl}-{method}")
    write_with_acl(w.s3, ow_bucket, key, method, ACL=acl)
    got = w.s3.get_object_acl(Bucket=ow_bucket, Key=key)
    assert got["Owner"]["ID"] == w.admin_id
    assert grant_set(got) == canned(acl, w.admin_id), got["Grants"]
    assert anon_get_status(w, ow_bucket, key) == (200 if acl in PUBLIC_READ else 403)
    assert can_get(w.b_user.client, ow_bucket, key) == (acl in SIGNED_READ)
    if method == "CopyObject":  # the source keeps its own (private) ACL
        assert anon_get_status(w, ow_bucket, key + ".src") == 403


def test_bucket_owner_canned_acls_for_another_writer(w):
    # In an ObjectWriter bucket of `owner`, b_user (allowed to write by a bucket ACL grant) owns what it writes;
    # bucket-owner-read / bucket-owner-full-control add a grant to the bucket owner.
    with new_bucket(w, w.owner.client, **OW) as b:
        w.owner.client.put_bucket_acl(
            Bucket=b, GrantFullControl=f'id="{w.owner.id}"', GrantWrite=f'id="{w.b_user.id}"')
        cases = {
            "none": ({}, set()),
            "bor": ({"ACL": "bucket-owner-read"}, {("id", w.owner.id, "READ")}),
            "bofc": ({"ACL": "bucket-owner-full-control"}, {full(w.owner.id)}),
            "private": ({"ACL": "private"}, set()),
        }
        for key, (kw, extra) in cases.items():
            w.b_user.client.put_object(Bucket=b, Key=key, Body=BODY, **kw)
            got = w.s3.get_object_acl(Bucket=b, Key=key)
            assert got["Owner"]["ID"] == w.b_user.id, (key, got)
            assert grant_set(got) == {full(w.b_user.id)} | extra, (key, got["Grants"])
        # The writer, as the object's owner, reads and changes the ACL of what it wrote.
        assert grant_set(w.b_user.client.get_object_acl(Bucket=b, Key="none")) == {full(w.b_user.id)}
        w.b_user.client.put_object_acl(Bucket=b, Key="none", ACL="bucket-owner-full-control")
        assert grant_set(w.s3.get_object_acl(Bucket=b, Key="none")) == {full(w.b_user.id), full(w.owner.id)}
        assert get_body(w.b_user.client, b, "none") == BODY


def test_unknown_canned_acl(w, ow_bucket):
    with s3_error(400, "InvalidArgument"):
        w.s3.put_bucket_acl(Bucket=ow_bucket, ACL="everyone-may-do-anything")
    key = unique_name("bogus")
    with s3_error(400, "InvalidArgument"):
        w.s3.put_object(Bucket=ow_bucket, Key=key, Body=BODY, ACL="everyone-may-do-anything")
    assert not object_exists(w.s3, ow_bucket, key)


# --------------------------------------------------------------------------
# ACLs enabled: explicit grants (headers and AccessControlPolicy bodies)
# --------------------------------------------------------------------------


def test_bucket_grant_headers(w):
    headers = lambda: dict(  # noqa: E731
        GrantFullControl=f'id="{w.admin_id}"',
        GrantRead=f'uri="{ALL_USERS}", id="{w.b_user.id}"',
        GrantWrite=f'id="{w.b_other.id}"',
        GrantReadACP=f'uri="{AUTH_USERS}"',
        GrantWriteACP=f'id="{w.b_user.id}"',
    )
    expected = {
        full(w.admin_id), ("uri", ALL_USERS, "READ"), ("id", w.b_user.id, "READ"), ("id", w.b_other.id, "WRITE"),
        ("uri", AUTH_USERS, "READ_ACP"), ("id", w.b_user.id, "WRITE_ACP"),
    }
    with new_bucket(w, **OW) as b:
        w.s3.put_bucket_acl(Bucket=b, **headers())
        got = w.s3.get_bucket_acl(Bucket=b)
        assert got["Owner"]["ID"] == w.admin_id
        assert grant_set(got) == expected, got["Grants"]
    with new_bucket(w, **OW, **headers()) as b:
        assert grant_set(w.s3.get_bucket_acl(Bucket=b)) == expected


@pytest.mark.parametrize("method", OBJECT_METHODS)
def test_object_grant_headers(w, ow_bucket, method):
    key = unique_name(f"grants-{method}")
    write_with_acl(
        w.s3, ow_bucket, key, method,
        GrantFullControl=f'id="{w.admin_id}"',
        GrantRead=f'uri="{ALL_USERS}", id="{w.b_user.id}"',
        GrantReadACP=f'id="{w.b_other.id}"',
        GrantWriteACP=f'id="{w.b_user.id}"',
    )
    got = w.s3.get_object_acl(Bucket=ow_bucket, Key=key)
    assert got["Owner"]["ID"] == w.admin_id
    assert grant_set(got) == {
        full(w.admin_id), ("uri", ALL_USERS, "READ"), ("id", w.b_user.id, "READ"), ("id", w.b_other.id, "READ_ACP"),
        ("id", w.b_user.id, "WRITE_ACP"),
    }, got["Grants"]
    assert anon_get_status(w, ow_bucket, key) == 200


def test_access_control_policy_bodies(w, ow_bucket):
    policy = {
        "Owner": {"ID": w.admin_id},
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": w.admin_id}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "Group", "URI": AUTH_USERS}, "Permission": "READ"},
            {"Grantee": {"Type": "CanonicalUser", "ID": w.b_other.id}, "Permission": "READ_ACP"},
        ],
    }
    expected = {full(w.admin_id), ("uri", AUTH_USERS, "READ"), ("id", w.b_other.id, "READ_ACP")}
    with new_bucket(w, **OW) as b:
        w.s3.put_bucket_acl(Bucket=b, AccessControlPolicy=policy)
        got = w.s3.get_bucket_acl(Bucket=b)
        assert got["Owner"]["ID"] == w.admin_id and grant_set(got) == expected, got
        assert can_list(w.b_user.client, b) and not can_list(w.anon, b)
    key = unique_name("body")
    w.s3.put_object(Bucket=ow_bucket, Key=key, Body=BODY)
    w.s3.put_object_acl(Bucket=ow_bucket, Key=key, AccessControlPolicy=policy)
    got = w.s3.get_object_acl(Bucket=ow_bucket, Key=key)
    assert got["Owner"]["ID"] == w.admin_id and grant_set(got) == expected, got
    assert can_get(w.b_user.client, ow_bucket, key)
    assert anon_get_status(w, ow_bucket, key) == 403
    # What GetObjectAcl returns is a valid AccessControlPolicy: read, add a grant, write back.
    got = w.s3.get_object_acl(Bucket=ow_bucket, Key=key)
    grants = got["Grants"] + [{"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]
    w.s3.put_object_acl(Bucket=ow_bucket, Key=key, AccessControlPolicy={"Owner": got["Owner"], "Grants": grants})
    assert grant_set(w.s3.get_object_acl(Bucket=ow_bucket, Key=key)) == expected | {("uri", ALL_USERS, "READ")}
    assert anon_get_status(w, ow_bucket, key) == 200


EMAIL = "somebody@example.com"
EMAIL_CASES: dict[str, Callable[[World, str, str], Any]] = {
    "PutBucketAcl-header": lambda w, b, k: w.s3.put_bucket_acl(Bucket=b, GrantRead=f'emailAddress="{EMAIL}"'),
    "PutBucketAcl-body": lambda w, b, k: w.s3.put_bucket_acl(Bucket=b, AccessControlPolicy={
        "Owner": {"ID": w.admin_id},
        "Grants": [{"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": EMAIL}, "Permission": "READ"}]}),
    "PutObjectAcl-header": lambda w, b, k: w.s3.put_object_acl(Bucket=b, Key=k, GrantRead=f'emailAddress="{EMAIL}"'),
    "PutObjectAcl-body": lambda w, b, k: w.s3.put_object_acl(Bucket=b, Key=k, AccessControlPolicy={
        "Owner": {"ID": w.admin_id},
        "Grants": [{"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": EMAIL}, "Permission": "READ"}]}),
    "PutObject-header": lambda w, b, k: w.s3.put_object(
        Bucket=b, Key=k + ".new", Body=BODY, GrantRead=f'emailAddress="{EMAIL}"'),
}


@pytest.mark.parametrize("case", EMAIL_CASES.keys())
def test_grant_by_email_is_unresolvable(w, ow_bucket, case):
    key = unique_name("email")
    w.s3.put_object(Bucket=ow_bucket, Key=key, Body=BODY)
    with s3_error(400, "UnresolvableGrantByEmailAddress"):
        EMAIL_CASES[case](w, ow_bucket, key)
    assert not object_exists(w.s3, ow_bucket, key + ".new")
    assert grant_set(w.s3.get_object_acl(Bucket=ow_bucket, Key=key)) == canned("private", w.admin_id)
    assert grant_set(w.s3.get_bucket_acl(Bucket=ow_bucket)) == canned("private", w.admin_id)


CANNED_AND_GRANTS: dict[str, Callable[[World, str, str], Any]] = {
    "PutBucketAcl": lambda w, b, k: w.s3.put_bucket_acl(Bucket=b, ACL="public-read", GrantRead=f'id="{w.b_user.id}"'),
    "PutObjectAcl": lambda w, b, k: w.s3.put_object_acl(
        Bucket=b, Key=k, ACL="public-read", GrantRead=f'id="{w.b_user.id}"'),
    "PutObject": lambda w, b, k: w.s3.put_object(
        Bucket=b, Key=k + ".new", Body=BODY, ACL="private", GrantRead=f'id="{w.b_user.id}"'),
    "CreateBucket": lambda w, b, k: w.s3.create_bucket(
        Bucket=k, ACL="public-read", GrantRead=f'id="{w.b_user.id}"', **OW),
}


@pytest.mark.parametrize("case", CANNED_AND_GRANTS.keys())
def test_canned_acl_and_grant_headers_together(w, ow_bucket, case):
    key = unique_name("both")
    w.s3.put_object(Bucket=ow_bucket, Key=key, Body=BODY)
    try:
        with s3_error(400, "InvalidRequest"):
            CANNED_AND_GRANTS[case](w, ow_bucket, key)
        if case == "CreateBucket":
            assert not bucket_exists(w.s3, key)
    finally:
        if case == "CreateBucket":
            purge(w.s3, key)
    assert not object_exists(w.s3, ow_bucket, key + ".new")
    assert anon_get_status(w, ow_bucket, key) == 403
    assert grant_set(w.s3.get_bucket_acl(Bucket=ow_bucket)) == canned("private", w.admin_id)


MALFORMED = {
    "not-xml": b"this is not XML",
    "truncated": b"<AccessControlPolicy><Owner><ID>x</ID></Owner><AccessControlList><Grant>",
    "bad-permission": (
        b'<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>OWNER</ID></Owner>'
        b'<AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xsi:type="CanonicalUser"><ID>OWNER</ID></Grantee><Permission>OMNIPOTENCE</Permission></Grant>'
        b"</AccessControlList></AccessControlPolicy>"
    ),
}


@pytest.mark.parametrize("target", ["bucket", "object"])
@pytest.mark.parametrize("body", MALFORMED.keys())
def test_malformed_acl_xml(w, ow_bucket, body, target):
    key = unique_name("malformed")
    w.s3.put_object(Bucket=ow_bucket, Key=key, Body=BODY)
    data = MALFORMED[body].replace(b"OWNER", w.admin_id.encode())
    path = object_path(ow_bucket, key if target == "object" else "")
    resp = raw_request(w.server, "PUT", path, {"Content-MD5": md5_b64(data)}, data, query={"acl": None})
    assert_error_response(resp, 400, {"MalformedACLError", "MalformedXML"})
    assert grant_set(w.s3.get_object_acl(Bucket=ow_bucket, Key=key)) == canned("private", w.admin_id)
    assert grant_set(w.s3.get_bucket_acl(Bucket=ow_bucket)) == canned("private", w.admin_id)


# --------------------------------------------------------------------------
# ACLs enabled: what grants allow
# --------------------------------------------------------------------------


def test_public_read_object_is_readable_anonymously(w):
    with new_bucket(w, w.owner.client, **OW) as b:
        w.owner.client.put_object(Bucket=b, Key="pub", Body=BODY, ACL="public-read")
        w.owner.client.put_object(Bucket=b, Key="priv", Body=BODY)
        resp = anon(w, "GET", b, "pub")
        assert resp.status_code == 200 and resp.content == BODY, resp.content
        assert anon(w, "HEAD", b, "pub").status_code == 200
        assert get_body(w.anon, b, "pub") == BODY
        assert_error_response(anon(w, "GET", b, "priv"), 403, "AccessDenied")
        with s3_error(403, "AccessDenied"):
            w.anon.get_object(Bucket=b, Key="priv")
        assert anon(w, "HEAD", b, "priv").status_code == 403
        # READ on an object is not WRITE, and the bucket itself is private.
        assert_error_response(anon(w, "PUT", b, "pub", body=b"overwritten"), 403, "AccessDenied")
        assert_error_response(anon(w, "DELETE", b, "pub"), 403, "AccessDenied")
        assert not can_list(w.anon, b)
        assert get_body(w.s3, b, "pub") == BODY


def test_public_read_write_bucket_takes_anonymous_writes(w):
    with new_bucket(w, w.owner.client, ACL="public-read-write", **OW) as b:
        put = anon(w, "PUT", b, "anonymous-upload", body=b"from anyone")
        assert put.status_code == 200, put.content
        assert get_body(w.owner.client, b, "anonymous-upload") == b"from anyone"
        listed = w.anon.list_objects_v2(Bucket=b).get("Contents", [])
        assert [o["Key"] for o in listed] == ["anonymous-upload"]


def test_public_read_bucket_lists_anonymously(w):
    with new_bucket(w, w.owner.client, ACL="public-read", **OW) as b:
        w.owner.client.put_object(Bucket=b, Key="k", Body=BODY)
        assert [o["Key"] for o in w.anon.list_objects_v2(Bucket=b)["Contents"]] == ["k"]
        assert [o["Key"] for o in w.anon.list_objects(Bucket=b)["Contents"]] == ["k"]
        assert anon_get_status(w, b, "k") == 403
        assert_error_response(anon(w, "PUT", b, "new", body=b"x"), 403, "AccessDenied")
        assert not object_exists(w.s3, b, "new")


def test_authenticated_read_needs_a_signature(w):
    with new_bucket(w, w.owner.client, ACL="authenticated-read", **OW) as b:
        w.owner.client.put_object(Bucket=b, Key="auth", Body=BODY, ACL="authenticated-read")
        assert get_body(w.b_user.client, b, "auth") == BODY
        assert can_list(w.b_user.client, b)
        assert anon_get_status(w, b, "auth") == 403
        assert not can_list(w.anon, b)


def test_object_read_grant_to_another_tenants_user(w):
    with new_bucket(w, w.owner.client, **OW) as b:
        grant = {"GrantFullControl": f'id="{w.owner.id}"', "GrantRead": f'id="{w.b_user.id}"'}
        w.owner.client.put_object(Bucket=b, Key="shared", Body=BODY, **grant)
        w.owner.client.put_object(Bucket=b, Key="other", Body=BODY)
        b_user = w.b_user.client
        assert get_body(b_user, b, "shared") == BODY
        b_user.head_object(Bucket=b, Key="shared")
        assert not can_get(b_user, b, "other")
        assert not can(lambda: b_user.put_object(Bucket=b, Key="shared", Body=b"overwritten"))
        assert not can(lambda: b_user.delete_object(Bucket=b, Key="shared"))
        assert not can(lambda: b_user.get_object_acl(Bucket=b, Key="shared"))
        assert not can(lambda: b_user.put_object_acl(Bucket=b, Key="shared", ACL="public-read"))
        assert not can_list(b_user, b)
        assert not can_get(w.b_other.client, b, "shared")
        assert not can_get(w.peer.client, b, "shared")
        assert anon_get_status(w, b, "shared") == 403
        assert get_body(w.s3, b, "shared") == BODY
        assert grant_set(w.s3.get_object_acl(Bucket=b, Key="shared")) == {full(w.owner.id), ("id", w.b_user.id, "READ")}


def test_read_acp_and_write_acp_grants(w):
    with new_bucket(w, w.owner.client, **OW) as b:
        owner_full = f'id="{w.owner.id}"'
        w.owner.client.put_object(Bucket=b, Key="racp", Body=BODY, GrantFullControl=owner_full,
                                  GrantReadACP=f'id="{w.b_user.id}"')
        w.owner.client.put_object(Bucket=b, Key="wacp", Body=BODY, GrantFullControl=owner_full,
                                  GrantWriteACP=f'id="{w.b_user.id}"')
        c = w.b_user.client
        # READ_ACP: the ACL, not the data, and no changes.
        got = c.get_object_acl(Bucket=b, Key="racp")
        assert grant_set(got) == {full(w.owner.id), ("id", w.b_user.id, "READ_ACP")}, got["Grants"]
        assert not can_get(c, b, "racp")
        assert not can(lambda: c.put_object_acl(Bucket=b, Key="racp", GrantRead=f'id="{w.b_user.id}"'))
        # WRITE_ACP: changing the ACL, nothing else.
        assert not can(lambda: c.get_object_acl(Bucket=b, Key="wacp"))
        assert not can_get(c, b, "wacp")
        c.put_object_acl(Bucket=b, Key="wacp", GrantFullControl=owner_full, GrantRead=f'id="{w.b_user.id}"')
        assert get_body(c, b, "wacp") == BODY
        assert grant_set(w.s3.get_object_acl(Bucket=b, Key="wacp")) == {full(w.owner.id), ("id", w.b_user.id, "READ")}
        # The ACL it wrote no longer has its WRITE_ACP.
        assert not can(lambda: c.put_object_acl(Bucket=b, Key="wacp", ACL="public-read"))
        assert anon_get_status(w, b, "wacp") == 403


def test_bucket_acl_grants_take_effect(w):
    with new_bucket(w, w.owner.client, **OW) as b:
        w.owner.client.put_object(Bucket=b, Key="k", Body=BODY)
        grants = dict(
            GrantFullControl=f'id="{w.owner.id}"', GrantRead=f'id="{w.b_user.id}"',
            GrantWrite=f'id="{w.b_other.id}"', GrantReadACP=f'id="{w.b_other.id}"',
            GrantWriteACP=f'id="{w.b_user.id}"',
        )
        w.owner.client.put_bucket_acl(Bucket=b, **grants)
        u, o = w.b_user.client, w.b_other.client
        # READ: list, not read objects, not write; WRITE_ACP: replace the bucket ACL, not read it.
        assert can_list(u, b)
        assert not can_get(u, b, "k")
        assert not can(lambda: u.put_object(Bucket=b, Key="by-b-user", Body=b"x"))
        assert not can(lambda: u.get_bucket_acl(Bucket=b))
        u.put_bucket_acl(Bucket=b, **grants)
        # WRITE: create objects, not list; READ_ACP: read the bucket ACL, not change it.
        o.put_object(Bucket=b, Key="by-b-other", Body=b"from b_other")
        assert get_body(w.s3, b, "by-b-other") == b"from b_other"
        assert not can_list(o, b)
        assert grant_set(o.get_bucket_acl(Bucket=b)) == {
            full(w.owner.id), ("id", w.b_user.id, "READ"), ("id", w.b_other.id, "WRITE"),
            ("id", w.b_other.id, "READ_ACP"), ("id", w.b_user.id, "WRITE_ACP"),
        }
        assert not can(lambda: o.put_bucket_acl(Bucket=b, ACL="public-read"))
        # Nobody else.
        assert not can_list(w.peer.client, b) and not can_list(w.anon, b)
        assert not object_exists(w.s3, b, "by-b-user")


# --------------------------------------------------------------------------
# ACLs per object version, and on overwrite and copy
# --------------------------------------------------------------------------


def test_acl_is_per_object_version(w):
    with new_bucket(w, versioned=True, **OW) as b:
        v1 = w.s3.put_object(Bucket=b, Key="k", Body=b"one", ACL="public-read")["VersionId"]
        v2 = w.s3.put_object(Bucket=b, Key="k", Body=b"two")["VersionId"]
        assert v1 != v2
        assert anon_get_status(w, b, "k") == 403
        resp = anon(w, "GET", b, "k", query={"versionId": v1})
        assert resp.status_code == 200 and resp.content == b"one", resp.content
        assert grant_set(w.s3.get_object_acl(Bucket=b, Key="k")) == canned("private", w.admin_id)
        assert grant_set(w.s3.get_object_acl(Bucket=b, Key="k", VersionId=v1)) == canned("public-read", w.admin_id)
        assert grant_set(w.s3.get_object_acl(Bucket=b, Key="k", VersionId=v2)) == canned("private", w.admin_id)
        # PutObjectAcl with a version id changes that version only.
        w.s3.put_object_acl(Bucket=b, Key="k", VersionId=v2, ACL="public-read")
        w.s3.put_object_acl(Bucket=b, Key="k", VersionId=v1, ACL="private")
        resp = anon(w, "GET", b, "k")
        assert resp.status_code == 200 and resp.content == b"two", resp.content
        assert anon_get_status(w, b, "k", versionId=v1) == 403
        assert grant_set(w.s3.get_object_acl(Bucket=b, Key="k", VersionId=v1)) == canned("private", w.admin_id)
        assert grant_set(w.s3.get_object_acl(Bucket=b, Key="k")) == canned("public-read", w.admin_id)


def test_overwrite_replaces_the_acl(w, ow_bucket):
    key = unique_name("overwrite")
    w.s3.put_object(Bucket=ow_bucket, Key=key, Body=BODY, ACL="public-read")
    assert anon_get_status(w, ow_bucket, key) == 200
    w.s3.put_object(Bucket=ow_bucket, Key=key, Body=b"second")
    assert anon_get_status(w, ow_bucket, key) == 403
    assert grant_set(w.s3.get_object_acl(Bucket=ow_bucket, Key=key)) == canned("private", w.admin_id)
    w.s3.put_object(Bucket=ow_bucket, Key=key, Body=b"third", ACL="authenticated-read")
    assert grant_set(w.s3.get_object_acl(Bucket=ow_bucket, Key=key)) == canned("authenticated-read", w.admin_id)


def test_copy_does_not_carry_the_source_acl(w, ow_bucket):
    src = unique_name("copysrc")
    w.s3.put_object(Bucket=ow_bucket, Key=src, Body=BODY, ACL="public-read")
    w.s3.copy_object(Bucket=ow_bucket, Key=src + ".plain", CopySource={"Bucket": ow_bucket, "Key": src})
    assert anon_get_status(w, ow_bucket, src + ".plain") == 403
    assert grant_set(w.s3.get_object_acl(Bucket=ow_bucket, Key=src + ".plain")) == canned("private", w.admin_id)
    # Copying onto itself (a metadata replace) also sets a new ACL: private unless given.
    w.s3.copy_object(Bucket=ow_bucket, Key=src, CopySource={"Bucket": ow_bucket, "Key": src},
                     MetadataDirective="REPLACE", Metadata={"m": "1"})
    assert anon_get_status(w, ow_bucket, src) == 403


# --------------------------------------------------------------------------
# PublicAccessBlock
# --------------------------------------------------------------------------


FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def pab_of(s3, bucket: str) -> dict[str, bool]:
    conf = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    return {f: conf.get(f, False) for f in FLAGS}


def test_public_access_block_put_get_delete(w):
    with new_bucket(w) as b:
        with s3_error(404, "NoSuchPublicAccessBlockConfiguration"):
            w.s3.get_public_access_block(Bucket=b)
        w.s3.put_public_access_block(Bucket=b, **pab(BlockPublicAcls=True, RestrictPublicBuckets=True))
        assert pab_of(w.s3, b) == {
            "BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        }
        w.s3.put_public_access_block(Bucket=b, **pab(**{f: True for f in FLAGS}))
        assert pab_of(w.s3, b) == {f: True for f in FLAGS}
        w.s3.put_public_access_block(Bucket=b, **pab(IgnorePublicAcls=True))
        assert pab_of(w.s3, b) == {f: f == "IgnorePublicAcls" for f in FLAGS}
        w.s3.delete_public_access_block(Bucket=b)
        with s3_error(404, "NoSuchPublicAccessBlockConfiguration"):
            w.s3.get_public_access_block(Bucket=b)


@pytest.fixture(scope="module")
def blocked_bucket(w):
    """ACLs enabled; "existing" was made public-read before BlockPublicAcls was set."""
    with new_bucket(w, prefix="aclbpa", **OW) as b:
        w.s3.put_object(Bucket=b, Key="existing", Body=BODY, ACL="public-read")
        w.s3.put_object(Bucket=b, Key="private", Body=BODY)
        w.s3.put_public_access_block(Bucket=b, **pab(BlockPublicAcls=True))
        yield b


def _acp(w: World, uri: str) -> dict:
    return {
        "Owner": {"ID": w.admin_id},
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": w.admin_id}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "Group", "URI": uri}, "Permission": "READ"},
        ],
    }


PUBLIC_ACL_CALLS: dict[str, Callable[[World, str, str], Any]] = {
    "PutBucketAcl-public-read": lambda w, b, k: w.s3.put_bucket_acl(Bucket=b, ACL="public-read"),
    "PutBucketAcl-authenticated-read": lambda w, b, k: w.s3.put_bucket_acl(Bucket=b, ACL="authenticated-read"),
    "PutBucketAcl-grant-AllUsers": lambda w, b, k: w.s3.put_bucket_acl(
        Bucket=b, GrantFullControl=f'id="{w.admin_id}"', GrantRead=f'uri="{ALL_USERS}"'),
    "PutBucketAcl-body-AuthenticatedUsers": lambda w, b, k: w.s3.put_bucket_acl(
        Bucket=b, AccessControlPolicy=_acp(w, AUTH_USERS)),
    "PutObjectAcl-public-read": lambda w, b, k: w.s3.put_object_acl(Bucket=b, Key="private", ACL="public-read"),
    "PutObjectAcl-public-read-write": lambda w, b, k: w.s3.put_object_acl(
        Bucket=b, Key="private", ACL="public-read-write"),
    "PutObjectAcl-grant-AuthenticatedUsers": lambda w, b, k: w.s3.put_object_acl(
        Bucket=b, Key="private", GrantRead=f'uri="{AUTH_USERS}"'),
    "PutObjectAcl-body-AllUsers": lambda w, b, k: w.s3.put_object_acl(
        Bucket=b, Key="private", AccessControlPolicy=_acp(w, ALL_USERS)),
    "PutObject-public-read": lambda w, b, k: w.s3.put_object(Bucket=b, Key=k, Body=BODY, ACL="public-read"),
    "PutObject-authenticated-read": lambda w, b, k: w.s3.put_object(
        Bucket=b, Key=k, Body=BODY, ACL="authenticated-read"),
    "PutObject-grant-AllUsers": lambda w, b, k: w.s3.put_object(
        Bucket=b, Key=k, Body=BODY, GrantRead=f'uri="{ALL_USERS}"'),
    "CopyObject-public-read": lambda w, b, k: w.s3.copy_object(
        Bucket=b, Key=k, CopySource={"Bucket": b, "Key": "private"}, ACL="public-read"),
    "CreateMultipartUpload-public-read": lambda w, b, k: w.s3.create_multipart_upload(
        Bucket=b, Key=k, ACL="public-read"),
}


@pytest.mark.parametrize("case", PUBLIC_ACL_CALLS.keys())
def test_block_public_acls_refuses_public_acls(w, blocked_bucket, case):
    b, key = blocked_bucket, unique_name("blocked")
    with s3_error(403, "AccessDenied"):
        PUBLIC_ACL_CALLS[case](w, b, key)
    assert not object_exists(w.s3, b, key)
    assert not [u for u in w.s3.list_multipart_uploads(Bucket=b).get("Uploads", []) if u["Key"] == key]
    assert grant_set(w.s3.get_bucket_acl(Bucket=b)) == canned("private", w.admin_id)
    assert grant_set(w.s3.get_object_acl(Bucket=b, Key="private")) == canned("private", w.admin_id)
    assert anon_get_status(w, b, "private") == 403


def test_block_public_acls_allows_non_public_acls_and_keeps_existing_ones(w, blocked_bucket):
    b = blocked_bucket
    key = unique_name("allowed")
    w.s3.put_object(Bucket=b, Key=key, Body=BODY, ACL="private")
    w.s3.put_object_acl(Bucket=b, Key=key, GrantFullControl=f'id="{w.admin_id}"', GrantRead=f'id="{w.b_user.id}"')
    assert get_body(w.b_user.client, b, key) == BODY
    w.s3.put_object(Bucket=b, Key=key + ".bofc", Body=BODY, ACL="bucket-owner-full-control")
    w.s3.put_bucket_acl(Bucket=b, ACL="private")
    # BlockPublicAcls does not touch ACLs that were already there.
    assert anon_get_status(w, b, "existing") == 200
    assert grant_set(w.s3.get_object_acl(Bucket=b, Key="existing")) == canned("public-read", w.admin_id)


def test_ignore_public_acls(w):
    with new_bucket(w, w.owner.client, ACL="public-read", **OW) as b:
        c = w.owner.client
        c.put_object(Bucket=b, Key="pub", Body=BODY, ACL="public-read")
        c.put_object(Bucket=b, Key="auth", Body=BODY, ACL="authenticated-read")
        c.put_object(Bucket=b, Key="granted", Body=BODY, GrantFullControl=f'id="{w.owner.id}"',
                     GrantRead=f'id="{w.b_user.id}"')
        assert anon_get_status(w, b, "pub") == 200 and can_list(w.anon, b)
        assert can_get(w.b_user.client, b, "auth")
        w.s3.put_public_access_block(Bucket=b, **pab(IgnorePublicAcls=True))
        assert anon_get_status(w, b, "pub") == 403
        assert not can_list(w.anon, b)
        assert not can_get(w.b_user.client, b, "auth")
        assert not can_get(w.b_other.client, b, "pub")
        # Grants to a named user still count; the public grants are kept and may still be set.
        assert get_body(w.b_user.client, b, "granted") == BODY
        assert grant_set(w.s3.get_object_acl(Bucket=b, Key="pub")) == canned("public-read", w.owner.id)
        c.put_object(Bucket=b, Key="pub2", Body=BODY, ACL="public-read")
        assert anon_get_status(w, b, "pub2") == 403
        # They count again once the block is gone.
        w.s3.delete_public_access_block(Bucket=b)
        assert anon_get_status(w, b, "pub") == 200
        assert anon_get_status(w, b, "pub2") == 200
        assert can_list(w.anon, b)
        assert can_get(w.b_user.client, b, "auth")


def test_block_public_policy(w):
    with new_bucket(w, w.owner.client) as b:
        c = w.owner.client
        c.put_object(Bucket=b, Key="k", Body=BODY)
        w.s3.put_public_access_block(Bucket=b, **pab(BlockPublicPolicy=True))
        with s3_error(403, "AccessDenied"):
            c.put_bucket_policy(Bucket=b, Policy=public_policy(b))
        with s3_error(403, "AccessDenied"):
            w.s3.put_bucket_policy(Bucket=b, Policy=public_policy(b))
        with s3_error(404, "NoSuchBucketPolicy"):
            w.s3.get_bucket_policy(Bucket=b)
        assert anon_get_status(w, b, "k") == 403
        # A policy naming one account is not public.
        c.put_bucket_policy(Bucket=b, Policy=account_policy(b, w.tenant_b))
        assert json.loads(w.s3.get_bucket_policy(Bucket=b)["Policy"]) == json.loads(account_policy(b, w.tenant_b))
        assert policy_is_public(w.s3, b) is False
        assert get_body(w.b_user.client, b, "k") == BODY
        assert anon_get_status(w, b, "k") == 403
        # Without the block the public policy is accepted; a block set afterwards leaves it in force.
        w.s3.delete_public_access_block(Bucket=b)
        c.put_bucket_policy(Bucket=b, Policy=public_policy(b))
        assert anon_get_status(w, b, "k") == 200
        w.s3.put_public_access_block(Bucket=b, **pab(BlockPublicPolicy=True))
        assert anon_get_status(w, b, "k") == 200
        assert policy_is_public(w.s3, b) is True


def test_restrict_public_buckets(w):
    with new_bucket(w, w.owner.client) as b:
        w.owner.client.put_object(Bucket=b, Key="k", Body=BODY)
        w.owner.client.put_bucket_policy(Bucket=b, Policy=public_policy(b, ("s3:GetObject", "s3:ListBucket")))
        everyone = {"owner": w.owner.client, "peer": w.peer.client, "b_user": w.b_user.client, "anon": w.anon}
        assert anon_get_status(w, b, "k") == 200
        assert {n: can_get(c, b, "k") for n, c in everyone.items()} == dict.fromkeys(everyone, True)
        assert can_list(w.anon, b)
        w.s3.put_public_access_block(Bucket=b, **pab(RestrictPublicBuckets=True))
        assert anon_get_status(w, b, "k") == 403
        assert not can_list(w.anon, b)
        # Users of the bucket's own tenant keep what the policy gives them; other accounts lose it.
        assert {n: can_get(c, b, "k") for n, c in everyone.items()} == {
            "owner": True, "peer": True, "b_user": False, "anon": False,
        }
        assert can_list(w.peer.client, b)
        assert not can_list(w.b_user.client, b)
        w.s3.delete_public_access_block(Bucket=b)
        assert anon_get_status(w, b, "k") == 200
        assert can_get(w.b_user.client, b, "k")


def test_restrict_public_buckets_leaves_non_public_policies(w):
    with new_bucket(w, w.owner.client) as b:
        w.owner.client.put_object(Bucket=b, Key="k", Body=BODY)
        w.owner.client.put_bucket_policy(Bucket=b, Policy=account_policy(b, w.tenant_b))
        w.s3.put_public_access_block(Bucket=b, **pab(RestrictPublicBuckets=True))
        assert get_body(w.b_user.client, b, "k") == BODY


# --------------------------------------------------------------------------
# GetBucketPolicyStatus
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind, public", [
    ("star", True),
    ("aws-star", True),
    ("one-account", False),
    ("source-ip", False),
])
def test_policy_status(w, kind, public):
    with new_bucket(w) as b:
        policy = {
            "star": lambda: public_policy(b),
            "aws-star": lambda: public_policy(b).replace('"Principal": "*"', '"Principal": {"AWS": "*"}'),
            "one-account": lambda: account_policy(b, w.tenant_b),
            "source-ip": lambda: public_policy(b, Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
        }[kind]()
        w.s3.put_bucket_policy(Bucket=b, Policy=policy)
        assert policy_is_public(w.s3, b) is public


# --------------------------------------------------------------------------
# Policy conditions on object tags
# --------------------------------------------------------------------------


def test_policy_condition_on_existing_object_tag(server, w):
    # Anonymous reads only of objects tagged public=yes; the tag is read from the named object.
    with new_bucket(w, w.owner.client) as b:
        w.owner.client.put_object(Bucket=b, Key="open", Body=BODY, Tagging="public=yes")
        w.owner.client.put_object(Bucket=b, Key="closed", Body=BODY, Tagging="public=no")
        w.owner.client.put_object(Bucket=b, Key="untagged", Body=BODY)
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{b}/*",
                    "Condition": {"StringEquals": {"s3:ExistingObjectTag/public": "yes"}},
                }
            ],
        }
        w.owner.client.put_bucket_policy(Bucket=b, Policy=json.dumps(policy))
        assert anon_get_status(w, b, "open") == 200
        assert anon_get_status(w, b, "closed") == 403
        assert anon_get_status(w, b, "untagged") == 403
        # Retagging changes the answer at once (the tags are not cached).
        w.owner.client.put_object_tagging(Bucket=b, Key="closed", Tagging={"TagSet": [{"Key": "public", "Value": "yes"}]})
        assert anon_get_status(w, b, "closed") == 200


def test_policy_condition_on_request_object_tag(server, w):
    # Another tenant's user may write only objects it tags team=b.
    with new_bucket(w, w.owner.client) as b:
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{w.tenant_b}:root"},
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{b}/*",
                    "Condition": {"StringEquals": {"s3:RequestObjectTag/team": "b"}},
                }
            ],
        }
        w.owner.client.put_bucket_policy(Bucket=b, Policy=json.dumps(policy))
        w.b_user.client.put_object(Bucket=b, Key="tagged", Body=BODY, Tagging="team=b")
        with pytest.raises(ClientError) as e:
            w.b_user.client.put_object(Bucket=b, Key="untagged", Body=BODY)
        assert error_of(e.value) == (403, "AccessDenied")
