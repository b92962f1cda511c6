"""Configuration with dedicated server instances: a non-default region, settings from MAXIOFS_*
environment variables, and clear errors for bad settings."""

import os
import subprocess
import time

import pytest
import requests

from conftest import (
    ACCESS_KEY,
    SECRET_KEY,
    free_port,
    make_client,
    port_is_open,
    s3_error,
    server_binary,
    start_server,
    stop_and_check,
)


def client_for(endpoint: str, region: str):
    return make_client(endpoint, region=region, retries={"total_max_attempts": 1})


def test_configured_region(tmp_path):
    srv = start_server(tmp_path, extra_args=["--region", "eu-central-1"])
    try:
        s3 = client_for(srv.endpoint, "eu-central-1")
        s3.create_bucket(Bucket="regional", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
        s3.create_bucket(Bucket="regional-default")
        assert s3.get_bucket_location(Bucket="regional")["LocationConstraint"] == "eu-central-1"
        assert s3.get_bucket_location(Bucket="regional-default")["LocationConstraint"] == "eu-central-1"
        head = s3.head_bucket(Bucket="regional")
        assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-central-1"
        with s3_error(400, "IllegalLocationConstraintException"):
            s3.create_bucket(Bucket="elsewhere", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        # A request signed for another region is refused, naming the region the server expects.
        with s3_error(400, "AuthorizationHeaderMalformed") as excinfo:
            client_for(srv.endpoint, "us-east-1").list_buckets()
        assert excinfo.value.response["Error"].get("Region") == "eu-central-1"
    finally:
        stop_and_check(srv)


def test_settings_from_environment(tmp_path):
    s3_port, console_port = free_port(), free_port()
    data = tmp_path / "envdata"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MAXIOFS_")},
        "MAXIOFS_DATA_DIR": str(data),
        "MAXIOFS_S3_ADDRESS": f"127.0.0.1:{s3_port}",
        "MAXIOFS_CONSOLE_ADDRESS": f"127.0.0.1:{console_port}",
        "MAXIOFS_REGION": "ap-south-1",
        "MAXIOFS_FSYNC": "false",
        "MAXIOFS_ROOT_ACCESS_KEY": ACCESS_KEY,
        "MAXIOFS_ROOT_SECRET_KEY": SECRET_KEY,
    }
    log = tmp_path / "env.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([server_binary(), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            assert proc.poll() is None, log.read_text()
            try:
                if requests.get(f"http://127.0.0.1:{console_port}/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        s3 = client_for(f"http://127.0.0.1:{s3_port}", "ap-south-1")
        s3.create_bucket(Bucket="from-env", CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
        s3.put_object(Bucket="from-env", Key="k", Body=b"v")
        assert (data / "meta.sqlite").exists()
        text = log.read_text()
        assert f"127.0.0.1:{s3_port}" in text and "fsync off" in text and "ap-south-1" in text
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0, log.read_text()
    assert not port_is_open(s3_port)


@pytest.mark.parametrize(
    "args, env, message",
    [
        (["--s3-address", "8080"], {}, "expected HOST:PORT"),
        (["--fsync", "maybe"], {}, "expected true or false"),
        ([], {"MAXIOFS_CONSOLE_ADDRESS": "localhost:99999"}, "MAXIOFS_CONSOLE_ADDRESS"),
        ([], {"MAXIOFS_ROOT_ACCESS_KEY": "AKIAONLYONEOFTHEPAIR"}, "set both MAXIOFS_ROOT_ACCESS_KEY and"),
    ],
    ids=["s3-address", "fsync", "console-address-env", "half-a-key-pair"],
)
def test_bad_settings_stop_with_a_clear_message(tmp_path, args, env, message):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MAXIOFS_")}
    full_env.update(env)
    proc = subprocess.run(
        [server_binary(), "serve", "--data-dir", str(tmp_path / "d"), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode != 0
    assert message in proc.stderr + proc.stdout, proc.stderr + proc.stdout


def test_second_server_on_a_data_directory_in_use_refuses_to_start(tmp_path):
    """The start-up clean-up (temporary files, unreferenced blobs) must never run under a live server: a second
    server on the same data directory stops with a clear message and touches nothing."""
    srv = start_server(tmp_path)
    try:
        s3 = client_for(srv.endpoint, "us-east-1")
        s3.create_bucket(Bucket="held")
        s3.put_object(Bucket="held", Key="k", Body=b"kept")
        blobs_before = sorted(p.name for p in (srv.data_dir / "blobs").rglob("*") if p.is_file())
        env = dict(os.environ, MAXIOFS_ROOT_ACCESS_KEY=ACCESS_KEY, MAXIOFS_ROOT_SECRET_KEY=SECRET_KEY)
        proc = subprocess.run(
            [
                server_binary(), "serve", "--data-dir", str(srv.data_dir),
                "--s3-address", f"127.0.0.1:{free_port()}", "--console-address", f"127.0.0.1:{free_port()}",
            ],
            env=env, capture_output=True, text=True, timeout=30,
        )
        assert proc.returncode != 0
        assert "in use by another maxiofs server" in proc.stdout + proc.stderr
        assert sorted(p.name for p in (srv.data_dir / "blobs").rglob("*") if p.is_file()) == blobs_before
        assert s3.get_object(Bucket="held", Key="k")["Body"].read() == b"kept"
    finally:
        stop_and_check(srv)
    # Once the first one stopped, the directory can be served again.
    again = start_server(tmp_path, data_dir=srv.data_dir)
    stop_and_check(again)


def test_a_new_catalog_never_collects_older_blobs(tmp_path):
    """A lost or replaced meta.sqlite must not wipe the data: blobs older than the catalog are never collected as
    orphans, at this start or any later one."""
    srv = start_server(tmp_path)
    s3 = client_for(srv.endpoint, "us-east-1")
    s3.create_bucket(Bucket="lost")
    s3.put_object(Bucket="lost", Key="k", Body=b"precious")
    stop_and_check(srv)
    blobs = sorted(p for p in (srv.data_dir / "blobs").rglob("*") if p.is_file())
    assert len(blobs) == 1
    for f in srv.data_dir.glob("meta.sqlite*"):
        f.unlink()
    time.sleep(0.3)  # the blob is then clearly older than the new catalog (the server allows 0.05 s of clock skew)
    for i in range(2):  # the start that creates the catalog, and a later one
        again = start_server(tmp_path, data_dir=srv.data_dir, log_name=f"restart-{i}.log")
        stop_and_check(again)
        assert sorted(p for p in (srv.data_dir / "blobs").rglob("*") if p.is_file()) == blobs
