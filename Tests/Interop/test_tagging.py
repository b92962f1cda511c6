"""Object and bucket tagging: Put/Get/DeleteObjectTagging, Put/Get/DeleteBucketTagging, x-amz-tagging on
PutObject, CopyObject (x-amz-tagging-directive) and multipart uploads, x-amz-tagging-count, AWS's limits."""

from __future__ import annotations

import pytest

from conftest import assert_error_response, get_body, object_path, s3_error


def tag_set(pairs):
    return {"TagSet": [{"Key": k, "Value": v} for k, v in pairs]}


def tags_of(s3, bucket, key, **kw):
    return [(t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket=bucket, Key=key, **kw)["TagSet"]]


def tagging_count(response):
    return response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-tagging-count")


def test_put_object_with_tagging_header_and_count(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1&b=two%20words&empty=")
    assert tags_of(s3, bucket, "k") == [("a", "1"), ("b", "two words"), ("empty", "")]
    assert tagging_count(s3.head_object(Bucket=bucket, Key="k")) == "3"
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 3
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert tagging_count(s3.head_object(Bucket=bucket, Key="plain")) is None
    assert tags_of(s3, bucket, "plain") == []


def test_put_get_delete_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"data", Tagging="old=1")
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set([("x", "y"), ("unicode ü", "välue + - = . _ : / @")]))
    assert tags_of(s3, bucket, "k") == [("x", "y"), ("unicode ü", "välue + - = . _ : / @")]
    # Tagging does not touch the data or the ETag.
    assert get_body(s3, bucket, "k") == b"data"
    s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert tags_of(s3, bucket, "k") == []
    assert get_body(s3, bucket, "k") == b"data"


def test_tagging_a_missing_object(s3, bucket):
    with s3_error(404, "NoSuchKey"):
        s3.get_object_tagging(Bucket=bucket, Key="missing")
    with s3_error(404, "NoSuchKey"):
        s3.put_object_tagging(Bucket=bucket, Key="missing", Tagging=tag_set([("a", "b")]))


@pytest.mark.parametrize(
    "pairs",
    [
        [(f"k{i}", "v") for i in range(11)],  # more than 10
        [("a", "1"), ("a", "2")],  # duplicate key
        [("k" * 129, "v")],  # key too long
        [("k", "v" * 257)],  # value too long
        [("bad#key", "v")],  # character outside the allowed set
        [("aws:reserved", "v")],  # reserved prefix
    ],
    ids=["eleven", "duplicate", "long-key", "long-value", "bad-char", "aws-prefix"],
)
def test_invalid_object_tags(s3, bucket, pairs):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="keep=1")
    with s3_error(400, "InvalidTag"):
        s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(pairs))
    assert tags_of(s3, bucket, "k") == [("keep", "1")]


def test_limits_are_inclusive(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    pairs = [(f"k{i}", "v") for i in range(9)] + [("k" * 128, "v" * 256)]
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(pairs))
    assert tags_of(s3, bucket, "k") == pairs


def test_invalid_tagging_header_writes_nothing(s3, bucket):
    with s3_error(400, "InvalidTag"):
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1&a=2")
    with pytest.raises(Exception):
        s3.head_object(Bucket=bucket, Key="k")


def test_copy_tagging_directive(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"source", Tagging="from=source")
    s3.copy_object(Bucket=bucket, Key="copied", CopySource={"Bucket": bucket, "Key": "src"})
    assert tags_of(s3, bucket, "copied") == [("from", "source")]
    s3.copy_object(
        Bucket=bucket, Key="replaced", CopySource={"Bucket": bucket, "Key": "src"}, TaggingDirective="REPLACE",
        Tagging="new=1",
    )
    assert tags_of(s3, bucket, "replaced") == [("new", "1")]
    s3.copy_object(
        Bucket=bucket, Key="cleared", CopySource={"Bucket": bucket, "Key": "src"}, TaggingDirective="REPLACE"
    )
    assert tags_of(s3, bucket, "cleared") == []
    # Metadata REPLACE keeps the source's tags unless the tagging directive says otherwise.
    s3.copy_object(
        Bucket=bucket, Key="meta", CopySource={"Bucket": bucket, "Key": "src"}, MetadataDirective="REPLACE",
        Metadata={"m": "1"},
    )
    assert tags_of(s3, bucket, "meta") == [("from", "source")]
    # Retagging an object in place is a legal self-copy.
    s3.copy_object(
        Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"}, TaggingDirective="REPLACE",
        Tagging="self=1",
    )
    assert tags_of(s3, bucket, "src") == [("self", "1")]
    assert get_body(s3, bucket, "src") == b"source"


def test_multipart_upload_with_tagging(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="mp=1&b=2")
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=1, Body=b"abc")["ETag"]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload["UploadId"], MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}
    )
    assert tags_of(s3, bucket, "mp") == [("mp", "1"), ("b", "2")]


def test_tagging_versions(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1", Tagging="v=1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"2", Tagging="v=2")["VersionId"]
    resp = s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=v1, Tagging=tag_set([("v", "one")]))
    assert resp["VersionId"] == v1
    assert tags_of(s3, bucket, "k", VersionId=v1) == [("v", "one")]
    assert tags_of(s3, bucket, "k") == [("v", "2")]
    got = s3.get_object_tagging(Bucket=bucket, Key="k")
    assert got["VersionId"] == v2
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    with s3_error(405, "MethodNotAllowed"):
        s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=marker)
    for v in (v1, v2, marker):
        s3.delete_object(Bucket=bucket, Key="k", VersionId=v)


def test_bucket_tagging(s3, bucket):
    with s3_error(404, "NoSuchTagSet"):
        s3.get_bucket_tagging(Bucket=bucket)
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set([("team", "ops"), ("env", "test")]))
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [
        {"Key": "team", "Value": "ops"},
        {"Key": "env", "Value": "test"},
    ]
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set([(f"k{i}", "v") for i in range(50)]))
    with s3_error(400, "InvalidTag"):
        s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set([(f"k{i}", "v") for i in range(51)]))
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50
    s3.delete_bucket_tagging(Bucket=bucket)
    with s3_error(404, "NoSuchTagSet"):
        s3.get_bucket_tagging(Bucket=bucket)
    with s3_error(404, "NoSuchBucket"):
        s3.put_bucket_tagging(Bucket=bucket + "-missing", Tagging=tag_set([("a", "b")]))


def test_malformed_tagging_xml(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    resp = raw("PUT", object_path(bucket, "k"), body=b"<Tagging><TagSet><Tag><Key>a</Key></Tag>", query={"tagging": None})
    assert_error_response(resp, 400, "MalformedXML")
    resp = raw("PUT", object_path(bucket, "k"), body=b"<NotTagging/>", query={"tagging": None})
    assert_error_response(resp, 400, "MalformedXML")
    # An empty key (boto3 refuses to send one).
    empty = b"<Tagging><TagSet><Tag><Key></Key><Value>v</Value></Tag></TagSet></Tagging>"
    resp = raw("PUT", object_path(bucket, "k"), body=empty, query={"tagging": None})
    assert_error_response(resp, 400, "InvalidTag")
