"""The configuration file (`maxiofs serve --config FILE`, or MAXIOFS_CONFIG), its precedence under MAXIOFS_*
variables and flags, `maxiofs config print`, start-up errors naming their source, and the log format and level
settings (`--log-format json`, the debug "request" line). Every test runs its own server processes or one-shot
commands."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import requests

from conftest import (
    ACCESS_KEY,
    ADMIN_PASSWORD,
    SECRET_KEY,
    ServerProcess,
    admin_cli,
    free_port,
    make_client,
    port_is_open,
    s3_error,
    server_binary,
    stop_and_check,
)

METRICS_TOKEN = "file-metrics-token-0123456789"
FILE_ADMIN_PASSWORD = "File-Admin-Pass-2!"
# A valid master key (base64 of 32 bytes) that must never be printed.
MASTER_KEY = "bWF4aW9mcy1pbnRlcm9wLW1hc3Rlci1rZXktMzJieSE="
assert len(base64.b64decode(MASTER_KEY)) == 32

# The settings of the configuration file, in the order of ServerConfig.keys. A build may add settings between
# them; the tests take the full list from `config print` (`printed_keys()`) and check that these are in it, in order.
KNOWN_KEYS = [
    "data_dir",
    "s3.address",
    "console.address",
    "region",
    "domain",
    "fsync",
    "log.level",
    "log.format",
    "lifecycle.interval",
    "lifecycle.day_seconds",
    "root.access_key",
    "root.secret_key",
    "admin.password",
    "master_key",
    "master_key_file",
    "metrics.token",
]
SECRET_KEYS = {
    "root.secret_key", "admin.password", "master_key", "metrics.token", "encryption.previous_master_keys",
}


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any MAXIOFS_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAXIOFS_")}
    env.update(extra)
    return env


def two_ports() -> tuple[int, int]:
    a, b = free_port(), free_port()
    while b == a:
        b = free_port()
    return a, b


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def launch(
    base: Path,
    args: list[str],
    *,
    s3_port: int,
    console_port: int,
    data_dir: Path,
    env: dict[str, str] | None = None,
    name: str = "server",
    wait: bool = True,
    cwd: Path | None = None,
) -> tuple[ServerProcess, Path]:
    """Start `maxiofs serve ARGS` exactly as given (no --data-dir or address flags added), stdout to
    base/NAME.out and stderr to base/NAME.err; return the process (its log() is stdout) and the stderr path.
    s3_port, console_port and data_dir say where the settings are expected to put the server."""
    out, err = base / f"{name}.out", base / f"{name}.err"
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen(
            [server_binary(), "serve", *args],
            stdout=o,
            stderr=e,
            stdin=subprocess.DEVNULL,
            env=env if env is not None else clean_env(),
            cwd=cwd,
        )
    srv = ServerProcess(
        data_dir=data_dir,
        log_path=out,
        s3_port=s3_port,
        console_port=console_port,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        proc=proc,
    )
    if wait:
        try:
            srv.wait_ready()
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n--- stderr ---\n{err.read_text(errors='replace')}") from None
    return srv, err


def run_cli(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [server_binary(), *args],
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )


def client_for(port: int, region: str):
    return make_client(f"http://127.0.0.1:{port}", region=region, retries={"total_max_attempts": 1})


def print_lines(stdout: str) -> dict[str, tuple[str, str]]:
    """`config print` output: key -> (value as printed, source) for every line that sets a value."""
    result = {}
    for line in stdout.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"(\S+) = (.*?)  # (default|file|environment|flag)", line)
        assert m, f"unexpected line in config print: {line!r}"
        result[m.group(1)] = (m.group(2), m.group(3))
    return result


def unset_lines(stdout: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^# (\S+) = \(not set\)  # ", stdout, re.M)}


def keys_in_order(stdout: str) -> list[str]:
    """Every setting named in `config print` output (set or not), in order."""
    return [line.split(" = ")[0].removeprefix("# ") for line in stdout.splitlines()[1:] if line]


_PRINTED_KEYS: list[str] = []


def printed_keys() -> list[str]:
    """All the settings of this build, in order, from `config print` with nothing set."""
    if not _PRINTED_KEYS:
        proc = run_cli(["config", "print"])
        assert proc.returncode == 0, proc.stderr
        _PRINTED_KEYS.extend(keys_in_order(proc.stdout))
        in_order = [k for k in _PRINTED_KEYS if k in KNOWN_KEYS]
        assert in_order == KNOWN_KEYS, f"settings missing or out of order: {_PRINTED_KEYS}"
    return _PRINTED_KEYS


# --------------------------------------------------------------------------
# A server configured by the file
# --------------------------------------------------------------------------


def test_server_runs_with_the_settings_of_the_file(tmp_path):
    s3_port, console_port = two_ports()
    data = tmp_path / "filedata"
    cfg = write_config(
        tmp_path / "maxiofs.toml",
        f"""# MaxIOFS test configuration
data_dir = "{data}"
region = "eu-north-1"
fsync = false

[s3]
address = "127.0.0.1:{s3_port}"

[console]
address = "127.0.0.1:{console_port}"

[root]
access_key = "{ACCESS_KEY}"
secret_key = "{SECRET_KEY}"

[admin]
password = "{FILE_ADMIN_PASSWORD}"

[metrics]
token = "{METRICS_TOKEN}"

[lifecycle]
interval = 0
""",
    )
    assert not data.exists()
    # Run in tmp_path, so that the default data directory (./data) would show there.
    srv, err = launch(
        tmp_path, ["--config", str(cfg)], s3_port=s3_port, console_port=console_port, data_dir=data, cwd=tmp_path
    )
    srv.admin_password = FILE_ADMIN_PASSWORD
    try:
        s3 = client_for(s3_port, "eu-north-1")
        s3.create_bucket(Bucket="from-file", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
        s3.put_object(Bucket="from-file", Key="k", Body=b"configured")
        assert s3.get_object(Bucket="from-file", Key="k")["Body"].read() == b"configured"
        assert s3.get_bucket_location(Bucket="from-file")["LocationConstraint"] == "eu-north-1"
        # The region of the file is the one requests must be signed for.
        with s3_error(400, "AuthorizationHeaderMalformed") as excinfo:
            client_for(s3_port, "us-east-1").list_buckets()
        assert excinfo.value.response["Error"].get("Region") == "eu-north-1"
        # data_dir of the file holds the catalog and the blob.
        assert (data / "meta.sqlite").exists()
        assert [p for p in (data / "blobs").rglob("*") if p.is_file()]
        out = srv.log()
        assert "fsync off" in out and "eu-north-1" in out and str(data) in out, out
        assert f"127.0.0.1:{s3_port}" in out and f"127.0.0.1:{console_port}" in out, out
        # The secrets of the file are in force: the metrics token and the admin password.
        metrics = f"http://127.0.0.1:{console_port}/metrics"
        assert requests.get(metrics, timeout=5).status_code == 401
        ok = requests.get(metrics, headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=5)
        assert ok.status_code == 200 and "maxiofs_build_info" in ok.text
        users = admin_cli(srv, "user", "list", password=FILE_ADMIN_PASSWORD)
        assert "admin" in json.dumps(users)
        # The root key pair came from the file: none was generated.
        assert "Generated root credentials" not in out and not (data / "root-credentials").exists()
        # The default data directory was not used.
        assert not (tmp_path / "data").exists()
    finally:
        stop_and_check(srv)
    assert not port_is_open(s3_port) and not port_is_open(console_port)
    # Text log lines (the default format); nothing went wrong.
    for line in err.read_text().splitlines():
        assert not line.startswith("{") and not re.search(r" (error|critical) maxiofs:", line), line


def test_environment_overrides_the_file_and_flags_override_the_environment(tmp_path):
    file_s3, env_s3 = two_ports()
    flag_s3, console_port = two_ports()
    while flag_s3 in (file_s3, env_s3) or console_port in (file_s3, env_s3):
        flag_s3, console_port = two_ports()
    file_data, env_data = tmp_path / "file-data", tmp_path / "env-data"
    cfg = write_config(
        tmp_path / "layers.toml",
        f"""data_dir = "{file_data}"
region = "eu-west-1"
[s3]
address = "127.0.0.1:{file_s3}"
[console]
address = "127.0.0.1:{console_port}"
""",
    )
    env = clean_env(
        MAXIOFS_CONFIG=str(cfg),  # the file named by the environment
        MAXIOFS_REGION="eu-west-2",  # env over file
        MAXIOFS_DATA_DIR=str(env_data),  # env over file
        MAXIOFS_S3_ADDRESS=f"127.0.0.1:{env_s3}",  # overridden by the flag
        MAXIOFS_ROOT_ACCESS_KEY=ACCESS_KEY,
        MAXIOFS_ROOT_SECRET_KEY=SECRET_KEY,
        MAXIOFS_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )
    printed = run_cli(["config", "print", "--s3-address", f"127.0.0.1:{flag_s3}"], env=env)
    assert printed.returncode == 0, printed.stderr
    values = print_lines(printed.stdout)
    assert values["region"] == ('"eu-west-2"', "environment")
    assert values["data_dir"] == (f'"{env_data}"', "environment")
    assert values["s3.address"] == (f'"127.0.0.1:{flag_s3}"', "flag")
    assert values["console.address"] == (f'"127.0.0.1:{console_port}"', "file")

    srv, _ = launch(
        tmp_path,
        ["--s3-address", f"127.0.0.1:{flag_s3}"],
        s3_port=flag_s3,
        console_port=console_port,
        data_dir=env_data,
        env=env,
    )
    try:
        s3 = client_for(flag_s3, "eu-west-2")
        s3.create_bucket(Bucket="layered", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        assert s3.get_bucket_location(Bucket="layered")["LocationConstraint"] == "eu-west-2"
        assert not port_is_open(file_s3) and not port_is_open(env_s3)
        assert (env_data / "meta.sqlite").exists() and not file_data.exists()
        with s3_error(400, "AuthorizationHeaderMalformed") as excinfo:
            client_for(flag_s3, "eu-west-1").list_buckets()
        assert excinfo.value.response["Error"].get("Region") == "eu-west-2"
    finally:
        stop_and_check(srv)


def test_the_config_flag_wins_over_MAXIOFS_CONFIG(tmp_path):
    env_file = write_config(tmp_path / "env.toml", 'region = "from-env-file"\n')
    flag_file = write_config(tmp_path / "flag.toml", 'region = "from-flag-file"\n')
    proc = run_cli(["config", "print", "--config", str(flag_file)], env=clean_env(MAXIOFS_CONFIG=str(env_file)))
    assert proc.returncode == 0, proc.stderr
    assert print_lines(proc.stdout)["region"] == ('"from-flag-file"', "file")
    assert proc.stdout.splitlines()[0].endswith(f"(file {flag_file})")
    # An empty MAXIOFS_CONFIG means no file.
    proc = run_cli(["config", "print"], env=clean_env(MAXIOFS_CONFIG=""))
    assert proc.returncode == 0, proc.stderr
    assert "(file" not in proc.stdout.splitlines()[0]
    assert print_lines(proc.stdout)["region"] == ('"us-east-1"', "default")


# --------------------------------------------------------------------------
# maxiofs config print
# --------------------------------------------------------------------------


def test_config_print_shows_every_source_and_masks_secrets(tmp_path):
    file_secret = "file-root-secret-NEVER-SHOWN-0001"
    file_admin = "File-Admin-NEVER-SHOWN-2!"
    env_admin = "Env-Admin-NEVER-SHOWN-3!"
    cfg = write_config(
        tmp_path / "print.toml",
        f"""region = "eu-south-1"
fsync = false
domain = ["S3.Example.com", "s3.example.net"]

[console]
address = "127.0.0.1:9101"

[log]
level = "warning"

[lifecycle]
interval = 1_800
day_seconds = 2.5

[root]
access_key = "AKIAFROMTHEFILE00001"
secret_key = "{file_secret}"

[admin]
password = "{file_admin}"

[metrics]
token = "{METRICS_TOKEN}"
""",
    )
    env = clean_env(
        MAXIOFS_ADMIN_PASSWORD=env_admin,  # a secret from the environment, over the file's
        MAXIOFS_MASTER_KEY=MASTER_KEY,  # a secret only in the environment
        MAXIOFS_LOG_LEVEL="debug",  # env over file
        MAXIOFS_REGION="eu-south-2",  # env over file, then the flag over both
    )
    proc = run_cli(
        ["config", "print", "--config", str(cfg), "--region", "flag-region-1", "--log-format", "json"], env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out = proc.stdout
    for secret in (file_secret, file_admin, env_admin, MASTER_KEY, METRICS_TOKEN):
        assert secret not in out, f"a secret appears in config print: {secret}"
    assert out.splitlines()[0] == f"# MaxIOFS {version()}: effective configuration (file {cfg})"
    values = print_lines(out)
    expected = {
        "data_dir": ('"./data"', "default"),
        "s3.address": ('"0.0.0.0:8080"', "default"),
        "console.address": ('"127.0.0.1:9101"', "file"),
        "region": ('"flag-region-1"', "flag"),
        "domain": ('["s3.example.com", "s3.example.net"]', "file"),
        "fsync": ("false", "file"),
        "log.level": ('"debug"', "environment"),
        "log.format": ('"json"', "flag"),
        "lifecycle.interval": ("1800", "file"),
        "lifecycle.day_seconds": ("2.5", "file"),
        "root.access_key": ('"AKIAFROMTHEFILE00001"', "file"),
        "root.secret_key": ('"********"', "file"),
        "admin.password": ('"********"', "environment"),
        "master_key": ('"********"', "environment"),
        "metrics.token": ('"********"', "file"),
    }
    assert {k: values[k] for k in expected if k in values} == expected
    # Any setting of this build not named here is at its default.
    # Optional settings without a default are listed commented out, not as values.
    assert set(values) | {"master_key_file", "tls.cert_file", "tls.key_file", "encryption.previous_master_keys"} == set(
        printed_keys())
    assert all(values[k][1] == "default" for k in values if k not in expected), values
    assert {src for _, src in values.values()} == {"default", "file", "environment", "flag"}
    # The one setting left unset is listed, commented out, with its variable.
    assert unset_lines(out) == {"master_key_file", "tls.cert_file", "tls.key_file", "encryption.previous_master_keys"}
    assert "# master_key_file = (not set)  # file holding the master key; MAXIOFS_MASTER_KEY_FILE" in out
    # Every setting appears once, in the order of the table of settings.
    assert keys_in_order(out) == printed_keys()
    # The output is TOML.
    doc = tomllib.loads(out)
    assert doc["region"] == "flag-region-1" and doc["fsync"] is False
    assert doc["console"]["address"] == "127.0.0.1:9101"
    assert doc["lifecycle"] == {"interval": 1800, "day_seconds": 2.5}
    assert doc["root"]["secret_key"] == "********"


def version() -> str:
    proc = run_cli(["version"])
    assert proc.returncode == 0
    return proc.stdout.split()[-1]


def test_config_print_defaults_and_round_trip(tmp_path):
    """With nothing set, every setting is a default and each secret is listed as not set; the output of
    config print (without secrets) read back as a configuration file gives the same configuration."""
    proc = run_cli(["config", "print"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    values = print_lines(proc.stdout)
    assert {src for _, src in values.values()} == {"default"}
    assert values["data_dir"][0] == '"./data"' and values["log.level"][0] == '"info"'
    assert values["log.format"][0] == '"text"' and values["fsync"][0] == "true"
    assert unset_lines(proc.stdout) == {"root.access_key", "master_key_file", "tls.cert_file", "tls.key_file"} | SECRET_KEYS
    assert not (tmp_path / "data").exists(), "config print must not create the data directory"

    first = run_cli(
        ["config", "print", "--region", "ca-central-1", "--domain", "a.example,b.example", "--fsync", "off",
         "--lifecycle-interval", "0.25", "--log-level", "ERROR"],
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    saved = write_config(tmp_path / "printed.toml", first.stdout)
    again = run_cli(["config", "print", "--config", str(saved)], cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    before, after = print_lines(first.stdout), print_lines(again.stdout)
    assert {k: v for k, (v, _) in before.items()} == {k: v for k, (v, _) in after.items()}
    assert after["log.level"][0] == '"error"' and after["fsync"][0] == "false"
    assert {src for _, src in after.values()} == {"file"}


# --------------------------------------------------------------------------
# Start-up errors
# --------------------------------------------------------------------------

DATA_LINE = 'data_dir = "{data}"\n'  # first in every bad file: already read when the bad entry stops the load
BAD_FILES = {
    # id: (file text, line, expected message after "FILE:LINE: ")
    "unknown-key": (
        DATA_LINE + '[s3]\naddres = "127.0.0.1:9000"\n',
        3,
        "s3.addres: unknown setting (known settings: {known})",
    ),
    "wrong-type": (DATA_LINE + 'region = "eu-west-1"\nfsync = "yes"\n', 3,
                   "fsync: expected true or false, got a string"),
    "wrong-type-number": (DATA_LINE + '[lifecycle]\ninterval = "60"\n', 3,
                          "lifecycle.interval: expected a number, got a string"),
    "bad-value": (DATA_LINE + '# comment\n\n[s3]\naddress = "8080"\n', 5,
                  "s3.address: expected HOST:PORT, got '8080'"),
    "bad-log-level": (DATA_LINE + '[log]\nlevel = "loud"\n', 3,
                      "log.level: expected one of trace, debug, info, notice, warning, error, critical, got 'loud'"),
    "syntax-unquoted": (DATA_LINE + 'fsync = true\nregion = eu-west-1\n', 3,
                        "region: a value that is not a number, true or false must be quoted"),
    "syntax-duplicate": (DATA_LINE + 'region = "a"\n\nregion = "b"\n', 4,
                         "key 'region' is set twice (first on line 2)"),
}


@pytest.mark.parametrize("command", [["serve"], ["config", "print"]], ids=["serve", "config-print"])
@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_a_bad_file_stops_start_up_naming_file_line_and_key(tmp_path, command, case):
    text, line, message = BAD_FILES[case]
    data = tmp_path / "never-created"
    s3_port, console_port = two_ports()
    cfg = write_config(tmp_path / "bad.toml", text.replace("{data}", str(data)))
    proc = run_cli(
        [*command, "--config", str(cfg), "--s3-address", f"127.0.0.1:{s3_port}",
         "--console-address", f"127.0.0.1:{console_port}"],
        env=clean_env(MAXIOFS_ROOT_ACCESS_KEY=ACCESS_KEY, MAXIOFS_ROOT_SECRET_KEY=SECRET_KEY),
    )
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    message = message.replace("{known}", ", ".join(printed_keys()))
    assert proc.stderr == f"Error: {cfg}:{line}: {message}\n"
    assert proc.stdout == "", "the server printed something: it must not have started"
    assert "USAGE" not in proc.stderr.upper()
    assert not data.exists(), "a configuration error must stop start-up before the data directory is created"
    assert not port_is_open(s3_port) and not port_is_open(console_port)


@pytest.mark.parametrize("command", [["serve"], ["config", "print"]], ids=["serve", "config-print"])
def test_a_missing_file_stops_start_up(tmp_path, command):
    missing = tmp_path / "nowhere" / "maxiofs.toml"
    for args, env in (
        (["--config", str(missing)], clean_env()),
        ([], clean_env(MAXIOFS_CONFIG=str(missing))),
    ):
        proc = run_cli([*command, *args, "--data-dir", str(tmp_path / "d")], env=env)
        assert proc.returncode == 1
        assert proc.stderr == f"Error: cannot read the configuration file {missing}: no such file\n"
        assert proc.stdout == ""
        assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    "args, env, message",
    [
        (["--log-level", "loud"], {},
         "--log-level: expected one of trace, debug, info, notice, warning, error, critical, got 'loud'"),
        ([], {"MAXIOFS_LOG_LEVEL": "loud"},
         "MAXIOFS_LOG_LEVEL: expected one of trace, debug, info, notice, warning, error, critical, got 'loud'"),
        (["--log-format", "xml"], {}, "--log-format: expected text or json, got 'xml'"),
        ([], {"MAXIOFS_LOG_FORMAT": "yaml"}, "MAXIOFS_LOG_FORMAT: expected text or json, got 'yaml'"),
        (["--s3-address", "8080"], {}, "--s3-address: expected HOST:PORT, got '8080'"),
        ([], {"MAXIOFS_S3_ADDRESS": "8080"}, "MAXIOFS_S3_ADDRESS: expected HOST:PORT, got '8080'"),
        # Every value given is checked, also one that a later source overrides.
        (["--log-level", "debug"], {"MAXIOFS_LOG_LEVEL": "loud"},
         "MAXIOFS_LOG_LEVEL: expected one of trace, debug, info, notice, warning, error, critical, got 'loud'"),
    ],
    ids=["log-level-flag", "log-level-env", "log-format-flag", "log-format-env", "address-flag", "address-env",
         "bad-env-under-a-good-flag"],
)
def test_a_bad_value_names_the_flag_or_the_variable_it_came_from(tmp_path, args, env, message):
    data = tmp_path / "d"
    proc = run_cli(["serve", "--data-dir", str(data), *args], env=clean_env(**env))
    assert proc.returncode == 1
    assert proc.stderr == f"Error: {message}\n"
    assert proc.stdout == ""
    assert not data.exists()


# --------------------------------------------------------------------------
# Log format and level
# --------------------------------------------------------------------------


def exercise(port: int) -> dict[str, str]:
    """A few S3 requests; returns operation -> x-amz-request-id of one of each."""
    s3 = client_for(port, "us-east-1")
    ids = {}
    r = s3.create_bucket(Bucket="logged")
    ids["CreateBucket"] = r["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    r = s3.put_object(Bucket="logged", Key="dir/key.txt", Body=b"hello")
    ids["PutObject"] = r["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    with s3_error(404, "NoSuchKey") as excinfo:
        s3.get_object(Bucket="logged", Key="missing")
    ids["GetObject"] = excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    assert all(ids.values()) and len(set(ids.values())) == 3
    return ids


def base_env() -> dict[str, str]:
    return clean_env(
        MAXIOFS_ROOT_ACCESS_KEY=ACCESS_KEY,
        MAXIOFS_ROOT_SECRET_KEY=SECRET_KEY,
        MAXIOFS_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )


def address_args(s3_port: int, console_port: int, data: Path) -> list[str]:
    return ["--data-dir", str(data), "--s3-address", f"127.0.0.1:{s3_port}",
            "--console-address", f"127.0.0.1:{console_port}"]


def test_json_logs_and_the_debug_request_line(tmp_path):
    s3_port, console_port = two_ports()
    data = tmp_path / "data"
    srv, err = launch(
        tmp_path,
        [*address_args(s3_port, console_port, data), "--log-format", "json", "--log-level", "debug"],
        s3_port=s3_port, console_port=console_port, data_dir=data, env=base_env(),
    )
    try:
        ids = exercise(s3_port)
    finally:
        stop_and_check(srv)
    lines = [line for line in err.read_text().splitlines() if line.strip()]
    assert lines, "no log lines at debug level"
    entries = []
    for line in lines:
        assert line.startswith("{"), f"a stderr line is not JSON under --log-format json: {line!r}"
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            pytest.fail(f"invalid JSON log line ({exc}): {line!r}")
        assert isinstance(entry, dict)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"]), entry
        assert entry["level"] in ("trace", "debug", "info", "notice", "warning", "error", "critical"), entry
        assert entry["logger"] == "maxiofs" and isinstance(entry["message"], str), entry
        if entry["level"] in ("warning", "error", "critical"):
            assert re.fullmatch(r".+\.swift:\d+", entry["source"]), entry
        entries.append(entry)
    requests_logged = {e["request_id"]: e for e in entries if e["message"] == "request"}
    for operation, request_id in ids.items():
        assert request_id in requests_logged, f"no request line for {operation} {request_id}"
        entry = requests_logged[request_id]
        assert entry["level"] == "debug" and entry["operation"] == operation, entry
        assert re.fullmatch(r"\d+", entry["ms"]), entry
    put, get = requests_logged[ids["PutObject"]], requests_logged[ids["GetObject"]]
    assert (put["method"], put["status"], put["resource"]) == ("PUT", "200", "/logged/dir/key.txt")
    assert (get["method"], get["status"], get["resource"]) == ("GET", "404", "/logged/missing")
    assert requests_logged[ids["CreateBucket"]]["method"] == "PUT"
    # Start-up on a fresh data directory warns about the generated master key, with its path.
    warning = next(e for e in entries if e["level"] == "warning" and "master key" in e["message"])
    assert warning["path"] == str(data / "master.key")
    # The start-up lines for people stay plain text on stdout.
    assert f"S3 API listening on http://127.0.0.1:{s3_port}" in srv.log()


def test_json_format_from_the_file_at_info_logs_no_request_lines(tmp_path):
    s3_port, console_port = two_ports()
    data = tmp_path / "data"
    cfg = write_config(tmp_path / "log.toml", '[log]\nformat = "JSON"\n')
    srv, err = launch(
        tmp_path,
        ["--config", str(cfg), *address_args(s3_port, console_port, data)],
        s3_port=s3_port, console_port=console_port, data_dir=data, env=base_env(),
    )
    try:
        exercise(s3_port)
    finally:
        stop_and_check(srv)
    entries = [json.loads(line) for line in err.read_text().splitlines() if line.strip()]
    assert entries, "expected at least the start-up log lines"
    assert all(e["level"] not in ("trace", "debug") for e in entries), entries
    assert not [e for e in entries if e["message"] == "request"]
    assert any(e["level"] == "info" and "listening" in e["message"] for e in entries), entries


def test_text_format_request_line_at_debug_from_the_environment(tmp_path):
    s3_port, console_port = two_ports()
    data = tmp_path / "data"
    env = base_env()
    env["MAXIOFS_LOG_LEVEL"] = "debug"
    srv, err = launch(
        tmp_path, address_args(s3_port, console_port, data),
        s3_port=s3_port, console_port=console_port, data_dir=data, env=env,
    )
    try:
        ids = exercise(s3_port)
    finally:
        stop_and_check(srv)
    text = err.read_text()
    assert not [line for line in text.splitlines() if line.startswith("{")]
    line = next((line for line in text.splitlines() if f"request_id={ids['GetObject']}" in line), None)
    assert line is not None, text
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z debug maxiofs: method=GET ms=\d+ operation=GetObject "
        + f"request_id={ids['GetObject']} resource=/logged/missing status=404 request",
        line,
    ), line
