"""Identity and access through `maxiofs admin --endpoint ... <command> --json`: tenants, users, access keys,
groups and bucket permissions, the password policy, what each role may do in the admin API, and the S3
authorization matrix (who may run which operation on whose bucket).

Everything runs against the shared session server with unique names. The principals are created once per
module (each CLI process logs in, which checks a password hash)."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

import botocore
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import (
    ACCESS_KEY,
    admin_cli,
    assert_error_response,
    bucket_exists,
    get_body,
    make_client,
    object_exists,
    purge_bucket,
    raw_request,
    s3_error,
    unique_name,
    utcnow,
)

PW = "Us3r-Passw0rd!"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
TENANT_FIELDS = {
    "id", "name", "status", "max_storage_bytes", "max_buckets", "max_access_keys", "used_bytes", "object_count",
    "bucket_count", "access_key_count", "created_at",
}
USER_FIELDS = {"id", "name", "tenant", "role", "status", "display_name", "created_at", "must_change_password"}
KEY_FIELDS = {"access_key_id", "user_id", "user", "display_name", "tenant", "status", "created_at"}
OBJ = "shared/object.txt"
OBJ_BODY = b"shared object body"


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def parse_time(value) -> dt.datetime:
    assert isinstance(value, str) and value, f"not an ISO 8601 time: {value!r}"
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, f"time without a zone: {value!r}"
    return parsed


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parallel(*calls: Callable[[], Any]) -> list:
    """Run independent calls (CLI processes, mostly) at the same time; their results in order."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(c) for c in calls]]


def cli_fails(server, *args, **kw):
    """The command must exit non-zero, say why on stderr and print no result."""
    proc = admin_cli(server, *args, check=False, **kw)
    shown = " ".join(str(a) for a in args)
    assert proc.returncode != 0, f"`maxiofs admin {shown}` ({kw.get('username', 'admin')}) succeeded:\n{proc.stdout}"
    assert proc.stderr.strip(), f"`maxiofs admin {shown}` failed without a message on stderr"
    return proc


def error_of(exc: ClientError) -> tuple[int, str]:
    return exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"].get("Code")


def key_client(server, key: dict, **kw):
    return make_client(server.endpoint, key["access_key_id"], key["secret_access_key"], **kw)


def anonymous_client(server):
    return make_client(server.endpoint, signature_version=botocore.UNSIGNED)


@dataclass
class Account:
    server: Any = field(repr=False)
    name: str
    password: str
    user: dict
    key: dict | None = None
    client: Any = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return self.user["id"]

    def cli(self, *args, **kw):
        """`maxiofs admin` logged in as this user."""
        return admin_cli(self.server, *args, username=self.name, password=self.password, **kw)

    def cli_fails(self, *args):
        return cli_fails(self.server, *args, username=self.name, password=self.password)


def create_tenant(server, prefix: str = "t", **quotas) -> dict:
    args = ["tenant", "create", unique_name(prefix)]
    for option, value in quotas.items():
        args += [f"--{option.replace('_', '-')}", str(value)]
    return admin_cli(server, *args)


def create_account(server, *, tenant: str | None = None, role: str | None = None, password: str = PW,
                   with_key: bool = True, prefix: str = "u") -> Account:
    name = unique_name(prefix)
    args = ["user", "create", name, "--password", password]
    if tenant is not None:
        args += ["--tenant", tenant]
    if role is not None:
        args += ["--role", role]
    acct = Account(server, name, password, admin_cli(server, *args))
    if with_key:
        acct.key = admin_cli(server, "key", "create", "--user", name)
        acct.client = key_client(server, acct.key)
    return acct


def delete_user(server, name: str) -> None:
    admin_cli(server, "user", "delete", name, json_out=False, check=False)


def _subject(user=None, group=None, tenant=None) -> list[str]:
    return ["--user", user] if user else ["--group", group] if group else ["--tenant", tenant]


def grant(server, bucket: str, level: str, *, expires: str | None = None, as_: Account | None = None, **subject):
    args = ["bucket-permission", "grant", bucket, *_subject(**subject), "--level", level]
    if expires is not None:
        args += ["--expires", expires]
    return as_.cli(*args) if as_ is not None else admin_cli(server, *args)


def revoke(server, bucket: str, level: str, *, as_: Account | None = None, **subject):
    args = ["bucket-permission", "revoke", bucket, *_subject(**subject), "--level", level]
    return as_.cli(*args, json_out=False) if as_ is not None else admin_cli(server, *args, json_out=False)


def permissions(server, bucket: str) -> list[dict]:
    return admin_cli(server, "bucket-permission", "list", bucket)


def has_perm(perms, **fields) -> bool:
    """Is there a permission entry with (at least) these fields?"""
    return any(all(p.get(k, "<absent>") == v for k, v in fields.items()) for p in perms)


def can_list(client, bucket: str) -> bool:
    """True if ListObjectsV2 works; False on 403 AccessDenied; anything else is a failure."""
    try:
        client.list_objects_v2(Bucket=bucket)
    except ClientError as exc:
        assert error_of(exc) == (403, "AccessDenied"), exc.response
        return False
    return True


def works(client) -> bool:
    """ListBuckets with this client: True if it works, False on a 403 (anything else is a failure)."""
    try:
        client.list_buckets()
    except ClientError as exc:
        assert error_of(exc)[0] == 403, exc.response
        return False
    return True


def assert_refused(client, code: str | set[str]):
    codes = {code} if isinstance(code, str) else code
    with pytest.raises(ClientError) as excinfo:
        client.list_buckets()
    got = error_of(excinfo.value)
    assert got[0] == 403 and got[1] in codes, f"expected 403 {sorted(codes)}, got {got}"


def bucket_names(client) -> set[str]:
    return {b["Name"] for b in client.list_buckets()["Buckets"]}


# --------------------------------------------------------------------------
# The principals, created once
# --------------------------------------------------------------------------


@dataclass
class World:
    tenant_a: str
    tenant_b: str
    accounts: dict[str, Account]
    anonymous: Any
    bucket: str  # tenant A's bucket, created by "owner"; holds OBJ; tagged
    b_bucket: str  # tenant B's bucket, created by "b_user"

    def __getattr__(self, name):
        try:
            return self.__dict__["accounts"][name]
        except KeyError:
            raise AttributeError(name) from None


GRANTED = {"b_reader": "read", "b_writer": "write", "b_admin": "admin"}


@pytest.fixture(scope="module")
def world(server, s3):
    tenant_a, tenant_b = parallel(lambda: create_tenant(server, "ta")["name"], lambda: create_tenant(server, "tb")["name"])
    specs = {
        "g_admin": dict(role="admin", prefix="gadmin"),
        "owner": dict(tenant=tenant_a, prefix="owner"),
        "tadmin": dict(tenant=tenant_a, role="tenant-admin", prefix="tadmin"),
        "peer": dict(tenant=tenant_a, role="user", prefix="peer"),
        "ro": dict(tenant=tenant_a, role="readonly", prefix="ro"),
        "b_user": dict(tenant=tenant_b, prefix="buser"),
        "b_reader": dict(tenant=tenant_b, prefix="breader"),
        "b_writer": dict(tenant=tenant_b, prefix="bwriter"),
        "b_admin": dict(tenant=tenant_b, prefix="badmin"),
    }
    with ThreadPoolExecutor(4) as pool:
        accounts = dict(zip(specs, pool.map(lambda kw: create_account(server, **kw), specs.values())))
    owner = accounts["owner"]
    bucket, b_bucket = unique_name("iam"), unique_name("iamb")
    w = World(tenant_a, tenant_b, accounts, anonymous_client(server), bucket, b_bucket)
    try:
        owner.client.create_bucket(Bucket=bucket)
        owner.client.put_object(Bucket=bucket, Key=OBJ, Body=OBJ_BODY, Tagging="shared=1")
        owner.client.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "a"}]})
        accounts["b_user"].client.create_bucket(Bucket=b_bucket)
        accounts["b_user"].client.put_object(Bucket=b_bucket, Key="b-object", Body=b"tenant b")
        parallel(*[lambda n=n, lvl=lvl: grant(server, bucket, lvl, user=accounts[n].name) for n, lvl in GRANTED.items()])
        yield w
    finally:
        for name in (bucket, b_bucket):
            purge_bucket(s3, name)
        parallel(
            *[lambda t=t: admin_cli(server, "tenant", "delete", t, "--force", json_out=False, check=False)
              for t in (tenant_a, tenant_b)],
            lambda: delete_user(server, accounts["g_admin"].name),
        )


@pytest.fixture
def a_bucket(s3, world):
    """A fresh bucket of tenant A, created by `owner`, with one object "k"."""
    name = unique_name("iamf")
    world.owner.client.create_bucket(Bucket=name)
    world.owner.client.put_object(Bucket=name, Key="k", Body=b"value")
    yield name
    purge_bucket(s3, name)


# --------------------------------------------------------------------------
# The administrator
# --------------------------------------------------------------------------


def test_admin_user_owns_the_root_key(server, s3):
    admin, keys = parallel(
        lambda: admin_cli(server, "user", "show", "admin"),
        lambda: admin_cli(server, "key", "list", "--user", "admin"),
    )
    assert USER_FIELDS <= admin.keys(), admin
    assert (admin["name"], admin["role"], admin["tenant"]) == ("admin", "admin", None), admin
    assert HEX64.match(admin["id"]), admin
    root = [k for k in keys if k["access_key_id"] == ACCESS_KEY]
    assert len(root) == 1 and "secret_access_key" not in root[0], keys
    assert (root[0]["user"], root[0]["user_id"]) == ("admin", admin["id"]), root[0]
    # Objects put with the root key are owned by the admin user.
    bucket = unique_name("adm")
    s3.create_bucket(Bucket=bucket)
    try:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        (entry,) = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"]
        assert entry["Owner"]["ID"] == admin["id"], entry
    finally:
        purge_bucket(s3, bucket)


def test_login_is_refused(server):
    # Two failures only: more in a row could lock the admin account.
    procs = parallel(
        lambda: admin_cli(server, "tenant", "list", password="Wrong-Passw0rd!", check=False),
        lambda: admin_cli(server, "tenant", "list", username=unique_name("nobody"), password="Wrong-Passw0rd!", check=False),
    )
    for proc in procs:
        assert proc.returncode != 0 and proc.stderr.strip(), proc.stdout
        assert not proc.stdout.strip().startswith(("{", "[")), proc.stdout
    admin_cli(server, "tenant", "list")  # and the admin still logs in


# --------------------------------------------------------------------------
# Tenants
# --------------------------------------------------------------------------


def test_tenant_create_show_list_update_delete(server):
    name = unique_name("tn")
    created = admin_cli(
        server, "tenant", "create", name, "--max-storage-bytes", "1000000", "--max-buckets", "7",
        "--max-access-keys", "3",
    )
    try:
        assert TENANT_FIELDS <= created.keys(), created
        assert created["name"] == name and created["status"] == "active", created
        assert isinstance(created["id"], str) and created["id"], created
        assert (created["max_storage_bytes"], created["max_buckets"], created["max_access_keys"]) == (1000000, 7, 3)
        assert (created["used_bytes"], created["object_count"], created["bucket_count"], created["access_key_count"]) == (0, 0, 0, 0)
        assert abs((parse_time(created["created_at"]) - utcnow()).total_seconds()) < 120, created
        shown, listed = parallel(
            lambda: admin_cli(server, "tenant", "show", name),
            lambda: admin_cli(server, "tenant", "list"),
        )
        assert shown == created
        assert [t for t in listed if t["name"] == name] == [created]
        updated = admin_cli(server, "tenant", "update", name, "--max-buckets", "9", "--status", "suspended")
        assert (updated["max_buckets"], updated["status"]) == (9, "suspended"), updated
        assert (updated["max_storage_bytes"], updated["max_access_keys"]) == (1000000, 3), updated
        again = admin_cli(server, "tenant", "update", name, "--max-storage-bytes", "0", "--status", "active")
        assert (again["max_storage_bytes"], again["status"], again["max_buckets"]) == (0, "active", 9), again
        assert admin_cli(server, "tenant", "show", name) == again
    finally:
        admin_cli(server, "tenant", "delete", name, json_out=False)
    cli_fails(server, "tenant", "show", name)
    assert name not in {t["name"] for t in admin_cli(server, "tenant", "list")}


def test_tenant_errors(server):
    name = create_tenant(server, "tn")["name"]
    try:
        assert admin_cli(server, "tenant", "show", name)["max_buckets"] == 0  # absent quotas: unlimited
        parallel(
            lambda: cli_fails(server, "tenant", "create", name),  # names are unique
            lambda: cli_fails(server, "tenant", "update", name, "--status", "sleeping"),
            lambda: cli_fails(server, "tenant", "update", name, "--max-buckets", "-1"),
            lambda: cli_fails(server, "tenant", "create", unique_name("tn"), "--max-buckets", "lots"),
            lambda: cli_fails(server, "tenant", "update", unique_name("missing"), "--max-buckets", "1"),
        )
    finally:
        admin_cli(server, "tenant", "delete", name, json_out=False)
    cli_fails(server, "tenant", "delete", name)


def test_deleting_a_tenant_with_users_needs_force(server):
    tenant = create_tenant(server, "tn")["name"]
    acct = create_account(server, tenant=tenant)
    cli_fails(server, "tenant", "delete", tenant)
    assert works(acct.client)
    admin_cli(server, "tenant", "delete", tenant, "--force", json_out=False)
    parallel(lambda: cli_fails(server, "tenant", "show", tenant), lambda: cli_fails(server, "user", "show", acct.name))
    assert_refused(acct.client, {"InvalidAccessKeyId", "AccessDenied"})


def test_suspended_tenant_is_denied_until_active(server, s3):
    tenant = create_tenant(server, "susp")["name"]
    acct = create_account(server, tenant=tenant, prefix="susp")
    bucket = unique_name("susp")
    try:
        acct.client.create_bucket(Bucket=bucket)
        acct.client.put_object(Bucket=bucket, Key="k", Body=b"x")
        admin_cli(server, "tenant", "update", tenant, "--status", "suspended")
        assert_refused(acct.client, "AccessDenied")
        with s3_error(403, "AccessDenied"):
            acct.client.get_object(Bucket=bucket, Key="k")
        with s3_error(403, "AccessDenied"):
            acct.client.put_object(Bucket=bucket, Key="k2", Body=b"x")
        assert not object_exists(s3, bucket, "k2")
        admin_cli(server, "tenant", "update", tenant, "--status", "active")
        assert get_body(acct.client, bucket, "k") == b"x"
    finally:
        purge_bucket(s3, bucket)
        admin_cli(server, "tenant", "delete", tenant, "--force", json_out=False, check=False)


# --------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------


def test_user_create_show_list_update_delete(server, world):
    name = unique_name("uf")
    user = admin_cli(server, "user", "create", name, "--password", PW, "--tenant", world.tenant_a)
    try:
        assert USER_FIELDS <= user.keys(), user
        assert user["name"] == name and user["tenant"] == world.tenant_a, user
        assert user["role"] == "user" and user["status"] == "active", user  # the default role
        assert HEX64.match(user["id"]), user
        assert isinstance(user["display_name"], str) and isinstance(user["must_change_password"], bool), user
        parse_time(user["created_at"])
        assert user["id"] not in {a.id for a in world.accounts.values()}
        shown, listed, key = parallel(
            lambda: admin_cli(server, "user", "show", name),
            lambda: admin_cli(server, "user", "list", "--tenant", world.tenant_a),
            lambda: admin_cli(server, "key", "create", "--user", name),
        )
        assert shown == user
        assert name in {u["name"] for u in listed} and all(u["tenant"] == world.tenant_a for u in listed), listed
        assert not {u["name"] for u in listed} & {world.b_user.name, world.g_admin.name, "admin"}, listed
        client = key_client(server, key)
        updated = admin_cli(server, "user", "update", name, "--role", "readonly")
        assert (updated["role"], updated["status"]) == ("readonly", "active"), updated
        with s3_error(403, "AccessDenied"):
            client.create_bucket(Bucket=unique_name("ro"))
        disabled = admin_cli(server, "user", "update", name, "--status", "disabled")
        assert (disabled["status"], disabled["role"]) == ("disabled", "readonly"), disabled
        assert_refused(client, "AccessDenied")
        admin_cli(server, "user", "update", name, "--status", "active")
        assert works(client)
    finally:
        admin_cli(server, "user", "delete", name, json_out=False)
    cli_fails(server, "user", "show", name)
    assert_refused(client, {"InvalidAccessKeyId", "AccessDenied"})  # its keys went with it


def test_global_users(server, world):
    everyone = admin_cli(server, "user", "list")
    roles = {u["name"]: (u["role"], u["tenant"]) for u in everyone}
    assert len(roles) == len(everyone), "user names are unique"
    assert roles["admin"] == ("admin", None)
    assert roles[world.g_admin.name] == ("admin", None)
    assert roles[world.ro.name] == ("readonly", world.tenant_a)
    assert roles[world.tadmin.name] == ("tenant-admin", world.tenant_a)
    # A global admin created with the CLI administers everything.
    g = world.g_admin
    assert {world.tenant_a, world.tenant_b} <= {t["name"] for t in g.cli("tenant", "list")}
    assert bucket_names(g.client) >= {world.bucket, world.b_bucket}


def test_usernames_are_global(server, world):
    parallel(*[
        lambda where=where: cli_fails(server, "user", "create", world.b_user.name, "--password", PW, *where)
        for where in (["--role", "admin"], ["--tenant", world.tenant_a], ["--tenant", world.tenant_b])
    ])
    assert admin_cli(server, "user", "show", world.b_user.name)["tenant"] == world.tenant_b


def test_user_errors(server, world):
    parallel(
        lambda: cli_fails(server, "user", "create", unique_name("u"), "--password", PW, "--tenant", unique_name("none")),
        lambda: cli_fails(server, "user", "create", unique_name("u"), "--password", PW, "--tenant", world.tenant_a,
                          "--role", "superuser"),
        lambda: cli_fails(server, "user", "update", world.peer.name, "--status", "sleeping"),
        lambda: cli_fails(server, "user", "update", world.peer.name, "--role", "root"),
        lambda: cli_fails(server, "user", "delete", unique_name("nobody")),
        lambda: cli_fails(server, "key", "create", "--user", unique_name("nobody")),
    )
    assert admin_cli(server, "user", "show", world.peer.name)["status"] == "active"


BAD_PASSWORDS = {
    "too-short": "Ab1!xyz",  # 7 characters, four classes
    "lower-only": "abcdefghijkl",
    "lower-digit": "abcdefgh1234",  # two classes
    "upper-symbol": "ABCDEFGH!!!!",
    "lower-upper": "abcdEFGHijkl",
}
GOOD_PASSWORDS = {
    "lower-upper-digit": "abcdEF12",
    "lower-digit-symbol": "abcd-123",
    "upper-digit-symbol": "ABCD_123",
}


def test_password_policy_rejects(server, world):
    names = {label: unique_name("pw") for label in BAD_PASSWORDS}
    calls = []
    for label, password in BAD_PASSWORDS.items():
        calls.append(lambda label=label, password=password: (label, "user create", admin_cli(
            server, "user", "create", names[label], "--password", password, "--tenant", world.tenant_a, check=False)))
        if label in ("too-short", "lower-digit"):
            calls.append(lambda label=label, password=password: (label, "user update", admin_cli(
                server, "user", "update", world.peer.name, "--password", password, check=False)))
    for label, command, proc in parallel(*calls):
        assert proc.returncode != 0, f"{command} accepted the password {BAD_PASSWORDS[label]!r} ({label})"
        assert proc.stderr.strip()
    listed = {u["name"] for u in admin_cli(server, "user", "list", "--tenant", world.tenant_a)}
    assert not listed & set(names.values()), "a user with a refused password exists"


def test_password_policy_accepts(server, world):
    made = parallel(*[
        lambda password=password: create_account(server, tenant=world.tenant_a, password=password, with_key=False, prefix="pw")
        for password in GOOD_PASSWORDS.values()
    ])
    # They log in. (Users of the module's tenants go with the tenants at the end.)
    assert parallel(*[lambda acct=acct: acct.cli("key", "list") for acct in made]) == [[]] * len(made)


def test_password_update(server, world):
    acct = create_account(server, tenant=world.tenant_a, with_key=False, prefix="pwu")
    new = "N3w-Passw0rd!"
    admin_cli(server, "user", "update", acct.name, "--password", new)
    cli_fails(server, "key", "list", username=acct.name, password=PW)
    admin_cli(server, "key", "list", username=acct.name, password=new)


def test_role_change_takes_effect(server, s3, world):
    acct = create_account(server, tenant=world.tenant_a, prefix="rolec")
    bucket = unique_name("rolec")
    try:
        acct.client.create_bucket(Bucket=bucket)
        admin_cli(server, "user", "update", acct.name, "--role", "readonly")
        with s3_error(403, "AccessDenied"):
            acct.client.put_object(Bucket=bucket, Key="k", Body=b"x")
        assert can_list(acct.client, world.bucket)  # readonly reads every bucket of its tenant
        admin_cli(server, "user", "update", acct.name, "--role", "user")
        acct.client.put_object(Bucket=bucket, Key="k", Body=b"x")
        assert not can_list(acct.client, world.bucket)
    finally:
        purge_bucket(s3, bucket)


# --------------------------------------------------------------------------
# Access keys
# --------------------------------------------------------------------------


def test_key_create_list_disable_enable_delete(server, world):
    acct = create_account(server, tenant=world.tenant_b, prefix="kf")  # with a first key
    first = acct.key["access_key_id"]
    key = admin_cli(server, "key", "create", "--user", acct.name)
    assert KEY_FIELDS | {"secret_access_key"} <= key.keys(), key
    assert (key["user"], key["user_id"], key["tenant"], key["status"]) == (acct.name, acct.id, world.tenant_b, "active")
    assert len(key["secret_access_key"]) >= 20 and len(key["access_key_id"]) >= 16, key
    assert key["access_key_id"] != first and key["secret_access_key"] != acct.key["secret_access_key"]
    parse_time(key["created_at"])
    client = key_client(server, key)
    listed, everyone, _ = parallel(
        lambda: admin_cli(server, "key", "list", "--user", acct.name),
        lambda: admin_cli(server, "key", "list"),
        lambda: admin_cli(server, "key", "disable", first, json_out=False),
    )
    assert {k["access_key_id"] for k in listed} == {first, key["access_key_id"]}, listed
    (entry,) = [k for k in listed if k["access_key_id"] == key["access_key_id"]]
    assert "secret_access_key" not in entry and entry["last_used"] is None, entry
    assert {k: entry[k] for k in KEY_FIELDS} == {k: key[k] for k in KEY_FIELDS}
    assert {first, key["access_key_id"], ACCESS_KEY} <= {k["access_key_id"] for k in everyone}
    assert all("secret_access_key" not in k for k in everyone)
    # The disabled key is refused; the user's other key works.
    assert_refused(acct.client, "InvalidAccessKeyId")
    with s3_error(403, "InvalidAccessKeyId"):
        acct.client.list_objects_v2(Bucket=world.b_bucket)
    assert works(client)
    statuses = {k["access_key_id"]: k["status"] for k in admin_cli(server, "key", "list", "--user", acct.name)}
    assert statuses == {first: "disabled", key["access_key_id"]: "active"}, statuses
    parallel(
        lambda: admin_cli(server, "key", "enable", first, json_out=False),
        lambda: admin_cli(server, "key", "delete", key["access_key_id"], json_out=False),
    )
    assert works(acct.client)
    assert_refused(client, "InvalidAccessKeyId")
    assert [k["access_key_id"] for k in admin_cli(server, "key", "list", "--user", acct.name)] == [first]
    parallel(*[lambda c=c: cli_fails(server, "key", c, key["access_key_id"]) for c in ("enable", "disable", "delete")])


def test_key_last_used(server, world):
    acct = create_account(server, tenant=world.tenant_b, prefix="lu")
    def last_used():
        (entry,) = admin_cli(server, "key", "list", "--user", acct.name)
        return entry["last_used"]

    assert last_used() is None
    before = utcnow() - dt.timedelta(seconds=2)
    acct.client.list_buckets()
    deadline = time.monotonic() + 5
    while (value := last_used()) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert value is not None, "last_used still null after a signed request"
    assert before <= parse_time(value) <= utcnow() + dt.timedelta(seconds=2), value


def test_wrong_secret_for_a_user_key(server, world):
    bad = dict(world.b_user.key, secret_access_key=world.b_user.key["secret_access_key"][::-1])
    assert_refused(key_client(server, bad), "SignatureDoesNotMatch")


# --------------------------------------------------------------------------
# What each role may do in the admin API
# --------------------------------------------------------------------------


def test_tenant_admin_manages_its_tenant(server, world):
    tadmin = world.tadmin
    name = unique_name("bytadmin")
    user = tadmin.cli("user", "create", name, "--password", PW, "--tenant", world.tenant_a)
    assert (user["tenant"], user["role"]) == (world.tenant_a, "user"), user
    key = tadmin.cli("key", "create", "--user", name)
    assert (key["user"], key["tenant"]) == (name, world.tenant_a), key
    client = key_client(server, key)
    assert works(client)
    keys, listed, own_view = parallel(
        lambda: tadmin.cli("key", "list", "--user", name),
        lambda: tadmin.cli("user", "list", "--tenant", world.tenant_a),
        lambda: tadmin.cli("user", "list"),
    )
    assert key["access_key_id"] in {k["access_key_id"] for k in keys}
    assert {name, world.owner.name} <= {u["name"] for u in listed}, listed
    own_names = {u["name"] for u in own_view}
    assert name in own_names and not own_names & {world.b_user.name, world.g_admin.name, "admin"}, own_view
    tadmin.cli("key", "disable", key["access_key_id"], json_out=False)
    assert_refused(client, "InvalidAccessKeyId")
    tadmin.cli("key", "enable", key["access_key_id"], json_out=False)
    assert tadmin.cli("user", "update", name, "--role", "readonly")["role"] == "readonly"
    tadmin.cli("key", "delete", key["access_key_id"], json_out=False)
    assert_refused(client, "InvalidAccessKeyId")
    tadmin.cli("user", "delete", name, json_out=False)
    cli_fails(server, "user", "show", name)


def test_tenant_admin_grants_in_its_tenant(server, world):
    tadmin, peer = world.tadmin, world.peer
    assert not can_list(peer.client, world.bucket)
    grant(server, world.bucket, "read", user=peer.name, as_=tadmin)
    try:
        assert can_list(peer.client, world.bucket)
        assert has_perm(tadmin.cli("bucket-permission", "list", world.bucket), user=peer.name, level="read")
    finally:
        revoke(server, world.bucket, "read", user=peer.name, as_=tadmin)
    assert not can_list(peer.client, world.bucket)


# Commands a tenant-admin of tenant A must be refused.
TENANT_ADMIN_FORBIDDEN = {
    "user-create-in-other-tenant": lambda w: ["user", "create", unique_name("x"), "--password", PW, "--tenant", w.tenant_b],
    "user-show": lambda w: ["user", "show", w.b_user.name],
    "user-update": lambda w: ["user", "update", w.b_user.name, "--status", "disabled"],
    "user-update-password": lambda w: ["user", "update", w.b_user.name, "--password", "Hijack3d-Passw0rd"],
    "user-delete": lambda w: ["user", "delete", w.b_user.name],
    "user-list-other-tenant": lambda w: ["user", "list", "--tenant", w.tenant_b],
    "key-create": lambda w: ["key", "create", "--user", w.b_user.name],
    "key-list": lambda w: ["key", "list", "--user", w.b_user.name],
    "key-disable": lambda w: ["key", "disable", w.b_user.key["access_key_id"]],
    "key-delete": lambda w: ["key", "delete", w.b_user.key["access_key_id"]],
    "group-create-in-other-tenant": lambda w: ["group", "create", unique_name("g"), "--tenant", w.tenant_b],
    "grant-on-other-tenant-bucket": lambda w: [
        "bucket-permission", "grant", w.b_bucket, "--user", w.peer.name, "--level", "read"],
    "permissions-of-other-tenant-bucket": lambda w: ["bucket-permission", "list", w.b_bucket],
    "tenant-create": lambda w: ["tenant", "create", unique_name("t")],
    "tenant-update-own-quota": lambda w: ["tenant", "update", w.tenant_a, "--max-buckets", "1000"],
    "tenant-update-other": lambda w: ["tenant", "update", w.tenant_b, "--status", "suspended"],
    "tenant-delete-other": lambda w: ["tenant", "delete", w.tenant_b, "--force"],
    "create-global-admin": lambda w: ["user", "create", unique_name("x"), "--password", PW, "--role", "admin"],
    "create-tenant-user-with-admin-role": lambda w: [
        "user", "create", unique_name("x"), "--password", PW, "--tenant", w.tenant_a, "--role", "admin"],
    "promote-to-admin": lambda w: ["user", "update", w.peer.name, "--role", "admin"],
    "update-global-admin": lambda w: ["user", "update", "admin", "--password", "Hijack3d-Passw0rd"],
    "bucket-quota-of-other-tenant": lambda w: ["bucket-quota", "set", w.b_bucket, "--max-bytes", "1"],
}

# Commands a plain user (`owner`, of tenant A, owner of the module's bucket) must be refused.
USER_FORBIDDEN = {
    "key-create-for-peer": lambda w: ["key", "create", "--user", w.peer.name],
    "key-list-of-peer": lambda w: ["key", "list", "--user", w.peer.name],
    "key-delete-of-peer": lambda w: ["key", "delete", w.peer.key["access_key_id"]],
    "key-disable-of-peer": lambda w: ["key", "disable", w.peer.key["access_key_id"]],
    "key-delete-of-other-tenant": lambda w: ["key", "delete", w.b_user.key["access_key_id"]],
    "user-create": lambda w: ["user", "create", unique_name("x"), "--password", PW, "--tenant", w.tenant_a],
    "user-update-peer": lambda w: ["user", "update", w.peer.name, "--status", "disabled"],
    "user-update-own-role": lambda w: ["user", "update", w.owner.name, "--role", "tenant-admin"],
    "user-delete-peer": lambda w: ["user", "delete", w.peer.name],
    "user-list": lambda w: ["user", "list"],
    "tenant-list": lambda w: ["tenant", "list"],
    "tenant-update-own": lambda w: ["tenant", "update", w.tenant_a, "--max-buckets", "1000"],
    "group-create": lambda w: ["group", "create", unique_name("g"), "--tenant", w.tenant_a],
    "grant-on-own-bucket": lambda w: ["bucket-permission", "grant", w.bucket, "--user", w.peer.name, "--level", "read"],
    "bucket-quota-own-bucket": lambda w: ["bucket-quota", "set", w.bucket, "--max-bytes", "1"],
}

# Listings that may be refused or shown restricted to what the caller may see.
RESTRICTED_VIEW = {
    ("tadmin", "user-list-other-tenant"): lambda w, rows: not {r["name"] for r in rows} & {w.b_user.name, w.b_reader.name},
    ("owner", "user-list"): lambda w, rows: {r["name"] for r in rows} <= {w.owner.name},
    ("owner", "tenant-list"): lambda w, rows: {r["name"] for r in rows} <= {w.tenant_a},
}


def _probe_put(client, bucket):
    client.put_object(Bucket=bucket, Key="quota-probe", Body=b"probe")
    client.delete_object(Bucket=bucket, Key="quota-probe")


def _assert_eq(got, expected):
    assert got == expected, f"{got!r} != {expected!r}"


# After a refused command, what it would have changed that S3 does not show.
UNCHANGED = {
    "user-update-password": lambda s, w: w.b_user.cli("key", "list"),
    "update-global-admin": lambda s, w: admin_cli(s, "user", "show", "admin"),
    "tenant-update-own-quota": lambda s, w: _assert_eq(admin_cli(s, "tenant", "show", w.tenant_a)["max_buckets"], 0),
    "tenant-update-own": lambda s, w: _assert_eq(admin_cli(s, "tenant", "show", w.tenant_a)["max_buckets"], 0),
    "user-update-own-role": lambda s, w: _assert_eq(admin_cli(s, "user", "show", w.owner.name)["role"], "user"),
    "bucket-quota-of-other-tenant": lambda s, w: _probe_put(w.b_user.client, w.b_bucket),
    "bucket-quota-own-bucket": lambda s, w: _probe_put(w.owner.client, w.bucket),
}


@pytest.fixture(scope="module")
def refusals(world):
    """Every forbidden command run once, four at a time: {(who, command): (args, CompletedProcess)}."""
    jobs = [("tadmin", c, f(world)) for c, f in TENANT_ADMIN_FORBIDDEN.items()]
    jobs += [("owner", c, f(world)) for c, f in USER_FORBIDDEN.items()]
    with ThreadPoolExecutor(4) as pool:
        procs = list(pool.map(lambda job: getattr(world, job[0]).cli(*job[2], check=False), jobs))
    return {(who, command): (args, proc) for (who, command, args), proc in zip(jobs, procs)}


def _check_refused(server, world, refusals, who: str, command: str):
    args, proc = refusals[(who, command)]
    view = RESTRICTED_VIEW.get((who, command))
    if view is not None and proc.returncode == 0:
        rows = json.loads(proc.stdout or "[]")
        assert view(world, rows), f"{who}'s `{' '.join(args)}` shows {rows}"
    else:
        assert proc.returncode != 0, f"{who} could run `{' '.join(args)}`:\n{proc.stdout}"
        assert proc.stderr.strip()
    # Nothing happened to tenant B's user, key, status or bucket, nor to tenant A's peer.
    assert works(world.b_user.client) and works(world.peer.client)
    assert not can_list(world.peer.client, world.b_bucket) and not can_list(world.peer.client, world.bucket)
    if command in UNCHANGED:
        UNCHANGED[command](server, world)


@pytest.mark.parametrize("command", TENANT_ADMIN_FORBIDDEN.keys())
def test_tenant_admin_cannot_reach_beyond_its_tenant(server, world, refusals, command):
    _check_refused(server, world, refusals, "tadmin", command)


@pytest.mark.parametrize("command", USER_FORBIDDEN.keys())
def test_user_cannot_administer(server, world, refusals, command):
    _check_refused(server, world, refusals, "owner", command)


def test_user_manages_only_its_own_keys(server, world):
    owner = world.owner
    mine = owner.cli("key", "create", "--user", owner.name)
    assert mine["user"] == owner.name and "secret_access_key" in mine, mine
    assert works(key_client(server, mine))
    listed = owner.cli("key", "list")
    assert {k["access_key_id"] for k in listed} == {owner.key["access_key_id"], mine["access_key_id"]}
    assert all(k["user"] == owner.name and "secret_access_key" not in k for k in listed), listed
    owner.cli("key", "delete", mine["access_key_id"], json_out=False)
    assert_refused(key_client(server, mine), "InvalidAccessKeyId")
    assert works(owner.client)


def test_readonly_cannot_create_keys(server, world):
    ro = world.ro
    ro.cli_fails("key", "create", "--user", ro.name)
    assert [k["access_key_id"] for k in admin_cli(server, "key", "list", "--user", ro.name)] == [ro.key["access_key_id"]]


# --------------------------------------------------------------------------
# Groups and bucket permissions
# --------------------------------------------------------------------------


def test_group_grant(server, world, a_bucket):
    group = unique_name("grp")
    member, outsider = world.b_user, world.b_reader
    created = admin_cli(server, "group", "create", group, "--tenant", world.tenant_b)
    try:
        assert created is None or (created["name"], created["tenant"]) == (group, world.tenant_b), created
        listed_b, listed_a, _ = parallel(
            lambda: admin_cli(server, "group", "list", "--tenant", world.tenant_b),
            lambda: admin_cli(server, "group", "list", "--tenant", world.tenant_a),
            lambda: grant(server, a_bucket, "read", group=group),
        )
        assert group in {g["name"] for g in listed_b} and group not in {g["name"] for g in listed_a}
        assert not can_list(member.client, a_bucket)  # not a member yet
        admin_cli(server, "group", "add-user", group, member.name, json_out=False)
        assert get_body(member.client, a_bucket, "k") == b"value"
        with s3_error(403, "AccessDenied"):
            member.client.put_object(Bucket=a_bucket, Key="by-member", Body=b"x")
        assert not can_list(outsider.client, a_bucket)
        perms = permissions(server, a_bucket)
        assert has_perm(perms, bucket=a_bucket, group=group, level="read", expires_at=None), perms
        admin_cli(server, "group", "remove-user", group, member.name, json_out=False)
        assert not can_list(member.client, a_bucket)
        admin_cli(server, "group", "add-user", group, member.name, json_out=False)
        assert can_list(member.client, a_bucket)
        revoke(server, a_bucket, "read", group=group)
        assert not can_list(member.client, a_bucket)
        assert not has_perm(permissions(server, a_bucket), group=group)
        grant(server, a_bucket, "read", group=group)
        assert can_list(member.client, a_bucket)
    finally:
        admin_cli(server, "group", "delete", group, json_out=False)
    assert not can_list(member.client, a_bucket)  # deleting the group ends its grants
    assert group not in {g["name"] for g in admin_cli(server, "group", "list")}


def test_group_rules(server, world):
    group = unique_name("grp")
    admin_cli(server, "group", "create", group, "--tenant", world.tenant_a)
    try:
        parallel(
            lambda: cli_fails(server, "group", "create", group, "--tenant", world.tenant_b),  # names are global
            lambda: cli_fails(server, "group", "create", group),
            lambda: cli_fails(server, "group", "add-user", group, unique_name("nobody")),
            lambda: cli_fails(server, "group", "add-user", unique_name("nogroup"), world.peer.name),
        )
    finally:
        admin_cli(server, "group", "delete", group, json_out=False)
    cli_fails(server, "group", "delete", group)


def test_tenant_admin_manages_groups_of_its_tenant(server, world, a_bucket):
    tadmin, peer = world.tadmin, world.peer
    group = unique_name("grp")
    tadmin.cli("group", "create", group, "--tenant", world.tenant_a)
    try:
        parallel(
            lambda: tadmin.cli("group", "add-user", group, peer.name, json_out=False),
            lambda: grant(server, a_bucket, "write", group=group, as_=tadmin),
            lambda: tadmin.cli_fails("group", "add-user", group, world.b_user.name),  # another tenant's user
        )
        peer.client.put_object(Bucket=a_bucket, Key="by-peer", Body=b"x")
        tadmin.cli("group", "remove-user", group, peer.name, json_out=False)
        with s3_error(403, "AccessDenied"):
            peer.client.put_object(Bucket=a_bucket, Key="by-peer-2", Body=b"x")
    finally:
        admin_cli(server, "group", "delete", group, json_out=False, check=False)


def test_user_grant_list_and_revoke(server, world, a_bucket):
    user = world.b_user
    assert not can_list(user.client, a_bucket)
    result = grant(server, a_bucket, "write", user=user.name)
    assert result is None or has_perm([result], bucket=a_bucket, user=user.name, level="write"), result
    try:
        perms = permissions(server, a_bucket)
        assert has_perm(perms, bucket=a_bucket, user=user.name, level="write", expires_at=None), perms
        user.client.put_object(Bucket=a_bucket, Key="by-b", Body=b"from b")
        assert get_body(user.client, a_bucket, "k") == b"value"
        with s3_error(403, "AccessDenied"):
            user.client.put_bucket_versioning(Bucket=a_bucket, VersioningConfiguration={"Status": "Enabled"})
        with s3_error(403, "AccessDenied"):
            user.client.delete_bucket(Bucket=a_bucket)
        assert a_bucket in bucket_names(user.client)
    finally:
        revoke(server, a_bucket, "write", user=user.name)
    assert not can_list(user.client, a_bucket)
    with s3_error(403, "AccessDenied"):
        user.client.put_object(Bucket=a_bucket, Key="by-b-2", Body=b"x")
    assert not [p for p in permissions(server, a_bucket) if p.get("user") == user.name]
    assert a_bucket not in bucket_names(user.client)


def test_tenant_grant(server, world, a_bucket):
    grant(server, a_bucket, "read", tenant=world.tenant_b)
    try:
        perms = permissions(server, a_bucket)
        assert has_perm(perms, bucket=a_bucket, tenant=world.tenant_b, level="read", expires_at=None), perms
        for acct in (world.b_user, world.b_writer):
            assert get_body(acct.client, a_bucket, "k") == b"value"
            with s3_error(403, "AccessDenied"):
                acct.client.put_object(Bucket=a_bucket, Key="by-tenant-b", Body=b"x")
        assert a_bucket in bucket_names(world.b_user.client)
        assert not can_list(world.peer.client, a_bucket)  # tenant A's own plain user still has no grant
    finally:
        revoke(server, a_bucket, "read", tenant=world.tenant_b)
    assert not can_list(world.b_user.client, a_bucket)
    assert a_bucket not in bucket_names(world.b_user.client)


def test_grant_expiry(server, world, a_bucket):
    user = world.b_user
    # A far-future expiry is reported and does not restrict access.
    grant(server, a_bucket, "read", user=user.name, expires="2100-01-01T00:00:00Z")
    perms = [p for p in permissions(server, a_bucket) if p.get("user") == user.name]
    assert len(perms) == 1 and parse_time(perms[0]["expires_at"]) == dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc), perms
    assert can_list(user.client, a_bucket)
    revoke(server, a_bucket, "read", user=user.name)
    # A grant expiring in a few seconds works, then stops working by itself.
    expires = utcnow().replace(microsecond=0) + dt.timedelta(seconds=3)
    grant(server, a_bucket, "read", user=user.name, expires=iso(expires))
    try:
        assert can_list(user.client, a_bucket)
        time.sleep(max(0.0, (expires - utcnow()).total_seconds()) + 1.0)
        assert not can_list(user.client, a_bucket)
        with s3_error(403, "AccessDenied"):
            user.client.get_object(Bucket=a_bucket, Key="k")
        assert a_bucket not in bucket_names(user.client)
    finally:
        revoke(server, a_bucket, "read", user=user.name)
    # A grant that has already expired is refused or has no effect; a time that is not one is refused.
    admin_cli(server, "bucket-permission", "grant", a_bucket, "--user", user.name, "--level", "read",
              "--expires", "2000-01-01T00:00:00Z", check=False)
    assert not can_list(user.client, a_bucket)
    cli_fails(server, "bucket-permission", "grant", a_bucket, "--user", user.name, "--level", "read",
              "--expires", "not-a-time")
    assert not can_list(user.client, a_bucket)


def test_grant_errors(server, world, a_bucket):
    missing = unique_name("nobucket")
    base = ["bucket-permission", "grant"]
    parallel(
        lambda: cli_fails(server, *base, a_bucket, "--user", world.b_user.name, "--level", "owner"),
        lambda: cli_fails(server, *base, a_bucket, "--user", unique_name("nobody"), "--level", "read"),
        lambda: cli_fails(server, *base, a_bucket, "--group", unique_name("nogroup"), "--level", "read"),
        lambda: cli_fails(server, *base, a_bucket, "--tenant", unique_name("notenant"), "--level", "read"),
        lambda: cli_fails(server, *base, missing, "--user", world.b_user.name, "--level", "read"),
        lambda: cli_fails(server, "bucket-permission", "list", missing),
    )
    assert not can_list(world.b_user.client, a_bucket)


def test_grants_end_with_their_bucket(server, s3, world):
    # A bucket deleted and created again under the same name does not inherit the old bucket's grants.
    name = unique_name("reuse")
    world.owner.client.create_bucket(Bucket=name)
    grant(server, name, "read", user=world.b_user.name)
    assert can_list(world.b_user.client, name)
    world.owner.client.delete_bucket(Bucket=name)
    world.peer.client.create_bucket(Bucket=name)
    try:
        assert not can_list(world.b_user.client, name)
        assert not [p for p in permissions(server, name) if p.get("user") == world.b_user.name]
    finally:
        purge_bucket(s3, name)


# --------------------------------------------------------------------------
# S3: buckets, listing, owners
# --------------------------------------------------------------------------


def test_list_buckets_shows_readable_buckets(s3, world):
    bucket, b_bucket = world.bucket, world.b_bucket
    expect = {
        "owner": (True, False),
        "tadmin": (True, False),
        "ro": (True, False),
        "peer": (False, False),
        "b_user": (False, True),
        "b_reader": (True, False),
        "b_writer": (True, False),
        "g_admin": (True, True),
    }
    for name, (sees_a, sees_b) in expect.items():
        names = bucket_names(world.accounts[name].client)
        assert (bucket in names, b_bucket in names) == (sees_a, sees_b), f"{name} lists {sorted(names)}"
    assert {bucket, b_bucket} <= bucket_names(s3)
    with s3_error(403, "AccessDenied"):
        world.anonymous.list_buckets()


def test_create_bucket_rules(s3, world):
    owner = world.owner
    with s3_error(409, "BucketAlreadyOwnedByYou"):
        owner.client.create_bucket(Bucket=world.bucket)
    with s3_error(409, "BucketAlreadyExists"):
        world.b_user.client.create_bucket(Bucket=world.bucket)
    with s3_error(409, "BucketAlreadyExists"):
        owner.client.create_bucket(Bucket=world.b_bucket)
    for client in (world.ro.client, world.anonymous):
        name = unique_name("denied")
        with s3_error(403, "AccessDenied"):
            client.create_bucket(Bucket=name)
        assert not bucket_exists(s3, name)
    assert get_body(s3, world.bucket, OBJ) == OBJ_BODY


def test_bucket_of_a_tenant_admin(s3, world):
    name = unique_name("bytadmin")
    world.tadmin.client.create_bucket(Bucket=name)
    try:
        world.tadmin.client.put_object(Bucket=name, Key="k", Body=b"x")
        assert can_list(world.ro.client, name)  # readonly reads every bucket of the tenant
        for acct in (world.owner, world.peer, world.b_user):
            assert not can_list(acct.client, name), acct.name
            assert name not in bucket_names(acct.client)
        assert name in bucket_names(world.tadmin.client)
    finally:
        purge_bucket(s3, name)


def test_user_bucket_belongs_to_its_tenant(server, s3, world):
    before = admin_cli(server, "tenant", "show", world.tenant_a)["bucket_count"]
    name = unique_name("bypeer")
    world.peer.client.create_bucket(Bucket=name)
    try:
        assert admin_cli(server, "tenant", "show", world.tenant_a)["bucket_count"] == before + 1
        world.peer.client.put_object(Bucket=name, Key="k", Body=b"peer")
        # The tenant-admin and readonly of the same tenant see it; another plain user of the tenant does not.
        assert get_body(world.tadmin.client, name, "k") == b"peer"
        world.tadmin.client.put_object(Bucket=name, Key="by-tadmin", Body=b"x")
        assert get_body(world.ro.client, name, "k") == b"peer"
        assert not can_list(world.owner.client, name)
        assert not can_list(world.b_user.client, name)
    finally:
        purge_bucket(s3, name)
    assert admin_cli(server, "tenant", "show", world.tenant_a)["bucket_count"] == before


def test_fetch_owner_is_the_bucket_owner(server, s3, world, a_bucket):
    # As AWS's default object ownership (BucketOwnerEnforced): every object belongs to the bucket's owner,
    # whoever uploaded it, and that is the Owner listings show.
    grant(server, a_bucket, "write", user=world.b_writer.name)
    world.b_writer.client.put_object(Bucket=a_bucket, Key="by-writer", Body=b"w")
    world.tadmin.client.put_object(Bucket=a_bucket, Key="by-tadmin", Body=b"t")
    contents = s3.list_objects_v2(Bucket=a_bucket, FetchOwner=True)["Contents"]
    owners = {o["Key"]: o["Owner"]["ID"] for o in contents}
    assert owners == {"k": world.owner.id, "by-writer": world.owner.id, "by-tadmin": world.owner.id}, owners
    assert {o["Owner"]["DisplayName"] for o in contents} == {world.owner.name}
    assert world.owner.key["user_id"] == world.owner.id
    listed = world.owner.client.list_objects_v2(Bucket=a_bucket, FetchOwner=True)["Contents"]
    assert {o["Key"]: o["Owner"]["ID"] for o in listed} == owners
    # ListObjects (v1) always names the owner.
    v1 = world.b_writer.client.list_objects(Bucket=a_bucket)["Contents"]
    assert {o["Owner"]["ID"] for o in v1} == {world.owner.id}


def test_denied_head_bucket_has_no_body(server, world):
    b = world.b_user.key
    creds = {"access_key": b["access_key_id"], "secret_key": b["secret_access_key"]}
    resp = raw_request(server, "HEAD", f"/{world.bucket}", **creds)
    assert resp.status_code == 403 and resp.content == b"", (resp.status_code, resp.content)
    resp = raw_request(server, "HEAD", f"/{world.bucket}", sign=False)
    assert resp.status_code == 403 and resp.content == b"", (resp.status_code, resp.content)
    assert_error_response(raw_request(server, "GET", f"/{world.bucket}", query={"location": None}, **creds), 403, "AccessDenied")
    assert_error_response(requests.get(f"{server.endpoint}/{world.bucket}/{OBJ}", timeout=10), 403, "AccessDenied")


def test_copy_needs_read_on_the_source(s3, world):
    b_user, b_reader = world.b_user, world.b_reader
    # b_user owns b_bucket but cannot read tenant A's bucket.
    with s3_error(403, "AccessDenied"):
        b_user.client.copy_object(Bucket=world.b_bucket, Key="stolen", CopySource={"Bucket": world.bucket, "Key": OBJ})
    assert not object_exists(s3, world.b_bucket, "stolen")
    upload = b_user.client.create_multipart_upload(Bucket=world.b_bucket, Key="stolen-mp")["UploadId"]
    try:
        with s3_error(403, "AccessDenied"):
            b_user.client.upload_part_copy(
                Bucket=world.b_bucket, Key="stolen-mp", UploadId=upload, PartNumber=1,
                CopySource={"Bucket": world.bucket, "Key": OBJ},
            )
        assert s3.list_parts(Bucket=world.b_bucket, Key="stolen-mp", UploadId=upload).get("Parts", []) == []
    finally:
        s3.abort_multipart_upload(Bucket=world.b_bucket, Key="stolen-mp", UploadId=upload)
    # b_reader may read it and copy it into a bucket of its own, but not the other way round.
    own = unique_name("breader")
    b_reader.client.create_bucket(Bucket=own)
    try:
        b_reader.client.copy_object(Bucket=own, Key="copied", CopySource={"Bucket": world.bucket, "Key": OBJ})
        assert get_body(b_reader.client, own, "copied") == OBJ_BODY
        with s3_error(403, "AccessDenied"):
            b_reader.client.copy_object(Bucket=world.bucket, Key="pushed", CopySource={"Bucket": own, "Key": "copied"})
        assert not object_exists(s3, world.bucket, "pushed")
    finally:
        purge_bucket(s3, own)


# --------------------------------------------------------------------------
# The authorization matrix
# --------------------------------------------------------------------------

RANK = {None: 0, "read": 1, "write": 2, "admin": 3}

# (principal id, account in World or None for anonymous, effective level on tenant A's `owner` bucket)
PRINCIPALS = [
    ("owner", "owner", "admin"),
    ("global-admin", "g_admin", "admin"),
    ("tenant-admin", "tadmin", "admin"),
    ("same-tenant-user", "peer", None),
    ("same-tenant-readonly", "ro", "read"),
    ("other-tenant", "b_user", None),
    ("other-tenant-read-grant", "b_reader", "read"),
    ("other-tenant-write-grant", "b_writer", "write"),
    ("other-tenant-admin-grant", "b_admin", "admin"),
    ("anonymous", None, None),
]


class PerKeyDenied(Exception):
    """DeleteObjects answered 200 with an AccessDenied error for every key (AWS's form of refusal)."""


@dataclass
class Ctx:
    s3: Any  # the root (admin) client, for set-up and checks
    bucket: str
    key: str  # a key of this test only
    upload_id: str | None = None


@dataclass
class Op:
    name: str
    level: str
    call: Callable[[Any, Ctx], Any]
    prepare: Callable[[Ctx], None] | None = None
    effect: Callable[[Ctx], bool] | None = None  # did the operation's change happen?
    cleanup: Callable[[Ctx], None] | None = None
    fresh: bool = False  # runs on a bucket of its own (created by `owner`)
    head: bool = False  # a HEAD: errors have no body
    tolerated: tuple[str, ...] = ()  # error codes that still mean "allowed"


def _put_own_object(x: Ctx, tagging: str | None = None):
    kw = {"Tagging": tagging} if tagging else {}
    x.s3.put_object(Bucket=x.bucket, Key=x.key, Body=b"to be changed", **kw)


def _start_upload(x: Ctx):
    x.upload_id = x.s3.create_multipart_upload(Bucket=x.bucket, Key=x.key)["UploadId"]


def _upload_listed(x: Ctx) -> bool:
    uploads = x.s3.list_multipart_uploads(Bucket=x.bucket, Prefix=x.key).get("Uploads", [])
    return any(u["Key"] == x.key for u in uploads)


def _abort_uploads(x: Ctx):
    for upload in x.s3.list_multipart_uploads(Bucket=x.bucket, Prefix=x.key).get("Uploads", []):
        if upload["Key"] == x.key:
            x.s3.abort_multipart_upload(Bucket=x.bucket, Key=x.key, UploadId=upload["UploadId"])


def _tags(x: Ctx) -> list[tuple[str, str]]:
    return [(t["Key"], t["Value"]) for t in x.s3.get_object_tagging(Bucket=x.bucket, Key=x.key)["TagSet"]]


def _delete_objects(c, x: Ctx):
    resp = c.delete_objects(Bucket=x.bucket, Delete={"Objects": [{"Key": x.key}]})
    errors = resp.get("Errors", [])
    if errors and not resp.get("Deleted") and all(e.get("Code") == "AccessDenied" for e in errors):
        raise PerKeyDenied(errors)
    assert not errors, errors
    return resp


LIFECYCLE = {"Rules": [{"ID": "r", "Filter": {"Prefix": "never/"}, "Status": "Enabled", "Expiration": {"Days": 3650}}]}


def _has_lifecycle(x: Ctx) -> bool:
    try:
        x.s3.get_bucket_lifecycle_configuration(Bucket=x.bucket)
    except ClientError as exc:
        assert error_of(exc) == (404, "NoSuchLifecycleConfiguration"), exc.response
        return False
    return True


OPS = [
    Op("ListObjectsV2", "read", lambda c, x: c.list_objects_v2(Bucket=x.bucket)),
    Op("ListObjects", "read", lambda c, x: c.list_objects(Bucket=x.bucket)),
    Op("ListObjectVersions", "read", lambda c, x: c.list_object_versions(Bucket=x.bucket)),
    Op("HeadBucket", "read", lambda c, x: c.head_bucket(Bucket=x.bucket), head=True),
    Op("GetBucketLocation", "read", lambda c, x: c.get_bucket_location(Bucket=x.bucket)),
    Op("GetObject", "read", lambda c, x: c.get_object(Bucket=x.bucket, Key=OBJ)["Body"].read()),
    Op("HeadObject", "read", lambda c, x: c.head_object(Bucket=x.bucket, Key=OBJ), head=True),
    Op("GetObjectTagging", "read", lambda c, x: c.get_object_tagging(Bucket=x.bucket, Key=OBJ)),
    Op("ListMultipartUploads", "read", lambda c, x: c.list_multipart_uploads(Bucket=x.bucket)),
    Op(
        "ListParts", "read",
        lambda c, x: c.list_parts(Bucket=x.bucket, Key=x.key, UploadId=x.upload_id),
        prepare=_start_upload, cleanup=_abort_uploads,
    ),
    Op("GetBucketVersioning", "read", lambda c, x: c.get_bucket_versioning(Bucket=x.bucket)),
    Op("GetBucketTagging", "read", lambda c, x: c.get_bucket_tagging(Bucket=x.bucket)),
    Op(
        "GetBucketLifecycleConfiguration", "read",
        lambda c, x: c.get_bucket_lifecycle_configuration(Bucket=x.bucket),
        tolerated=("NoSuchLifecycleConfiguration",),
    ),
    Op(
        "PutObject", "write",
        lambda c, x: c.put_object(Bucket=x.bucket, Key=x.key, Body=b"new object"),
        effect=lambda x: object_exists(x.s3, x.bucket, x.key),
    ),
    Op(
        "CopyObject", "write",
        lambda c, x: c.copy_object(Bucket=x.bucket, Key=x.key, CopySource={"Bucket": x.bucket, "Key": OBJ}),
        effect=lambda x: object_exists(x.s3, x.bucket, x.key),
    ),
    Op(
        "DeleteObject", "write",
        lambda c, x: c.delete_object(Bucket=x.bucket, Key=x.key),
        prepare=_put_own_object, effect=lambda x: not object_exists(x.s3, x.bucket, x.key),
    ),
    Op(
        "DeleteObjects", "write", _delete_objects,
        prepare=_put_own_object, effect=lambda x: not object_exists(x.s3, x.bucket, x.key),
    ),
    Op(
        "CreateMultipartUpload", "write",
        lambda c, x: c.create_multipart_upload(Bucket=x.bucket, Key=x.key),
        effect=_upload_listed, cleanup=_abort_uploads,
    ),
    Op(
        "UploadPart", "write",
        lambda c, x: c.upload_part(Bucket=x.bucket, Key=x.key, UploadId=x.upload_id, PartNumber=1, Body=b"part"),
        prepare=_start_upload, cleanup=_abort_uploads,
        effect=lambda x: bool(x.s3.list_parts(Bucket=x.bucket, Key=x.key, UploadId=x.upload_id).get("Parts")),
    ),
    Op(
        "AbortMultipartUpload", "write",
        lambda c, x: c.abort_multipart_upload(Bucket=x.bucket, Key=x.key, UploadId=x.upload_id),
        prepare=_start_upload, cleanup=_abort_uploads, effect=lambda x: not _upload_listed(x),
    ),
    Op(
        "PutObjectTagging", "write",
        lambda c, x: c.put_object_tagging(Bucket=x.bucket, Key=x.key, Tagging={"TagSet": [{"Key": "new", "Value": "1"}]}),
        prepare=lambda x: _put_own_object(x, "orig=1"), effect=lambda x: _tags(x) == [("new", "1")],
    ),
    Op(
        "DeleteObjectTagging", "write",
        lambda c, x: c.delete_object_tagging(Bucket=x.bucket, Key=x.key),
        prepare=lambda x: _put_own_object(x, "orig=1"), effect=lambda x: _tags(x) == [],
    ),
    Op(
        "PutBucketTagging", "admin",
        lambda c, x: c.put_bucket_tagging(Bucket=x.bucket, Tagging={"TagSet": [{"Key": "set-by", "Value": x.key}]}),
        effect=lambda x: {"Key": "set-by", "Value": x.key} in x.s3.get_bucket_tagging(Bucket=x.bucket)["TagSet"],
    ),
    Op(
        "PutBucketVersioning", "admin",
        lambda c, x: c.put_bucket_versioning(Bucket=x.bucket, VersioningConfiguration={"Status": "Enabled"}),
        effect=lambda x: x.s3.get_bucket_versioning(Bucket=x.bucket).get("Status") == "Enabled", fresh=True,
    ),
    Op(
        "PutBucketLifecycleConfiguration", "admin",
        lambda c, x: c.put_bucket_lifecycle_configuration(Bucket=x.bucket, LifecycleConfiguration=LIFECYCLE),
        effect=_has_lifecycle, fresh=True,
    ),
    Op(
        "DeleteBucket", "admin",
        lambda c, x: c.delete_bucket(Bucket=x.bucket),
        effect=lambda x: not bucket_exists(x.s3, x.bucket), fresh=True,
    ),
]


def _fresh_bucket(server, world: World, account: str | None) -> str:
    name = unique_name("iamx")
    world.owner.client.create_bucket(Bucket=name)
    if account in GRANTED:
        grant(server, name, GRANTED[account], user=world.accounts[account].name)
    return name


@pytest.mark.parametrize("principal, account, level", PRINCIPALS, ids=[p[0] for p in PRINCIPALS])
@pytest.mark.parametrize("op", OPS, ids=[o.name for o in OPS])
def test_authorization_matrix(server, s3, world, op, principal, account, level):
    client = world.anonymous if account is None else world.accounts[account].client
    allowed = RANK[level] >= RANK[op.level]
    bucket = _fresh_bucket(server, world, account) if op.fresh else world.bucket
    ctx = Ctx(s3, bucket, unique_name(f"m-{op.name}"))
    try:
        if op.prepare:
            op.prepare(ctx)
        outcome: Exception | None = None
        try:
            op.call(client, ctx)
        except (ClientError, PerKeyDenied) as exc:
            outcome = exc
        if allowed:
            if isinstance(outcome, ClientError):
                status, code = error_of(outcome)
                assert status != 403 and code in op.tolerated, f"{principal} was refused {op.name}: {status} {code}"
            assert not isinstance(outcome, PerKeyDenied), f"{principal} was refused {op.name}: {outcome}"
        else:
            assert outcome is not None, f"{principal} was allowed {op.name}"
            if isinstance(outcome, ClientError):
                status, code = error_of(outcome)
                codes = {"AccessDenied", "403"} if op.head else {"AccessDenied"}
                assert status == 403 and code in codes, f"{principal} {op.name}: expected 403 AccessDenied, got {status} {code}"
        if op.effect:
            assert op.effect(ctx) == allowed, f"{op.name} by {principal}: effect {'missing' if allowed else 'happened'}"
        if not op.fresh:  # the shared object is never harmed
            assert get_body(s3, world.bucket, OBJ) == OBJ_BODY
    finally:
        if op.cleanup and bucket_exists(s3, bucket):
            op.cleanup(ctx)
        if op.fresh:
            purge_bucket(s3, bucket)


def test_expected_bucket_owner(s3, world):
    # x-amz-expected-bucket-owner names the bucket's owner: its canonical id, or its tenant (the account).
    bucket = world.bucket
    for good in (world.owner.id, world.tenant_a):
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=good)
        s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=good)
    for bad in (world.b_user.id, world.tenant_b, "123456789012"):
        with s3_error(403, "AccessDenied"):
            s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=bad)
        with s3_error(403, "AccessDenied"):
            s3.get_object(Bucket=bucket, Key=OBJ, ExpectedBucketOwner=bad)
    # The copy source's owner is checked with x-amz-source-expected-bucket-owner.
    with s3_error(403, "AccessDenied"):
        s3.copy_object(
            Bucket=world.b_bucket, Key="copied", CopySource={"Bucket": bucket, "Key": OBJ},
            ExpectedSourceBucketOwner=world.tenant_b)
    s3.copy_object(
        Bucket=world.b_bucket, Key="copied", CopySource={"Bucket": bucket, "Key": OBJ},
        ExpectedSourceBucketOwner=world.tenant_a)
    s3.delete_object(Bucket=world.b_bucket, Key="copied")
