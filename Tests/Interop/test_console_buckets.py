"""The console's bucket list (GET /api/v1/buckets and /buckets/{bucket}): what each role sees, paging by
cursor, a name prefix, the fields a bucket table shows."""

from __future__ import annotations

import requests

from conftest import ADMIN_PASSWORD, unique_name
from test_iam import create_account, create_tenant
from test_quotas import purge_everything


def token(server, name, password):
    r = requests.post(server.console_endpoint + "/api/v1/auth/login", json={"username": name, "password": password}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def get(server, tok, path, **params):
    return requests.get(server.console_endpoint + "/api/v1" + path, headers={"Authorization": f"Bearer {tok}"},
                        params=params, timeout=10)


def all_pages(server, tok, **params):
    names, cursor = [], None
    while True:
        r = get(server, tok, "/buckets", **params, **({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.text
        page = r.json()
        names += [b["name"] for b in page["buckets"]]
        cursor = page["next_cursor"]
        if not cursor:
            return names


def test_visibility_paging_and_fields(server, s3):
    tenant = create_tenant(server, "cb")["name"]
    tadmin = create_account(server, tenant=tenant, role="tenant-admin", prefix="cbadm")
    other = create_account(server, tenant=create_tenant(server, "cbo")["name"], role="tenant-admin", prefix="cbo")
    prefix = unique_name("cbk")
    mine = [f"{prefix}-t{i}" for i in range(5)]
    theirs = f"{prefix}-other"
    for name in mine:
        tadmin.client.create_bucket(Bucket=name)
    other.client.create_bucket(Bucket=theirs)
    tadmin.client.put_bucket_versioning(Bucket=mine[0], VersioningConfiguration={"Status": "Enabled"})
    tadmin.client.put_object(Bucket=mine[0], Key="k", Body=b"12345")
    try:
        admin = token(server, "admin", ADMIN_PASSWORD)
        t_tok = token(server, tadmin.name, tadmin.password)
        # The global administrator sees every bucket; the tenant admin only the tenant's.
        assert set(all_pages(server, admin, prefix=prefix)) == set(mine) | {theirs}
        assert all_pages(server, t_tok, prefix=prefix) == sorted(mine)
        # Pages of two, by name, with a cursor; the last page has no cursor.
        r = get(server, t_tok, "/buckets", prefix=prefix, limit=2).json()
        assert [b["name"] for b in r["buckets"]] == sorted(mine)[:2] and r["next_cursor"] == sorted(mine)[1]
        assert all_pages(server, t_tok, prefix=prefix, limit=2) == sorted(mine)
        full = get(server, t_tok, "/buckets", prefix=prefix, limit=5).json()
        assert len(full["buckets"]) == 5 and full["next_cursor"] is None
        # The fields of a bucket.
        b = get(server, t_tok, "/buckets/" + mine[0]).json()
        assert b["name"] == mine[0] and b["tenant"] == tenant and b["versioning"] == "Enabled"
        assert b["used_bytes"] == 5 and b["object_count"] == 1 and b["object_lock"] is False
        assert get(server, t_tok, "/buckets/" + mine[1]).json()["versioning"] is None
        # Another tenant's bucket is not found, not forbidden (its existence is not told).
        r = get(server, t_tok, "/buckets/" + theirs)
        assert r.status_code == 404 and r.json()["error"]["code"] == "NotFound"
        # Bad limits.
        for bad in ("0", "1001", "x"):
            r = get(server, t_tok, "/buckets", limit=bad)
            assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidArgument"
        assert requests.get(server.console_endpoint + "/api/v1/buckets", timeout=10).status_code == 401
    finally:
        for name in mine + [theirs]:
            purge_everything(s3, name)  # versions included
