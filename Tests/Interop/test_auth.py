"""SigV4 and SigV2 authentication: header and query (presigned) auth, and their failure modes."""

import datetime as dt
import hashlib
import re
import time
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import pytest
import requests
from botocore.auth import HmacV1Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import (
    ACCESS_KEY,
    EMPTY_SHA256,
    assert_error_response,
    error_fields,
    flip_hex,
    make_client,
    object_exists,
    object_path,
    quoted_md5,
    raw_request,
    s3_error,
    sign_request,
    utcnow,
)


@pytest.fixture
def obj(s3, bucket):
    s3.put_object(Bucket=bucket, Key="secret.txt", Body=b"top secret")
    return bucket, "secret.txt"


def replace_query_param(url, name, value):
    parts = urlsplit(url)
    query = [(k, value if k == name else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote, safe="-_.~")))


# ------------------------------------------------------------------ presigned


def test_presigned_get(s3, obj):
    bucket, key = obj
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    assert "X-Amz-Signature=" in url
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 200, resp.content
    assert resp.content == b"top secret"
    assert resp.headers.get("x-amz-request-id")


def test_presigned_get_with_response_override(s3, obj):
    bucket, key = obj
    url = s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": key, "ResponseContentDisposition": "attachment; filename=x.txt"},
        ExpiresIn=300,
    )
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 200, resp.content
    assert resp.headers.get("Content-Disposition") == "attachment; filename=x.txt"
    assert resp.content == b"top secret"


def test_presigned_put(s3, bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up/loaded"}, ExpiresIn=300)
    resp = requests.put(url, data=b"uploaded via presigned url", timeout=10)
    assert resp.status_code == 200, resp.content
    assert resp.headers["ETag"] == quoted_md5(b"uploaded via presigned url")
    assert s3.get_object(Bucket=bucket, Key="up/loaded")["Body"].read() == b"uploaded via presigned url"


def test_presigned_url_max_expiry_is_accepted(s3, obj):
    bucket, key = obj
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=604800)
    assert "X-Amz-Expires=604800" in url
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 200, resp.content
    assert resp.content == b"top secret"


def test_expired_presigned_url(s3, obj):
    bucket, key = obj
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=1)
    time.sleep(2.1)
    fields = assert_error_response(requests.get(url, timeout=10), 403, "AccessDenied")
    assert fields["Message"] == "Request has expired"


def test_presigned_expiry_over_seven_days(s3, obj):
    bucket, key = obj
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=604801)
    assert "X-Amz-Expires=604801" in url
    assert_error_response(requests.get(url, timeout=10), 400, "AuthorizationQueryParametersError")


@pytest.mark.parametrize("value", ["-1", "abc"])
def test_presigned_invalid_expires(s3, obj, value):
    bucket, key = obj
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=60)
    url = replace_query_param(url, "X-Amz-Expires", value)
    assert_error_response(requests.get(url, timeout=10), 400, "AuthorizationQueryParametersError")


def test_presigned_tampered_signature(s3, obj):
    bucket, key = obj
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    sig = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    resp = requests.get(replace_query_param(url, "X-Amz-Signature", flip_hex(sig)), timeout=10)
    fields = assert_error_response(resp, 403, "SignatureDoesNotMatch")
    assert fields["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
    assert fields["CanonicalRequest"].startswith(f"GET\n/{bucket}/{key}\n")
    assert fields.get("SignatureProvided") == flip_hex(sig)
    assert fields.get("AWSAccessKeyId") == ACCESS_KEY


def test_presigned_url_for_other_method_is_rejected(s3, bucket, obj):
    _, key = obj
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    resp = requests.put(url, data=b"overwritten", timeout=10)
    assert_error_response(resp, 403, "SignatureDoesNotMatch")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"top secret"


def test_presigned_url_for_other_key_is_rejected(s3, obj):
    bucket, key = obj
    s3.put_object(Bucket=bucket, Key="other.txt", Body=b"other")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "other.txt"}, ExpiresIn=300)
    resp = requests.get(url.replace("/other.txt?", f"/{key}?"), timeout=10)
    assert_error_response(resp, 403, "SignatureDoesNotMatch")


# ---------------------------------------------------------------- header auth


def test_signature_mismatch_reports_canonical_request(server, s3, bucket):
    key = "dir/ä b+c~(1).txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    debug = {}
    url, headers = sign_request(
        server,
        "GET",
        object_path(bucket, key),
        headers={"Range": "bytes=0-0", "X-Amz-Meta-Spaces": "a   b  "},
        query={"response-content-type": "text/plain; charset=utf-8", "x-id": "GetObject"},
        debug=debug,
    )
    headers["Authorization"] = re.sub(
        r"Signature=([0-9a-f]+)", lambda m: "Signature=" + flip_hex(m.group(1)), headers["Authorization"]
    )
    resp = requests.get(url, headers=headers, timeout=10)
    fields = assert_error_response(resp, 403, "SignatureDoesNotMatch")
    # The server canonicalised the request exactly like botocore did.
    assert fields["CanonicalRequest"] == debug["canonical_request"]
    assert fields["StringToSign"] == debug["string_to_sign"]


def test_unknown_access_key(server):
    client = make_client(server.endpoint, "AKIAUNKNOWNUNKNOWN00", server.secret_key)
    with s3_error(403, "InvalidAccessKeyId"):
        client.list_buckets()


def test_wrong_secret_key(server, s3, obj):
    bucket, key = obj
    client = make_client(server.endpoint, server.access_key, "x" * 40)
    with s3_error(403, "SignatureDoesNotMatch"):
        client.list_buckets()
    with s3_error(403, "SignatureDoesNotMatch"):
        client.get_object(Bucket=bucket, Key=key)
    with s3_error(403, "SignatureDoesNotMatch"):
        client.put_object(Bucket=bucket, Key="intruder", Body=b"x")
    assert not object_exists(s3, bucket, "intruder")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_anonymous_object_access_denied(server, obj, method):
    bucket, key = obj
    resp = raw_request(server, method, object_path(bucket, key), sign=False)
    if method == "GET":
        assert_error_response(resp, 403, "AccessDenied")
    else:
        assert resp.status_code == 403
        assert resp.content == b""  # HEAD responses carry no error document


def test_anonymous_list_buckets_and_put_denied(server, s3, bucket):
    assert_error_response(raw_request(server, "GET", "/", sign=False), 403, "AccessDenied")
    resp = raw_request(server, "PUT", object_path(bucket, "anon"), body=b"x", sign=False)
    assert_error_response(resp, 403, "AccessDenied")
    assert not object_exists(s3, bucket, "anon")


@pytest.mark.parametrize("skew_minutes", [-20, 20])
def test_request_time_too_skewed(raw, obj, skew_minutes):
    bucket, key = obj
    resp = raw("GET", object_path(bucket, key), timestamp=utcnow() + dt.timedelta(minutes=skew_minutes))
    assert_error_response(resp, 403, "RequestTimeTooSkewed")


def test_moderate_clock_skew_is_tolerated(raw, obj):
    bucket, key = obj
    resp = raw("GET", object_path(bucket, key), timestamp=utcnow() - dt.timedelta(minutes=10))
    assert resp.status_code == 200, resp.content
    assert resp.content == b"top secret"


@pytest.mark.parametrize(
    "authorization",
    [
        "AWS4-HMAC-SHA256 Credential=foo",
        "AWS4-HMAC-SHA256 Credential={ak}/2024/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + "0" * 64,
        "AWS4-HMAC-SHA256 Credential={ak}/{day}/us-east-1/s3/not_aws4_request, "
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + "0" * 64,
    ],
    ids=["credential-foo", "bad-credential-date", "bad-terminator"],
)
def test_malformed_authorization_header(server, obj, authorization):
    bucket, key = obj
    now = utcnow()
    headers = {
        "Authorization": authorization.format(ak=server.access_key, day=now.strftime("%Y%m%d")),
        "x-amz-date": now.strftime("%Y%m%dT%H%M%SZ"),
        "x-amz-content-sha256": EMPTY_SHA256,
    }
    resp = raw_request(server, "GET", object_path(bucket, key), headers, sign=False)
    assert_error_response(resp, 400, "AuthorizationHeaderMalformed")


def test_wrong_region_in_credential_scope(raw, obj):
    bucket, key = obj
    resp = raw("GET", object_path(bucket, key), region="eu-central-1")
    fields = assert_error_response(resp, 400, "AuthorizationHeaderMalformed")
    assert fields.get("Region") == "us-east-1"


def test_missing_content_sha256_header(raw, s3, bucket):
    resp = raw("PUT", object_path(bucket, "nosha"), body=b"data", omit_content_sha256=True)
    fields = assert_error_response(resp, 400, "InvalidRequest")
    assert "x-amz-content-sha256" in fields.get("Message", ""), fields
    assert not object_exists(s3, bucket, "nosha")


def test_payload_hash_mismatch(raw, s3, bucket):
    resp = raw(
        "PUT",
        object_path(bucket, "mismatch"),
        body=b"the real body",
        content_sha256=hashlib.sha256(b"a different body").hexdigest(),
    )
    assert_error_response(resp, 400, "XAmzContentSHA256Mismatch")
    assert not object_exists(s3, bucket, "mismatch")


def test_unsigned_payload_is_accepted(raw, s3, bucket):
    resp = raw("PUT", object_path(bucket, "unsigned"), body=b"unsigned body", content_sha256="UNSIGNED-PAYLOAD")
    assert resp.status_code == 200, resp.content
    assert resp.headers["ETag"] == quoted_md5(b"unsigned body")
    assert s3.get_object(Bucket=bucket, Key="unsigned")["Body"].read() == b"unsigned body"


# ---------------------------------------------------------------------- SigV2


def test_sigv2_presigned_get(s3_default_config, s3, bucket):
    key = "dir/ä b+c~(1).txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"v2 data")
    url = s3_default_config.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key, "ResponseContentType": "text/x-v2"}, ExpiresIn=300
    )
    assert "Signature=" in url and "AWSAccessKeyId=" in url and "X-Amz-Signature=" not in url
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 200, resp.content
    assert resp.content == b"v2 data"
    assert resp.headers["Content-Type"] == "text/x-v2"


def test_sigv2_presigned_get_expired(s3_default_config, obj):
    bucket, key = obj
    url = s3_default_config.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=-60)
    assert "AWSAccessKeyId=" in url
    fields = assert_error_response(requests.get(url, timeout=10), 403, "AccessDenied")
    assert fields["Message"] == "Request has expired"


@pytest.mark.parametrize("good_secret", [True, False], ids=["right-secret", "wrong-secret"])
def test_sigv2_header_signed_get(server, obj, good_secret):
    bucket, key = obj
    request = AWSRequest(method="GET", url=server.endpoint + object_path(bucket, key))
    HmacV1Auth(Credentials(server.access_key, server.secret_key if good_secret else "x" * 40)).add_auth(request)
    assert request.headers["Authorization"].startswith(f"AWS {server.access_key}:")
    resp = requests.get(request.url, headers=dict(request.headers), timeout=10)
    if good_secret:
        assert resp.status_code == 200, resp.content
        assert resp.content == b"top secret"
    else:
        assert_error_response(resp, 403, "SignatureDoesNotMatch")


# ---------------------------------------------------------------- request ids


def test_request_id_on_success_and_error_responses(server, s3, raw, bucket):
    ok = s3.list_buckets()
    assert ok["ResponseMetadata"]["HTTPHeaders"].get("x-amz-request-id")
    put = raw("PUT", object_path(bucket, "present"), body=b"x")
    for resp, status in [
        (put, 200),
        (raw("HEAD", object_path(bucket, "present")), 200),
        (raw("GET", object_path(bucket, "present")), 200),
        (raw("DELETE", object_path(bucket, "present")), 204),
        (raw("HEAD", object_path(bucket, "absent")), 404),
    ]:
        assert resp.status_code == status, (resp.request.method, resp.status_code)
        assert resp.headers.get("x-amz-request-id"), f"{resp.request.method} lacks x-amz-request-id"

    resp = raw("GET", object_path(bucket, "absent"))
    fields = assert_error_response(resp, 404, "NoSuchKey")
    for element in ("Code", "Message", "Resource", "RequestId"):
        assert fields.get(element), f"error XML lacks <{element}>: {fields}"
    assert fields["RequestId"] == resp.headers["x-amz-request-id"]
    assert fields["Resource"] == f"/{bucket}/absent"
    assert resp.headers["Content-Type"].startswith("application/xml")

    anon = raw_request(server, "GET", "/", sign=False)
    anon_fields = error_fields(anon.content)
    assert anon_fields["RequestId"] == anon.headers["x-amz-request-id"]
    assert anon_fields["RequestId"] != fields["RequestId"]
