"""ListObjects (v1) and ListObjectsV2."""

from urllib.parse import unquote_plus

import pytest

from conftest import (
    assert_error_response,
    parse_xml,
    put_many,
    s3_error,
    temporary_bucket,
    unique_name,
    utcnow,
)

MANY = 2500


def utf8_sorted(keys):
    return sorted(keys, key=lambda k: k.encode())


@pytest.fixture(scope="module")
def many_bucket(s3):
    """A bucket holding 2,500 keys, shared by the read-only pagination tests."""
    keys = [f"obj/{i:05d}" for i in range(MANY)]
    with temporary_bucket(s3, "many") as name:
        put_many(s3, name, keys)
        yield name, keys


@pytest.fixture
def tree_bucket(s3, bucket):
    keys = [
        "photos/2006/jan/a.jpg",
        "photos/2006/feb/b.jpg",
        "photos/2007/c.jpg",
        "photos/readme",
        "photos.txt",
        "videos/x.mp4",
        "root.txt",
    ]
    put_many(s3, bucket, keys)
    return bucket, keys


def all_pages(s3, operation, **kwargs):
    return list(s3.get_paginator(operation).paginate(**kwargs))


def page_keys(pages):
    return [o["Key"] for p in pages for o in p.get("Contents", [])]


def page_prefixes(pages):
    return [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])]


# ------------------------------------------------------------ basic semantics


def test_list_v2_all_keys(s3, tree_bucket):
    bucket, keys = tree_bucket
    resp = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in resp["Contents"]] == utf8_sorted(keys)
    assert resp["KeyCount"] == len(keys)
    assert resp["IsTruncated"] is False
    assert resp["Name"] == bucket
    assert resp["MaxKeys"] == 1000
    for o in resp["Contents"]:
        assert o["Size"] == 1
        assert o["ETag"] == '"9dd4e461268c8034f5c8564e155c67a6"'  # md5("x")
        assert o["StorageClass"] == "STANDARD"
        assert abs((o["LastModified"] - utcnow()).total_seconds()) < 300


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_prefix_and_delimiter(s3, tree_bucket, version):
    bucket, _ = tree_bucket
    op = s3.list_objects if version == "v1" else s3.list_objects_v2
    resp = op(Bucket=bucket, Prefix="photos/", Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["photos/readme"]
    assert [c["Prefix"] for c in resp["CommonPrefixes"]] == ["photos/2006/", "photos/2007/"]
    assert resp["Prefix"] == "photos/"
    assert resp["Delimiter"] == "/"
    if version == "v2":
        assert resp["KeyCount"] == 3

    resp = op(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["photos.txt", "root.txt"]
    assert [c["Prefix"] for c in resp["CommonPrefixes"]] == ["photos/", "videos/"]

    resp = op(Bucket=bucket, Prefix="photos/2006/")
    assert [o["Key"] for o in resp["Contents"]] == ["photos/2006/feb/b.jpg", "photos/2006/jan/a.jpg"]
    assert "CommonPrefixes" not in resp

    resp = op(Bucket=bucket, Prefix="photos", Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["photos.txt"]
    assert [c["Prefix"] for c in resp["CommonPrefixes"]] == ["photos/"]

    resp = op(Bucket=bucket, Prefix="nothing-here/")
    assert "Contents" not in resp
    assert resp["IsTruncated"] is False


def test_non_slash_delimiter(s3, bucket):
    put_many(s3, bucket, ["a-1-x", "a-2-y", "a-2-z", "b", "a"])
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="a-", Delimiter="-")
    assert [c["Prefix"] for c in resp["CommonPrefixes"]] == ["a-1-", "a-2-"]
    assert "Contents" not in resp


def test_max_keys_zero(s3, tree_bucket):
    bucket, _ = tree_bucket
    resp = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert "Contents" not in resp
    assert resp["KeyCount"] == 0
    assert resp["MaxKeys"] == 0
    resp = s3.list_objects(Bucket=bucket, MaxKeys=0)
    assert "Contents" not in resp


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_max_keys_small(s3, tree_bucket, version):
    bucket, keys = tree_bucket
    op = s3.list_objects if version == "v1" else s3.list_objects_v2
    resp = op(Bucket=bucket, MaxKeys=2)
    assert [o["Key"] for o in resp["Contents"]] == utf8_sorted(keys)[:2]
    assert resp["IsTruncated"] is True
    assert resp["MaxKeys"] == 2
    if version == "v2":
        assert resp["KeyCount"] == 2
        assert resp.get("NextContinuationToken")


def test_v1_next_marker_only_with_delimiter(raw, s3, tree_bucket):
    # ListObjects: "NextMarker ... This element is returned only if you have the delimiter
    # request parameter specified." Without one, clients continue from the last Key.
    bucket, keys = tree_bucket
    resp = raw("GET", f"/{bucket}", query={"max-keys": "2"})
    assert resp.status_code == 200, resp.content
    root = parse_xml(resp.content)
    assert root.findtext("IsTruncated") == "true"
    assert [c.findtext("Key") for c in root.findall("Contents")] == utf8_sorted(keys)[:2]
    assert root.find("NextMarker") is None, resp.content

    resp = raw("GET", f"/{bucket}", query={"max-keys": "2", "delimiter": "/"})
    root = parse_xml(resp.content)
    assert root.findtext("IsTruncated") == "true"
    # Entries: photos.txt, then the common prefix photos/ -- the last entry is the NextMarker.
    assert root.findtext("NextMarker") == "photos/", resp.content


def test_fetch_owner_only_when_requested(s3, tree_bucket):
    bucket, _ = tree_bucket
    plain = s3.list_objects_v2(Bucket=bucket)
    assert all("Owner" not in o for o in plain["Contents"])
    owned = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)
    for o in owned["Contents"]:
        assert o["Owner"]["ID"]
    v1 = s3.list_objects(Bucket=bucket)
    for o in v1["Contents"]:
        assert o["Owner"]["ID"]


def test_utf8_byte_order(s3, bucket):
    keys = ["a", "b", "é", "\u00ff", "\U0001f600", "Z", "a/b", "a-b", "ab", "~", "\u4e2d", "\uff21"]
    put_many(s3, bucket, keys)
    expected = utf8_sorted(keys)
    # UTF-16 code-unit order (and case-insensitive order) would differ:
    assert expected != sorted(keys, key=lambda k: k.encode("utf-16-be"))
    assert expected != sorted(keys, key=str.lower)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == expected
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]] == expected
    pages = all_pages(s3, "list_objects_v2", Bucket=bucket, PaginationConfig={"PageSize": 2})
    assert page_keys(pages) == expected
    pages = all_pages(s3, "list_objects", Bucket=bucket, PaginationConfig={"PageSize": 5})
    assert page_keys(pages) == expected


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_list_missing_bucket(s3, version):
    op = s3.list_objects if version == "v1" else s3.list_objects_v2
    with s3_error(404, "NoSuchBucket"):
        op(Bucket=unique_name("missing"))


# ----------------------------------------------------------------- encoding


ODD_KEYS = ["a b/c+d", "ü/é 1", "x&y<z>", "tab\tkey", "100%/pct"]


def test_encoding_type_url_roundtrip_via_boto3(s3, bucket):
    put_many(s3, bucket, ODD_KEYS)
    assert page_keys([s3.list_objects_v2(Bucket=bucket)]) == utf8_sorted(ODD_KEYS)
    assert page_keys([s3.list_objects(Bucket=bucket)]) == utf8_sorted(ODD_KEYS)
    resp = s3.list_objects_v2(Bucket=bucket, Delimiter="/", Prefix="")
    assert [c["Prefix"] for c in resp["CommonPrefixes"]] == utf8_sorted(["a b/", "ü/", "100%/"])


def _assert_url_encoded(text, expected):
    assert text is not None
    assert not any(c in text for c in " \t<>&") and text.isascii(), f"not URL-encoded: {text!r}"
    assert unquote_plus(text) == expected


@pytest.mark.parametrize("query", [{"list-type": "2"}, {}], ids=["v2", "v1"])
def test_encoding_type_url_raw(raw, s3, bucket, query):
    put_many(s3, bucket, ODD_KEYS)
    resp = raw("GET", f"/{bucket}", query={**query, "encoding-type": "url", "prefix": "ü/"})
    assert resp.status_code == 200, resp.content
    root = parse_xml(resp.content)
    assert root.findtext("EncodingType") == "url"
    _assert_url_encoded(root.findtext("Prefix"), "ü/")
    [key] = [c.findtext("Key") for c in root.findall("Contents")]
    _assert_url_encoded(key, "ü/é 1")

    resp = raw("GET", f"/{bucket}", query={**query, "encoding-type": "url", "delimiter": "/"})
    root = parse_xml(resp.content)
    keys = [c.findtext("Key") for c in root.findall("Contents")]
    prefixes = [c.findtext("Prefix") for c in root.findall("CommonPrefixes")]
    for encoded, plain in zip(keys, utf8_sorted(["x&y<z>", "tab\tkey"])):
        _assert_url_encoded(encoded, plain)
    for encoded, plain in zip(prefixes, utf8_sorted(["a b/", "ü/", "100%/"])):
        _assert_url_encoded(encoded, plain)
    assert len(keys) == 2 and len(prefixes) == 3


def test_without_encoding_type_keys_are_xml_escaped(raw, s3, bucket):
    keys = ["x&y<z>", "quote\"'", "plain"]
    put_many(s3, bucket, keys)
    resp = raw("GET", f"/{bucket}", query={"list-type": "2"})
    assert resp.status_code == 200
    root = parse_xml(resp.content)
    assert root.tag == "ListBucketResult"
    assert root.find("EncodingType") is None
    assert [c.findtext("Key") for c in root.findall("Contents")] == utf8_sorted(keys)


def test_invalid_encoding_type(raw, bucket):
    resp = raw("GET", f"/{bucket}", query={"list-type": "2", "encoding-type": "base64"})
    assert_error_response(resp, 400, "InvalidArgument")


# ---------------------------------------------------------------- pagination


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_paginate_2500_keys(s3, many_bucket, version):
    bucket, keys = many_bucket
    op = "list_objects" if version == "v1" else "list_objects_v2"
    pages = all_pages(s3, op, Bucket=bucket)
    assert [len(p.get("Contents", [])) for p in pages] == [1000, 1000, 500]
    assert page_keys(pages) == sorted(keys)
    assert [p["IsTruncated"] for p in pages] == [True, True, False]
    if version == "v2":
        assert [p["KeyCount"] for p in pages] == [1000, 1000, 500]
        assert all("NextContinuationToken" in p for p in pages[:-1])
        assert "NextContinuationToken" not in pages[-1]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_paginate_small_pages(s3, many_bucket, version):
    bucket, keys = many_bucket
    op = "list_objects" if version == "v1" else "list_objects_v2"
    pages = all_pages(s3, op, Bucket=bucket, Prefix="obj/01", PaginationConfig={"PageSize": 333})
    expected = [k for k in sorted(keys) if k.startswith("obj/01")]
    assert len(expected) == 1000
    assert page_keys(pages) == expected
    assert [len(p["Contents"]) for p in pages] == [333, 333, 333, 1]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_max_keys_over_1000_is_capped(s3, many_bucket, version):
    bucket, keys = many_bucket
    op = s3.list_objects if version == "v1" else s3.list_objects_v2
    resp = op(Bucket=bucket, MaxKeys=5000)
    assert len(resp["Contents"]) == 1000
    assert resp["IsTruncated"] is True


def test_start_after(s3, many_bucket):
    bucket, keys = many_bucket
    resp = s3.list_objects_v2(Bucket=bucket, StartAfter=keys[1234], MaxKeys=5)
    assert [o["Key"] for o in resp["Contents"]] == keys[1235:1240]
    assert resp["StartAfter"] == keys[1234]
    # A start-after key that does not exist itself.
    resp = s3.list_objects_v2(Bucket=bucket, StartAfter=keys[10] + "-", MaxKeys=2)
    assert [o["Key"] for o in resp["Contents"]] == keys[11:13]
    resp = s3.list_objects_v2(Bucket=bucket, StartAfter="zzz")
    assert "Contents" not in resp
    assert resp["KeyCount"] == 0


def test_continuation_token(s3, many_bucket):
    bucket, keys = many_bucket
    first = s3.list_objects_v2(Bucket=bucket, MaxKeys=100)
    token = first["NextContinuationToken"]
    second = s3.list_objects_v2(Bucket=bucket, MaxKeys=100, ContinuationToken=token)
    assert [o["Key"] for o in second["Contents"]] == keys[100:200]
    assert second.get("ContinuationToken") == token


def test_invalid_continuation_token(s3, many_bucket):
    bucket, _ = many_bucket
    with s3_error(400, "InvalidArgument"):
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="this-is-not-a-valid-token!!")


def test_v1_marker(s3, many_bucket):
    bucket, keys = many_bucket
    resp = s3.list_objects(Bucket=bucket, Marker=keys[99], MaxKeys=10)
    assert [o["Key"] for o in resp["Contents"]] == keys[100:110]
    assert resp.get("Marker") == keys[99]
    assert resp["IsTruncated"] is True


# ------------------------------------------------- delimiter across page breaks


@pytest.fixture
def prefixed_bucket(s3, bucket):
    keys = [f"dir{p:02d}/file{i}" for p in range(30) for i in range(5)]
    loose = [f"dir{p:02d}.txt" for p in range(0, 30, 3)]  # '.' sorts just before '/'
    put_many(s3, bucket, keys + loose)
    prefixes = [f"dir{p:02d}/" for p in range(30)]
    return bucket, prefixes, utf8_sorted(loose)


def _walk_v1(s3, bucket, **kw):
    pages, marker = [], None
    while True:
        resp = s3.list_objects(Bucket=bucket, **kw, **({"Marker": marker} if marker else {}))
        pages.append(resp)
        if not resp["IsTruncated"]:
            return pages
        marker = resp["NextMarker"]  # required when a delimiter is given
        assert len(pages) < 100


def _walk_v2(s3, bucket, **kw):
    pages, token = [], None
    while True:
        resp = s3.list_objects_v2(Bucket=bucket, **kw, **({"ContinuationToken": token} if token else {}))
        pages.append(resp)
        if not resp["IsTruncated"]:
            return pages
        token = resp["NextContinuationToken"]
        assert len(pages) < 100


@pytest.mark.parametrize("walk", [_walk_v1, _walk_v2], ids=["v1", "v2"])
def test_common_prefixes_span_pages(s3, prefixed_bucket, walk):
    bucket, prefixes, loose = prefixed_bucket
    pages = walk(s3, bucket, Delimiter="/", MaxKeys=7)
    sizes = [len(p.get("Contents", [])) + len(p.get("CommonPrefixes", [])) for p in pages]
    assert sizes == [7, 7, 7, 7, 7, 5], sizes
    assert page_prefixes(pages) == prefixes  # each prefix exactly once, in order
    assert page_keys(pages) == loose
    if walk is _walk_v2:
        assert [p["KeyCount"] for p in pages] == sizes


@pytest.mark.parametrize("op", ["list_objects", "list_objects_v2"])
def test_common_prefixes_with_paginator(s3, prefixed_bucket, op):
    bucket, prefixes, loose = prefixed_bucket
    pages = all_pages(s3, op, Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 4})
    assert page_prefixes(pages) == prefixes
    assert page_keys(pages) == loose
