"""Additional checksums (x-amz-checksum-*) on PutObject, GetObject and HeadObject, through boto3.

CRC32C and CRC64NVME need awscrt in botocore; without it the values are computed here and
passed explicitly (ChecksumCRC32C=..., ChecksumCRC64NVME=...).
"""

import base64
import hashlib
import zlib

import pytest
from botocore.exceptions import MissingDependencyException

from conftest import get_body, make_client, object_exists, s3_error

ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]
DATA = b"checksummed payload " * 100


def _reflected_crc_table(poly: int) -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C_TABLE = _reflected_crc_table(0x82F63B78)
_CRC64NVME_TABLE = _reflected_crc_table(0x9A6C9329AC4BC9B5)


def _reflected_crc(table: list[int], ones: int, data: bytes) -> int:
    crc = ones
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ ones


def checksum_digest(algorithm: str, data: bytes) -> bytes:
    if algorithm == "CRC32":
        return zlib.crc32(data).to_bytes(4, "big")
    if algorithm == "CRC32C":
        return _reflected_crc(_CRC32C_TABLE, 0xFFFFFFFF, data).to_bytes(4, "big")
    if algorithm == "CRC64NVME":
        return _reflected_crc(_CRC64NVME_TABLE, 0xFFFFFFFFFFFFFFFF, data).to_bytes(8, "big")
    return hashlib.new(algorithm.lower(), data).digest()


def checksum_b64(algorithm: str, data: bytes) -> str:
    return base64.b64encode(checksum_digest(algorithm, data)).decode()


def checksum_headers(response) -> dict[str, str]:
    """The x-amz-checksum-<algorithm> headers; x-amz-checksum-type is checked on its own."""
    return {
        k: v
        for k, v in response["ResponseMetadata"]["HTTPHeaders"].items()
        if k.startswith("x-amz-checksum-") and k != "x-amz-checksum-type"
    }


def checksum_type(response) -> str | None:
    return response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-checksum-type")


def put_with_checksum_algorithm(s3, bucket, key, data, algorithm):
    """PutObject with ChecksumAlgorithm, letting botocore compute the value when it can."""
    try:
        return s3.put_object(Bucket=bucket, Key=key, Body=data, ChecksumAlgorithm=algorithm)
    except MissingDependencyException:  # CRC32C / CRC64NVME without awscrt
        return s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=data,
            ChecksumAlgorithm=algorithm,
            **{f"Checksum{algorithm}": checksum_b64(algorithm, data)},
        )


@pytest.fixture(scope="module")
def s3_without_checksum_mode(server):
    # botocore's default (response_checksum_validation=when_supported) adds ChecksumMode=ENABLED
    # to every GetObject; "when_required" leaves it out.
    return make_client(
        server.endpoint, server.access_key, server.secret_key, response_checksum_validation="when_required"
    )


@pytest.fixture(scope="module")
def s3_no_retry(server):
    # botocore retries 400 BadDigest (after a back-off of up to a second) unless told not to.
    return make_client(server.endpoint, server.access_key, server.secret_key, retries={"total_max_attempts": 1})


def test_checksum_check_values():
    # Check values ("123456789") from the CRC catalogue / NVMe spec.
    assert checksum_digest("CRC32", b"123456789").hex() == "cbf43926"
    assert checksum_digest("CRC32C", b"123456789").hex() == "e3069283"
    assert checksum_digest("CRC64NVME", b"123456789").hex() == "ae8b14860a799888"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_checksum_roundtrip(s3, s3_without_checksum_mode, bucket, algorithm):
    expected = checksum_b64(algorithm, DATA)
    field, header = f"Checksum{algorithm}", f"x-amz-checksum-{algorithm.lower()}"
    put = put_with_checksum_algorithm(s3, bucket, "obj", DATA, algorithm)
    assert put.get(field) == expected
    assert checksum_headers(put) == {header: expected}

    # A single PUT's checksum is of the whole object (AWS sends the type with it).
    assert checksum_type(put) == "FULL_OBJECT"
    head = s3.head_object(Bucket=bucket, Key="obj", ChecksumMode="ENABLED")
    assert head.get(field) == expected
    assert head.get("ChecksumType") == "FULL_OBJECT"
    get = s3.get_object(Bucket=bucket, Key="obj", ChecksumMode="ENABLED")
    assert get.get(field) == expected
    assert get["Body"].read() == DATA

    # Without x-amz-checksum-mode: ENABLED no checksum is returned.
    assert checksum_headers(s3.head_object(Bucket=bucket, Key="obj")) == {}
    assert checksum_type(s3.head_object(Bucket=bucket, Key="obj")) is None
    plain = s3_without_checksum_mode.get_object(Bucket=bucket, Key="obj")
    assert checksum_headers(plain) == {}
    assert plain["Body"].read() == DATA

    # A full-object checksum does not describe a range, so a ranged GET has none.
    ranged = s3.get_object(Bucket=bucket, Key="obj", ChecksumMode="ENABLED", Range="bytes=0-9")
    assert ranged["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert checksum_headers(ranged) == {}
    assert ranged["Body"].read() == DATA[:10]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_wrong_checksum_is_bad_digest(s3, s3_no_retry, bucket, algorithm):
    wrong = checksum_b64(algorithm, b"other data")
    with s3_error(400, "BadDigest"):
        s3_no_retry.put_object(Bucket=bucket, Key="obj", Body=DATA, **{f"Checksum{algorithm}": wrong})
    assert not object_exists(s3, bucket, "obj")


@pytest.mark.parametrize(
    "value",
    [base64.b64encode(b"abc").decode(), "not base64!"],
    ids=["wrong-length", "not-base64"],
)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_malformed_checksum_is_invalid_request(s3, bucket, algorithm, value):
    with s3_error(400, "InvalidRequest"):
        s3.put_object(Bucket=bucket, Key="obj", Body=DATA, **{f"Checksum{algorithm}": value})
    assert not object_exists(s3, bucket, "obj")


def test_two_checksum_headers_are_invalid_request(s3, bucket):
    s3.put_object(Bucket=bucket, Key="obj", Body=b"original")
    with s3_error(400, "InvalidRequest"):
        s3.put_object(
            Bucket=bucket,
            Key="obj",
            Body=DATA,
            ChecksumCRC32=checksum_b64("CRC32", DATA),
            ChecksumSHA256=checksum_b64("SHA256", DATA),
        )
    assert get_body(s3, bucket, "obj") == b"original"
