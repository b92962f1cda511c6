"""Range requests, partNumber, and conditional GET/HEAD (If-Match, If-None-Match, If-(Un)Modified-Since)."""

import pytest

from conftest import FUTURE, PAST, WRONG_ETAG, assert_error_response, http_date, object_path, s3_error

DATA = bytes(range(100))  # 100 bytes, value == offset


@pytest.fixture
def obj(s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=DATA)
    head = s3.head_object(Bucket=bucket, Key="r")
    return {"bucket": bucket, "key": "r", "etag": head["ETag"], "last_modified": head["LastModified"]}


# --------------------------------------------------------------------- ranges


@pytest.mark.parametrize(
    "range_header, start, end",
    [
        ("bytes=0-9", 0, 9),
        ("bytes=10-", 10, 99),
        ("bytes=-5", 95, 99),
        ("bytes=5-1000000", 5, 99),
        ("bytes=99-99", 99, 99),
        ("bytes=-1000", 0, 99),
        ("bytes=0-99", 0, 99),
    ],
)
def test_get_range(s3, obj, range_header, start, end):
    resp = s3.get_object(Bucket=obj["bucket"], Key="r", Range=range_header)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert resp["ContentRange"] == f"bytes {start}-{end}/100"
    assert resp["ContentLength"] == end - start + 1
    assert resp["AcceptRanges"] == "bytes"
    assert resp["ETag"] == obj["etag"]
    assert resp["Body"].read() == DATA[start : end + 1]


def test_head_range(s3, obj):
    resp = s3.head_object(Bucket=obj["bucket"], Key="r", Range="bytes=0-9")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert resp["ContentRange"] == "bytes 0-9/100"
    assert resp["ContentLength"] == 10
    assert resp["ETag"] == obj["etag"]


@pytest.mark.parametrize("range_header", ["bytes=100-", "bytes=100-200", "bytes=500-600"])
def test_unsatisfiable_range(s3, obj, range_header):
    with s3_error(416, "InvalidRange") as excinfo:
        s3.get_object(Bucket=obj["bucket"], Key="r", Range=range_header)
    assert excinfo.value.response["Error"].get("ActualObjectSize") == "100"


def test_invalid_range_error_names_requested_range(raw, obj):
    # AWS: <Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message>
    #      <RangeRequested>bytes=100-</RangeRequested><ActualObjectSize>100</ActualObjectSize>...
    resp = raw("GET", object_path(obj["bucket"], "r"), headers={"Range": "bytes=100-"})
    fields = assert_error_response(resp, 416, "InvalidRange")
    assert fields.get("ActualObjectSize") == "100", fields
    assert fields.get("RangeRequested") == "bytes=100-", fields


def test_range_on_empty_object_is_unsatisfiable(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    with s3_error(416, "InvalidRange"):
        s3.get_object(Bucket=bucket, Key="empty", Range="bytes=0-9")


@pytest.mark.parametrize("range_header", ["bytes=9-5", "bytes=abc", "items=0-9"])
def test_syntactically_invalid_range_is_ignored(s3, obj, range_header):
    resp = s3.get_object(Bucket=obj["bucket"], Key="r", Range=range_header)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "ContentRange" not in resp
    assert resp["Body"].read() == DATA


def test_accept_ranges_on_full_get_and_head(s3, obj):
    get = s3.get_object(Bucket=obj["bucket"], Key="r")
    assert get["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert get["AcceptRanges"] == "bytes"
    assert "ContentRange" not in get
    head = s3.head_object(Bucket=obj["bucket"], Key="r")
    assert head["AcceptRanges"] == "bytes"


# ---------------------------------------------------------------- partNumber


def test_part_number_1_of_simple_object(s3, obj):
    # An object uploaded in one piece is its own part 1: 206 with the whole body.
    resp = s3.get_object(Bucket=obj["bucket"], Key="r", PartNumber=1)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert resp["ContentRange"] == "bytes 0-99/100"
    assert resp["ContentLength"] == 100
    assert resp["ETag"] == obj["etag"]
    assert resp["Body"].read() == DATA
    head = s3.head_object(Bucket=obj["bucket"], Key="r", PartNumber=1)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert head["ContentRange"] == "bytes 0-99/100"
    assert head["ContentLength"] == 100


@pytest.mark.parametrize(
    "params, status, code",
    [
        ({"PartNumber": 2}, 416, "InvalidPartNumber"),
        ({"PartNumber": 0}, 400, "InvalidArgument"),
        ({"PartNumber": 10001}, 400, "InvalidArgument"),
        ({"PartNumber": 1, "Range": "bytes=0-9"}, 400, "InvalidRequest"),
    ],
    ids=["part-2", "part-0", "part-10001", "part-and-range"],
)
def test_invalid_part_number(s3, obj, params, status, code):
    with s3_error(status, code):
        s3.get_object(Bucket=obj["bucket"], Key="r", **params)
    with s3_error(status, str(status)):  # HEAD errors carry no body
        s3.head_object(Bucket=obj["bucket"], Key="r", **params)


# --------------------------------------------------------------- conditionals



def _conditions(obj, spec):
    """Turn a compact condition spec into request headers."""
    values = {
        "etag": obj["etag"],
        "other": WRONG_ETAG,
        "past": http_date(PAST),
        "future": http_date(FUTURE),
        "lastmod": http_date(obj["last_modified"]),
    }
    return {name: values[v] for name, v in spec.items()}


CONDITION_CASES = [
    ({"If-Match": "etag"}, 200),
    ({"If-Match": "other"}, 412),
    ({"If-None-Match": "etag"}, 304),
    ({"If-None-Match": "other"}, 200),
    ({"If-Modified-Since": "past"}, 200),
    ({"If-Modified-Since": "lastmod"}, 304),
    ({"If-Modified-Since": "future"}, 304),
    ({"If-Unmodified-Since": "past"}, 412),
    ({"If-Unmodified-Since": "lastmod"}, 200),
    ({"If-Unmodified-Since": "future"}, 200),
    # AWS precedence rules (GetObject/HeadObject documentation):
    ({"If-Match": "etag", "If-Unmodified-Since": "past"}, 200),
    ({"If-None-Match": "etag", "If-Modified-Since": "past"}, 304),
    ({"If-Match": "other", "If-Unmodified-Since": "future"}, 412),
    ({"If-Match": "other", "If-None-Match": "other"}, 412),
]


def _case_id(case):
    spec, status = case
    return "+".join(f"{k}={v}" for k, v in spec.items()) + f"->{status}"


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("spec, status", CONDITION_CASES, ids=[_case_id(c) for c in CONDITION_CASES])
def test_conditional_requests(raw, obj, method, spec, status):
    resp = raw(method, object_path(obj["bucket"], "r"), headers=_conditions(obj, spec))
    assert resp.status_code == status, (spec, resp.status_code, resp.content[:500])
    if status == 200:
        assert resp.headers["ETag"] == obj["etag"]
        if method == "GET":
            assert resp.content == DATA
    elif status == 304:
        assert resp.content == b""
        assert resp.headers.get("ETag") == obj["etag"]
        assert resp.headers.get("Last-Modified") == http_date(obj["last_modified"])
    elif method == "GET":
        assert_error_response(resp, 412, "PreconditionFailed")
    else:
        assert resp.content == b""


def test_conditional_get_via_boto3(s3, obj):
    b = obj["bucket"]
    with s3_error(412, "PreconditionFailed"):
        s3.get_object(Bucket=b, Key="r", IfMatch=WRONG_ETAG)
    with s3_error(304, "304"):
        s3.get_object(Bucket=b, Key="r", IfNoneMatch=obj["etag"])
    with s3_error(412, "412"):
        s3.head_object(Bucket=b, Key="r", IfMatch=WRONG_ETAG)
    with s3_error(304, "304"):
        s3.head_object(Bucket=b, Key="r", IfModifiedSince=obj["last_modified"])
    resp = s3.get_object(Bucket=b, Key="r", IfMatch=obj["etag"], IfModifiedSince=PAST)
    assert resp["Body"].read() == DATA


def test_range_with_condition(raw, obj):
    resp = raw("GET", object_path(obj["bucket"], "r"), headers={"Range": "bytes=0-9", "If-Match": obj["etag"]})
    assert resp.status_code == 206
    assert resp.headers["Content-Range"] == "bytes 0-9/100"
    assert resp.content == DATA[:10]
    resp = raw("GET", object_path(obj["bucket"], "r"), headers={"Range": "bytes=0-9", "If-Match": WRONG_ETAG})
    assert_error_response(resp, 412, "PreconditionFailed")
