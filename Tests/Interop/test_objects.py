"""Single-object operations: PutObject, GetObject, HeadObject, DeleteObject."""

import base64
import datetime as dt
import email.utils
import gzip
import hashlib
import io
import zlib

import pytest

from conftest import (
    WRONG_ETAG,
    get_body,
    http_date,
    md5_b64,
    object_exists,
    object_path,
    quoted_md5,
    random_bytes,
    s3_error,
    unique_name,
    utcnow,
)

MiB = 1024 * 1024


@pytest.mark.parametrize("size", [0, 1, 1 * MiB, 20 * MiB], ids=["empty", "1B", "1MiB", "20MiB"])
def test_put_get_head_delete_roundtrip(s3, bucket, size):
    data = random_bytes(size)
    put = s3.put_object(Bucket=bucket, Key="obj", Body=data)
    assert put["ETag"] == quoted_md5(data)

    head = s3.head_object(Bucket=bucket, Key="obj")
    assert head["ContentLength"] == size
    assert head["ETag"] == quoted_md5(data)
    assert abs((head["LastModified"] - utcnow()).total_seconds()) < 300

    got = s3.get_object(Bucket=bucket, Key="obj")
    assert got["ContentLength"] == size
    assert got["ETag"] == quoted_md5(data)
    assert got["LastModified"] == head["LastModified"]
    assert got["Body"].read() == data

    resp = s3.delete_object(Bucket=bucket, Key="obj")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert not object_exists(s3, bucket, "obj")


def test_binary_content_with_every_byte_value(s3, bucket):
    data = bytes(range(256)) * 64 + b"\r\n\x00\r\n"
    s3.put_object(Bucket=bucket, Key="bin", Body=data)
    assert get_body(s3, bucket, "bin") == data


def test_put_from_file_object(s3, bucket):
    data = random_bytes(300_000)
    s3.put_object(Bucket=bucket, Key="file", Body=io.BytesIO(data))
    assert get_body(s3, bucket, "file") == data


def test_default_content_type(s3, bucket, raw):
    resp = raw("PUT", object_path(bucket, "untyped"), body=b"abc")
    assert resp.status_code == 200, resp.content
    assert s3.head_object(Bucket=bucket, Key="untyped")["ContentType"] == "binary/octet-stream"


def test_standard_headers_roundtrip(s3, bucket):
    data = gzip.compress(b"hello world" * 100)
    expires = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    s3.put_object(
        Bucket=bucket,
        Key="hdrs",
        Body=data,
        ContentType="text/plain; charset=utf-8",
        CacheControl="max-age=3600, must-revalidate",
        ContentDisposition='attachment; filename="hello.txt"',
        ContentEncoding="gzip",
        ContentLanguage="en-GB",
        Expires=expires,
    )
    for resp in (s3.head_object(Bucket=bucket, Key="hdrs"), s3.get_object(Bucket=bucket, Key="hdrs")):
        assert resp["ContentType"] == "text/plain; charset=utf-8"
        assert resp["CacheControl"] == "max-age=3600, must-revalidate"
        assert resp["ContentDisposition"] == 'attachment; filename="hello.txt"'
        assert resp["ContentEncoding"] == "gzip"
        assert resp["ContentLanguage"] == "en-GB"
        raw_expires = resp["ResponseMetadata"]["HTTPHeaders"]["expires"]
        assert email.utils.parsedate_to_datetime(raw_expires) == expires
        assert resp["ContentLength"] == len(data)
    assert get_body(s3, bucket, "hdrs") == data


def test_user_metadata_roundtrip(s3, bucket):
    metadata = {"color": "blue", "multi-word-key": "some value with spaces", "empty-ish": "-"}
    s3.put_object(Bucket=bucket, Key="meta", Body=b"x", Metadata=metadata)
    assert s3.head_object(Bucket=bucket, Key="meta")["Metadata"] == metadata
    assert s3.get_object(Bucket=bucket, Key="meta")["Metadata"] == metadata
    hdrs = s3.head_object(Bucket=bucket, Key="meta")["ResponseMetadata"]["HTTPHeaders"]
    assert hdrs["x-amz-meta-color"] == "blue"


def test_user_metadata_keys_are_case_insensitive(s3, bucket):
    s3.put_object(Bucket=bucket, Key="meta", Body=b"x", Metadata={"MixedCase": "Value"})
    assert s3.head_object(Bucket=bucket, Key="meta")["Metadata"] == {"mixedcase": "Value"}


def test_metadata_just_under_limit_is_accepted(s3, bucket):
    # 2 KB limit: the sum of UTF-8 key and value lengths.
    metadata = {"k": "v" * 2000}
    s3.put_object(Bucket=bucket, Key="meta", Body=b"x", Metadata=metadata)
    assert s3.head_object(Bucket=bucket, Key="meta")["Metadata"] == metadata


@pytest.mark.parametrize(
    "metadata",
    [{"big": "v" * 2100}, {f"k{i}": "v" * 200 for i in range(11)}],
    ids=["one-large-value", "many-values"],
)
def test_metadata_too_large(s3, bucket, metadata):
    with s3_error(400, "MetadataTooLarge"):
        s3.put_object(Bucket=bucket, Key="meta", Body=b"x", Metadata=metadata)
    assert not object_exists(s3, bucket, "meta")


def test_storage_class_standard(s3, bucket):
    s3.put_object(Bucket=bucket, Key="std", Body=b"x", StorageClass="STANDARD")
    s3.put_object(Bucket=bucket, Key="std2", Body=b"x")
    for key in ("std", "std2"):
        # "Amazon S3 returns this header for all objects except for S3 Standard storage class
        # objects" (HeadObject/GetObject x-amz-storage-class).
        for resp in (s3.head_object(Bucket=bucket, Key=key), s3.get_object(Bucket=bucket, Key=key)):
            assert "x-amz-storage-class" not in resp["ResponseMetadata"]["HTTPHeaders"]
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["StorageClass"] for o in listed] == ["STANDARD", "STANDARD"]
    listed_v1 = s3.list_objects(Bucket=bucket)["Contents"]
    assert [o["StorageClass"] for o in listed_v1] == ["STANDARD", "STANDARD"]


def test_invalid_storage_class(s3, bucket):
    with s3_error(400, "InvalidStorageClass"):
        s3.put_object(Bucket=bucket, Key="bad", Body=b"x", StorageClass="NOT_A_CLASS")
    assert not object_exists(s3, bucket, "bad")


SPECIAL_KEYS = [
    "unicode/ünïcødé/日本語/😀.txt",
    "../x",
    "a/../../b",
    "a//b",
    "./dot",
    "literal%00percent",
    "percent%2Fencoded%20already",
    "with space and  double",
    "plus+sign",
    "question?mark",
    "hash#tag",
    "xml<>&'\"specials",
    "trailing/",
    "tab\tand~tilde",
    "semi;colon,comma=eq&amp@at$dollar!bang*star(paren)",
    "k" * 1024,
    "é" * 512,  # 1024 bytes of UTF-8
]


@pytest.mark.parametrize("key", SPECIAL_KEYS, ids=range(len(SPECIAL_KEYS)))
def test_special_keys_roundtrip(s3, bucket, key):
    data = key.encode() + b"-payload"
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    assert get_body(s3, bucket, key) == data
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(data)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]
    s3.delete_object(Bucket=bucket, Key=key)
    assert s3.list_objects_v2(Bucket=bucket).get("Contents", []) == []


@pytest.mark.parametrize("key", ["k" * 1025, "é" * 512 + "a"], ids=["ascii", "utf8-bytes"])
def test_key_too_long(s3, bucket, key):
    with s3_error(400, "KeyTooLongError"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    assert s3.list_objects_v2(Bucket=bucket).get("Contents", []) == []


def test_get_missing_key(s3, bucket):
    with s3_error(404, "NoSuchKey") as excinfo:
        s3.get_object(Bucket=bucket, Key="does/not/exist")
    assert excinfo.value.response["Error"].get("Key") == "does/not/exist"
    with s3_error(404, "404"):
        s3.head_object(Bucket=bucket, Key="does/not/exist")


def test_missing_bucket_object_operations(s3):
    missing = unique_name("missing")
    for call in (
        lambda: s3.get_object(Bucket=missing, Key="k"),
        lambda: s3.put_object(Bucket=missing, Key="k", Body=b"x"),
        lambda: s3.delete_object(Bucket=missing, Key="k"),
    ):
        with s3_error(404, "NoSuchBucket") as excinfo:
            call()
        # The NoSuchBucket error document names the bucket.
        assert excinfo.value.response["Error"].get("BucketName") == missing
    with s3_error(404, "404"):
        s3.head_object(Bucket=missing, Key="k")


def test_delete_missing_key_is_204(s3, bucket):
    resp = s3.delete_object(Bucket=bucket, Key="never-existed")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_overwrite_replaces_content_and_etag(s3, bucket):
    first, second = b"first version", b"second, longer version"
    s3.put_object(Bucket=bucket, Key="k", Body=first, ContentType="text/a", Metadata={"v": "1"})
    put = s3.put_object(Bucket=bucket, Key="k", Body=second, ContentType="text/b")
    assert put["ETag"] == quoted_md5(second)
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ETag"] == quoted_md5(second)
    assert head["ContentType"] == "text/b"
    assert head["Metadata"] == {}
    assert get_body(s3, bucket, "k") == second


# ---------------------------------------------------------------- Content-MD5


def test_correct_content_md5_accepted(s3, bucket):
    data = b"checked payload"
    put = s3.put_object(Bucket=bucket, Key="md5", Body=data, ContentMD5=md5_b64(data))
    assert put["ETag"] == quoted_md5(data)


def test_wrong_content_md5_is_bad_digest_and_keeps_old_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="md5", Body=b"original")
    with s3_error(400, "BadDigest"):
        s3.put_object(Bucket=bucket, Key="md5", Body=b"replacement", ContentMD5=md5_b64(b"other data"))
    assert get_body(s3, bucket, "md5") == b"original"
    with s3_error(400, "BadDigest"):
        s3.put_object(Bucket=bucket, Key="md5-new", Body=b"x", ContentMD5=md5_b64(b"y"))
    assert not object_exists(s3, bucket, "md5-new")


@pytest.mark.parametrize(
    "digest",
    ["not base64 !!!", base64.b64encode(b"short").decode(), base64.b64encode(b"x" * 20).decode()],
    ids=["not-base64", "too-short", "too-long"],
)
def test_malformed_content_md5_is_invalid_digest(s3, bucket, digest):
    s3.put_object(Bucket=bucket, Key="md5", Body=b"original")
    with s3_error(400, "InvalidDigest"):
        s3.put_object(Bucket=bucket, Key="md5", Body=b"replacement", ContentMD5=digest)
    assert get_body(s3, bucket, "md5") == b"original"


def test_wrong_crc32_checksum_header_is_bad_digest(s3, bucket):
    data = b"crc checked payload"
    good = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    put = s3.put_object(Bucket=bucket, Key="crc", Body=data, ChecksumCRC32=good)
    assert put.get("ChecksumCRC32") == good  # the verified checksum is echoed back
    bad = base64.b64encode((zlib.crc32(data) ^ 1).to_bytes(4, "big")).decode()
    with s3_error(400, "BadDigest"):
        s3.put_object(Bucket=bucket, Key="crc", Body=b"new data", ChecksumCRC32=bad)
    assert get_body(s3, bucket, "crc") == data


# ---------------------------------------------------------- conditional writes


def test_if_none_match_star(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="cond", Body=b"v1", IfNoneMatch="*")
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert put["ETag"] == quoted_md5(b"v1")
    with s3_error(412, "PreconditionFailed"):
        s3.put_object(Bucket=bucket, Key="cond", Body=b"v2", IfNoneMatch="*")
    assert get_body(s3, bucket, "cond") == b"v1"


def test_if_match_on_put(s3, bucket):
    # If-Match on a key that does not exist: 404 NoSuchKey, and nothing is created.
    with s3_error(404, "NoSuchKey"):
        s3.put_object(Bucket=bucket, Key="cond", Body=b"v0", IfMatch=quoted_md5(b"v0"))
    assert not object_exists(s3, bucket, "cond")
    etag = s3.put_object(Bucket=bucket, Key="cond", Body=b"v1")["ETag"]
    with s3_error(412, "PreconditionFailed"):
        s3.put_object(Bucket=bucket, Key="cond", Body=b"v2", IfMatch=quoted_md5(b"something else"))
    assert get_body(s3, bucket, "cond") == b"v1"
    put = s3.put_object(Bucket=bucket, Key="cond", Body=b"v2", IfMatch=etag)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert get_body(s3, bucket, "cond") == b"v2"


def test_if_match_on_delete(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="cond", Body=b"v1")["ETag"]
    with s3_error(412, "PreconditionFailed"):
        s3.delete_object(Bucket=bucket, Key="cond", IfMatch=WRONG_ETAG)
    assert get_body(s3, bucket, "cond") == b"v1"
    resp = s3.delete_object(Bucket=bucket, Key="cond", IfMatch=etag)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert not object_exists(s3, bucket, "cond")
    # Unlike an unconditional delete (204), If-Match on a missing key is 404 NoSuchKey.
    with s3_error(404, "NoSuchKey"):
        s3.delete_object(Bucket=bucket, Key="cond", IfMatch=etag)


# ------------------------------------------------------ response header overrides


def test_response_header_overrides(s3, bucket):
    s3.put_object(Bucket=bucket, Key="ovr", Body=b"data", ContentType="text/plain", CacheControl="no-store")
    expires = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
    resp = s3.get_object(
        Bucket=bucket,
        Key="ovr",
        ResponseContentType="application/x-override",
        ResponseContentDisposition='attachment; filename="o.bin"',
        ResponseCacheControl="private, max-age=5",
        ResponseContentLanguage="fr",
        ResponseContentEncoding="identity",
        ResponseExpires=expires,
    )
    hdrs = resp["ResponseMetadata"]["HTTPHeaders"]
    assert hdrs["content-type"] == "application/x-override"
    assert hdrs["content-disposition"] == 'attachment; filename="o.bin"'
    assert hdrs["cache-control"] == "private, max-age=5"
    assert hdrs["content-language"] == "fr"
    assert hdrs["content-encoding"] == "identity"
    assert hdrs["expires"] == http_date(expires)
    assert resp["Body"].read() == b"data"
    # The stored object is unchanged.
    head = s3.head_object(Bucket=bucket, Key="ovr")
    assert head["ContentType"] == "text/plain"
    assert head["CacheControl"] == "no-store"


def test_etag_is_md5_of_content(s3, bucket):
    data = b"The quick brown fox"
    s3.put_object(Bucket=bucket, Key="fox", Body=data)
    assert s3.head_object(Bucket=bucket, Key="fox")["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
