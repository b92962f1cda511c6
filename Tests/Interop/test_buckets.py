"""Bucket-level operations: CreateBucket, HeadBucket, GetBucketLocation, DeleteBucket, ListBuckets."""

import pytest

from conftest import (
    REGION,
    assert_error_response,
    bucket_exists,
    parse_xml,
    purge_bucket,
    s3_error,
    temporary_bucket,
    unique_name,
    uri_encode,
    utcnow,
)

LOCATION_BODY = (
    '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    "<LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>"
)


def test_create_head_delete_bucket(s3):
    name = unique_name()
    resp = s3.create_bucket(Bucket=name)
    try:
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert resp["Location"] == f"/{name}"
        head = s3.head_bucket(Bucket=name)
        assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert head["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region") == REGION
    finally:
        purge_bucket(s3, name)
    assert not bucket_exists(s3, name)


def test_create_bucket_with_empty_configuration(s3, raw):
    name = unique_name()
    body = b'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>'
    resp = raw("PUT", f"/{name}", body=body)
    try:
        assert resp.status_code == 200, resp.content
        assert bucket_exists(s3, name)
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    finally:
        purge_bucket(s3, name)


def test_create_bucket_with_explicit_us_east_1_location_constraint(s3, raw):
    # AWS rejects an explicit LocationConstraint of "us-east-1" (the region is expressed by
    # omitting the constraint): 400 InvalidLocationConstraint, "The specified
    # location-constraint is not valid". The well-known boto3/aws-cli pitfall.
    assert REGION == "us-east-1"
    name = unique_name()
    resp = raw("PUT", f"/{name}", body=LOCATION_BODY.format(REGION).encode())
    try:
        assert_error_response(resp, 400, "InvalidLocationConstraint")
        assert not bucket_exists(s3, name)
    finally:
        purge_bucket(s3, name)


def test_create_bucket_with_foreign_location_constraint_is_rejected(s3, raw):
    name = unique_name()
    resp = raw("PUT", f"/{name}", body=LOCATION_BODY.format("eu-west-1").encode())
    try:
        # A regional endpoint answers a constraint naming another region like this.
        fields = assert_error_response(resp, 400, "IllegalLocationConstraintException")
        assert "eu-west-1" in fields.get("Message", ""), fields
        assert not bucket_exists(s3, name)
    finally:
        purge_bucket(s3, name)


INVALID_NAMES = [
    "MyBucket-upper",
    "ab",
    "a" * 64,
    "under_score",
    "192.168.1.1",
    "-leading-hyphen",
    "trailing-hyphen-",
    "double..dots",
    ".leading-dot",
    "trailing-dot.",
    "xn--punycode",
    "sthree-reserved",
    "bucket-s3alias",
    "bucket--ol-s3",
    "space name",
    "excl!mation",
]


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_invalid_bucket_names_are_rejected(s3, raw, name):
    path = "/" + uri_encode(name)
    resp = raw("PUT", path)
    if resp.status_code == 200:  # wrongly created: remove it before failing
        raw("DELETE", path)
    assert_error_response(resp, 400, "InvalidBucketName")
    # Nothing may have been created under a normalised name either.
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert name not in names and name.lower() not in names


@pytest.mark.parametrize("name", ["abc", "a" * 63, "1digits-first", "with.dots.inside", "x-y-z9"])
def test_valid_edge_bucket_names_are_accepted(s3, name):
    name = name if len(name) in (3, 63) else f"{name}-{unique_name()[3:11]}"
    s3.create_bucket(Bucket=name)
    try:
        assert bucket_exists(s3, name)
    finally:
        purge_bucket(s3, name)


def test_create_bucket_twice_is_already_owned_by_you(s3, bucket):
    with s3_error(409, "BucketAlreadyOwnedByYou"):
        s3.create_bucket(Bucket=bucket)
    # The existing bucket is untouched.
    assert bucket_exists(s3, bucket)


def test_create_bucket_malformed_configuration(s3, raw):
    name = unique_name()
    resp = raw("PUT", f"/{name}", body=b"<CreateBucketConfiguration><LocationConstraint>")
    try:
        assert_error_response(resp, 400, "MalformedXML")
        assert not bucket_exists(s3, name)
    finally:
        purge_bucket(s3, name)


def test_head_missing_bucket_is_404(s3):
    with s3_error(404, "404"):
        s3.head_bucket(Bucket=unique_name("missing"))


def test_get_bucket_location_us_east_1_is_empty(s3, bucket, raw):
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
    resp = raw("GET", f"/{bucket}", query={"location": None})
    assert resp.status_code == 200, resp.content
    root = parse_xml(resp.content)
    assert root.tag == "LocationConstraint"
    assert (root.text or "") == "" and len(root) == 0, resp.content


def test_get_bucket_location_missing_bucket(s3):
    with s3_error(404, "NoSuchBucket"):
        s3.get_bucket_location(Bucket=unique_name("missing"))


def test_delete_non_empty_bucket_is_rejected(s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep/me", Body=b"x")
    with s3_error(409, "BucketNotEmpty"):
        s3.delete_bucket(Bucket=bucket)
    assert bucket_exists(s3, bucket)
    assert s3.get_object(Bucket=bucket, Key="keep/me")["Body"].read() == b"x"


def test_delete_bucket_returns_204(s3):
    name = unique_name()
    s3.create_bucket(Bucket=name)
    resp = s3.delete_bucket(Bucket=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert not bucket_exists(s3, name)


def test_delete_missing_bucket(s3):
    with s3_error(404, "NoSuchBucket"):
        s3.delete_bucket(Bucket=unique_name("missing"))


def test_list_buckets_contains_created_bucket_and_owner(s3, bucket):
    resp = s3.list_buckets()
    entries = {b["Name"]: b for b in resp["Buckets"]}
    assert bucket in entries
    assert abs((entries[bucket]["CreationDate"] - utcnow()).total_seconds()) < 300
    owner = resp["Owner"]
    assert owner.get("ID")
    assert owner.get("DisplayName")
    names = [b["Name"] for b in resp["Buckets"]]
    assert names == sorted(names)


def test_list_buckets_prefix_and_pagination(s3):
    prefix = unique_name("lb") + "-"
    names = [f"{prefix}{i}" for i in range(3)]
    with temporary_bucket(s3, "lb-other"):
        created = []
        try:
            for n in names:
                s3.create_bucket(Bucket=n)
                created.append(n)

            resp = s3.list_buckets(Prefix=prefix)
            assert [b["Name"] for b in resp["Buckets"]] == names
            assert resp.get("Prefix") == prefix
            assert "ContinuationToken" not in resp

            first = s3.list_buckets(Prefix=prefix, MaxBuckets=2)
            assert [b["Name"] for b in first["Buckets"]] == names[:2]
            token = first.get("ContinuationToken")
            assert token, first

            second = s3.list_buckets(Prefix=prefix, MaxBuckets=2, ContinuationToken=token)
            assert [b["Name"] for b in second["Buckets"]] == names[2:]
            assert "ContinuationToken" not in second

            everything = s3.list_buckets(MaxBuckets=1)
            assert len(everything["Buckets"]) == 1
            assert everything.get("ContinuationToken")
        finally:
            for n in created:
                purge_bucket(s3, n)


def test_list_buckets_prefix_without_match(s3):
    resp = s3.list_buckets(Prefix=unique_name("nomatch"))
    assert resp["Buckets"] == []
