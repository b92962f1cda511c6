"""Requests that must not write: unsigned x-amz-* headers, headers of features the server
does not implement, and AWS operations it does not implement (which must never fall through
to PutObject, CreateBucket, DeleteObject or DeleteBucket on the same path)."""

import base64
import hashlib

import botocore.session
import pytest
import requests

from conftest import (
    FUTURE,
    assert_error_response,
    bucket_exists,
    get_body,
    object_exists,
    object_path,
    purge_bucket,
    s3_error,
    sign_request,
    unique_name,
)


@pytest.fixture
def two_objects(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    s3.put_object(Bucket=bucket, Key="dst", Body=b"destination")
    return bucket


def assert_two_objects_unchanged(s3, bucket):
    assert get_body(s3, bucket, "src") == b"source"
    assert get_body(s3, bucket, "dst") == b"destination"


# ------------------------------------------------- unsigned x-amz-* headers


def test_presigned_put_with_unsigned_copy_source(s3, two_objects):
    # A presigned PutObject URL must not be turned into a CopyObject by adding a header.
    # AWS: 403 <Code>AccessDenied</Code><Message>There were headers present in the request
    #      which were not signed</Message><HeadersNotSigned>x-amz-copy-source</HeadersNotSigned>
    bucket = two_objects
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "dst"}, ExpiresIn=300)
    resp = requests.put(url, data=b"", headers={"x-amz-copy-source": f"{bucket}/src"}, timeout=10)
    fields = assert_error_response(resp, 403, "AccessDenied")
    assert fields.get("HeadersNotSigned") == "x-amz-copy-source", fields
    assert_two_objects_unchanged(s3, bucket)


def test_header_signed_request_with_header_added_after_signing(server, s3, bucket):
    url, headers = sign_request(server, "PUT", object_path(bucket, "meta"), body=b"payload")
    headers["x-amz-meta-foo"] = "bar"
    resp = requests.put(url, data=b"payload", headers=headers, timeout=10)
    fields = assert_error_response(resp, 403, "AccessDenied")
    assert fields.get("HeadersNotSigned") == "x-amz-meta-foo", fields
    assert not object_exists(s3, bucket, "meta")


def test_presigned_put_with_unsigned_content_sha256_is_allowed(s3, bucket):
    # x-amz-content-sha256 is the one x-amz-* header a presigned request may carry unsigned.
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    resp = requests.put(url, data=b"body", headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, timeout=10)
    assert resp.status_code == 200, resp.content
    assert get_body(s3, bucket, "k") == b"body"


def test_sigv2_presigned_put_with_added_copy_source(s3_default_config, s3, two_objects):
    # SigV2 has no SignedHeaders: every x-amz-* header is part of the string to sign.
    bucket = two_objects
    url = s3_default_config.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "dst"}, ExpiresIn=300
    )
    assert "Signature=" in url and "X-Amz-Signature=" not in url
    resp = requests.put(url, data=b"", headers={"x-amz-copy-source": f"{bucket}/src"}, timeout=10)
    assert_error_response(resp, 403, "SignatureDoesNotMatch")
    assert_two_objects_unchanged(s3, bucket)


# ------------------------------------------------ unimplemented feature headers


@pytest.mark.parametrize(
    "params",
    [
        {"ServerSideEncryption": "aws:kms"},
        {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "key"},
        {"ServerSideEncryption": "aws:kms:dsse"},
    ],
    ids=["sse-kms", "sse-kms-key", "dsse-kms"],
)
def test_put_with_unimplemented_feature_header(s3, bucket, params):
    with s3_error(501, "NotImplemented"):
        s3.put_object(Bucket=bucket, Key="new", Body=b"x", **params)
    assert not object_exists(s3, bucket, "new")
    s3.put_object(Bucket=bucket, Key="old", Body=b"original")
    with s3_error(501, "NotImplemented"):
        s3.put_object(Bucket=bucket, Key="old", Body=b"replacement", **params)
    assert get_body(s3, bucket, "old") == b"original"


@pytest.mark.parametrize(
    "params",
    [{"ServerSideEncryption": "aws:kms"}, {"SSEKMSKeyId": "key", "ServerSideEncryption": "aws:kms"}],
    ids=["sse-kms", "sse-kms-key"],
)
def test_copy_with_unimplemented_feature_header(s3, bucket, params):
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    with s3_error(501, "NotImplemented"):
        s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "src"}, **params)
    assert not object_exists(s3, bucket, "copy")


def test_object_lock_headers_on_a_bucket_without_object_lock(s3, bucket):
    # Object Lock is implemented; on a bucket without it the headers are refused and nothing is written.
    with s3_error(400, "InvalidRequest"):
        s3.put_object(
            Bucket=bucket, Key="new", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=FUTURE
        )
    assert not object_exists(s3, bucket, "new")


# ------------------------------------------- unimplemented AWS operations


def test_delete_metadata_table_keeps_empty_bucket(raw, s3, bucket):
    # DELETE /bucket?metadataTable is DeleteBucketMetadataTableConfiguration, not DeleteBucket.
    assert_error_response(raw("DELETE", f"/{bucket}", query={"metadataTable": None}), 501, "NotImplemented")
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_rename_object_does_not_put(raw, s3, bucket):
    # PUT /bucket/key?renameObject is RenameObject, not PutObject.
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    resp = raw(
        "PUT",
        object_path(bucket, "renamed"),
        headers={"x-amz-rename-source": f"/{bucket}/src"},
        body=b"request body",
        query={"renameObject": None},
    )
    assert_error_response(resp, 501, "NotImplemented")
    assert not object_exists(s3, bucket, "renamed")
    assert get_body(s3, bucket, "src") == b"source"


# Writing operations of botocore's S3 model that share a path with PutObject, CreateBucket,
# DeleteObject or DeleteBucket and differ only by their query (a sub-resource such as
# ?tagging, or uploadId/partNumber).
IMPLEMENTED = {
    "DeleteObjects",
    "CreateMultipartUpload",
    "UploadPart",
    "UploadPartCopy",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
    "PutBucketVersioning",
    "PutObjectTagging",
    "DeleteObjectTagging",
    "PutBucketTagging",
    "DeleteBucketTagging",
    "PutObjectLegalHold",
    "PutObjectLockConfiguration",
    "PutObjectRetention",
    "PutBucketLifecycleConfiguration",
    "PutBucketCors",
    "DeleteBucketCors",
    "PutBucketEncryption",
    "DeleteBucketEncryption",
    "DeleteBucketLifecycle",
    "PutBucketLifecycle",  # the legacy form shares PUT ?lifecycle
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "PutBucketAcl",
    "PutObjectAcl",
    "PutBucketOwnershipControls",
    "DeleteBucketOwnershipControls",
    "PutPublicAccessBlock",
    "DeletePublicAccessBlock",
}


def _subresource_write_operations():
    model = botocore.session.get_session().get_service_model("s3")
    cases = []
    for name in model.operation_names:
        op = model.operation_model(name)
        method, uri = op.http["method"], op.http["requestUri"]
        if method not in ("PUT", "POST", "DELETE") or name in IMPLEMENTED or not uri.startswith("/{Bucket}"):
            continue
        path, _, qs = uri.partition("?")
        query = [(k, v if sep else None) for k, sep, v in (p.partition("=") for p in qs.split("&") if p)]
        for member in op.input_shape.required_members:
            ser = op.input_shape.members[member].serialization
            if ser.get("location") == "querystring":
                query.append((ser["name"], "1" if ser["name"] == "partNumber" else "x"))
        if query:
            cases.append(pytest.param(method, "{Key+}" in path, query, id=name))
    return cases


@pytest.mark.parametrize("method, on_object, query", _subresource_write_operations())
def test_unimplemented_operation_does_not_fall_through(raw, s3, bucket, method, on_object, query):
    if on_object:
        s3.put_object(Bucket=bucket, Key="k", Body=b"keep")
        resp = raw(method, object_path(bucket, "k"), body=b"" if method == "DELETE" else b"<x/>", query=query)
        after = get_body(s3, bucket, "k") if object_exists(s3, bucket, "k") else None
        assert after == b"keep", f"HTTP {resp.status_code} and the object became {after!r}"
        assert_error_response(resp, 501, "NotImplemented")
    elif method == "DELETE":
        # An empty bucket: a fall-through to DeleteBucket would remove it.
        resp = raw(method, f"/{bucket}", query=query)
        assert bucket_exists(s3, bucket), f"HTTP {resp.status_code} and the bucket is gone"
        assert_error_response(resp, 501, "NotImplemented")
    else:
        # A missing bucket: a fall-through to CreateBucket would create it.
        missing = unique_name("absent")
        try:
            resp = raw(method, f"/{missing}", query=query)
            created = bucket_exists(s3, missing)
        finally:
            purge_bucket(s3, missing)
        assert not created, f"HTTP {resp.status_code} and the bucket was created"
        assert_error_response(resp, 501, "NotImplemented")


@pytest.mark.parametrize(
    "method, query, headers",
    [
        ("PUT", [("partNumber", "1"), ("uploadId", "x")], {}),
        ("PUT", [("partNumber", "1"), ("uploadId", "x")], {"x-amz-copy-source": "/b/k"}),
        ("POST", [("uploadId", "x")], {}),
        ("DELETE", [("uploadId", "x")], {}),
    ],
    ids=["UploadPart", "UploadPartCopy", "CompleteMultipartUpload", "AbortMultipartUpload"],
)
def test_multipart_operation_with_unknown_upload_does_not_fall_through(raw, s3, bucket, method, query, headers):
    """uploadId names an upload; an unknown one is NoSuchUpload, never a write to or delete of the object."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"keep")
    complete = b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>"
    body = b"" if method == "DELETE" else complete if method == "POST" else b"data"
    if "x-amz-copy-source" in headers:
        headers = {"x-amz-copy-source": f"/{bucket}/k"}
    resp = raw(method, object_path(bucket, "k"), body=body, query=query, headers=headers)
    assert get_body(s3, bucket, "k") == b"keep"
    assert_error_response(resp, 404, "NoSuchUpload")


# --- regressions from code review ---------------------------------------------------------------


@pytest.mark.parametrize(
    "date",
    [
        "Sun, 06 Nov 300000000000 08:49:37 GMT",
        "Sun Nov  6 08:49:37 9223372036854775807",
        "ZZZZ-ZZZZZT 99999999999999-01-01T00:00:00Z",
    ],
)
def test_absurd_dates_are_refused_not_a_crash(server, raw, bucket, date):
    """An unauthenticated request with an absurd Date must get a 4xx, and the server must keep serving."""
    for auth in (
        "AWS4-HMAC-SHA256 Credential=x/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0",
        "AWS a:b",
    ):
        resp = raw("GET", "/", headers={"Authorization": auth, "Date": date}, sign=False)
        assert 400 <= resp.status_code < 500, resp.content
    # After authentication, the conditional headers too.
    resp = raw("GET", object_path(bucket, "nothing"), headers={"If-Modified-Since": date})
    assert resp.status_code == 404
    assert raw("HEAD", object_path(bucket)).status_code == 200


def test_xml_body_must_match_signed_payload_hash(raw, s3, bucket):
    """DeleteObjects signed for one body must not accept another (XAmzContentSHA256Mismatch)."""
    s3.put_object(Bucket=bucket, Key="keep", Body=b"x")
    signed_body = b"<Delete><Object><Key>other</Key></Object></Delete>"
    sent_body = b"<Delete><Object><Key>keep</Key></Object></Delete>"
    md5 = base64.b64encode(hashlib.md5(sent_body).digest()).decode()
    resp = raw(
        "POST",
        object_path(bucket),
        headers={"Content-MD5": md5},
        body=sent_body,
        query={"delete": None},
        content_sha256=hashlib.sha256(signed_body).hexdigest(),
    )
    assert_error_response(resp, 400, "XAmzContentSHA256Mismatch")
    assert object_exists(s3, bucket, "keep")
