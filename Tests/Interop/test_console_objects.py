"""The console's S3 gateway, `GET|HEAD|PUT|POST|DELETE /api/v1/s3/<bucket>[/<key>][?<S3 query>]`, with `requests`:
the S3 API run on behalf of the console session's user (cookie + X-CSRF-Token, or a bearer token).

What the object browser relies on: S3's own answers (ListObjectsV2 XML, bytes, Range/206, ETag, SSE headers, S3
error documents) for keys with any characters; large bodies streamed both ways; objects shared with S3 clients.
The security of the door: 401 without a session, 403 CSRFTokenMissing for a cookie write without the token
(nothing stored), bearer tokens without CSRF, dead sessions refused. And the main invariant: the gateway
authorizes exactly as the user's own signed S3 requests (roles, grants, bucket policies), applies quotas, and
audits with the user as actor."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import (
    ADMIN_PASSWORD,
    admin_cli,
    assert_error_response,
    get_body,
    object_exists,
    parse_xml,
    purge_bucket,
    quoted_md5,
    sign_request,
    unique_name,
)
from test_iam import create_account, create_tenant, delete_user, grant

SSE = "x-amz-server-side-encryption"
MIB = 1024 * 1024


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def gw_path(bucket: str, key: str | None = None) -> str:
    """The gateway path of a bucket or object: each segment percent-encoded, slashes kept (as api.js s3Path)."""
    path = "/api/v1/s3/" + quote(bucket, safe="")
    if key is not None:
        path += "/" + "/".join(quote(part, safe="") for part in key.split("/"))
    return path


@dataclass
class Console:
    """A console session of one user, used like the browser uses it (cookie, plus X-CSRF-Token on writes)."""

    server: Any = field(repr=False)
    name: str
    token: str = field(repr=False)
    csrf: str = field(repr=False)
    http: requests.Session = field(repr=False)

    def url(self, bucket: str, key: str | None = None, subresource: str | None = None) -> str:
        """`subresource` is a bare query name such as "cors" (`?cors`, as S3 clients send it)."""
        return self.server.console_endpoint + gw_path(bucket, key) + (f"?{subresource}" if subresource else "")

    def call(self, method: str, bucket: str, key: str | None = None, *, params=None, data=None, headers=None,
             csrf: bool = True, stream: bool = False, timeout: float = 30, subresource: str | None = None
             ) -> requests.Response:
        h = dict(headers or {})
        if csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        return self.http.request(method, self.url(bucket, key, subresource), params=params, data=data, headers=h,
                                 timeout=timeout, allow_redirects=False, stream=stream)

    def bearer(self, method: str, bucket: str, key: str | None = None, *, params=None, data=None,
               headers=None) -> requests.Response:
        """The same request with `Authorization: Bearer <token>` and no cookie, no CSRF token."""
        h = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        return requests.request(method, self.url(bucket, key), params=params, data=data, headers=h, timeout=30,
                                allow_redirects=False)

    def logout(self) -> requests.Response:
        return self.http.post(self.server.console_endpoint + "/api/v1/auth/logout", timeout=30)


def console_login(server, name: str, password: str) -> Console:
    r = requests.post(server.console_endpoint + "/api/v1/auth/login", json={"username": name, "password": password},
                      timeout=30)
    assert r.status_code == 200, f"login {name}: HTTP {r.status_code} {r.text}"
    body = r.json()
    assert body["csrf_token"] and body["token"], body
    http = requests.Session()
    http.cookies.set("maxiofs_session", body["token"])
    http.cookies.set("maxiofs_csrf", body["csrf_token"])
    return Console(server, name, body["token"], body["csrf_token"], http)


@pytest.fixture(scope="module")
def admin(server) -> Console:
    return console_login(server, "admin", server.admin_password or ADMIN_PASSWORD)


def assert_console_error(r: requests.Response, status: int, code: str) -> dict:
    """A console (not S3) error: JSON {"error": {"code", "message"}}."""
    assert r.status_code == status, f"expected HTTP {status}, got {r.status_code}: {r.content[:500]!r}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    err = r.json()["error"]
    assert err["code"] == code and err.get("message"), err
    return err


def listing(r: requests.Response) -> dict:
    """A ListObjectsV2 answer: keys, common prefixes and the interesting scalar fields."""
    assert r.status_code == 200, f"HTTP {r.status_code}: {r.content[:1000]!r}"
    assert "xml" in r.headers.get("Content-Type", ""), r.headers
    root = parse_xml(r.content)
    assert root.tag == "ListBucketResult", r.content[:500]
    return {
        "name": root.findtext("Name"),
        "prefix": root.findtext("Prefix") or "",
        "key_count": int(root.findtext("KeyCount")),
        "truncated": root.findtext("IsTruncated"),
        "keys": [c.findtext("Key") for c in root.findall("Contents")],
        "sizes": {c.findtext("Key"): int(c.findtext("Size")) for c in root.findall("Contents")},
        "etags": {c.findtext("Key"): c.findtext("ETag") for c in root.findall("Contents")},
        "prefixes": [p.findtext("Prefix") for p in root.findall("CommonPrefixes")],
        "next": root.findtext("NextContinuationToken"),
    }


def v2(**params) -> dict:
    return {"list-type": "2", **params}


# --------------------------------------------------------------------------
# The S3 API through the gateway, as the global administrator
# --------------------------------------------------------------------------


KEY = "dir one/naïve + résumé ✓ 100%.txt"


def test_objects_round_trip(admin, s3, bucket):
    # An empty bucket: ListObjectsV2 XML.
    empty = listing(admin.call("GET", bucket, params=v2()))
    assert (empty["name"], empty["key_count"], empty["keys"], empty["prefixes"]) == (bucket, 0, [], [])
    assert empty["truncated"] == "false"

    # PUT (cookie + CSRF) a key with a space, a plus, unicode and a percent sign.
    body = os.urandom(3000) + "un corps ✓".encode()
    r = admin.call("PUT", bucket, KEY, data=body, headers={"Content-Type": "text/plain; charset=utf-8"})
    assert r.status_code == 200, r.content
    assert r.headers.get("ETag") == quoted_md5(body), r.headers
    assert r.headers.get(SSE) == "AES256", r.headers
    assert r.headers.get("x-amz-request-id"), r.headers

    # GET byte for byte.
    r = admin.call("GET", bucket, KEY)
    assert r.status_code == 200, r.content[:500]
    assert r.content == body
    assert r.headers["ETag"] == quoted_md5(body) and r.headers["Content-Length"] == str(len(body))
    assert r.headers.get(SSE) == "AES256" and r.headers["Content-Type"] == "text/plain; charset=utf-8"

    # A range: 206 with its Content-Range.
    r = admin.call("GET", bucket, KEY, headers={"Range": "bytes=100-1099"})
    assert r.status_code == 206, r.content[:500]
    assert r.content == body[100:1100]
    assert r.headers["Content-Range"] == f"bytes 100-1099/{len(body)}" and r.headers["Content-Length"] == "1000"
    r = admin.call("GET", bucket, KEY, headers={"Range": "bytes=-10"})
    assert r.status_code == 206 and r.content == body[-10:]

    # HEAD: the length and the encryption, no body.
    r = admin.call("HEAD", bucket, KEY)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Length"] == str(len(body)) and r.headers.get(SSE) == "AES256", r.headers
    assert r.headers["ETag"] == quoted_md5(body)
    head = s3.head_object(Bucket=bucket, Key=KEY)
    assert head["ContentLength"] == len(body) and head["ServerSideEncryption"] == "AES256"
    assert head["ETag"] == quoted_md5(body)

    # The gateway's object is an S3 object like any other.
    assert get_body(s3, bucket, KEY) == body
    # And an S3 client's object is readable through the gateway.
    theirs = b"put by boto3 \x00\xff"
    s3.put_object(Bucket=bucket, Key="by boto3/ü+ß.bin", Body=theirs)
    r = admin.call("GET", bucket, "by boto3/ü+ß.bin")
    assert r.status_code == 200 and r.content == theirs, r.content[:500]

    # Folders: ListObjectsV2 with a delimiter gives CommonPrefixes.
    for k in ("dir one/sub/deep.txt", "top.txt"):
        assert admin.call("PUT", bucket, k, data=k.encode()).status_code == 200
    top = listing(admin.call("GET", bucket, params=v2(delimiter="/")))
    assert top["keys"] == ["top.txt"] and top["prefixes"] == ["by boto3/", "dir one/"], top
    inner = listing(admin.call("GET", bucket, params=v2(delimiter="/", prefix="dir one/")))
    assert inner["keys"] == [KEY] and inner["prefixes"] == ["dir one/sub/"], inner
    assert inner["sizes"][KEY] == len(body) and inner["etags"][KEY] == quoted_md5(body)
    # Paging with max-keys and continuation-token, as "Load more" does.
    page1 = listing(admin.call("GET", bucket, params=v2(**{"max-keys": "2"})))
    assert page1["truncated"] == "true" and len(page1["keys"]) == 2 and page1["next"], page1
    page2 = listing(admin.call("GET", bucket, params=v2(**{"max-keys": "1000", "continuation-token": page1["next"]})))
    assert page1["keys"] + page2["keys"] == sorted(["by boto3/ü+ß.bin", "dir one/sub/deep.txt", KEY, "top.txt"])

    # DELETE: 204, gone for S3 clients too; then S3's NoSuchKey.
    r = admin.call("DELETE", bucket, KEY)
    assert r.status_code == 204, r.content
    assert not object_exists(s3, bucket, KEY)
    assert_error_response(admin.call("GET", bucket, KEY), 404, "NoSuchKey")
    r = admin.call("HEAD", bucket, KEY)
    assert r.status_code == 404 and r.content == b""


def test_s3_errors_are_s3_documents(admin, bucket):
    missing = unique_name("nosuch")
    assert_error_response(admin.call("GET", missing, params=v2()), 404, "NoSuchBucket")
    assert_error_response(admin.call("PUT", missing, "k", data=b"x"), 404, "NoSuchBucket")
    assert_error_response(admin.call("GET", bucket, "no/such key"), 404, "NoSuchKey")
    admin.call("PUT", bucket, "small", data=b"0123456789")
    assert_error_response(admin.call("GET", bucket, "small", headers={"Range": "bytes=50-60"}), 416, "InvalidRange")


KEYS = [
    "plain.txt",
    "with space/and  two  spaces.txt",
    "plus+sign/a+b=c.txt",
    "percent/100% sure %20 %2F.txt",
    "query?x=1&y=2#fragment.txt",
    "punct/semi;colon,comma:colon@at$dollar!bang'quote\"dq(paren)*star~tilde.txt",
    "unicode/日本語/キー/naïve ✓ 😀.txt",
    "brackets/[a]{b}<c>|pipe^caret`tick.txt",
    "trailing space /x ",
    "folder only/",
]


def test_keys_with_any_characters(admin, s3, bucket):
    bodies = {k: f"body of {k}".encode() for k in KEYS}
    for k, b in bodies.items():
        r = admin.call("PUT", bucket, k, data=b)
        assert r.status_code == 200, f"PUT {k!r}: {r.status_code} {r.content[:300]!r}"
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(listed) == sorted(KEYS)
    gw_listed = listing(admin.call("GET", bucket, params=v2()))["keys"]
    assert gw_listed == listed
    for k, b in bodies.items():
        r = admin.call("GET", bucket, k)
        assert r.status_code == 200 and r.content == b, f"GET {k!r}: {r.status_code} {r.content[:300]!r}"
        assert get_body(s3, bucket, k) == b
    for k in KEYS:
        assert admin.call("DELETE", bucket, k).status_code == 204, k
    assert s3.list_objects_v2(Bucket=bucket).get("Contents", []) == []


def test_large_upload_streams_both_ways(admin, s3, bucket):
    size = 20 * MIB
    body = os.urandom(size)
    digest = hashlib.sha256(body).hexdigest()
    r = admin.call("PUT", bucket, "big/twenty.bin", data=body, timeout=120)
    assert r.status_code == 200, r.content[:500]
    assert r.headers["ETag"] == quoted_md5(body) and r.headers.get(SSE) == "AES256"
    del body
    assert s3.head_object(Bucket=bucket, Key="big/twenty.bin")["ContentLength"] == size
    with admin.call("GET", bucket, "big/twenty.bin", stream=True, timeout=120) as r:
        assert r.status_code == 200 and r.headers["Content-Length"] == str(size)
        h, n = hashlib.sha256(), 0
        for chunk in r.iter_content(MIB):
            h.update(chunk)
            n += len(chunk)
    assert (n, h.hexdigest()) == (size, digest)
    got = s3.get_object(Bucket=bucket, Key="big/twenty.bin")["Body"]
    h = hashlib.sha256()
    for chunk in iter(lambda: got.read(MIB), b""):
        h.update(chunk)
    assert h.hexdigest() == digest
    # A range across the middle (chunk boundaries of the sealed blob).
    r = admin.call("GET", bucket, "big/twenty.bin", headers={"Range": f"bytes={10 * MIB - 7}-{10 * MIB + 65536}"})
    assert r.status_code == 206 and len(r.content) == 65544
    expected = s3.get_object(Bucket=bucket, Key="big/twenty.bin", Range=f"bytes={10 * MIB - 7}-{10 * MIB + 65536}")
    assert r.content == expected["Body"].read()


# --------------------------------------------------------------------------
# The door: sessions, CSRF, bearer tokens
# --------------------------------------------------------------------------


def test_no_session_is_401(server, admin, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    base = server.console_endpoint + gw_path(bucket)
    for method, url, kw in (
        ("GET", base, {"params": v2()}),
        ("GET", base + "/k", {}),
        ("PUT", base + "/new", {"data": b"x"}),
        ("DELETE", base + "/k", {}),
    ):
        r = requests.request(method, url, timeout=30, **kw)
        assert_console_error(r, 401, "Unauthorized")
    r = requests.head(base + "/k", timeout=30)
    assert r.status_code == 401
    # A made-up cookie or bearer token is no session either.
    assert_console_error(requests.get(base + "/k", cookies={"maxiofs_session": "0" * 64}, timeout=30), 401,
                         "Unauthorized")
    assert_console_error(requests.get(base + "/k", headers={"Authorization": "Bearer " + "0" * 64}, timeout=30), 401,
                         "Unauthorized")
    # An S3 signature is not a console session (the gateway is not a second S3 endpoint).
    _, hdrs = sign_request(server, "GET", f"/{bucket}/k")
    r = requests.get(base + "/k", headers=hdrs, timeout=30)
    assert_console_error(r, 401, "Unauthorized")
    assert not object_exists(s3, bucket, "new") and get_body(s3, bucket, "k") == b"secret"


def test_cookie_write_needs_the_csrf_token(admin, s3, bucket):
    r = admin.call("PUT", bucket, "no-csrf", data=b"forged", csrf=False)
    assert_console_error(r, 403, "CSRFTokenMissing")
    assert not object_exists(s3, bucket, "no-csrf")
    # A wrong token is as good as none.
    r = admin.call("PUT", bucket, "no-csrf", data=b"forged", csrf=False, headers={"X-CSRF-Token": "0" * 64})
    assert_console_error(r, 403, "CSRFTokenMissing")
    assert not object_exists(s3, bucket, "no-csrf")
    # Deletes and POSTs are writes too.
    s3.put_object(Bucket=bucket, Key="keep", Body=b"keep")
    assert_console_error(admin.call("DELETE", bucket, "keep", csrf=False), 403, "CSRFTokenMissing")
    r = admin.call("POST", bucket, subresource="delete", csrf=False,
                   data=b"<Delete><Object><Key>keep</Key></Object></Delete>")
    assert_console_error(r, 403, "CSRFTokenMissing")
    assert get_body(s3, bucket, "keep") == b"keep"
    # Reads need no token; with it the write goes through.
    assert admin.call("GET", bucket, "keep").content == b"keep"
    assert admin.call("PUT", bucket, "with-csrf", data=b"ok").status_code == 200
    assert get_body(s3, bucket, "with-csrf") == b"ok"


def test_bearer_token_needs_no_csrf(admin, s3, bucket):
    r = admin.bearer("PUT", bucket, "by bearer/ü.txt", data=b"bearer body")
    assert r.status_code == 200 and r.headers.get(SSE) == "AES256", r.content
    assert get_body(s3, bucket, "by bearer/ü.txt") == b"bearer body"
    r = admin.bearer("GET", bucket, "by bearer/ü.txt")
    assert r.status_code == 200 and r.content == b"bearer body"
    assert listing(admin.bearer("GET", bucket, params=v2()))["keys"] == ["by bearer/ü.txt"]
    assert admin.bearer("DELETE", bucket, "by bearer/ü.txt").status_code == 204
    assert not object_exists(s3, bucket, "by bearer/ü.txt")


def test_logged_out_session_is_401(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    c = console_login(server, "admin", server.admin_password or ADMIN_PASSWORD)
    assert c.call("GET", bucket, "k").content == b"v"
    assert c.logout().status_code == 200
    assert_console_error(c.call("GET", bucket, "k"), 401, "Unauthorized")
    assert_console_error(c.call("PUT", bucket, "after-logout", data=b"x"), 401, "Unauthorized")
    assert_console_error(c.bearer("PUT", bucket, "after-logout", data=b"x"), 401, "Unauthorized")
    assert not object_exists(s3, bucket, "after-logout")


# --------------------------------------------------------------------------
# Same authorization as S3
# --------------------------------------------------------------------------

OBJ = "shared/object.txt"
OPEN = "open/for-b.txt"  # a bucket policy lets b_user read this (by user ARN)
CLOSED = "closed/nobody.txt"  # a bucket policy denies reading this to everyone


@dataclass
class People:
    tenant_a: str
    tenant_b: str
    accounts: dict  # name -> test_iam.Account
    consoles: dict  # name -> Console
    bucket_a: str  # created by "owner" (a plain user of tenant A)
    bucket_b: str  # created by "b_user"


@pytest.fixture(scope="module")
def people(server, s3):
    tenant_a, tenant_b = (create_tenant(server, p)["name"] for p in ("gwa", "gwb"))
    specs = {
        "g_admin": dict(role="admin", prefix="gwgadmin"),
        "tadmin": dict(tenant=tenant_a, role="tenant-admin", prefix="gwtadmin"),
        "owner": dict(tenant=tenant_a, role="user", prefix="gwowner"),
        "peer": dict(tenant=tenant_a, role="user", prefix="gwpeer"),
        "ro": dict(tenant=tenant_a, role="readonly", prefix="gwro"),
        "b_user": dict(tenant=tenant_b, role="user", prefix="gwbuser"),
        "b_reader": dict(tenant=tenant_b, role="user", prefix="gwbreader"),
    }
    with ThreadPoolExecutor(4) as pool:
        accounts = dict(zip(specs, pool.map(lambda kw: create_account(server, **kw), specs.values())))
        consoles = dict(zip(specs, pool.map(lambda a: console_login(server, a.name, a.password), accounts.values())))
    bucket_a, bucket_b = unique_name("gwa"), unique_name("gwb")
    try:
        owner = accounts["owner"].client
        owner.create_bucket(Bucket=bucket_a)
        for k in (OBJ, OPEN, CLOSED):
            owner.put_object(Bucket=bucket_a, Key=k, Body=b"body of " + k.encode())
        accounts["b_user"].client.create_bucket(Bucket=bucket_b)
        accounts["b_user"].client.put_object(Bucket=bucket_b, Key=OBJ, Body=b"tenant b")
        grant(server, bucket_a, "read", user=accounts["b_reader"].name)
        policy = {"Version": "2012-10-17", "Statement": [
            {"Sid": "OpenToB", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{tenant_b}:user/{accounts['b_user'].name}"},
             "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket_a}/open/*"},
            {"Sid": "ClosedToAll", "Effect": "Deny", "Principal": "*",
             "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket_a}/closed/*"},
        ]}
        s3.put_bucket_policy(Bucket=bucket_a, Policy=json.dumps(policy))
        yield People(tenant_a, tenant_b, accounts, consoles, bucket_a, bucket_b)
    finally:
        for name in (bucket_a, bucket_b):
            purge_bucket(s3, name)
        for t in (tenant_a, tenant_b):
            admin_cli(server, "tenant", "delete", t, "--force", json_out=False, check=False)
        delete_user(server, accounts["g_admin"].name)


def status_of(call) -> int:
    try:
        out = call()
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"]
    if "Body" in out:
        out["Body"].read()
    return out["ResponseMetadata"]["HTTPStatusCode"]


def code_of(r: requests.Response) -> str | None:
    if r.status_code < 300 or not r.content:
        return None
    return parse_xml(r.content).findtext("Code")


# Each operation: (name, gateway call, boto3 call); `k` is a key of this principal and path only.
def _ops(bucket: str):
    return [
        ("list", lambda c, k: c.call("GET", bucket, params=v2()),
         lambda s, k: s.list_objects_v2(Bucket=bucket)),
        ("get", lambda c, k: c.call("GET", bucket, OBJ),
         lambda s, k: s.get_object(Bucket=bucket, Key=OBJ)),
        ("head", lambda c, k: c.call("HEAD", bucket, OBJ),
         lambda s, k: s.head_object(Bucket=bucket, Key=OBJ)),
        ("get-open", lambda c, k: c.call("GET", bucket, OPEN),
         lambda s, k: s.get_object(Bucket=bucket, Key=OPEN)),
        ("get-closed", lambda c, k: c.call("GET", bucket, CLOSED),
         lambda s, k: s.get_object(Bucket=bucket, Key=CLOSED)),
        ("put", lambda c, k: c.call("PUT", bucket, k, data=b"put"),
         lambda s, k: s.put_object(Bucket=bucket, Key=k, Body=b"put")),
        ("delete", lambda c, k: c.call("DELETE", bucket, k),
         lambda s, k: s.delete_object(Bucket=bucket, Key=k)),
    ]


# What test_iam's matrix and test_acl establish for signed requests, to make sure the comparison is not between two
# equally wrong answers: (principal, bucket, op) -> allowed. Everything not listed is compared only.
KNOWN = {
    ("g_admin", "a", "get"): True, ("g_admin", "b", "put"): True, ("g_admin", "a", "list"): True,
    ("owner", "a", "list"): True, ("owner", "a", "put"): True, ("owner", "a", "delete"): True,
    ("tadmin", "a", "get"): True, ("tadmin", "a", "put"): True,
    ("peer", "a", "list"): False, ("peer", "a", "get"): False, ("peer", "a", "put"): False,
    ("peer", "a", "delete"): False,
    ("ro", "a", "list"): True, ("ro", "a", "get"): True, ("ro", "a", "put"): False, ("ro", "a", "delete"): False,
    ("b_user", "a", "list"): False, ("b_user", "a", "get"): False, ("b_user", "a", "get-open"): True,
    ("b_user", "a", "put"): False, ("b_user", "b", "put"): True, ("b_user", "b", "get"): True,
    ("b_reader", "a", "get"): True, ("b_reader", "a", "put"): False,
    ("owner", "b", "list"): False, ("owner", "b", "get"): False, ("owner", "b", "put"): False,
    ("tadmin", "b", "list"): False, ("tadmin", "b", "put"): False, ("ro", "b", "get"): False,
}


def test_gateway_authorizes_as_s3(s3, people):
    rows, mismatches = [], []
    for who, console in people.consoles.items():
        client = people.accounts[who].client
        for where, bucket in (("a", people.bucket_a), ("b", people.bucket_b)):
            for op, via_gateway, via_s3 in _ops(bucket):
                k_gw, k_s3 = f"m/{who}-{op}-gw", f"m/{who}-{op}-s3"
                if op == "delete":
                    s3.put_object(Bucket=bucket, Key=k_gw, Body=b"victim")
                    s3.put_object(Bucket=bucket, Key=k_s3, Body=b"victim")
                r = via_gateway(console, k_gw)
                gw_status, gw_code = r.status_code, code_of(r)
                s3_status = status_of(lambda: via_s3(client, k_s3))
                rows.append((who, where, op, gw_status, s3_status))
                if gw_status != s3_status:
                    mismatches.append(f"{who} {op} on bucket {where}: gateway {gw_status} {gw_code}, S3 {s3_status}")
                    continue
                if gw_status == 403 and op != "head":
                    assert gw_code == "AccessDenied", (who, where, op, r.content[:300])
                if op in ("put", "delete"):
                    # The effects agree too: both stored (deleted) or neither.
                    exists_gw, exists_s3 = object_exists(s3, bucket, k_gw), object_exists(s3, bucket, k_s3)
                    assert exists_gw == exists_s3, f"{who} {op} on {where}: gateway key exists {exists_gw}, S3 {exists_s3}"
                    if op == "put" and gw_status == 200:
                        assert get_body(s3, bucket, k_gw) == b"put"
    print("\n".join(f"{w:9} {b} {o:10} gateway {g} s3 {s_}" for w, b, o, g, s_ in rows))
    assert not mismatches, "gateway and S3 disagree:\n" + "\n".join(mismatches)
    allowed = {(w, b, o): g < 300 for w, b, o, g, _ in rows}
    wrong = {k: allowed[k] for k, v in KNOWN.items() if allowed[k] != v}
    assert not wrong, f"both paths answered against the known rules (principal, bucket, op -> allowed): {wrong}"
    denied = [r for r in rows if r[3] == 403]
    assert denied and len(denied) < len(rows), rows


def test_quota_applies_through_the_gateway(server, admin, s3, bucket):
    admin_cli(server, "bucket-quota", "set", bucket, "--max-bytes", "1000", "--max-objects", "10")
    assert admin.call("PUT", bucket, "first", data=b"a" * 600).status_code == 200
    assert_error_response(admin.call("PUT", bucket, "second", data=b"b" * 600), 403, "QuotaExceeded")
    assert not object_exists(s3, bucket, "second")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="second", Body=b"b" * 600)
    err = exc.value.response
    assert (err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]) == (403, "QuotaExceeded")


def test_audit_names_the_console_user(server, s3, people, admin):
    tadmin = people.consoles["tadmin"]
    bucket = people.bucket_a
    cors = ("<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example</AllowedOrigin>"
            "<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>").encode()
    headers = {"Content-Type": "application/xml", "Content-MD5": base64.b64encode(hashlib.md5(cors).digest()).decode()}
    r = tadmin.call("PUT", bucket, subresource="cors", data=cors, headers=headers)
    assert r.status_code == 200, r.content
    request_id = r.headers["x-amz-request-id"]
    rules = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rules[0]["AllowedOrigins"] == ["https://app.example"], rules
    # The admin reads the audit log: the tenant admin did it, through S3 (request id and resource as S3's).
    page = requests.get(server.console_endpoint + "/api/v1/audit", params={"action": "bucket.cors.put", "limit": "50"},
                        headers={"Authorization": f"Bearer {admin.token}"}, timeout=30)
    assert page.status_code == 200, page.text
    entries = [e for e in page.json()["entries"] if e["request_id"] == request_id]
    assert len(entries) == 1, page.json()["entries"][:5]
    (e,) = entries
    assert (e["action"], e["user"], e["resource"], e["result"]) == (
        "bucket.cors.put", people.accounts["tadmin"].name, f"/{bucket}", "success"), e
    assert e["user_id"] == people.accounts["tadmin"].id and e["tenant"] == people.tenant_a, e
    # A refused one is recorded as denied, with the user too.
    peer = people.consoles["peer"]
    r = peer.call("PUT", bucket, subresource="cors", data=cors, headers=headers)
    assert_error_response(r, 403, "AccessDenied")
    denied_id = r.headers["x-amz-request-id"]
    page = requests.get(server.console_endpoint + "/api/v1/audit", params={"action": "bucket.cors.put", "limit": "50"},
                        headers={"Authorization": f"Bearer {admin.token}"}, timeout=30).json()
    (d,) = [x for x in page["entries"] if x["request_id"] == denied_id]
    assert (d["user"], d["result"]) == (people.accounts["peer"].name, "denied"), d


def test_console_host_is_never_a_virtual_host_bucket(tmp_path):
    """With `--domain`, a console reached under a name of that domain must still read the gateway's path as
    bucket/key: the console's Host header is not passed to the S3 front."""
    from conftest import make_client, start_server, stop_and_check

    srv = start_server(tmp_path, extra_args=["--domain", "s3.localtest"])
    try:
        s3 = make_client(srv.endpoint)
        s3.create_bucket(Bucket="vhost-real")
        s3.put_object(Bucket="vhost-real", Key="k", Body=b"the right object")
        s3.create_bucket(Bucket="console")
        s3.put_object(Bucket="console", Key="vhost-real/k", Body=b"the wrong object")
        admin = console_login(srv, "admin", srv.admin_password or ADMIN_PASSWORD)
        r = admin.http.get(admin.url("vhost-real", "k"), headers={"Host": f"console.s3.localtest:{srv.console_port}"},
                           timeout=30)
        assert r.status_code == 200 and r.content == b"the right object", (r.status_code, r.content[:200])
    finally:
        stop_and_check(srv)
