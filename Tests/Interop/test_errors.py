"""Error handling: unsupported operations, wrong methods, truncated bodies, Expect: 100-continue."""

import socket

import pytest
import requests

from conftest import (
    HttpConnection,
    assert_error_response,
    error_fields,
    get_body,
    object_exists,
    object_path,
    quoted_md5,
    sign_request,
    unique_name,
)

WEBSITE_XML = (
    b'<WebsiteConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<IndexDocument><Suffix>index.html</Suffix></IndexDocument></WebsiteConfiguration>"
)


@pytest.mark.parametrize(
    "method, query, body",
    [
        ("GET", {"website": None}, b""),
        ("GET", {"logging": None}, b""),
        ("GET", {"analytics": None, "id": "a1"}, b""),
        ("PUT", {"website": None}, WEBSITE_XML),
    ],
    ids=["get-website", "get-logging", "get-analytics", "put-website"],
)
def test_unsupported_bucket_operations_are_not_implemented(raw, bucket, method, query, body):
    resp = raw(method, f"/{bucket}", body=body, query=query)
    fields = assert_error_response(resp, 501, "NotImplemented")
    assert fields.get("Message")
    assert fields.get("RequestId") == resp.headers.get("x-amz-request-id")


def test_wrong_method_on_object(raw, s3, bucket):
    s3.put_object(Bucket=bucket, Key="obj", Body=b"unchanged")
    resp = raw("PATCH", object_path(bucket, "obj"), body=b"patch")
    assert_error_response(resp, 405, "MethodNotAllowed")
    assert get_body(s3, bucket, "obj") == b"unchanged"
    # POST to an object without ?uploads / ?uploadId / ?restore / ?select is not an operation.
    resp = raw("POST", object_path(bucket, "obj"), body=b"post")
    assert_error_response(resp, 405, "MethodNotAllowed")
    assert get_body(s3, bucket, "obj") == b"unchanged"


def test_method_not_allowed_names_method_and_resource_type(raw, s3, bucket):
    # AWS: <Error><Code>MethodNotAllowed</Code>...<Method>POST</Method>
    #      <ResourceType>OBJECT</ResourceType>...</Error>
    s3.put_object(Bucket=bucket, Key="obj", Body=b"unchanged")
    fields = assert_error_response(raw("POST", object_path(bucket, "obj"), body=b"post"), 405, "MethodNotAllowed")
    assert fields.get("Method") == "POST", fields
    assert fields.get("ResourceType") == "OBJECT", fields


def test_missing_content_length_is_rejected(server, s3, bucket):
    url, headers = sign_request(server, "PUT", object_path(bucket, "nolen"), content_sha256="UNSIGNED-PAYLOAD")
    resp = requests.put(url, headers=headers, data=iter([b"streamed ", b"without length"]), timeout=10)
    assert "Transfer-Encoding" in resp.request.headers
    assert_error_response(resp, 411, "MissingContentLength")
    assert not object_exists(s3, bucket, "nolen")


def _signed_socket_head(server, method, path, content_length, extra=None):
    headers = {"Host": server.host, "Content-Length": str(content_length), **(extra or {})}
    _, signed = sign_request(server, method, path, headers=headers, content_sha256="UNSIGNED-PAYLOAD")
    return signed


def _assert_server_alive(s3):
    assert isinstance(s3.list_buckets()["Buckets"], list)


def test_incomplete_body(server, s3, bucket):
    path = object_path(bucket, "truncated")
    headers = _signed_socket_head(server, "PUT", path, 1000)
    with HttpConnection(server.s3_port, timeout=15) as conn:
        conn.send_head("PUT", path, headers)
        conn.send(b"0123456789")
        conn.sock.shutdown(socket.SHUT_WR)
        try:
            resp = conn.read_response("PUT")
        except socket.timeout:
            pytest.fail("server hung on a request body shorter than its Content-Length")
        except OSError as exc:  # includes ConnectionError
            pytest.fail(f"server dropped the connection instead of answering 400 IncompleteBody: {exc!r}")
    assert resp.status == 400, (resp.status, resp.body)
    assert error_fields(resp.body)["Code"] == "IncompleteBody"
    assert not object_exists(s3, bucket, "truncated")
    _assert_server_alive(s3)


def test_expect_100_continue(server, s3, bucket):
    body = b"sent after 100 Continue" * 50
    path = object_path(bucket, "continued")
    headers = _signed_socket_head(server, "PUT", path, len(body), {"Expect": "100-continue"})
    with HttpConnection(server.s3_port, timeout=10) as conn:
        conn.send_head("PUT", path, headers)
        status, _reason, _ = conn.read_head()
        assert status == 100
        conn.send(body)
        resp = conn.read_response("PUT")
    assert resp.status == 200, resp.body
    assert resp.headers["etag"] == quoted_md5(body)
    assert get_body(s3, bucket, "continued") == body


def test_expect_100_continue_rejected_without_body(server, s3):
    path = object_path(unique_name("missing"), "k")
    headers = _signed_socket_head(server, "PUT", path, 5_000_000, {"Expect": "100-continue"})
    with HttpConnection(server.s3_port, timeout=10) as conn:
        conn.send_head("PUT", path, headers)
        try:
            status, _reason, resp_headers = conn.read_head()
            assert status != 100, "server asked for the body of a request it is going to reject"
            body = conn.read_body(status, resp_headers, "PUT")
        except socket.timeout:
            pytest.fail("server waited for the body instead of rejecting the request")
    assert status == 404
    assert error_fields(body)["Code"] == "NoSuchBucket"
    _assert_server_alive(s3)


def test_bad_request_line_does_not_break_server(server, s3):
    with HttpConnection(server.s3_port, timeout=10) as conn:
        conn.send(b"THIS IS NOT HTTP\r\n\r\n")
        try:
            resp = conn.read_response()
        except socket.timeout:
            pytest.fail("server neither answered nor closed the connection")
        except OSError as exc:
            pytest.fail(f"server closed the connection without a 400 response: {exc!r}")
        assert resp.status == 400, resp
        # The stream cannot be resynchronised: the server must close the connection.
        try:
            assert conn.sock.recv(1) == b"", "connection still open after an unparseable request"
        except ConnectionResetError:
            pass  # a reset is a close as well
        except socket.timeout:
            pytest.fail("connection left open after an unparseable request")
    _assert_server_alive(s3)
