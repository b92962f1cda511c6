"""CopyObject."""

import pytest

from conftest import FUTURE, PAST, WRONG_ETAG, get_body, object_exists, quoted_md5, s3_error, unique_name, utcnow

DATA = b"copy me, please" * 100


@pytest.fixture
def source(s3, bucket):
    s3.put_object(
        Bucket=bucket,
        Key="src",
        Body=DATA,
        ContentType="text/x-source",
        CacheControl="max-age=60",
        Metadata={"origin": "source", "n": "1"},
    )
    return {"Bucket": bucket, "Key": "src"}


def test_copy_same_bucket(s3, bucket, source):
    resp = s3.copy_object(Bucket=bucket, Key="dst", CopySource=source)
    result = resp["CopyObjectResult"]
    assert result["ETag"] == quoted_md5(DATA)
    assert abs((result["LastModified"] - utcnow()).total_seconds()) < 300
    assert get_body(s3, bucket, "dst") == DATA
    assert get_body(s3, bucket, "src") == DATA


def test_copy_across_buckets(s3, bucket2, source):
    s3.copy_object(Bucket=bucket2, Key="dst/x", CopySource=source)
    assert get_body(s3, bucket2, "dst/x") == DATA
    assert s3.head_object(Bucket=bucket2, Key="dst/x")["ETag"] == quoted_md5(DATA)


def test_copy_metadata_directive_copy_is_default(s3, bucket, source):
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=source)
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource=source, MetadataDirective="COPY")
    for key in ("dst", "dst2"):
        head = s3.head_object(Bucket=bucket, Key=key)
        assert head["Metadata"] == {"origin": "source", "n": "1"}
        assert head["ContentType"] == "text/x-source"
        assert head["CacheControl"] == "max-age=60"


def test_copy_metadata_directive_replace(s3, bucket, source):
    s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource=source,
        MetadataDirective="REPLACE",
        Metadata={"fresh": "yes"},
        ContentType="application/x-replaced",
    )
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["Metadata"] == {"fresh": "yes"}
    assert head["ContentType"] == "application/x-replaced"
    assert "CacheControl" not in head
    assert get_body(s3, bucket, "dst") == DATA
    # The source keeps its metadata.
    assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"origin": "source", "n": "1"}


def test_copy_onto_itself_requires_replace(s3, bucket, source):
    with s3_error(400, "InvalidRequest"):
        s3.copy_object(Bucket=bucket, Key="src", CopySource=source)
    assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"origin": "source", "n": "1"}

    resp = s3.copy_object(
        Bucket=bucket, Key="src", CopySource=source, MetadataDirective="REPLACE", Metadata={"v": "2"}
    )
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    head = s3.head_object(Bucket=bucket, Key="src")
    assert head["Metadata"] == {"v": "2"}
    assert get_body(s3, bucket, "src") == DATA


@pytest.mark.parametrize(
    "key", ["ünïcødé dir/file name.txt", "spaces and+plus", "a%2Fliteral percent", "q?uestion#hash&amp"]
)
def test_copy_source_with_encoded_key(s3, bucket, key):
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    s3.copy_object(Bucket=bucket, Key=key + ".copy", CopySource={"Bucket": bucket, "Key": key})
    assert get_body(s3, bucket, key + ".copy") == key.encode()


def test_copy_source_with_version_id_null(s3, bucket, source):
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={**source, "VersionId": "null"})
    assert get_body(s3, bucket, "dst") == DATA


def test_copy_source_as_string_with_leading_slash(s3, bucket, source):
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"/{bucket}/src")
    assert get_body(s3, bucket, "dst") == DATA


def _etag(s3, source):
    return s3.head_object(**source)["ETag"]


@pytest.mark.parametrize(
    "condition",
    [
        {"CopySourceIfMatch": WRONG_ETAG},
        {"CopySourceIfNoneMatch": "ETAG"},
        {"CopySourceIfModifiedSince": FUTURE},
        {"CopySourceIfUnmodifiedSince": PAST},
    ],
    ids=["if-match", "if-none-match", "if-modified-since", "if-unmodified-since"],
)
def test_copy_conditions_failing(s3, bucket, source, condition):
    condition = {k: (_etag(s3, source) if v == "ETAG" else v) for k, v in condition.items()}
    with s3_error(412, "PreconditionFailed"):
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, **condition)
    assert not object_exists(s3, bucket, "dst")


@pytest.mark.parametrize(
    "condition",
    [
        {"CopySourceIfMatch": "ETAG"},
        {"CopySourceIfNoneMatch": WRONG_ETAG},
        {"CopySourceIfModifiedSince": PAST},
        {"CopySourceIfUnmodifiedSince": FUTURE},
    ],
    ids=["if-match", "if-none-match", "if-modified-since", "if-unmodified-since"],
)
def test_copy_conditions_passing(s3, bucket, source, condition):
    condition = {k: (_etag(s3, source) if v == "ETAG" else v) for k, v in condition.items()}
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, **condition)
    assert get_body(s3, bucket, "dst") == DATA


def test_copy_missing_source_key(s3, bucket):
    with s3_error(404, "NoSuchKey"):
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "absent"})
    assert not object_exists(s3, bucket, "dst")


def test_copy_missing_source_bucket(s3, bucket):
    with s3_error(404, "NoSuchBucket"):
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": unique_name("missing"), "Key": "k"})


def test_copy_to_missing_destination_bucket(s3, source):
    with s3_error(404, "NoSuchBucket"):
        s3.copy_object(Bucket=unique_name("missing"), Key="dst", CopySource=source)


def test_copy_overwrites_existing_destination(s3, bucket, source):
    s3.put_object(Bucket=bucket, Key="dst", Body=b"old", Metadata={"old": "1"})
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=source)
    assert get_body(s3, bucket, "dst") == DATA
    assert s3.head_object(Bucket=bucket, Key="dst")["Metadata"] == {"origin": "source", "n": "1"}
