"""The audit log: what `GET /api/v1/audit` records for logins, the mutating admin API calls and the audited S3
operations (action, resource, result, user, tenant, source IP, request id, detail, never a secret); its filters,
cursor paging and limits; who may read it; `GET /api/v1/audit/export` as JSON lines; `maxiofs admin audit
list|export`; that nothing can change it (no API, an UPDATE trigger in the catalog); `--audit-objects`; and
`--audit-retention-days`.

The session server is shared with other test files, so every check looks only at the entries that appeared
after a mark (the newest id before the test acted) or that belong to this module's unique users, never at the
whole log. Entries are written before the response is sent, so they can be read right after the call."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import (
    ADMIN_PASSWORD,
    admin_cli,
    make_client,
    purge_bucket,
    put_many,
    start_server,
    stop_and_check,
    unique_name,
    utcnow,
)

PW = "Aud1t-Passw0rd!"
PW2 = "Aud1t-Other-Pw0rd!"
PW3 = "Aud1t-Third-Pw0rd!"
LOCAL_IP = "127.0.0.1"
ENTRY_FIELDS = {
    "id", "time", "user", "user_id", "tenant", "tenant_id", "source_ip", "action", "resource", "result",
    "request_id", "detail",
}
LOGIN_REFUSED = {"error": {"code": "AccessDenied", "message": "Invalid username or password."}}


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


@dataclass
class Session:
    """A console session (`POST /api/v1/auth/login`)."""

    server: Any = field(repr=False)
    name: str
    token: str = field(repr=False)
    user: dict

    def call(self, method: str, path: str, *, body=None, params=None) -> requests.Response:
        return requests.request(
            method, self.server.console_endpoint + "/api/v1" + path, json=body, params=params,
            headers={"Authorization": f"Bearer {self.token}"}, timeout=30,
        )

    def ok(self, method: str, path: str, *, body=None, params=None):
        r = self.call(method, path, body=body, params=params)
        assert r.status_code == 200, f"{method} {path}: HTTP {r.status_code} {r.text[:500]}"
        return r.json()

    def fails(self, method: str, path: str, status: int, code: str, *, body=None, params=None) -> dict:
        r = self.call(method, path, body=body, params=params)
        assert r.status_code == status, f"{method} {path}: expected {status}, got {r.status_code} {r.text[:500]}"
        err = r.json()["error"]
        assert err["code"] == code, err
        return err

    def page(self, **params) -> dict:
        return self.ok("GET", "/audit", params=params)

    def export(self, **params) -> requests.Response:
        return self.call("GET", "/audit/export", params=params)

    def logout(self) -> None:
        requests.post(self.server.console_endpoint + "/api/v1/auth/logout",
                      headers={"Authorization": f"Bearer {self.token}"}, timeout=30)


def raw_login(server, name: str, password: str) -> requests.Response:
    return requests.post(server.console_endpoint + "/api/v1/auth/login",
                         json={"username": name, "password": password}, timeout=30)


def login(server, name: str, password: str) -> Session:
    r = raw_login(server, name, password)
    assert r.status_code == 200, f"login {name}: HTTP {r.status_code} {r.text}"
    body = r.json()
    return Session(server, name, body["token"], body["user"])


def newest_id(admin: Session) -> int:
    entries = admin.page(limit=1)["entries"]
    return entries[0]["id"] if entries else 0


def all_pages(reader: Session, limit: int = 500, **params) -> list[list[dict]]:
    """Every page of a query, following next_cursor."""
    pages, cursor = [], None
    while True:
        q = dict(params, limit=limit, **({"cursor": cursor} if cursor else {}))
        page = reader.page(**q)
        pages.append(page["entries"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert isinstance(cursor, str) and cursor.isdigit(), page["next_cursor"]


def entries_after(reader: Session, mark: int, **params) -> list[dict]:
    """The entries newer than `mark` matching params, oldest first."""
    out, cursor = [], None
    while True:
        q = dict(params, limit=500, **({"cursor": cursor} if cursor else {}))
        page = reader.page(**q)
        newer = [e for e in page["entries"] if e["id"] > mark]
        out.extend(newer)
        cursor = page["next_cursor"]
        if cursor is None or len(newer) < len(page["entries"]):
            return list(reversed(out))


def brief(e: dict) -> tuple:
    return (e["action"], e["resource"], e["result"], e["detail"])


def parse_time(value: str) -> dt.datetime:
    assert isinstance(value, str) and value.endswith("Z") and len(value) == 24, value
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def iso_ms(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def assert_entry_shape(e: dict, *, user: Session | None = None, start: dt.datetime | None = None) -> None:
    assert set(e) == ENTRY_FIELDS, sorted(e)
    assert isinstance(e["id"], int) and e["id"] > 0
    assert e["source_ip"] == LOCAL_IP, e
    assert e["result"] in {"success", "failure", "denied"}, e
    assert e["detail"] is None or (isinstance(e["detail"], dict)
                                   and all(isinstance(v, str) for v in e["detail"].values())), e
    when = parse_time(e["time"])
    if start is not None:
        assert start - dt.timedelta(seconds=1) <= when <= utcnow() + dt.timedelta(seconds=1), e
    if user is not None:
        assert e["user"] == user.name and e["user_id"] == user.user["id"], e
        assert e["tenant"] == user.user["tenant"], e
        if user.user["tenant"] is None:
            assert e["tenant_id"] is None, e
        else:
            assert isinstance(e["tenant_id"], str) and len(e["tenant_id"]) == 16, e


def assert_no_secrets(text: str, *secrets: str) -> None:
    for s in secrets:
        assert s not in text, f"a secret ({s[:4]}…) appears in the audit log: {text[:2000]}"


def request_id(resp: dict) -> str:
    rid = resp["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    assert rid, resp["ResponseMetadata"]
    return rid


def s3_call(fn, **kwargs) -> tuple[str, int, str | None]:
    """Run one boto3 call; return (request id, HTTP status, error code or None)."""
    try:
        resp = fn(**kwargs)
    except ClientError as exc:
        md = exc.response["ResponseMetadata"]
        return md["HTTPHeaders"]["x-amz-request-id"], md["HTTPStatusCode"], exc.response["Error"]["Code"]
    return request_id(resp), resp["ResponseMetadata"]["HTTPStatusCode"], None


def s3_detail(operation: str, status: int, error: str | None = None, version_id: str | None = None) -> dict:
    d = {"operation": operation, "status": str(status)}
    if error is not None:
        d["error"] = error
    if version_id is not None:
        d["version_id"] = version_id
    return d


@dataclass
class World:
    admin: Session
    tenant: dict  # max_buckets 1
    other_tenant: dict
    tadmin: Session  # tenant-admin of `tenant`
    user: Session  # user of `tenant`
    readonly: Session  # readonly of `tenant`
    tadmin2: Session  # tenant-admin of `other_tenant`
    user_key: dict
    tadmin2_key: dict
    start: dt.datetime
    secrets: list[str]

    def client(self, key: dict):
        return make_client(self.admin.server.endpoint, key["access_key_id"], key["secret_access_key"])


def create_user(admin: Session, tenant: str | None, role: str, prefix: str, password: str = PW) -> dict:
    body = {"name": unique_name(prefix), "password": password, "role": role}
    if tenant is not None:
        body["tenant"] = tenant
    return admin.ok("POST", "/users", body=body)


@pytest.fixture(scope="module")
def world(server):
    start = utcnow()
    admin = login(server, "admin", server.admin_password or ADMIN_PASSWORD)
    tenant = admin.ok("POST", "/tenants", body={"name": unique_name("audt"), "max_buckets": 1})
    other = admin.ok("POST", "/tenants", body={"name": unique_name("audo")})
    try:
        names = {
            "tadmin": create_user(admin, tenant["name"], "tenant-admin", "audta")["name"],
            "user": create_user(admin, tenant["name"], "user", "audu")["name"],
            "readonly": create_user(admin, tenant["name"], "readonly", "audr")["name"],
            "tadmin2": create_user(admin, other["name"], "tenant-admin", "audtb")["name"],
        }
        sessions = {k: login(server, n, PW) for k, n in names.items()}
        user_key = admin.ok("POST", "/access-keys", body={"user": names["user"]})
        tadmin2_key = admin.ok("POST", "/access-keys", body={"user": names["tadmin2"]})
        yield World(
            admin, tenant, other, sessions["tadmin"], sessions["user"], sessions["readonly"], sessions["tadmin2"],
            user_key, tadmin2_key, start,
            [PW, PW2, PW3, user_key["secret_access_key"], tadmin2_key["secret_access_key"],
             admin.token, *(s.token for s in sessions.values())],
        )
    finally:
        for t in (tenant, other):
            admin.call("DELETE", f"/tenants/{t['name']}", params={"force": "true"})
        admin.logout()


@pytest.fixture
def admin(world) -> Session:
    return world.admin


# --------------------------------------------------------------------------
# Logins
# --------------------------------------------------------------------------


def test_login_success_failures_and_logout(server, world, admin):
    u = create_user(admin, world.tenant["name"], "user", "audl")
    ghost = unique_name("ghost")
    mark = newest_id(admin)

    s = login(server, u["name"], PW)
    bad = raw_login(server, u["name"], "Wrong-Passw0rd!")
    unknown = raw_login(server, ghost, PW)
    # The client learns nothing: both refusals are the same answer.
    assert (bad.status_code, bad.json()) == (403, LOGIN_REFUSED)
    assert (unknown.status_code, unknown.json()) == (403, LOGIN_REFUSED)
    # A malformed login (no password) is a 400 and is not a login attempt.
    r = requests.post(server.console_endpoint + "/api/v1/auth/login", json={"username": ghost + "x"}, timeout=30)
    assert r.status_code == 400
    s.logout()
    # Logging out with an unknown token records nothing.
    requests.post(server.console_endpoint + "/api/v1/auth/logout", headers={"Authorization": "Bearer " + "0" * 64},
                  timeout=30)

    entries = entries_after(admin, mark)
    assert [brief(e) for e in entries] == [
        ("login", f"users/{u['name']}", "success", None),
        ("login", f"users/{u['name']}", "failure", {"reason": "wrong password"}),
        ("login", f"users/{ghost}", "failure", {"reason": "unknown user"}),
        ("logout", f"users/{u['name']}", "success", None),
    ]
    for e in entries:
        assert_entry_shape(e, start=world.start)
        assert e["request_id"] is None
    for e in (entries[0], entries[1], entries[3]):
        assert e["user"] == u["name"] and e["user_id"] == u["id"], e
        assert e["tenant"] == world.tenant["name"] and e["tenant_id"] == world.tenant["id"], e
    # An unknown user: the name that was tried, no id, no tenant.
    assert (entries[2]["user"], entries[2]["user_id"], entries[2]["tenant"], entries[2]["tenant_id"]) == (
        ghost, None, None, None)
    assert_no_secrets(json.dumps(entries), PW, "Wrong-Passw0rd!", s.token)
    admin.ok("DELETE", f"/users/{u['name']}")


def test_login_refusal_reasons(server, world, admin):
    """Lockout, a disabled user and a suspended tenant each have their own reason; the client sees one answer."""
    locked = create_user(admin, world.tenant["name"], "user", "audlk")
    disabled = create_user(admin, world.tenant["name"], "user", "auddis")
    tenant = admin.ok("POST", "/tenants", body={"name": unique_name("audsus")})
    suspended = create_user(admin, tenant["name"], "user", "audsu")
    admin.ok("PATCH", f"/users/{disabled['name']}", body={"status": "disabled"})
    admin.ok("PATCH", f"/tenants/{tenant['name']}", body={"status": "suspended"})
    mark = newest_id(admin)
    try:
        answers = [raw_login(server, locked["name"], "Wrong-Passw0rd!") for _ in range(5)]
        answers.append(raw_login(server, locked["name"], PW))  # right password, but locked
        answers.append(raw_login(server, disabled["name"], PW))
        answers.append(raw_login(server, suspended["name"], PW))
        assert [(a.status_code, a.json()) for a in answers] == [(403, LOGIN_REFUSED)] * 8

        entries = entries_after(admin, mark, action="login")
        assert [(e["user"], e["result"], e["detail"]) for e in entries] == [
            *[(locked["name"], "failure", {"reason": "wrong password"})] * 4,
            (locked["name"], "failure", {"reason": "wrong password; account locked"}),
            (locked["name"], "failure", {"reason": "account locked"}),
            (disabled["name"], "failure", {"reason": "user disabled"}),
            (suspended["name"], "failure", {"reason": "tenant suspended"}),
        ]
        assert entries[-1]["tenant"] == tenant["name"] and entries[-1]["tenant_id"] == tenant["id"]
        assert entries[-1]["user_id"] == suspended["id"]
    finally:
        admin.ok("DELETE", f"/tenants/{tenant['name']}", params={"force": "true"})
        admin.ok("DELETE", f"/users/{locked['name']}")
        admin.ok("DELETE", f"/users/{disabled['name']}")


# --------------------------------------------------------------------------
# The admin API
# --------------------------------------------------------------------------


def test_every_mutating_api_call_is_recorded(server, world, admin, s3):
    """Each mutating /api/v1 call gives exactly one entry, with the body as detail and passwords as "(set)";
    reads give none."""
    tname, uname, gname, bucket = unique_name("audct"), unique_name("audcu"), unique_name("audcg"), unique_name("audcb")
    mark = newest_id(admin)
    rids = {}

    admin.ok("POST", "/tenants", body={"name": tname, "max_buckets": 3})
    admin.fails("POST", "/tenants", 409, "AlreadyExists", body={"name": tname})
    admin.ok("GET", "/tenants")  # not recorded
    admin.ok("PATCH", f"/tenants/{tname}", body={"max_storage_bytes": "1024", "status": "active"})
    admin.ok("POST", "/users", body={"name": uname, "password": PW, "tenant": tname, "role": "user", "temporary": False})
    admin.ok("PATCH", f"/users/{uname}", body={"password": PW2, "display_name": "Audit Person"})
    admin.ok("GET", f"/users/{uname}")  # not recorded
    key = admin.ok("POST", "/access-keys", body={"user": uname})
    admin.ok("PATCH", f"/access-keys/{key['access_key_id']}", body={"status": "disabled"})
    admin.ok("DELETE", f"/access-keys/{key['access_key_id']}")
    admin.ok("POST", "/groups", body={"name": gname, "tenant": tname})
    admin.ok("POST", f"/groups/{gname}/members", body={"user": uname})
    admin.ok("DELETE", f"/groups/{gname}/members/{uname}")
    admin.ok("DELETE", f"/groups/{gname}")
    rids["create"] = request_id(s3.create_bucket(Bucket=bucket))
    try:
        admin.ok("POST", f"/buckets/{bucket}/permissions",
                 body={"user": uname, "level": "write", "expires_at": "2099-01-01T00:00:00Z"})
        admin.ok("DELETE", f"/buckets/{bucket}/permissions", body={"user": uname})
        admin.ok("PUT", f"/buckets/{bucket}/quota", body={"max_bytes": 2048, "max_objects": 5})
        admin.ok("GET", f"/buckets/{bucket}/quota")  # not recorded
    finally:
        rids["delete"] = request_id(s3.delete_bucket(Bucket=bucket))
    admin.ok("DELETE", f"/users/{uname}")
    admin.ok("DELETE", f"/tenants/{tname}")

    entries = entries_after(admin, mark)
    kid = key["access_key_id"]
    assert [brief(e) for e in entries] == [
        ("tenant.create", f"tenants/{tname}", "success", {"max_buckets": "3", "name": tname}),
        ("tenant.create", f"tenants/{tname}", "failure", {"error": "AlreadyExists", "name": tname}),
        ("tenant.update", f"tenants/{tname}", "success", {"max_storage_bytes": "1024", "status": "active"}),
        ("user.create", f"users/{uname}", "success",
         {"name": uname, "password": "(set)", "role": "user", "temporary": "false", "tenant": tname}),
        ("user.update", f"users/{uname}", "success", {"display_name": "Audit Person", "password": "(set)"}),
        ("key.create", f"access-keys/{kid}", "success", {"user": uname}),
        ("key.update", f"access-keys/{kid}", "success", {"status": "disabled"}),
        ("key.delete", f"access-keys/{kid}", "success", None),
        ("group.create", f"groups/{gname}", "success", {"name": gname, "tenant": tname}),
        ("group.member.add", f"groups/{gname}/members", "success", {"user": uname}),
        ("group.member.remove", f"groups/{gname}/members/{uname}", "success", None),
        ("group.delete", f"groups/{gname}", "success", None),
        ("bucket.create", f"/{bucket}", "success", s3_detail("CreateBucket", 200)),
        ("bucket.permission.grant", f"buckets/{bucket}/permissions", "success",
         {"expires_at": "2099-01-01T00:00:00Z", "level": "write", "user": uname}),
        ("bucket.permission.revoke", f"buckets/{bucket}/permissions", "success", {"user": uname}),
        ("bucket.quota.set", f"buckets/{bucket}/quota", "success", {"max_bytes": "2048", "max_objects": "5"}),
        ("bucket.delete", f"/{bucket}", "success", s3_detail("DeleteBucket", 204)),
        ("user.delete", f"users/{uname}", "success", None),
        ("tenant.delete", f"tenants/{tname}", "success", None),
    ]
    for e in entries:
        assert_entry_shape(e, user=admin, start=world.start)
        if e["action"].startswith("bucket.create"):
            assert e["request_id"] == rids["create"]
        elif e["action"] == "bucket.delete":
            assert e["request_id"] == rids["delete"]
        else:
            assert e["request_id"] is None, e
    assert_no_secrets(json.dumps(entries), PW, PW2, key["secret_access_key"], admin.token)


def test_password_change_is_recorded_without_the_passwords(server, world, admin):
    u = create_user(admin, world.tenant["name"], "user", "audpw")
    s = login(server, u["name"], PW)
    mark = newest_id(admin)
    s.ok("POST", "/auth/password", body={"current_password": PW, "new_password": PW3})
    s.fails("POST", "/auth/password", 403, "AccessDenied", body={"current_password": PW, "new_password": PW2})
    entries = entries_after(admin, mark)
    assert [brief(e) for e in entries] == [
        ("user.password.change", "auth/password", "success", {"current_password": "(set)", "new_password": "(set)"}),
        ("user.password.change", "auth/password", "denied",
         {"current_password": "(set)", "error": "AccessDenied", "new_password": "(set)"}),
    ]
    for e in entries:
        assert_entry_shape(e, user=s, start=world.start)
    assert_no_secrets(json.dumps(entries), PW, PW2, PW3, s.token)
    admin.ok("DELETE", f"/users/{u['name']}")


def test_forbidden_calls_are_denied_other_refusals_failures(server, world, admin):
    mark = newest_id(admin)
    name, nob = unique_name("audno"), unique_name("audnb")
    world.user.fails("POST", "/tenants", 403, "AccessDenied", body={"name": name})
    world.user.fails("PUT", f"/buckets/{nob}/quota", 404, "NotFound", body={"max_bytes": 1})
    world.tadmin.fails("POST", "/users", 404, "NotFound",
                       body={"name": name, "password": PW, "tenant": world.other_tenant["name"]})
    world.tadmin.fails("POST", "/tenants", 400, "InvalidJSON", body=[1, 2])
    # A call without a session is refused before anything is recorded.
    assert requests.post(server.console_endpoint + "/api/v1/tenants", json={"name": name}, timeout=30).status_code == 401

    entries = entries_after(admin, mark)
    assert [(e["user"], *brief(e)) for e in entries] == [
        (world.user.name, "tenant.create", f"tenants/{name}", "denied", {"error": "AccessDenied", "name": name}),
        (world.user.name, "bucket.quota.set", f"buckets/{nob}/quota", "failure", {"error": "NotFound", "max_bytes": "1"}),
        (world.tadmin.name, "user.create", f"users/{name}", "failure",
         {"error": "NotFound", "name": name, "password": "(set)", "tenant": world.other_tenant["name"]}),
        (world.tadmin.name, "tenant.create", "tenants", "failure", {"error": "InvalidJSON"}),
    ]
    assert_entry_shape(entries[0], user=world.user)
    assert_entry_shape(entries[2], user=world.tadmin)


def test_revoke_by_query_names_the_subject(server, world, admin, s3):
    uname = create_user(admin, None, "admin", "audrv")["name"]
    bucket = unique_name("audrvb")
    s3.create_bucket(Bucket=bucket)
    try:
        admin.ok("POST", f"/buckets/{bucket}/permissions", body={"user": uname, "level": "read"})
        mark = newest_id(admin)
        admin.ok("DELETE", f"/buckets/{bucket}/permissions", params={"user": uname})
        [e] = entries_after(admin, mark)
        assert e["action"] == "bucket.permission.revoke" and e["result"] == "success"
        assert e["detail"]["user"] == uname, e
    finally:
        purge_bucket(s3, bucket)
        admin.call("DELETE", f"/users/{uname}")


# --------------------------------------------------------------------------
# S3
# --------------------------------------------------------------------------


def test_s3_bucket_changes_are_recorded(server, world, admin):
    """Each audited S3 operation gives one entry with the response's x-amz-request-id; reads and (without
    --audit-objects) object writes give none."""
    c = world.client(world.tadmin2_key)
    who = world.tadmin2
    b = unique_name("auds3")
    key = "dir/an object.txt"
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/nothing"}]})
    mark = newest_id(admin)
    calls = []  # (action, resource, operation, request id, status, error, version id)

    def do(action, resource, operation, fn, version_id=None, **kw):
        rid, status, err = s3_call(fn, **kw)
        calls.append((action, resource, operation, rid, status, err, version_id))
        return rid, status, err

    do("bucket.create", f"/{b}", "CreateBucket", c.create_bucket, Bucket=b, ObjectLockEnabledForBucket=True)
    vid = c.put_object(Bucket=b, Key=key, Body=b"audited")["VersionId"]  # not recorded
    c.get_object(Bucket=b, Key=key)["Body"].read()  # not recorded
    c.list_objects_v2(Bucket=b)  # not recorded
    o = f"/{b}/{key}"
    do("bucket.acl.put", f"/{b}", "PutBucketAcl", c.put_bucket_acl, Bucket=b, ACL="public-read")  # ACLs disabled
    do("object.legal-hold.put", o, "PutObjectLegalHold", c.put_object_legal_hold, version_id=vid,
       Bucket=b, Key=key, VersionId=vid, LegalHold={"Status": "ON"})
    do("object.legal-hold.put", o, "PutObjectLegalHold", c.put_object_legal_hold,
       Bucket=b, Key=key, LegalHold={"Status": "OFF"})
    do("bucket.object-lock.put", f"/{b}", "PutObjectLockConfiguration", c.put_object_lock_configuration, Bucket=b,
       ObjectLockConfiguration={"ObjectLockEnabled": "Enabled",
                                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    do("object.retention.put", o, "PutObjectRetention", c.put_object_retention, version_id=vid,
       Bucket=b, Key=key, VersionId=vid, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until})
    do("bucket.versioning.put", f"/{b}", "PutBucketVersioning", c.put_bucket_versioning, Bucket=b,
       VersioningConfiguration={"Status": "Enabled"})
    c.get_bucket_versioning(Bucket=b)  # not recorded
    do("bucket.ownership.put", f"/{b}", "PutBucketOwnershipControls", c.put_bucket_ownership_controls, Bucket=b,
       OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    do("bucket.acl.put", f"/{b}", "PutBucketAcl", c.put_bucket_acl, Bucket=b, ACL="private")
    do("object.acl.put", o, "PutObjectAcl", c.put_object_acl, Bucket=b, Key=key, ACL="private")
    do("bucket.ownership.delete", f"/{b}", "DeleteBucketOwnershipControls", c.delete_bucket_ownership_controls,
       Bucket=b)
    do("bucket.public-access-block.put", f"/{b}", "PutPublicAccessBlock", c.put_public_access_block, Bucket=b,
       PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                       "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    do("bucket.public-access-block.delete", f"/{b}", "DeletePublicAccessBlock", c.delete_public_access_block,
       Bucket=b)
    do("bucket.policy.put", f"/{b}", "PutBucketPolicy", c.put_bucket_policy, Bucket=b, Policy=policy)
    do("bucket.policy.delete", f"/{b}", "DeleteBucketPolicy", c.delete_bucket_policy, Bucket=b)
    do("bucket.lifecycle.put", f"/{b}", "PutBucketLifecycleConfiguration", c.put_bucket_lifecycle_configuration,
       Bucket=b, LifecycleConfiguration={"Rules": [
           {"ID": "r1", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 3}}]})
    do("bucket.lifecycle.delete", f"/{b}", "DeleteBucketLifecycle", c.delete_bucket_lifecycle, Bucket=b)
    do("bucket.delete", f"/{b}", "DeleteBucket", c.delete_bucket, Bucket=b)  # not empty
    c.delete_object(Bucket=b, Key=key, VersionId=vid, BypassGovernanceRetention=True)  # not recorded
    do("bucket.delete", f"/{b}", "DeleteBucket", c.delete_bucket, Bucket=b)

    statuses = [(c_[0], c_[4], c_[5]) for c_ in calls]
    assert statuses[1] == ("bucket.acl.put", 400, "AccessControlListNotSupported"), statuses
    assert statuses[-2] == ("bucket.delete", 409, "BucketNotEmpty"), statuses
    assert all(err is None for i, (_, _, err) in enumerate(statuses) if i not in (1, len(statuses) - 2)), statuses

    entries = entries_after(admin, mark)
    assert [(e["action"], e["resource"], e["result"], e["request_id"], e["detail"]) for e in entries] == [
        (action, resource, "success" if err is None else "failure", rid, s3_detail(op, status, err, version))
        for action, resource, op, rid, status, err, version in calls
    ]
    for e in entries:
        assert_entry_shape(e, user=who, start=world.start)
        assert e["tenant"] == world.other_tenant["name"] and e["tenant_id"] == world.other_tenant["id"]


def test_s3_denied_and_unauthenticated_requests(server, world, admin, s3):
    """AccessDenied is "denied"; a request whose signature fails is recorded as `anonymous`, "failure"."""
    b = unique_name("audsd")
    s3.create_bucket(Bucket=b)
    try:
        mark = newest_id(admin)
        u = world.client(world.user_key)
        rid1, st1, err1 = s3_call(u.put_bucket_policy, Bucket=b, Policy="{}")
        rid2, st2, err2 = s3_call(u.delete_bucket, Bucket=b)
        forged = make_client(server.endpoint, world.user_key["access_key_id"], "x" * 40)
        rid3, st3, err3 = s3_call(forged.delete_bucket_policy, Bucket=b)
        assert (st1, err1, st2, err2, st3, err3) == (
            403, "AccessDenied", 403, "AccessDenied", 403, "SignatureDoesNotMatch")
        entries = entries_after(admin, mark)
        assert [(e["user"], e["action"], e["resource"], e["result"], e["request_id"], e["detail"]) for e in entries] == [
            (world.user.name, "bucket.policy.put", f"/{b}", "denied", rid1, s3_detail("PutBucketPolicy", 403, err1)),
            (world.user.name, "bucket.delete", f"/{b}", "denied", rid2, s3_detail("DeleteBucket", 403, err2)),
            ("anonymous", "bucket.policy.delete", f"/{b}", "failure", rid3,
             s3_detail("DeleteBucketPolicy", 403, "SignatureDoesNotMatch")),
        ]
        assert_entry_shape(entries[0], user=world.user)
        assert (entries[2]["user_id"], entries[2]["tenant"], entries[2]["tenant_id"]) == (None, None, None)
        assert entries[2]["source_ip"] == LOCAL_IP
    finally:
        purge_bucket(s3, b)


def test_quota_denials(server, world, admin, s3):
    """TooManyBuckets (tenant max_buckets=1) and QuotaExceeded (bucket max_objects=1) are `quota.denied`."""
    u = world.client(world.user_key)
    first, second = unique_name("audq1"), unique_name("audq2")
    mark = newest_id(admin)
    rid1, st1, err1 = s3_call(u.create_bucket, Bucket=first)
    try:
        rid2, st2, err2 = s3_call(u.create_bucket, Bucket=second)
        assert (st1, err1, st2, err2) == (200, None, 400, "TooManyBuckets")
        world.tadmin.ok("PUT", f"/buckets/{first}/quota", body={"max_objects": 1})
        u.put_object(Bucket=first, Key="one", Body=b"1")  # fits, not recorded
        rid3, st3, err3 = s3_call(u.put_object, Bucket=first, Key="two", Body=b"2")
        assert (st3, err3) == (403, "QuotaExceeded")
        entries = entries_after(admin, mark)
        assert [(e["user"], e["action"], e["resource"], e["result"], e["request_id"], e["detail"]) for e in entries] == [
            (world.user.name, "bucket.create", f"/{first}", "success", rid1, s3_detail("CreateBucket", 200)),
            (world.user.name, "quota.denied", f"/{second}", "failure", rid2,
             s3_detail("CreateBucket", 400, "TooManyBuckets")),
            (world.tadmin.name, "bucket.quota.set", f"buckets/{first}/quota", "success", None, {"max_objects": "1"}),
            (world.user.name, "quota.denied", f"/{first}/two", "failure", rid3,
             s3_detail("PutObject", 403, "QuotaExceeded")),
        ]
        for e in entries:
            assert e["tenant"] == world.tenant["name"] and e["tenant_id"] == world.tenant["id"], e
            assert e["source_ip"] == LOCAL_IP
    finally:
        purge_bucket(s3, first)
        purge_bucket(s3, second)


def test_object_writes_are_not_recorded_by_default(server, world, admin, s3):
    b = unique_name("audnoobj")
    s3.create_bucket(Bucket=b)
    try:
        mark = newest_id(admin)
        s3.put_object(Bucket=b, Key="k", Body=b"x")
        s3.copy_object(Bucket=b, Key="k2", CopySource={"Bucket": b, "Key": "k"})
        s3.delete_object(Bucket=b, Key="k")
        s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "k2"}]})
        assert entries_after(admin, mark) == []
    finally:
        purge_bucket(s3, b)


# --------------------------------------------------------------------------
# Reading: filters, paging, limits
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def actor(server, world):
    """A tenant-admin of a new tenant with a known history: two batches of entries split by a time."""
    admin = world.admin
    tenant = admin.ok("POST", "/tenants", body={"name": unique_name("audft")})
    u = create_user(admin, tenant["name"], "tenant-admin", "audfa")
    mark = newest_id(admin)
    s = login(server, u["name"], PW)
    groups = [unique_name("audfg") for _ in range(3)]
    for g in groups:
        s.ok("POST", "/groups", body={"name": g})
    s.fails("POST", "/groups", 409, "AlreadyExists", body={"name": groups[0]})
    time.sleep(0.05)
    split = utcnow()
    time.sleep(0.05)
    s.ok("POST", f"/groups/{groups[1]}/members", body={"user": u["name"]})
    s.ok("DELETE", f"/groups/{groups[0]}")
    s.fails("DELETE", f"/groups/{groups[0]}", 404, "NotFound")
    s.ok("POST", "/users", body={"name": unique_name("audfu"), "password": PW, "tenant": tenant["name"]})
    history = entries_after(admin, mark)
    assert len(history) == 9 and all(e["user"] == u["name"] for e in history), [brief(e) for e in history]
    try:
        yield {"session": s, "tenant": tenant, "history": history, "split": split, "groups": groups}
    finally:
        s.logout()
        admin.call("DELETE", f"/tenants/{tenant['name']}", params={"force": "true"})


def newest_first(entries):
    return sorted(entries, key=lambda e: e["id"], reverse=True)


def test_filter_by_user(world, admin, actor):
    page = admin.page(user=actor["session"].name)
    assert page["entries"] == newest_first(actor["history"]) and page["next_cursor"] is None
    assert admin.page(user=unique_name("nobody"))["entries"] == []


def test_filter_by_action_and_prefix(world, admin, actor):
    name = actor["session"].name
    hist = actor["history"]
    got = admin.page(user=name, action="group.*")["entries"]
    assert got == newest_first([e for e in hist if e["action"].startswith("group.")])
    assert {e["action"] for e in got} == {"group.create", "group.member.add", "group.delete"}
    assert admin.page(user=name, action="group.create")["entries"] == newest_first(
        [e for e in hist if e["action"] == "group.create"])
    assert len(admin.page(user=name, action="group.create")["entries"]) == 4
    # Without the star the action matches exactly.
    assert admin.page(user=name, action="group.")["entries"] == []
    assert admin.page(user=name, action="group")["entries"] == []
    assert admin.page(user=name, action="*")["entries"] == newest_first(hist)
    assert [e["action"] for e in admin.page(user=name, action="log*")["entries"]] == ["login"]
    # `_` and `%` are not patterns.
    assert admin.page(user=name, action="group_create")["entries"] == []
    assert admin.page(user=name, action="%")["entries"] == []


def test_filter_by_result(world, admin, actor):
    name = actor["session"].name
    for result in ("success", "failure", "denied"):
        got = admin.page(user=name, result=result)["entries"]
        assert got == newest_first([e for e in actor["history"] if e["result"] == result]), result
    failures = admin.page(user=name, result="failure")["entries"]
    assert [e["detail"]["error"] for e in failures] == ["NotFound", "AlreadyExists"]


def test_filter_by_time(world, admin, actor):
    name, split, hist = actor["session"].name, actor["split"], actor["history"]
    before = [e for e in hist if parse_time(e["time"]) < split]
    after = [e for e in hist if parse_time(e["time"]) >= split]
    assert len(before) == 5 and len(after) == 4, [brief(e) for e in hist]
    assert admin.page(user=name, since=iso_ms(split))["entries"] == newest_first(after)
    assert admin.page(user=name, until=iso_ms(split))["entries"] == newest_first(before)
    # Other spellings of a time: a whole second, an offset.
    first = parse_time(hist[0]["time"])
    floor = first.replace(microsecond=0)
    plus2 = (floor + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    assert admin.page(user=name, since=plus2)["entries"] == newest_first(hist)
    assert admin.page(user=name, until=plus2)["entries"] == []
    window = admin.page(user=name, since=iso_ms(split), until=iso_ms(utcnow() + dt.timedelta(seconds=5)))
    assert window["entries"] == newest_first(after)
    assert admin.page(user=name, since=iso_ms(utcnow() + dt.timedelta(seconds=5)))["entries"] == []


def test_since_an_entrys_time_includes_it(server, world, admin):
    c = world.client(world.tadmin2_key)
    b = unique_name("audrt")
    c.create_bucket(Bucket=b)
    try:
        for _ in range(20):
            c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        entries = admin.page(user=world.tadmin2.name, action="bucket.versioning.put", limit=20)["entries"]
        assert len(entries) == 20
        missed = [e for e in entries
                  if e["id"] not in {x["id"] for x in admin.page(
                      user=world.tadmin2.name, action="bucket.versioning.put", since=e["time"], limit=1000)["entries"]}]
        assert missed == [], f"{len(missed)} of 20 entries are not `since` their own time: {missed[:3]}"
    finally:
        c.delete_bucket(Bucket=b)


def test_filter_by_tenant(world, admin, actor):
    tenant = actor["tenant"]
    got = [e for page in all_pages(admin, tenant=tenant["name"]) for e in page]
    assert got and all(e["tenant"] == tenant["name"] and e["tenant_id"] == tenant["id"] for e in got)
    assert {e["id"] for e in actor["history"]} <= {e["id"] for e in got}
    # Combined with the other filters.
    assert admin.page(tenant=tenant["name"], user=actor["session"].name, result="failure")["entries"] == [
        e for e in admin.page(user=actor["session"].name, result="failure")["entries"]]
    assert admin.page(tenant=world.tenant["name"], user=actor["session"].name)["entries"] == []
    err = admin.fails("GET", "/audit", 404, "NotFound", params={"tenant": unique_name("nosuch")})
    assert err["message"].startswith("No tenant ")


def test_cursor_pages_are_disjoint_and_cover_everything(world, admin, actor):
    name, hist = actor["session"].name, actor["history"]
    for limit in (1, 2, 4, 9, 10):
        pages = all_pages(admin, limit=limit, user=name)
        assert all(len(p) == limit for p in pages[:-1]) and 1 <= len(pages[-1]) <= limit, (limit, pages)
        ids = [e["id"] for p in pages for e in p]
        assert len(ids) == len(set(ids)), f"pages overlap at limit {limit}"
        assert ids == sorted(ids, reverse=True)
        assert [e for p in pages for e in p] == newest_first(hist)
        # A page that ends exactly at the last entry has no next cursor.
        assert len(pages) == -(-len(hist) // limit), (limit, [len(p) for p in pages])
    page = admin.page(user=name, limit=3)
    assert page["next_cursor"] == str(page["entries"][-1]["id"])
    nxt = admin.page(user=name, limit=3, cursor=page["next_cursor"])
    assert nxt["entries"] == newest_first(hist)[3:6]


@pytest.mark.parametrize("params, message", [
    ({"limit": "0"}, "limit is 1 to 1000."),
    ({"limit": "1001"}, "limit is 1 to 1000."),
    ({"limit": "-1"}, "limit is 1 to 1000."),
    ({"limit": "ten"}, "limit is 1 to 1000."),
    ({"cursor": "0"}, "cursor is not valid."),
    ({"cursor": "abc"}, "cursor is not valid."),
    ({"result": "ok"}, "result is success, failure or denied."),
    ({"since": "yesterday"}, "since is an ISO 8601 time."),
    ({"until": "2026-01-01"}, "until is an ISO 8601 time."),
])
def test_invalid_queries(world, admin, params, message):
    for path in ("/audit", "/audit/export"):
        err = admin.fails("GET", path, 400, "InvalidArgument", params=params)
        assert err["message"] == message, (path, err)


def test_limit_bounds(world, admin, actor):
    name = actor["session"].name
    assert len(admin.page(user=name, limit=1)["entries"]) == 1
    assert admin.page(user=name, limit=1000)["entries"] == newest_first(actor["history"])
    default = admin.page()  # 100 by default
    if default["next_cursor"] is not None:
        assert len(default["entries"]) == 100
        assert default["next_cursor"] == str(default["entries"][-1]["id"])
    big = admin.page(limit=1000)
    assert len(big["entries"]) <= 1000 and big["entries"][: len(default["entries"])] == default["entries"]


# --------------------------------------------------------------------------
# Who may read
# --------------------------------------------------------------------------


def test_tenant_admin_reads_only_its_tenant(server, world, admin):
    # Give tenant A some S3 history too.
    b = unique_name("audvis")
    u = world.client(world.user_key)
    try:
        rid = request_id(u.create_bucket(Bucket=b))
    except ClientError:
        pytest.fail("the tenant's one bucket is still taken")
    try:
        got = [e for page in all_pages(world.tadmin, limit=50) for e in page]
        assert got and all(e["tenant"] == world.tenant["name"] and e["tenant_id"] == world.tenant["id"]
                           for e in got)
        assert any(e["request_id"] == rid and e["action"] == "bucket.create" and e["user"] == world.user.name
                   for e in got)
        assert {"login"} <= {e["action"] for e in got}
        assert got == [e for page in all_pages(world.tadmin, tenant=world.tenant["name"], limit=50) for e in page]
        # The global admin's own actions (tenant null) are not the tenant's.
        assert world.tadmin.page(user="admin")["entries"] == []
        assert world.tadmin.page(user=world.tadmin2.name)["entries"] == []
        for path in ("/audit", "/audit/export"):
            err = world.tadmin.fails("GET", path, 403, "AccessDenied", params={"tenant": world.other_tenant["name"]})
            assert err["message"] == "You may read only your tenant's audit log."
            world.tadmin.fails("GET", path, 403, "AccessDenied", params={"tenant": unique_name("nosuch")})
        lines = world.tadmin.export().text.splitlines()
        assert lines and all(json.loads(line)["tenant_id"] == world.tenant["id"] for line in lines)
    finally:
        purge_bucket(world.client(world.user_key), b)


def test_users_and_readonly_cannot_read(server, world):
    for s in (world.user, world.readonly):
        for path in ("/audit", "/audit/export"):
            err = s.fails("GET", path, 403, "AccessDenied")
            assert err["message"] == "Only administrators read the audit log."
            s.fails("GET", path, 403, "AccessDenied", params={"tenant": world.tenant["name"]})
    for path in ("/audit", "/audit/export"):
        r = requests.get(server.console_endpoint + "/api/v1" + path, timeout=30)
        assert r.status_code == 401 and r.json()["error"]["code"] == "Unauthorized"


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------


def test_export_is_the_concatenation_of_the_pages(world, admin, actor):
    name = actor["session"].name
    r = admin.export(user=name)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/x-ndjson"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Disposition"] == 'attachment; filename="maxiofs-audit.jsonl"'
    assert r.text.endswith("\n")
    lines = r.text.splitlines()
    parsed = [json.loads(line) for line in lines]
    assert parsed == [e for page in all_pages(admin, limit=2, user=name) for e in page]
    assert parsed == newest_first(actor["history"])
    # Keys sorted, no spaces: one compact object a line.
    assert all(line == json.dumps(json.loads(line), sort_keys=True, separators=(",", ":")) for line in lines)
    # The same filters as the list.
    assert [json.loads(x) for x in admin.export(user=name, action="group.*", result="success").text.splitlines()] == \
        admin.page(user=name, action="group.*", result="success")["entries"]
    assert [json.loads(x) for x in admin.export(user=name, limit=2).text.splitlines()] == parsed[:2]
    cursor = str(parsed[3]["id"])
    assert [json.loads(x) for x in admin.export(user=name, cursor=cursor).text.splitlines()] == parsed[4:]
    assert admin.export(user=unique_name("nobody")).text == ""


def test_export_of_everything_since_the_start_has_no_secret(world, admin):
    """Every entry since the module started, in the export and in the list alike, and no secret in it."""
    since = iso_ms(world.start - dt.timedelta(seconds=1))
    r = admin.export(since=since)
    assert r.status_code == 200
    exported = [json.loads(line) for line in r.text.splitlines()]
    listed = [e for page in all_pages(admin, limit=500, since=since) for e in page]
    # The export cannot include entries written after it, but the listing can (its own reads are not audited,
    # so it equals the export unless something else ran in between).
    assert exported == listed
    ids = [e["id"] for e in exported]
    assert ids == sorted(set(ids), reverse=True)
    assert_no_secrets(r.text, *world.secrets)


# --------------------------------------------------------------------------
# The CLI
# --------------------------------------------------------------------------


def test_cli_list(server, world, admin, actor):
    name = actor["session"].name
    hist = newest_first(actor["history"])
    page = admin_cli(server, "audit", "list", "--user", name, "--limit", "4")
    assert page == {"entries": hist[:4], "next_cursor": str(hist[3]["id"])}
    page2 = admin_cli(server, "audit", "list", "--user", name, "--limit", "4", "--cursor", page["next_cursor"])
    assert page2["entries"] == hist[4:8]
    assert admin_cli(server, "audit", "list", "--user", name, "--action", "group.*", "--result", "failure") == \
        admin.page(user=name, action="group.*", result="failure")
    since = iso_ms(actor["split"])
    assert admin_cli(server, "audit", "list", "--user", name, "--since", since)["entries"] == \
        admin.page(user=name, since=since)["entries"]
    assert admin_cli(server, "audit", "list", "--user", name, "--tenant", actor["tenant"]["name"])["entries"] == hist
    # Text: one line per entry, the cursor on stderr.
    proc = admin_cli(server, "audit", "list", "--user", name, "--limit", "2", json_out=False)
    lines = proc.stdout.splitlines()
    assert lines == [
        f"time={e['time']} user={name} tenant={actor['tenant']['name']} action={e['action']} "
        f"resource={e['resource']} result={e['result']} source_ip={LOCAL_IP}"
        for e in hist[:2]
    ]
    assert f"next page: --cursor {hist[1]['id']}" in proc.stderr
    last = admin_cli(server, "audit", "list", "--user", name, "--limit", "1000", json_out=False)
    assert len(last.stdout.splitlines()) == len(hist) and "next page" not in last.stderr
    # Refusals.
    bad = admin_cli(server, "audit", "list", "--limit", "0", check=False)
    assert bad.returncode == 1 and "limit is 1 to 1000. (InvalidArgument)" in bad.stderr
    denied = admin_cli(server, "audit", "list", username=world.user.name, password=PW, check=False)
    assert denied.returncode == 1 and "(AccessDenied)" in denied.stderr and denied.stdout == ""


def test_cli_export(server, world, admin, actor, tmp_path):
    name = actor["session"].name
    expected = admin.export(user=name).text
    assert expected
    out = tmp_path / "audit.jsonl"
    proc = admin_cli(server, "audit", "export", "--user", name, "--output", str(out), json_out=False)
    assert proc.stdout == ""
    assert out.read_text() == expected
    proc = admin_cli(server, "audit", "export", "--user", name, json_out=False)
    assert proc.stdout == expected
    proc = admin_cli(server, "audit", "export", "--user", name, "--action", "group.delete", json_out=False)
    assert [json.loads(x) for x in proc.stdout.splitlines()] == admin.page(user=name, action="group.delete")["entries"]
    # A tenant-admin exports its tenant's entries.
    ta = actor["session"]
    proc = admin_cli(server, "audit", "export", "--user", name, "--action", "group.*", username=ta.name, password=PW,
                     json_out=False)
    assert proc.stdout == admin.export(user=name, action="group.*").text
    assert [json.loads(x) for x in proc.stdout.splitlines()] == admin.page(user=name, action="group.*")["entries"]
    denied = admin_cli(server, "audit", "export", username=world.readonly.name, password=PW, json_out=False,
                       check=False)
    assert denied.returncode == 1 and "(AccessDenied)" in denied.stderr and denied.stdout == ""


# --------------------------------------------------------------------------
# Nothing changes an entry
# --------------------------------------------------------------------------


def test_no_api_changes_or_deletes_entries(server, world, admin, actor):
    name = actor["session"].name
    before = admin.export(user=name).text
    mark = newest_id(admin)
    some_id = actor["history"][0]["id"]
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        for path in ("/audit", "/audit/export", f"/audit/{some_id}", "/audit/entries"):
            r = admin.call(method, path, body={"result": "success", "action": "x"},
                           params={"user": name, "id": str(some_id)})
            # No route: a 404 with an empty body, as for any path or method the API does not have.
            assert (r.status_code, r.content) == (404, b""), (method, path, r.status_code, r.text)
    assert admin.export(user=name).text == before
    assert newest_id(admin) == mark, "the refused calls were recorded or something else wrote to the log"


# --------------------------------------------------------------------------
# Dedicated servers: --audit-objects, the UPDATE trigger, retention
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def objects_server(tmp_path_factory):
    """A server of its own with --audit-objects true: (server, admin session, root client)."""
    srv = start_server(tmp_path_factory.mktemp("audit-objects"), extra_args=["--audit-objects", "true"])
    try:
        admin = login(srv, "admin", ADMIN_PASSWORD)
        yield srv, admin, make_client(srv.endpoint)
        admin.logout()
    finally:
        stop_and_check(srv)


@pytest.fixture(scope="module")
def many_writes(objects_server):
    """1005 PutObjects on the objects server: more object.write entries than one server page (1000)."""
    srv, admin, c = objects_server
    bucket = unique_name("audmany")
    c.create_bucket(Bucket=bucket)
    keys = [f"k{i:04d}" for i in range(1005)]
    mark = newest_id(admin)
    put_many(c, bucket, keys)
    try:
        yield bucket, keys, mark
    finally:
        purge_bucket(c, bucket)


def test_object_writes_and_deletes_with_audit_objects(objects_server):
    srv, admin, c = objects_server
    b = unique_name("audobj")
    c.create_bucket(Bucket=b)
    mark = newest_id(admin)
    calls = []

    def do(action, resource, op, fn, **kw):
        rid, status, err = s3_call(fn, **kw)
        calls.append((action, resource, op, rid, status, err))

    do("object.write", f"/{b}/a.txt", "PutObject", c.put_object, Bucket=b, Key="a.txt", Body=b"one")
    do("object.write", f"/{b}/b.txt", "CopyObject", c.copy_object, Bucket=b, Key="b.txt",
       CopySource={"Bucket": b, "Key": "a.txt"})
    up = c.create_multipart_upload(Bucket=b, Key="m.bin")["UploadId"]  # not recorded
    etag = c.upload_part(Bucket=b, Key="m.bin", UploadId=up, PartNumber=1, Body=b"m" * 10)["ETag"]  # not recorded
    do("object.write", f"/{b}/m.bin", "CompleteMultipartUpload", c.complete_multipart_upload, Bucket=b,
       Key="m.bin", UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    c.get_object(Bucket=b, Key="a.txt")["Body"].read()  # not recorded
    c.head_object(Bucket=b, Key="b.txt")  # not recorded
    do("object.write", f"/{b}-missing/x", "PutObject", c.put_object, Bucket=f"{b}-missing", Key="x", Body=b"x")
    do("object.delete", f"/{b}/a.txt", "DeleteObject", c.delete_object, Bucket=b, Key="a.txt")
    do("object.delete", f"/{b}", "DeleteObjects", c.delete_objects, Bucket=b,
       Delete={"Objects": [{"Key": "b.txt"}, {"Key": "m.bin"}]})
    do("bucket.delete", f"/{b}", "DeleteBucket", c.delete_bucket, Bucket=b)
    assert [x[5] for x in calls] == [None, None, None, "NoSuchBucket", None, None, None], calls

    entries = entries_after(admin, mark)
    assert [(e["action"], e["resource"], e["result"], e["request_id"], e["detail"]) for e in entries] == [
        (action, resource, "success" if err is None else "failure", rid, s3_detail(op, status, err))
        for action, resource, op, rid, status, err in calls
    ]
    for e in entries:
        assert_entry_shape(e, user=admin)


def test_update_trigger_keeps_the_table_append_only(objects_server):
    """The catalog refuses any UPDATE of audit_log, also from outside the server."""
    srv, admin, c = objects_server
    before = admin.export().text
    newest = json.loads(before.splitlines()[0])
    db = sqlite3.connect(srv.data_dir / "meta.sqlite", timeout=10)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="the audit log is append-only"):
            db.execute("UPDATE audit_log SET result='x'")
        db.rollback()
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE audit_log SET detail=NULL, actor='someone' WHERE id = ?", (newest["id"],))
        db.rollback()
        assert db.execute("SELECT count(*) FROM audit_log WHERE result NOT IN "
                          "('success', 'failure', 'denied')").fetchone() == (0,)
    finally:
        db.close()
    assert admin.export().text == before


def test_export_longer_than_a_server_page(objects_server, many_writes):
    srv, admin, c = objects_server
    bucket, keys, mark = many_writes
    lines = admin.export(action="object.write").text.splitlines()
    exported = [json.loads(line) for line in lines]
    pages = all_pages(admin, limit=999, action="object.write")
    assert sum(len(p) for p in pages) == len(exported) > 1000
    assert exported == [e for p in pages for e in p]
    assert sorted(e["resource"] for e in exported if e["id"] > mark) == [f"/{bucket}/{k}" for k in keys]


def test_a_full_page_of_1000_has_a_next_cursor(objects_server, many_writes):
    srv, admin, c = objects_server
    total = len(admin.export(action="object.write").text.splitlines())
    assert total > 1000
    page = admin.page(action="object.write", limit=1000)
    assert len(page["entries"]) == 1000
    assert page["next_cursor"] == str(page["entries"][-1]["id"]), "more entries exist, but no cursor to them"


def insert_entry(data_dir, when: dt.datetime, action: str) -> None:
    db = sqlite3.connect(data_dir / "meta.sqlite", timeout=10)
    try:
        db.execute(
            "INSERT INTO audit_log(time_ms, actor, action, resource, result) VALUES (?, 'admin', ?, 'test', 'success')",
            (int(when.timestamp() * 1000), action))
        db.commit()
    finally:
        db.close()


def test_retention(tmp_path):
    """Entries older than --audit-retention-days are removed at start-up; 0 keeps everything; 90 is the default."""
    data = tmp_path / "data"
    srv = start_server(tmp_path, data_dir=data, log_name="s0.log", extra_args=["--audit-retention-days", "0"])
    stop_and_check(srv)
    now = utcnow()
    tag = uuid.uuid4().hex[:8]
    ages = {"ancient": 100, "old": 10, "recent": 0.5}
    for label, days in ages.items():
        insert_entry(data, now - dt.timedelta(days=days), f"test.{tag}.{label}")

    def present(srv, wait_gone=()):
        admin = login(srv, "admin", ADMIN_PASSWORD)
        deadline = time.monotonic() + 10
        while True:
            got = {e["action"].rsplit(".", 1)[1] for e in admin.page(action=f"test.{tag}.*")["entries"]}
            if not (got & set(wait_gone)) or time.monotonic() > deadline:
                admin.logout()
                return got
            time.sleep(0.1)

    srv = start_server(tmp_path, data_dir=data, log_name="s1.log", extra_args=["--audit-retention-days", "0"])
    try:
        time.sleep(0.5)
        assert present(srv) == {"ancient", "old", "recent"}
    finally:
        stop_and_check(srv)

    srv = start_server(tmp_path, data_dir=data, log_name="s2.log")  # default: 90 days
    try:
        assert present(srv, wait_gone={"ancient"}) == {"old", "recent"}
        assert "removed audit entries past the retention" in srv.log()
    finally:
        stop_and_check(srv)

    srv = start_server(tmp_path, data_dir=data, log_name="s3.log", extra_args=["--audit-retention-days", "1"])
    try:
        assert present(srv, wait_gone={"old"}) == {"recent"}
        # The server's own fresh entries are kept.
        admin = login(srv, "admin", ADMIN_PASSWORD)
        assert admin.page(action="login", user="admin")["entries"]
        admin.logout()
    finally:
        stop_and_check(srv)
