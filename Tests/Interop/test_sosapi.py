"""Veeam Smart Object Storage API (SOSAPI): the virtual system.xml and capacity.xml objects of every bucket."""

from __future__ import annotations

import hashlib
import shutil

import pytest
import requests

from conftest import parse_xml, s3_error, strip_ns

FOLDER = ".system-d26a9498-cb7c-4a87-a44a-8ae204f5ba6c"


def fields(xml: bytes) -> dict[str, str]:
    root = parse_xml(xml)
    return {strip_ns(e.tag): (e.text or "") for e in root.iter()}


@pytest.mark.parametrize("prefix", ["", "veeam/backups/"])
def test_system_xml(s3, bucket, prefix):
    resp = s3.get_object(Bucket=bucket, Key=f"{prefix}{FOLDER}/system.xml")
    body = resp["Body"].read()
    root = parse_xml(body)
    assert strip_ns(root.tag) == "SystemInfo"
    f = fields(body)
    assert f["ProtocolVersion"] == '"1.0"'
    assert f["ModelName"].startswith('"MaxIOFS')
    assert f["CapacityInfo"] == "true"
    assert f["UploadSessions"] == "false"
    assert int(f["KbBlockSize"]) > 0
    assert resp["ContentType"] == "application/xml"
    assert resp["ETag"] == '"' + hashlib.md5(body).hexdigest() + '"'
    head = s3.head_object(Bucket=bucket, Key=f"{prefix}{FOLDER}/system.xml")
    assert head["ContentLength"] == len(body)


def test_capacity_xml_reports_the_disk(server, s3, bucket):
    body = s3.get_object(Bucket=bucket, Key=f"{FOLDER}/capacity.xml")["Body"].read()
    assert strip_ns(parse_xml(body).tag) == "CapacityInfo"
    f = fields(body)
    capacity, available, used = int(f["Capacity"]), int(f["Available"]), int(f["Used"])
    disk = shutil.disk_usage(server.data_dir)
    assert capacity == disk.total
    # The disk is shared with other work: allow for it moving between the two readings.
    assert abs(available - disk.free) < 1 << 30
    assert used == capacity - available
    assert 0 <= available <= capacity


def test_sosapi_objects_are_not_listed_or_writable(s3, bucket):
    key = f"{FOLDER}/system.xml"
    with s3_error(403, "AccessDenied"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"<SystemInfo/>")
    with s3_error(403, "AccessDenied"):
        s3.delete_object(Bucket=bucket, Key=key)
    with s3_error(403, "AccessDenied"):
        s3.create_multipart_upload(Bucket=bucket, Key=f"sub/{FOLDER}/capacity.xml")
    s3.put_object(Bucket=bucket, Key="ordinary", Body=b"x")
    with s3_error(403, "AccessDenied"):
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": "ordinary"})
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert listed == ["ordinary"]
    # Still the generated document.
    assert b"SystemInfo" in s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    # Other names in the folder are ordinary keys.
    s3.put_object(Bucket=bucket, Key=f"{FOLDER}/other.xml", Body=b"mine")
    assert s3.get_object(Bucket=bucket, Key=f"{FOLDER}/other.xml")["Body"].read() == b"mine"


def test_sosapi_needs_a_bucket_and_a_signature(server, s3, bucket):
    with s3_error(404, "NoSuchBucket"):
        s3.get_object(Bucket="no-such-bucket-sosapi", Key=f"{FOLDER}/system.xml")
    # A missing bucket is named as such (as AWS does) even to anonymous callers; an existing private one refuses.
    resp = requests.get(f"{server.endpoint}/no-such-bucket-sosapi/{FOLDER}/system.xml", timeout=10)
    assert resp.status_code == 404
    resp = requests.get(f"{server.endpoint}/{bucket}/{FOLDER}/system.xml", timeout=10)
    assert resp.status_code == 403


def test_range_get_of_system_xml(s3, bucket):
    whole = s3.get_object(Bucket=bucket, Key=f"{FOLDER}/system.xml")["Body"].read()
    part = s3.get_object(Bucket=bucket, Key=f"{FOLDER}/system.xml", Range="bytes=0-9")
    assert part["Body"].read() == whole[:10]
    assert part["ContentRange"] == f"bytes 0-9/{len(whole)}"
