"""Virtual-host-style addressing (`<bucket>.<domain>`), on a second server started with
`--domain s3.localtest`.

*.s3.localtest does not resolve, so requests are signed for the virtual-host URL
(botocore derives the signed `host` from it) and then sent to 127.0.0.1 with that Host
header. The boto3 test does the same with a `before-send` hook, so that botocore's own
virtual-host addressing is exercised end to end.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit, urlunsplit

import boto3
import pytest
import requests
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from conftest import (
    REGION,
    _RawSigner,
    assert_error_response,
    build_query,
    get_body,
    make_client,
    object_exists,
    parse_xml,
    quoted_md5,
    raw_request,
    temporary_bucket,
    unique_name,
    start_server,
    stop_and_check,
    uri_encode,
)

DOMAIN = "s3.localtest"


@pytest.fixture(scope="module")
def vserver(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("vhost"), extra_args=["--domain", DOMAIN])
    try:
        yield srv
    finally:
        stop_and_check(srv)


@pytest.fixture(scope="module")
def vs3(vserver):
    """A path-style client of the virtual-host server."""
    return make_client(vserver.endpoint, vserver.access_key, vserver.secret_key)


@pytest.fixture
def vbucket(vs3):
    with temporary_bucket(vs3, "vh") as name:
        yield name


def vhost_name(server, bucket: str | None) -> str:
    """Host header value: `<bucket>.s3.localtest:<port>`, or the bare domain for bucket=None."""
    return f"{bucket + '.' if bucket else ''}{DOMAIN}:{server.s3_port}"


def vhost_request(
    server,
    method: str,
    bucket: str | None,
    path: str = "/",
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    query=None,
    sign_host: str | None = None,
    debug: dict | None = None,
) -> requests.Response:
    """SigV4-sign `method http://<bucket>.s3.localtest:<port><path>` and send it to 127.0.0.1.

    `path` must already be URI-encoded. botocore signs the host of the URL (with the port,
    as it is not 80); the same value goes out as the Host header. `sign_host` signs for a
    different host than the one sent.
    """
    host = vhost_name(server, bucket)
    qs = build_query(query)
    target = path + (f"?{qs}" if qs else "")
    request = AWSRequest(method=method, url=f"http://{sign_host or host}{target}", headers=dict(headers or {}), data=body)
    _RawSigner(Credentials(server.access_key, server.secret_key), "s3", REGION).add_auth(request)
    canonical = request.context["canonical_request"]
    assert f"\nhost:{sign_host or host}\n" in canonical, canonical
    if debug is not None:
        debug["canonical_request"] = canonical
    sent = dict(request.headers.items())
    sent["Host"] = host
    resp = requests.request(
        method, server.endpoint + target, headers=sent, data=body or None, timeout=30, allow_redirects=False
    )
    assert resp.request.headers["Host"] == host
    return resp


def key_path(key: str) -> str:
    return "/" + uri_encode(key)


# ------------------------------------------------------------- object operations


def test_vhost_put_object(vserver, vs3, vbucket):
    key = "dir/ünï code+plus (1).txt"
    data = b"written through the bucket host"
    resp = vhost_request(
        vserver, "PUT", vbucket, key_path(key), body=data, headers={"Content-Type": "text/x-vhost"}
    )
    assert resp.status_code == 200, resp.content
    assert resp.headers["ETag"] == quoted_md5(data)
    # Stored under the bucket named by the Host header and the whole path as the key.
    assert get_body(vs3, vbucket, key) == data
    assert vs3.head_object(Bucket=vbucket, Key=key)["ContentType"] == "text/x-vhost"
    assert [o["Key"] for o in vs3.list_objects_v2(Bucket=vbucket)["Contents"]] == [key]


def test_vhost_get_and_head_object(vserver, vs3, vbucket):
    data = bytes(range(256)) * 40
    vs3.put_object(Bucket=vbucket, Key="a/b/c.bin", Body=data)
    resp = vhost_request(vserver, "GET", vbucket, "/a/b/c.bin")
    assert resp.status_code == 200, resp.content
    assert resp.content == data
    assert resp.headers["ETag"] == quoted_md5(data)
    assert resp.headers["Content-Length"] == str(len(data))

    head = vhost_request(vserver, "HEAD", vbucket, "/a/b/c.bin")
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(data))
    assert head.headers["ETag"] == quoted_md5(data)

    ranged = vhost_request(vserver, "GET", vbucket, "/a/b/c.bin", headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206
    assert ranged.content == data[10:20]

    missing = vhost_request(vserver, "GET", vbucket, "/a/b/absent")
    fields = assert_error_response(missing, 404, "NoSuchKey")
    assert fields.get("Key") == "a/b/absent", fields


def test_vhost_key_looking_like_a_bucket_path(vserver, vs3, vbucket):
    # With the bucket in the Host header the first path segment is part of the key.
    vs3.put_object(Bucket=vbucket, Key=f"{vbucket}/nested", Body=b"nested")
    resp = vhost_request(vserver, "GET", vbucket, f"/{vbucket}/nested")
    assert resp.status_code == 200, resp.content
    assert resp.content == b"nested"


def test_vhost_delete_object(vserver, vs3, vbucket):
    vs3.put_object(Bucket=vbucket, Key="doomed", Body=b"x")
    resp = vhost_request(vserver, "DELETE", vbucket, "/doomed")
    assert resp.status_code == 204, resp.content
    assert not object_exists(vs3, vbucket, "doomed")


# --------------------------------------------------------------------- listing


def test_vhost_list_objects_v2_at_root(vserver, vs3, vbucket):
    keys = ["photos/2006/a.jpg", "photos/b.jpg", "readme", "z z"]
    for k in keys:
        vs3.put_object(Bucket=vbucket, Key=k, Body=k.encode())

    resp = vhost_request(vserver, "GET", vbucket, "/", query={"list-type": "2"})
    assert resp.status_code == 200, resp.content
    root = parse_xml(resp.content)
    assert root.tag == "ListBucketResult"
    assert root.findtext("Name") == vbucket
    assert root.findtext("KeyCount") == str(len(keys))
    assert root.findtext("IsTruncated") == "false"
    contents = root.findall("Contents")
    assert [c.findtext("Key") for c in contents] == sorted(keys)
    assert [c.findtext("Size") for c in contents] == [str(len(k)) for k in sorted(keys)]
    assert [c.findtext("ETag") for c in contents] == [quoted_md5(k.encode()) for k in sorted(keys)]

    resp = vhost_request(vserver, "GET", vbucket, "/", query={"list-type": "2", "prefix": "photos/", "delimiter": "/"})
    assert resp.status_code == 200, resp.content
    root = parse_xml(resp.content)
    assert [c.findtext("Key") for c in root.findall("Contents")] == ["photos/b.jpg"]
    assert [c.findtext("Prefix") for c in root.findall("CommonPrefixes")] == ["photos/2006/"]

    # ListObjects (v1) at the bucket host's root, without any query.
    resp = vhost_request(vserver, "GET", vbucket, "/")
    assert resp.status_code == 200, resp.content
    root = parse_xml(resp.content)
    assert root.findtext("Name") == vbucket
    assert [c.findtext("Key") for c in root.findall("Contents")] == sorted(keys)


def test_vhost_missing_bucket(vserver):
    missing = unique_name("missing")
    resp = vhost_request(vserver, "GET", missing, "/", query={"list-type": "2"})
    fields = assert_error_response(resp, 404, "NoSuchBucket")
    assert fields.get("BucketName") == missing, fields


def test_vhost_dotted_bucket_name(vserver, vs3):
    name = f"dotted.{unique_name('vh')}.name"
    vs3.create_bucket(Bucket=name)
    try:
        resp = vhost_request(vserver, "PUT", name, "/k", body=b"dots")
        assert resp.status_code == 200, resp.content
        assert get_body(vs3, name, "k") == b"dots"
        resp = vhost_request(vserver, "GET", name, "/", query={"list-type": "2"})
        assert parse_xml(resp.content).findtext("Name") == name
    finally:
        vs3.delete_object(Bucket=name, Key="k")
        vs3.delete_bucket(Bucket=name)


def test_bare_domain_host_is_path_style(vserver, vs3, vbucket):
    # Host: s3.localtest:<port> addresses the service: path-style requests and ListBuckets.
    vs3.put_object(Bucket=vbucket, Key="k", Body=b"via bare domain")
    resp = vhost_request(vserver, "GET", None, f"/{vbucket}/k")
    assert resp.status_code == 200, resp.content
    assert resp.content == b"via bare domain"
    resp = vhost_request(vserver, "GET", None, "/")
    assert resp.status_code == 200, resp.content
    root = parse_xml(resp.content)
    assert root.tag == "ListAllMyBucketsResult"
    assert vbucket in [b.findtext("Name") for b in root.iter("Bucket")]


def test_vhost_host_header_is_signed(vserver, vs3, vbucket):
    # Signed for another bucket's host, sent to this one: the Host header is part of the
    # canonical request, so the signature cannot match, and nothing is written anywhere.
    other = unique_name("vh")
    resp = vhost_request(vserver, "PUT", vbucket, "/k", body=b"x", sign_host=vhost_name(vserver, other))
    fields = assert_error_response(resp, 403, "SignatureDoesNotMatch")
    assert f"\nhost:{vhost_name(vserver, vbucket)}\n" in fields.get("CanonicalRequest", ""), fields
    assert not object_exists(vs3, vbucket, "k")


# ------------------------------------------------------------------ path style


def test_path_style_still_works_on_vhost_server(vserver, vs3):
    name = unique_name("vp")
    vs3.create_bucket(Bucket=name)
    try:
        put = vs3.put_object(Bucket=name, Key="path/style key", Body=b"path style")
        assert put["ETag"] == quoted_md5(b"path style")
        assert get_body(vs3, name, "path/style key") == b"path style"
        assert [o["Key"] for o in vs3.list_objects_v2(Bucket=name)["Contents"]] == ["path/style key"]
        # Raw path-style request with Host: 127.0.0.1:<port> (an IP is never a bucket host).
        resp = raw_request(vserver, "GET", f"/{name}/path/style%20key")
        assert resp.status_code == 200, resp.content
        assert resp.content == b"path style"
        # The same object through the bucket host.
        assert vhost_request(vserver, "GET", name, "/path/style%20key").content == b"path style"
        vs3.delete_object(Bucket=name, Key="path/style key")
    finally:
        vs3.delete_bucket(Bucket=name)


# ------------------------------------------------------- boto3 virtual addressing


@pytest.fixture
def virtual_client(vserver):
    """boto3 with addressing_style=virtual and endpoint http://s3.localtest:<port>; every
    request goes to 127.0.0.1 with the Host botocore signed."""
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=f"http://{DOMAIN}:{vserver.s3_port}",
        region_name=REGION,
        aws_access_key_id=vserver.access_key,
        aws_secret_access_key=vserver.secret_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}),
    )
    hosts = []

    def to_loopback(request, **_):
        parts = urlsplit(request.url)
        hosts.append(parts.netloc)
        request.headers["Host"] = parts.netloc
        request.url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{vserver.s3_port}"))

    client.meta.events.register_first("before-send.s3", to_loopback)
    client.hosts = hosts
    return client


def test_boto3_virtual_host_addressing(virtual_client, vs3, vserver):
    s3v = virtual_client
    name = unique_name("vb")
    s3v.create_bucket(Bucket=name)
    try:
        assert s3v.hosts == [vhost_name(vserver, name)]
        data = b"virtual" * 1000
        keys = ["plain", "with space/ü+é", "q?uestion#hash"]
        for k in keys:
            assert s3v.put_object(Bucket=name, Key=k, Body=data)["ETag"] == quoted_md5(data)
        for k in keys:
            assert s3v.get_object(Bucket=name, Key=k)["Body"].read() == data
            assert get_body(vs3, name, k) == data  # the same object, path style
        assert [o["Key"] for o in s3v.list_objects_v2(Bucket=name)["Contents"]] == sorted(keys)
        s3v.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "plain"})
        assert hashlib.md5(get_body(s3v, name, "copy")).hexdigest() == hashlib.md5(data).hexdigest()
        resp = s3v.delete_objects(Bucket=name, Delete={"Objects": [{"Key": k} for k in [*keys, "copy"]]})
        assert sorted(d["Key"] for d in resp["Deleted"]) == sorted([*keys, "copy"])
        assert s3v.list_objects_v2(Bucket=name)["KeyCount"] == 0
        assert all(h == vhost_name(vserver, name) for h in s3v.hosts), set(s3v.hosts)
    finally:
        vs3.delete_bucket(Bucket=name)


def test_presigned_virtual_host_url(virtual_client, vs3, vserver, vbucket):
    vs3.put_object(Bucket=vbucket, Key="shared file", Body=b"presigned vhost")
    url = virtual_client.generate_presigned_url(
        "get_object", Params={"Bucket": vbucket, "Key": "shared file"}, ExpiresIn=300
    )
    parts = urlsplit(url)
    assert parts.netloc == vhost_name(vserver, vbucket)
    resp = requests.get(
        urlunsplit(parts._replace(netloc=f"127.0.0.1:{vserver.s3_port}")),
        headers={"Host": parts.netloc},
        timeout=10,
    )
    assert resp.status_code == 200, resp.content
    assert resp.content == b"presigned vhost"
