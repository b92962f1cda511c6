"""CORS: Put/Get/DeleteBucketCors with S3's checks, OPTIONS preflights answered per rule, and the CORS
headers on actual responses (errors included)."""

from __future__ import annotations

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import md5_b64, purge_bucket, s3_error, unique_name


RULES = {
    "CORSRules": [
        {
            "ID": "app",
            "AllowedOrigins": ["https://app.example.com", "https://*.preview.example.com"],
            "AllowedMethods": ["GET", "PUT", "HEAD"],
            "AllowedHeaders": ["Content-Type", "x-amz-*"],
            "ExposeHeaders": ["ETag", "x-amz-version-id"],
            "MaxAgeSeconds": 600,
        },
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
    ]
}


@pytest.fixture
def cors_bucket(s3):
    name = unique_name("cors")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_cors(Bucket=name, CORSConfiguration=RULES)
    s3.put_object(Bucket=name, Key="doc.txt", Body=b"hello")
    yield name
    purge_bucket(s3, name)


def preflight(server, path, origin, method, headers=None):
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        h["Access-Control-Request-Headers"] = headers
    return requests.options(server.endpoint + path, headers=h, timeout=10)


def test_put_get_delete_round_trip(s3, cors_bucket):
    got = s3.get_bucket_cors(Bucket=cors_bucket)["CORSRules"]
    assert got[0]["ID"] == "app"
    assert got[0]["AllowedOrigins"] == RULES["CORSRules"][0]["AllowedOrigins"]
    assert got[0]["AllowedMethods"] == ["GET", "PUT", "HEAD"]
    assert got[0]["AllowedHeaders"] == ["Content-Type", "x-amz-*"]
    assert got[0]["ExposeHeaders"] == ["ETag", "x-amz-version-id"]
    assert got[0]["MaxAgeSeconds"] == 600
    assert got[1]["AllowedOrigins"] == ["*"] and "MaxAgeSeconds" not in got[1]
    s3.delete_bucket_cors(Bucket=cors_bucket)
    with s3_error(404, "NoSuchCORSConfiguration"):
        s3.get_bucket_cors(Bucket=cors_bucket)
    # Deleting again is fine.
    s3.delete_bucket_cors(Bucket=cors_bucket)


@pytest.mark.parametrize(
    "rules, code",
    [
        ([{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}], "InvalidRequest"),
        ([{"AllowedOrigins": ["https://*.*.example.com"], "AllowedMethods": ["GET"]}], "InvalidRequest"),
        ([{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["x-*-*"]}], "InvalidRequest"),
        ([{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}] * 101, "InvalidRequest"),
    ],
    ids=["bad-method", "two-wildcards-origin", "two-wildcards-header", "too-many-rules"],
)
def test_invalid_configurations(s3, bucket, rules, code):
    with s3_error(400, code):
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    with s3_error(404, "NoSuchCORSConfiguration"):
        s3.get_bucket_cors(Bucket=bucket)


def test_malformed_documents(raw, bucket):
    for body in [
        b"<CORSConfiguration></CORSConfiguration>",
        b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
        b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>",
        b"not xml",
    ]:
        r = raw("PUT", f"/{bucket}", {"Content-MD5": md5_b64(body)}, body, query={"cors": ""})
        assert r.status_code == 400 and b"<Code>MalformedXML</Code>" in r.content, (body, r.content)


def test_preflight_allowed(server, cors_bucket):
    r = preflight(server, f"/{cors_bucket}/doc.txt", "https://app.example.com", "PUT", "content-type, X-Amz-Meta-Owner")
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    assert r.headers["Access-Control-Allow-Methods"] == "GET, PUT, HEAD"
    assert r.headers["Access-Control-Allow-Headers"] == "content-type, x-amz-meta-owner"
    assert r.headers["Access-Control-Max-Age"] == "600"
    assert r.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-version-id"
    assert "Origin" in r.headers["Vary"]
    # A wildcard origin pattern.
    r = preflight(server, f"/{cors_bucket}/doc.txt", "https://pr-12.preview.example.com", "GET")
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "https://pr-12.preview.example.com"
    # The catch-all rule answers '*' and no credentials.
    r = preflight(server, f"/{cors_bucket}", "https://elsewhere.example.org", "GET")
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers


def test_preflight_refused(server, cors_bucket, s3):
    # Method not allowed for that origin, header not allowed, origin matching nothing for that method.
    for origin, method, headers in [
        ("https://app.example.com", "DELETE", None),
        ("https://app.example.com", "PUT", "authorization-extra"),
        ("https://elsewhere.example.org", "PUT", None),
        ("https://APP.example.com", "PUT", None),  # origins compare case-sensitively
    ]:
        r = preflight(server, f"/{cors_bucket}/doc.txt", origin, method, headers)
        assert r.status_code == 403, (origin, method, headers, r.text)
        assert "<Code>AccessForbidden</Code>" in r.text
        assert "Access-Control-Allow-Origin" not in r.headers
    # No configuration at all.
    other = unique_name("nocors")
    s3.create_bucket(Bucket=other)
    try:
        r = preflight(server, f"/{other}/x", "https://app.example.com", "GET")
        assert r.status_code == 403 and "CORS is not enabled for this bucket" in r.text
    finally:
        purge_bucket(s3, other)
    # Missing bucket.
    r = preflight(server, f"/{unique_name('missing')}/x", "https://app.example.com", "GET")
    assert r.status_code == 404 and "<Code>NoSuchBucket</Code>" in r.text


def test_preflight_bad_requests(server, cors_bucket):
    r = requests.options(server.endpoint + f"/{cors_bucket}/doc.txt", timeout=10)
    assert r.status_code == 400 and "Origin request header needed" in r.text
    r = requests.options(
        server.endpoint + f"/{cors_bucket}/doc.txt", headers={"Origin": "https://app.example.com"}, timeout=10
    )
    assert r.status_code == 400 and "Invalid Access-Control-Request-Method: null" in r.text
    r = preflight(server, f"/{cors_bucket}/doc.txt", "https://app.example.com", "PATCH")
    assert r.status_code == 400


def test_actual_requests_carry_cors_headers(server, s3, cors_bucket):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": cors_bucket, "Key": "doc.txt"})
    r = requests.get(url, headers={"Origin": "https://app.example.com"}, timeout=10)
    assert r.status_code == 200 and r.content == b"hello"
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert r.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-version-id"
    # Without Origin: no CORS headers.
    r = requests.get(url, timeout=10)
    assert "Access-Control-Allow-Origin" not in r.headers
    # An origin no rule allows for this method: no CORS headers, the request itself is answered as usual.
    r = requests.get(url, headers={"Origin": "https://APP.example.com"}, timeout=10)
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"  # the catch-all GET rule
    del_url = s3.generate_presigned_url("delete_object", Params={"Bucket": cors_bucket, "Key": "nothing"})
    r = requests.delete(del_url, headers={"Origin": "https://app.example.com"}, timeout=10)
    assert r.status_code == 204 and "Access-Control-Allow-Origin" not in r.headers
    # Errors carry the headers too, so that the page can read them.
    anon = requests.get(server.endpoint + f"/{cors_bucket}/doc.txt", headers={"Origin": "https://app.example.com"}, timeout=10)
    assert anon.status_code == 403
    assert anon.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


def test_rules_change_takes_effect_at_once(server, s3, raw, cors_bucket):
    assert preflight(server, f"/{cors_bucket}/doc.txt", "https://new.example.net", "PUT").status_code == 403
    s3.put_bucket_cors(
        Bucket=cors_bucket,
        CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["https://new.example.net"], "AllowedMethods": ["PUT"]}]},
    )
    assert preflight(server, f"/{cors_bucket}/doc.txt", "https://new.example.net", "PUT").status_code == 200
    assert preflight(server, f"/{cors_bucket}/doc.txt", "https://app.example.com", "GET").status_code == 403
    # Without Content-MD5 (or a checksum) the configuration is refused, as S3 does, and nothing changes.
    body = b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>"
    r = raw("PUT", f"/{cors_bucket}", body=body, query={"cors": ""})
    assert r.status_code == 400 and b"Content-MD5" in r.content
    assert preflight(server, f"/{cors_bucket}/doc.txt", "https://app.example.com", "GET").status_code == 403
    s3.delete_bucket_cors(Bucket=cors_bucket)
    assert preflight(server, f"/{cors_bucket}/doc.txt", "https://new.example.net", "PUT").status_code == 403
