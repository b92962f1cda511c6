"""DeleteObjects (multi-object delete)."""

from xml.sax.saxutils import escape

import pytest

from conftest import assert_error_response, md5_b64, object_exists, parse_xml, s3_error, unique_name


def _delete_body(keys, quiet=False):
    objects = "".join(f"<Object><Key>{escape(k)}</Key></Object>" for k in keys)
    q = "<Quiet>true</Quiet>" if quiet else ""
    return f'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{q}{objects}</Delete>'.encode()


def test_delete_existing_and_missing_keys(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"1")
    s3.put_object(Bucket=bucket, Key="b/c", Body=b"2")
    s3.put_object(Bucket=bucket, Key="keep", Body=b"3")
    resp = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b/c"}, {"Key": "missing"}]}
    )
    assert sorted(d["Key"] for d in resp["Deleted"]) == ["a", "b/c", "missing"]
    assert resp.get("Errors", []) == []
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep"]


def test_quiet_mode_reports_no_deleted_entries(s3, bucket):
    for k in ("x", "y"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"1")
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "x"}, {"Key": "y"}], "Quiet": True})
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Deleted" not in resp
    assert resp.get("Errors", []) == []
    assert s3.list_objects_v2(Bucket=bucket).get("Contents", []) == []


def test_keys_with_xml_specials(s3, bucket):
    keys = ["a&b", "<tag>", "quote\"s", "apos'trophe", "mixed <&> 'x' \"y\" ü"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"1")
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert sorted(d["Key"] for d in resp["Deleted"]) == sorted(keys)
    assert s3.list_objects_v2(Bucket=bucket).get("Contents", []) == []


def test_raw_delete_response_escapes_keys(raw, s3, bucket):
    key = "r&d <x>"
    s3.put_object(Bucket=bucket, Key=key, Body=b"1")
    body = _delete_body([key])
    resp = raw("POST", f"/{bucket}", {"Content-MD5": md5_b64(body)}, body, {"delete": None})
    assert resp.status_code == 200, resp.content
    root = parse_xml(resp.content)
    assert root.tag == "DeleteResult"
    assert [d.findtext("Key") for d in root.findall("Deleted")] == [key]
    assert not object_exists(s3, bucket, key)


def test_more_than_1000_keys_is_malformed_xml(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k0", Body=b"1")
    with s3_error(400, "MalformedXML"):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(1001)]})
    assert object_exists(s3, bucket, "k0")


def test_exactly_1000_keys_is_accepted(s3, bucket):
    resp = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(1000)], "Quiet": True}
    )
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Deleted" not in resp
    assert resp.get("Errors", []) == []


@pytest.mark.parametrize(
    "body",
    [
        b"<Delete><Object><Key>a</Key></Object>",
        b"this is not xml",
        b"<Delete></Delete>",
    ],
    ids=["truncated", "not-xml", "no-objects"],
)
def test_malformed_delete_body(raw, s3, bucket, body):
    s3.put_object(Bucket=bucket, Key="a", Body=b"1")
    resp = raw("POST", f"/{bucket}", {"Content-MD5": md5_b64(body)}, body, {"delete": None})
    assert_error_response(resp, 400, "MalformedXML")
    assert object_exists(s3, bucket, "a")


def test_empty_delete_body(raw, bucket):
    resp = raw("POST", f"/{bucket}", {"Content-MD5": md5_b64(b"")}, b"", {"delete": None})
    assert_error_response(resp, 400, {"MalformedXML", "MissingRequestBodyError"})


def test_delete_without_content_md5_or_checksum_is_rejected(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"1")
    resp = raw("POST", f"/{bucket}", {}, _delete_body(["a"]), {"delete": None})
    assert_error_response(resp, 400, "InvalidRequest")
    assert object_exists(s3, bucket, "a")


def test_delete_with_wrong_content_md5(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"1")
    body = _delete_body(["a"])
    resp = raw("POST", f"/{bucket}", {"Content-MD5": md5_b64(b"other")}, body, {"delete": None})
    assert_error_response(resp, 400, "BadDigest")
    assert object_exists(s3, bucket, "a")


def test_delete_objects_missing_bucket(s3):
    with s3_error(404, "NoSuchBucket"):
        s3.delete_objects(Bucket=unique_name("missing"), Delete={"Objects": [{"Key": "a"}]})
