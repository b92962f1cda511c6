"""The aws cli (v1) high-level `s3` commands and one `s3api` call against the server."""

import json
import os
import time

import pytest

from conftest import awscli_runner, get_body, purge_bucket, quoted_md5, random_bytes, unique_name

MiB = 1024 * 1024
@pytest.fixture(scope="module")
def aws(server, tmp_path_factory):
    """Run `aws ... --endpoint-url <server>`; returns the CompletedProcess (check=True)."""
    return awscli_runner(server, tmp_path_factory.mktemp("awscli"), 'multipart_threshold = 64MB')


@pytest.fixture
def cli_bucket(aws, s3):
    name = unique_name("cli")
    yield name
    purge_bucket(s3, name)  # safety net; the tests remove the bucket with the cli


def test_cli_full_workflow(aws, s3, cli_bucket, tmp_path):
    bucket = cli_bucket
    out = aws("s3", "mb", f"s3://{bucket}")
    assert f"make_bucket: {bucket}" in out.stdout
    assert bucket in aws("s3", "ls").stdout

    small = tmp_path / "small.txt"
    small.write_bytes(b"hello from the aws cli\n")
    big = tmp_path / "big.bin"
    big_data = random_bytes(5 * MiB)
    big.write_bytes(big_data)
    aws("s3", "cp", str(small), f"s3://{bucket}/docs/small.txt")
    aws("s3", "cp", str(big), f"s3://{bucket}/big.bin")
    assert get_body(s3, bucket, "docs/small.txt") == small.read_bytes()
    # Below the 64 MB multipart threshold the ETag is the plain MD5.
    assert s3.head_object(Bucket=bucket, Key="big.bin")["ETag"] == quoted_md5(big_data)

    listing = aws("s3", "ls", f"s3://{bucket}/").stdout
    assert "PRE docs/" in listing
    assert f"{5 * MiB} big.bin" in " ".join(listing.split())

    down = tmp_path / "down.bin"
    aws("s3", "cp", f"s3://{bucket}/big.bin", str(down))
    assert down.read_bytes() == big_data

    head = json.loads(aws("s3api", "head-object", "--bucket", bucket, "--key", "big.bin").stdout)
    assert head["ContentLength"] == 5 * MiB
    assert head["ETag"] == quoted_md5(big_data)

    tree = tmp_path / "tree"
    files = {
        "a.txt": b"a",
        "sub/b.txt": b"bb",
        "sub/deeper/c.txt": b"ccc",
        "with space/d é.txt": b"dddd",
    }
    for rel, data in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(data)
        # Older than the upload even with S3's whole-second LastModified, so that the
        # second sync below has nothing to do.
        os.utime(tree / rel, (time.time() - 3600, time.time() - 3600))
    aws("s3", "sync", str(tree), f"s3://{bucket}/tree")
    for rel, data in files.items():
        assert get_body(s3, bucket, f"tree/{rel}") == data

    recursive = aws("s3", "ls", "--recursive", f"s3://{bucket}/tree/").stdout
    listed = sorted(line.split(None, 3)[3] for line in recursive.splitlines() if line.strip())
    assert listed == sorted(f"tree/{rel}" for rel in files)

    # A second sync has nothing to upload.
    again = aws("s3", "sync", str(tree), f"s3://{bucket}/tree")
    assert "upload:" not in again.stdout

    synced_down = tmp_path / "synced"
    aws("s3", "sync", f"s3://{bucket}/tree", str(synced_down))
    for rel, data in files.items():
        assert (synced_down / rel).read_bytes() == data

    aws("s3", "rm", "--recursive", f"s3://{bucket}/")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0

    aws("s3", "rb", f"s3://{bucket}")
    assert bucket not in aws("s3", "ls").stdout


def test_cli_errors(aws):
    missing = unique_name("missing")
    proc = aws("s3", "ls", f"s3://{missing}/", check=False)
    assert proc.returncode != 0
    assert "An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation" in proc.stderr, proc.stderr
    proc = aws("s3api", "head-object", "--bucket", missing, "--key", "k", check=False)
    assert proc.returncode != 0
    assert "An error occurred (404) when calling the HeadObject operation" in proc.stderr, proc.stderr


def test_cli_rb_force(aws, s3, cli_bucket, tmp_path):
    aws("s3", "mb", f"s3://{cli_bucket}")
    f = tmp_path / "x"
    f.write_bytes(b"x")
    aws("s3", "cp", str(f), f"s3://{cli_bucket}/x")
    proc = aws("s3", "rb", f"s3://{cli_bucket}", check=False)
    assert proc.returncode != 0
    assert "BucketNotEmpty" in proc.stderr
    aws("s3", "rb", "--force", f"s3://{cli_bucket}")
    assert cli_bucket not in aws("s3", "ls").stdout
