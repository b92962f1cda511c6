"""aws-chunked uploads (SigV4 streaming), with an independent signer written from the AWS docs.

Only hashlib/hmac are used for the streaming signatures here (not botocore), so the
server's chunk verification is checked against a second implementation. The signer is
itself checked against the published AWS examples ("Signature Calculations for the
Authorization Header: Transferring Payload in Multiple Chunks" and its trailer variant).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib
from dataclasses import dataclass

import pytest
import requests

from conftest import (
    EMPTY_SHA256,
    REGION,
    assert_error_response,
    flip_hex,
    get_body,
    object_exists,
    object_path,
    quoted_md5,
    random_bytes,
    utcnow,
)

SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
KiB = 1024


def _hmac(key: bytes, msg: str | bytes) -> bytes:
    return hmac.new(key, msg.encode() if isinstance(msg, str) else msg, hashlib.sha256).digest()


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class StreamSigner:
    """SigV4 seed, chunk and trailer signatures for one request."""

    access_key: str
    secret_key: str
    amz_date: str  # YYYYMMDDTHHMMSSZ
    region: str = REGION
    service: str = "s3"

    @property
    def scope(self) -> str:
        return f"{self.amz_date[:8]}/{self.region}/{self.service}/aws4_request"

    @property
    def signing_key(self) -> bytes:
        k = _hmac(("AWS4" + self.secret_key).encode(), self.amz_date[:8])
        for part in (self.region, self.service, "aws4_request"):
            k = _hmac(k, part)
        return k

    def _sign(self, string_to_sign: str) -> str:
        return hmac.new(self.signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()

    def seed(
        self, method: str, path: str, headers: dict[str, str], payload: str, query: str = ""
    ) -> tuple[str, str]:
        """Return (signed_headers, seed_signature); `path` is already URI-encoded; `query` is the
        canonical query string (sorted, encoded)."""
        names = sorted(h.lower() for h in headers)
        lowered = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
        canonical = "\n".join(
            [method, path, query, *(f"{n}:{lowered[n]}" for n in names), "", ";".join(names), payload]
        )
        sts = "\n".join(["AWS4-HMAC-SHA256", self.amz_date, self.scope, _sha256_hex(canonical.encode())])
        return ";".join(names), self._sign(sts)

    def chunk(self, previous: str, data: bytes) -> str:
        sts = "\n".join(
            ["AWS4-HMAC-SHA256-PAYLOAD", self.amz_date, self.scope, previous, EMPTY_SHA256, _sha256_hex(data)]
        )
        return self._sign(sts)

    def trailer(self, previous: str, trailer_lines: bytes) -> str:
        sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", self.amz_date, self.scope, previous, _sha256_hex(trailer_lines)])
        return self._sign(sts)


def signed_body(
    signer: StreamSigner,
    seed: str,
    chunks: list[bytes],
    *,
    trailers: dict[str, str] | None = None,
    corrupt_signature: int | None = None,
    corrupt_trailer_signature: bool = False,
) -> bytes:
    """Encode chunks (a final empty chunk is appended) with chained chunk signatures."""
    out, previous = [], seed
    for i, data in enumerate([*chunks, b""]):
        sig = signer.chunk(previous, data)
        previous = sig
        if corrupt_signature == i:
            sig = flip_hex(sig)
        out.append(f"{len(data):x};chunk-signature={sig}\r\n".encode() + data)
        if data:
            out.append(b"\r\n")
    if trailers:
        lines = "".join(f"{k}:{v}\n" for k, v in trailers.items()).encode()
        tsig = signer.trailer(previous, lines)
        if corrupt_trailer_signature:
            tsig = flip_hex(tsig)
        out.append(lines.replace(b"\n", b"\r\n") + f"x-amz-trailer-signature:{tsig}\r\n".encode())
    out.append(b"\r\n")
    return b"".join(out)


def unsigned_body(chunks: list[bytes], trailers: dict[str, str]) -> bytes:
    out = [f"{len(d):x}\r\n".encode() + d + b"\r\n" for d in chunks]
    out.append(b"0\r\n" + "".join(f"{k}:{v}\r\n" for k, v in trailers.items()).encode() + b"\r\n")
    return b"".join(out)


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


@dataclass
class StreamingPut:
    server: object
    bucket: str
    key: str
    mode: str = SIGNED
    trailer_names: tuple[str, ...] = ()
    content_encoding: str = "aws-chunked"
    query: str = ""  # canonical query string, e.g. for UploadPart

    def __post_init__(self):
        self.signer = StreamSigner(
            self.server.access_key, self.server.secret_key, utcnow().strftime("%Y%m%dT%H%M%SZ")
        )
        self.path = object_path(self.bucket, self.key)

    def headers(self, content_length: int | None, decoded_length: int) -> dict[str, str]:
        h = {
            "host": self.server.host,
            "x-amz-date": self.signer.amz_date,
            "x-amz-content-sha256": self.mode,
            "content-encoding": self.content_encoding,
            "x-amz-decoded-content-length": str(decoded_length),
        }
        if content_length is not None:
            h["content-length"] = str(content_length)
        if self.trailer_names:
            h["x-amz-trailer"] = ",".join(self.trailer_names)
        return h

    def send(self, build_body, decoded_length: int, body_length: int, *, corrupt_seed=False, http_chunked=False):
        """build_body(seed) -> encoded body; body_length must be known before signing.

        With http_chunked the body goes out with Transfer-Encoding: chunked and no
        Content-Length, as botocore sends trailing checksums over HTTPS.
        """
        headers = self.headers(None if http_chunked else body_length, decoded_length)
        signed_names, seed = self.signer.seed("PUT", self.path, headers, self.mode, self.query)
        body = build_body(seed)
        assert len(body) == body_length
        if corrupt_seed:
            seed = flip_hex(seed)
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.signer.access_key}/{self.signer.scope}, "
            f"SignedHeaders={signed_names}, Signature={seed}"
        )
        data = iter([body[i : i + 50_000] for i in range(0, len(body), 50_000)]) if http_chunked else body
        url = self.server.endpoint + self.path + (f"?{self.query}" if self.query else "")
        resp = requests.put(url, data=data, headers=headers, timeout=60)
        assert ("Transfer-Encoding" in resp.request.headers) == http_chunked
        return resp

    def put_signed(self, chunks, *, decoded_length=None, trailers=None, http_chunked=False, **corrupt):
        seed_corrupt = corrupt.pop("corrupt_seed", False)
        decoded = sum(map(len, chunks)) if decoded_length is None else decoded_length
        # Signatures have a fixed size, so the length can be computed from a dummy seed.
        length = len(signed_body(self.signer, "0" * 64, chunks, trailers=trailers))
        return self.send(
            lambda seed: signed_body(self.signer, seed, chunks, trailers=trailers, **corrupt),
            decoded,
            length,
            corrupt_seed=seed_corrupt,
            http_chunked=http_chunked,
        )

    def put_unsigned_trailer(self, chunks, trailers, *, http_chunked=False) -> requests.Response:
        body = unsigned_body(chunks, trailers)
        return self.send(lambda _seed: body, sum(map(len, chunks)), len(body), http_chunked=http_chunked)


# ------------------------------------------------ signer self-check (no server)


def test_signer_matches_aws_documented_examples():
    signer = StreamSigner("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524T000000Z")
    headers = {
        "Host": "s3.amazonaws.com",
        "x-amz-date": "20130524T000000Z",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": SIGNED,
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560",
        "Content-Length": "66824",
    }
    _, seed = signer.seed("PUT", "/examplebucket/chunkObject.txt", headers, SIGNED)
    assert seed == "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    body = signed_body(signer, seed, [b"a" * 65536, b"a" * 1024])
    assert len(body) == 66824
    for sig in (
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ):
        assert f"chunk-signature={sig}\r\n".encode() in body

    # Trailer example (same request, CRC32C trailer), seeded with the documented signature.
    trailer_seed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
    body = signed_body(
        signer, trailer_seed, [b"a" * 65536, b"a" * 1024], trailers={"x-amz-checksum-crc32c": "sOO8/Q=="}
    )
    assert body.endswith(
        b"0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n"
        b"x-amz-checksum-crc32c:sOO8/Q==\r\n"
        b"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n"
    )


# ------------------------------------------------------------ against server


def three_and_a_bit():
    return [random_bytes(64 * KiB) for _ in range(3)] + [random_bytes(1000)]


@pytest.mark.parametrize("http_chunked", [False, True], ids=["content-length", "transfer-encoding-chunked"])
def test_signed_streaming_upload(server, s3, bucket, http_chunked):
    chunks = three_and_a_bit()
    resp = StreamingPut(server, bucket, "streamed").put_signed(chunks, http_chunked=http_chunked)
    assert resp.status_code == 200, resp.content
    data = b"".join(chunks)
    assert resp.headers["ETag"] == quoted_md5(data)
    assert get_body(s3, bucket, "streamed") == data
    head = s3.head_object(Bucket=bucket, Key="streamed")
    assert head["ContentLength"] == len(data)
    # aws-chunked was the only coding: it is not stored, so no Content-Encoding comes back.
    assert "content-encoding" not in head["ResponseMetadata"]["HTTPHeaders"], head["ResponseMetadata"]


@pytest.mark.parametrize("encoding", ["aws-chunked,gzip", "gzip,aws-chunked"])
def test_signed_streaming_upload_keeps_other_content_encoding(server, s3, bucket, encoding):
    # Only the aws-chunked coding is removed; the object is stored with Content-Encoding gzip.
    put = StreamingPut(server, bucket, "gz", content_encoding=encoding)
    resp = put.put_signed([b"pretend gzip"])
    assert resp.status_code == 200, resp.content
    assert resp.headers["ETag"] == quoted_md5(b"pretend gzip")
    assert s3.head_object(Bucket=bucket, Key="gz")["ContentEncoding"] == "gzip"
    assert get_body(s3, bucket, "gz") == b"pretend gzip"


def test_signed_streaming_empty_object(server, s3, bucket):
    resp = StreamingPut(server, bucket, "empty").put_signed([])
    assert resp.status_code == 200, resp.content
    assert resp.headers["ETag"] == quoted_md5(b"")
    assert get_body(s3, bucket, "empty") == b""


@pytest.mark.parametrize(
    "corruption",
    [
        {"corrupt_signature": 0},
        {"corrupt_signature": 2},
        {"corrupt_signature": 4},  # the final, empty chunk
        {"corrupt_seed": True},
    ],
    ids=["first-chunk", "third-chunk", "final-chunk", "seed"],
)
def test_corrupt_signature_rejected(server, s3, bucket, corruption):
    resp = StreamingPut(server, bucket, "bad").put_signed(three_and_a_bit(), **corruption)
    assert_error_response(resp, 403, "SignatureDoesNotMatch")
    assert not object_exists(s3, bucket, "bad")


def test_tampered_chunk_data_rejected(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="victim", Body=b"original")
    put = StreamingPut(server, bucket, "victim")
    chunks = three_and_a_bit()
    good_length = len(signed_body(put.signer, "0" * 64, chunks))

    def tampered(seed):
        body = bytearray(signed_body(put.signer, seed, chunks))
        body[-3000] ^= 0xFF  # inside the third chunk's data
        return bytes(body)

    resp = put.send(tampered, sum(map(len, chunks)), good_length)
    assert_error_response(resp, 403, "SignatureDoesNotMatch")
    assert get_body(s3, bucket, "victim") == b"original"


@pytest.mark.parametrize("delta", [1, -1], ids=["declared-longer", "declared-shorter"])
def test_decoded_length_mismatch(server, s3, bucket, delta):
    chunks = three_and_a_bit()
    resp = StreamingPut(server, bucket, "mismatch").put_signed(chunks, decoded_length=sum(map(len, chunks)) + delta)
    # AWS answers a decoded payload that does not add up to x-amz-decoded-content-length,
    # in either direction, with 400 IncompleteBody.
    assert_error_response(resp, 400, "IncompleteBody")
    assert not object_exists(s3, bucket, "mismatch")


@pytest.mark.parametrize("http_chunked", [False, True], ids=["content-length", "transfer-encoding-chunked"])
def test_unsigned_payload_with_crc32_trailer(server, s3, bucket, http_chunked):
    chunks = [random_bytes(64 * KiB), random_bytes(10_000)]
    data = b"".join(chunks)
    put = StreamingPut(server, bucket, "trailer", UNSIGNED_TRAILER, ("x-amz-checksum-crc32",))
    resp = put.put_unsigned_trailer(chunks, {"x-amz-checksum-crc32": crc32_b64(data)}, http_chunked=http_chunked)
    assert resp.status_code == 200, resp.content
    assert resp.headers["ETag"] == quoted_md5(data)
    assert resp.headers.get("x-amz-checksum-crc32") == crc32_b64(data)
    assert get_body(s3, bucket, "trailer") == data


def test_unsigned_payload_with_wrong_crc32_trailer(server, s3, bucket):
    chunks = [random_bytes(64 * KiB), random_bytes(10_000)]
    put = StreamingPut(server, bucket, "trailer", UNSIGNED_TRAILER, ("x-amz-checksum-crc32",))
    resp = put.put_unsigned_trailer(chunks, {"x-amz-checksum-crc32": crc32_b64(b"something else")})
    assert_error_response(resp, 400, "BadDigest")
    assert not object_exists(s3, bucket, "trailer")


def test_unsigned_payload_with_declared_but_missing_trailer(server, s3, bucket):
    # x-amz-trailer promises a checksum; a body that ends without it must not be stored unchecked.
    put = StreamingPut(server, bucket, "trailer", UNSIGNED_TRAILER, ("x-amz-checksum-crc32",))
    resp = put.put_unsigned_trailer([random_bytes(64 * KiB), random_bytes(10_000)], {})
    assert_error_response(resp, 400, "BadDigest")
    assert not object_exists(s3, bucket, "trailer")


def test_signed_payload_with_signed_trailer(server, s3, bucket):
    chunks = three_and_a_bit()
    data = b"".join(chunks)
    put = StreamingPut(server, bucket, "signed-trailer", SIGNED_TRAILER, ("x-amz-checksum-crc32",))
    resp = put.put_signed(chunks, trailers={"x-amz-checksum-crc32": crc32_b64(data)})
    assert resp.status_code == 200, resp.content
    assert resp.headers["ETag"] == quoted_md5(data)
    assert resp.headers.get("x-amz-checksum-crc32") == crc32_b64(data)
    assert get_body(s3, bucket, "signed-trailer") == data


def test_signed_trailer_with_bad_trailer_signature(server, s3, bucket):
    chunks = three_and_a_bit()
    data = b"".join(chunks)
    put = StreamingPut(server, bucket, "signed-trailer", SIGNED_TRAILER, ("x-amz-checksum-crc32",))
    resp = put.put_signed(
        chunks, trailers={"x-amz-checksum-crc32": crc32_b64(data)}, corrupt_trailer_signature=True
    )
    assert_error_response(resp, 403, "SignatureDoesNotMatch")
    assert not object_exists(s3, bucket, "signed-trailer")


# ------------------------------------------------ UploadPart with aws-chunked bodies


def _part_query(upload_id: str, number: int) -> str:
    return f"partNumber={number}&uploadId={upload_id}"


def test_streaming_upload_part_with_signed_crc32_trailer(server, s3, bucket):
    """An UploadPart sent as signed aws-chunked with a CRC32 trailer, as SDKs send parts over HTTPS."""
    first = random_bytes(5 * 1024 * KiB)
    last = random_bytes(10_000)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp-chunked", ChecksumAlgorithm="CRC32")
    uid = upload["UploadId"]
    etags = []
    for number, data in ((1, first), (2, last)):
        chunks = [data[i : i + 64 * KiB] for i in range(0, len(data), 64 * KiB)]
        put = StreamingPut(
            server, bucket, "mp-chunked", SIGNED_TRAILER, ("x-amz-checksum-crc32",), query=_part_query(uid, number)
        )
        resp = put.put_signed(chunks, trailers={"x-amz-checksum-crc32": crc32_b64(data)})
        assert resp.status_code == 200, resp.content
        assert resp.headers["ETag"] == quoted_md5(data)
        assert resp.headers.get("x-amz-checksum-crc32") == crc32_b64(data)
        etags.append(resp.headers["ETag"])
    parts = [
        {"PartNumber": n, "ETag": e, "ChecksumCRC32": crc32_b64(d)}
        for n, e, d in ((1, etags[0], first), (2, etags[1], last))
    ]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp-chunked", UploadId=uid, MultipartUpload={"Parts": parts})
    assert get_body(s3, bucket, "mp-chunked") == first + last


def test_streaming_upload_part_with_wrong_trailer_is_refused(server, s3, bucket):
    data = random_bytes(100 * KiB)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp-bad")["UploadId"]
    put = StreamingPut(server, bucket, "mp-bad", UNSIGNED_TRAILER, ("x-amz-checksum-crc32",), query=_part_query(uid, 1))
    resp = put.put_unsigned_trailer([data], {"x-amz-checksum-crc32": crc32_b64(data + b"x")})
    assert_error_response(resp, 400, "BadDigest")
    assert s3.list_parts(Bucket=bucket, Key="mp-bad", UploadId=uid).get("Parts", []) == []
    s3.abort_multipart_upload(Bucket=bucket, Key="mp-bad", UploadId=uid)
