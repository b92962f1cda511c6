"""Maintenance commands, against real servers and real damage to their data directories:

- `maxiofs check --data-dir DIR [--repair]`: offline comparison of the catalog with the blob files (missing
  blobs, wrong sizes, orphans, temporary files); `--repair` removes orphans and temporary files only;
- `maxiofs backup-metadata --data-dir DIR --output FILE [--force]`: SQLite online backup of the catalog, safe
  while the server writes, restorable together with a later copy of blobs/;
- `maxiofs admin info` and `GET /api/v1/info`: version, region, uptime, storage and catalog counts.

Every test runs its own server processes on copies of data directories; the session server is not used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from conftest import (
    ADMIN_PASSWORD,
    admin_cli,
    get_body,
    make_client,
    server_binary,
    start_server,
    stop_and_check,
    unique_name,
)

USER_PASSWORD = "Maint-User-Pass-3!"


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


# These tests find and damage blobs by their content: the servers store them unencrypted (sealed blobs are
# checked in test_encryption.py).
PLAIN = ["--encryption-at-rest", "false"]


def run_maxiofs(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a one-shot `maxiofs` command with no MAXIOFS_* variables from the test's environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAXIOFS_")}
    return subprocess.run(
        [server_binary(), *[str(a) for a in args]],
        capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL,
    )


def run_check(data_dir: Path, repair: bool = False) -> subprocess.CompletedProcess:
    return run_maxiofs("check", "--data-dir", data_dir, *(["--repair"] if repair else []))


@dataclass
class CheckOutput:
    proc: subprocess.CompletedProcess
    lines: list[str]

    @property
    def code(self) -> int:
        return self.proc.returncode

    def prefixed(self, prefix: str) -> list[str]:
        return [line[len(prefix):] for line in self.lines if line.startswith(prefix)]

    @property
    def missing(self) -> list[str]:
        return self.prefixed("missing: ")

    @property
    def wrong_size(self) -> list[str]:
        return self.prefixed("wrong size: ")

    @property
    def orphans(self) -> list[str]:
        return self.prefixed("orphan: ")

    @property
    def temporary(self) -> list[str]:
        return self.prefixed("temporary: ")

    @property
    def summary(self) -> str:
        found = self.prefixed("summary: ")
        assert len(found) == 1, f"expected one summary line:\n{self.proc.stdout}"
        return found[0]

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout ---\n{self.proc.stdout}--- stderr ---\n{self.proc.stderr}"


def check(data_dir: Path, repair: bool = False) -> CheckOutput:
    proc = run_check(data_dir, repair)
    out = CheckOutput(proc, proc.stdout.splitlines())
    assert proc.returncode in (0, 1), str(out)
    assert "catalog: ok" in out.lines, str(out)
    return out


def files_under(data_dir: Path) -> dict[str, str]:
    """Every regular file of a data dir outside the catalog, lock and key files: relative path -> sha256."""
    out = {}
    for p in data_dir.rglob("*"):
        rel = p.relative_to(data_dir).as_posix()
        if p.is_file() and not p.is_symlink() and rel.split("/")[0] in ("blobs", "tmp"):
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def blob_holding(data_dir: Path, body: bytes) -> Path:
    """The one file under blobs/ whose content is `body` (every body the tests write is unique)."""
    found = [p for p in (data_dir / "blobs").rglob("*") if p.is_file() and p.stat().st_size == len(body)
             and p.read_bytes() == body]
    assert len(found) == 1, f"expected one blob holding the body, found {found}"
    return found[0]


def unique_body(label: str, size: int = 1000) -> bytes:
    head = f"{label}:{os.urandom(8).hex()}:".encode()
    return (head + os.urandom(size))[:size] if size >= len(head) else head


def copy_data_dir(src: Path, dst: Path) -> Path:
    """A copy of a stopped server's data directory that keeps file times (as `cp -a` would)."""
    shutil.copytree(src, dst, copy_function=shutil.copy2)
    return dst


def summary_counts(summary: str) -> tuple[int, int, int, int]:
    m = re.match(r"(\d+) missing, (\d+) wrong size, (\d+) orphan\(s\), (\d+) temporary file\(s\)", summary)
    assert m, summary
    return tuple(int(g) for g in m.groups())  # type: ignore[return-value]


# --------------------------------------------------------------------------
# A populated data directory, shared (copied) by the check tests
# --------------------------------------------------------------------------


@dataclass
class Stored:
    """One body the catalog refers to, and how `maxiofs check` names its owner."""

    owner: str
    body: bytes


@dataclass
class Populated:
    data_dir: Path
    plain: str
    versioned: str
    blobs: dict[str, Stored] = field(default_factory=dict)
    version_ids: dict[str, str] = field(default_factory=dict)
    pending_upload: str = ""
    objects: dict[tuple[str, str], bytes] = field(default_factory=dict)  # current bodies, by (bucket, key)


@pytest.fixture(scope="module")
def populated(tmp_path_factory) -> Populated:
    """A stopped server's data dir holding: single-part objects in an unversioned bucket; a versioned bucket
    with overwrites (noncurrent versions), a delete marker and a noncurrent multipart version; a completed
    multipart object; an in-progress upload with two parts."""
    base = tmp_path_factory.mktemp("populated")
    srv = start_server(base, extra_args=PLAIN)
    try:
        s3 = make_client(srv.endpoint)
        plain, versioned = unique_name("plain"), unique_name("vers")
        pop = Populated(srv.data_dir, plain, versioned)
        s3.create_bucket(Bucket=plain)
        s3.create_bucket(Bucket=versioned)
        s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})

        for key in ("single", "truncate-me", "keep"):
            body = unique_body(key, 2000)
            s3.put_object(Bucket=plain, Key=key, Body=body)
            pop.blobs[key] = Stored(f"{plain}/{key}", body)
            pop.objects[(plain, key)] = body

        # Three writes of one key: two noncurrent versions and the current one.
        for i in (1, 2, 3):
            body = unique_body(f"doc-v{i}", 1500 + i)
            vid = s3.put_object(Bucket=versioned, Key="doc", Body=body)["VersionId"]
            pop.version_ids[f"doc-v{i}"] = vid
            pop.blobs[f"doc-v{i}"] = Stored(f"{versioned}/doc (version {vid})", body)
        pop.objects[(versioned, "doc")] = body
        # A key whose only version is hidden by a delete marker (which has no blob).
        body = unique_body("gone", 700)
        vid = s3.put_object(Bucket=versioned, Key="gone", Body=body)["VersionId"]
        pop.version_ids["gone"] = vid
        pop.blobs["gone"] = Stored(f"{versioned}/gone (version {vid})", body)
        s3.delete_object(Bucket=versioned, Key="gone")

        # A completed multipart object of two parts.
        parts_body = [unique_body("mp-part1", 5 * 1024 * 1024), unique_body("mp-part2", 3000)]
        up = s3.create_multipart_upload(Bucket=plain, Key="mp")["UploadId"]
        etags = [
            s3.upload_part(Bucket=plain, Key="mp", UploadId=up, PartNumber=n, Body=b)["ETag"]
            for n, b in enumerate(parts_body, 1)
        ]
        s3.complete_multipart_upload(
            Bucket=plain, Key="mp", UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]},
        )
        for n, b in enumerate(parts_body, 1):
            pop.blobs[f"mp-part{n}"] = Stored(f"{plain}/mp part {n}", b)
        pop.objects[(plain, "mp")] = b"".join(parts_body)

        # A multipart object in the versioned bucket, then overwritten: a noncurrent multipart version.
        mpv_body = unique_body("mpv-part1", 4000)
        up = s3.create_multipart_upload(Bucket=versioned, Key="mpv")["UploadId"]
        etag = s3.upload_part(Bucket=versioned, Key="mpv", UploadId=up, PartNumber=1, Body=mpv_body)["ETag"]
        s3.complete_multipart_upload(
            Bucket=versioned, Key="mpv", UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
        )
        pop.blobs["mpv-part1"] = Stored(f"{versioned}/mpv part 1", mpv_body)
        body = unique_body("mpv-current", 900)
        vid = s3.put_object(Bucket=versioned, Key="mpv", Body=body)["VersionId"]
        pop.blobs["mpv-current"] = Stored(f"{versioned}/mpv (version {vid})", body)
        pop.objects[(versioned, "mpv")] = body

        # An upload in progress, with parts 1 and 3.
        up = s3.create_multipart_upload(Bucket=plain, Key="pending")["UploadId"]
        pop.pending_upload = up
        for n in (1, 3):
            b = unique_body(f"pending-part{n}", 1200 + n)
            s3.upload_part(Bucket=plain, Key="pending", UploadId=up, PartNumber=n, Body=b)
            pop.blobs[f"pending-part{n}"] = Stored(f"upload {up} part {n} of {plain}/pending", b)
    finally:
        stop_and_check(srv)
    return pop


@pytest.fixture
def damaged(populated, tmp_path) -> Populated:
    """A fresh copy of the populated data dir, to damage."""
    copy = copy_data_dir(populated.data_dir, tmp_path / "data")
    return Populated(
        copy, populated.plain, populated.versioned, dict(populated.blobs), dict(populated.version_ids),
        populated.pending_upload, dict(populated.objects),
    )


def blob_of(pop: Populated, name: str) -> Path:
    return blob_holding(pop.data_dir, pop.blobs[name].body)


# --------------------------------------------------------------------------
# maxiofs check
# --------------------------------------------------------------------------


def test_clean_data_dir_checks_clean(damaged):
    before = files_under(damaged.data_dir)
    n = len(damaged.blobs)
    assert len(before) == n, f"expected one file per stored body: {sorted(before)}"
    out = check(damaged.data_dir)
    assert out.code == 0, str(out)
    assert f"blobs: {n} referenced, {n} present" in out.lines, str(out)
    assert not (out.missing or out.wrong_size or out.orphans or out.temporary), str(out)
    assert summary_counts(out.summary) == (0, 0, 0, 0)
    # --repair on a clean directory removes nothing.
    out = check(damaged.data_dir, repair=True)
    assert out.code == 0, str(out)
    assert out.summary.endswith(", 0 file(s) removed"), str(out)
    assert files_under(damaged.data_dir) == before


def test_check_without_a_catalog_is_refused(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_check(empty, repair=True)
    assert proc.returncode == 1, proc
    assert "no MaxIOFS catalog at" in proc.stderr and str(empty / "meta.sqlite") in proc.stderr, proc.stderr
    assert list(empty.iterdir()) == []


def test_check_refuses_while_the_server_runs(damaged, tmp_path):
    srv = start_server(tmp_path, data_dir=damaged.data_dir, extra_args=PLAIN)
    try:
        # Damage it is not allowed to repair while the server runs: stray files an offline --repair would remove.
        (damaged.data_dir / "blobs" / "stray.txt").write_bytes(b"stray")
        nested = damaged.data_dir / "blobs" / "ab" / "cd"
        nested.mkdir(parents=True)
        (nested / "notablob").write_bytes(b"not a blob")
        before = files_under(damaged.data_dir)
        for repair in (False, True):
            proc = run_check(damaged.data_dir, repair=repair)
            assert proc.returncode == 1, proc
            assert "in use by another maxiofs server" in proc.stderr, proc.stderr
            assert "summary:" not in proc.stdout and "orphan" not in proc.stdout, proc.stdout
        assert files_under(damaged.data_dir) == before
        # The server was not disturbed.
        s3 = make_client(srv.endpoint)
        for (bucket, key), body in damaged.objects.items():
            assert get_body(s3, bucket, key) == body
    finally:
        stop_and_check(srv)


def test_check_reports_each_kind_of_missing_blob(damaged):
    gone = ["single", "doc-v1", "gone", "mp-part2", "mpv-part1", "pending-part3"]
    ids = {}
    for name in gone:
        path = blob_of(damaged, name)
        ids[name] = path.name
        path.unlink()
    out = check(damaged.data_dir)
    assert out.code == 1, str(out)
    assert len(out.missing) == len(gone), str(out)
    for name in gone:
        stored = damaged.blobs[name]
        want = f"{stored.owner}: blob {ids[name]} ({len(stored.body)} bytes)"
        assert want in out.missing, f"no `missing: {want}`\n{out}"
    n = len(damaged.blobs)
    assert f"blobs: {n} referenced, {n - len(gone)} present" in out.lines, str(out)
    assert summary_counts(out.summary) == (len(gone), 0, 0, 0)
    # The owners name the kinds: a current object, a noncurrent version, a part of a completed multipart
    # object (current and noncurrent) and a part of an upload in progress.
    owners = "\n".join(out.missing)
    assert f"{damaged.plain}/single:" in owners
    assert f"(version {damaged.version_ids['doc-v1']})" in owners
    assert f"{damaged.plain}/mp part 2:" in owners
    assert f"upload {damaged.pending_upload} part 3 of {damaged.plain}/pending:" in owners
    # Reporting changes nothing; --repair cannot bring them back: still missing, still exit 1.
    before = files_under(damaged.data_dir)
    again = check(damaged.data_dir, repair=True)
    assert again.code == 1 and sorted(again.missing) == sorted(out.missing), str(again)
    assert files_under(damaged.data_dir) == before


def test_check_reports_wrong_sizes(damaged):
    truncated = blob_of(damaged, "truncate-me")
    full = len(damaged.blobs["truncate-me"].body)
    with open(truncated, "r+b") as f:
        f.truncate(full // 2)
    grown = blob_of(damaged, "pending-part1")
    with open(grown, "ab") as f:
        f.write(b"extra")
    out = check(damaged.data_dir)
    assert out.code == 1, str(out)
    part = damaged.blobs["pending-part1"]
    assert sorted(out.wrong_size) == sorted([
        f"{damaged.blobs['truncate-me'].owner}: blob {truncated.name} has {full // 2} bytes, the catalog says {full}",
        f"{part.owner}: blob {grown.name} has {len(part.body) + 5} bytes, the catalog says {len(part.body)}",
    ]), str(out)
    assert not out.missing and not out.orphans, str(out)
    assert summary_counts(out.summary) == (0, 2, 0, 0)
    # --repair leaves damaged blobs alone, and they stay reported.
    before = files_under(damaged.data_dir)
    again = check(damaged.data_dir, repair=True)
    assert again.code == 1 and sorted(again.wrong_size) == sorted(out.wrong_size), str(again)
    assert files_under(damaged.data_dir) == before


def add_strays(data_dir: Path) -> dict[str, int]:
    """Files nothing refers to, at various depths, and a leftover temporary file. Returns path -> size."""
    strays = {
        "blobs/stray.txt": b"a stray file at the top of blobs/",
        "blobs/ab/cd/notablob": b"not named like a blob",
        "blobs/ab/cd/ef/gh/ij/deep.bin": b"deep " * 10,
        # Shaped like a blob and where a blob of that name belongs, but referenced by nothing.
        "blobs/12/34/1234" + "0" * 28: b"unreferenced blob",
        "blobs/zz/empty": b"",
    }
    for rel, content in strays.items():
        p = data_dir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    (data_dir / "tmp" / "upload-left-by-a-crash").write_bytes(b"half a body")
    return {rel: len(content) for rel, content in strays.items()}


def test_check_reports_orphans_and_temporary_files_and_repair_removes_exactly_those(damaged):
    missing_blob = blob_of(damaged, "doc-v2")
    missing_blob.unlink()
    referenced = files_under(damaged.data_dir)
    strays = add_strays(damaged.data_dir)
    with_damage = files_under(damaged.data_dir)

    out = check(damaged.data_dir)
    assert out.code == 1, str(out)
    assert sorted(out.orphans) == sorted(f"{rel} ({size} bytes)" for rel, size in strays.items()), str(out)
    assert out.temporary == ["tmp/upload-left-by-a-crash"], str(out)
    assert len(out.missing) == 1 and out.missing[0].startswith(damaged.blobs["doc-v2"].owner + ":"), str(out)
    assert summary_counts(out.summary) == (1, 0, len(strays), 1)
    assert not any(line.startswith("note:") for line in out.lines), str(out)  # the strays are newer than the catalog
    assert files_under(damaged.data_dir) == with_damage, "check without --repair changed files"

    out = check(damaged.data_dir, repair=True)
    assert out.code == 1, f"a missing blob remains, so the exit status stays 1\n{out}"
    assert sorted(out.orphans) == sorted(f"{rel} ({size} bytes): removed" for rel, size in strays.items()), str(out)
    assert out.temporary == ["tmp/upload-left-by-a-crash: removed"], str(out)
    assert out.summary == f"1 missing, 0 wrong size, {len(strays)} orphan(s), 1 temporary file(s), " \
        f"{len(strays) + 1} file(s) removed", str(out)
    # Exactly the strays and the temporary file are gone; every referenced blob is intact.
    assert files_under(damaged.data_dir) == referenced

    out = check(damaged.data_dir)
    assert out.code == 1 and summary_counts(out.summary) == (1, 0, 0, 0), str(out)
    assert out.missing[0].startswith(damaged.blobs["doc-v2"].owner + ":"), str(out)


def test_repair_of_orphans_alone_leaves_a_clean_directory(damaged):
    referenced = files_under(damaged.data_dir)
    strays = add_strays(damaged.data_dir)
    out = check(damaged.data_dir, repair=True)
    assert out.code == 0, f"nothing is left to fix after the repair\n{out}"
    assert len(out.orphans) == len(strays) and out.summary.endswith(f"{len(strays) + 1} file(s) removed"), str(out)
    assert files_under(damaged.data_dir) == referenced
    out = check(damaged.data_dir)
    assert out.code == 0 and summary_counts(out.summary) == (0, 0, 0, 0), str(out)


def test_orphans_older_than_the_catalog_get_a_note(damaged):
    """Orphans written before the catalog existed may be a replaced catalog's objects: check says so."""
    old = {"blobs/56/78/5678" + "a" * 28: b"an old catalog's object", "blobs/old-stray": b"old"}
    for rel, content in old.items():
        p = damaged.data_dir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
        os.utime(p, (946684800, 946684800))  # 2000-01-01, long before the catalog was created
    (damaged.data_dir / "blobs" / "new-stray").write_bytes(b"new")
    out = check(damaged.data_dir)
    assert out.code == 1 and len(out.orphans) == 3, str(out)
    notes = [line for line in out.lines if line.startswith("note:")]
    assert notes == [
        "note: 2 orphan(s) are older than the catalog: if meta.sqlite was replaced, they may hold the old "
        "catalog's objects"
    ], str(out)


def test_repair_does_not_claim_to_remove_what_it_could_not(damaged):
    leftover = damaged.data_dir / "tmp" / "a-directory"
    leftover.mkdir()
    (leftover / "inside").write_bytes(b"x")
    out = check(damaged.data_dir, repair=True)
    assert len(out.temporary) == 1 and out.temporary[0].startswith("tmp/a-directory"), str(out)
    # What it says must be true: either it is gone and nothing is left to fix, or it is neither claimed removed
    # nor passed as clean.
    # A directory left in tmp/ is removed with what it holds.
    assert not leftover.exists(), str(out)
    assert out.temporary[0].endswith(": removed"), str(out)
    assert out.code == 0 and out.summary.endswith("1 file(s) removed"), str(out)
    assert check(damaged.data_dir).code == 0


def test_objects_with_lost_blobs_can_be_deleted_through_the_server(damaged, tmp_path):
    """After the damage is found, deleting what lost its data (through S3) leaves a directory that checks clean."""
    for name in ("single", "doc-v1", "mp-part2", "pending-part3"):
        blob_of(damaged, name).unlink()
    truncated = blob_of(damaged, "truncate-me")
    with open(truncated, "r+b") as f:
        f.truncate(10)
    assert check(damaged.data_dir).code == 1

    srv = start_server(tmp_path, data_dir=damaged.data_dir, extra_args=PLAIN)
    try:
        s3 = make_client(srv.endpoint)
        p, v = damaged.plain, damaged.versioned
        s3.delete_object(Bucket=p, Key="single")
        s3.delete_object(Bucket=p, Key="truncate-me")
        s3.delete_object(Bucket=p, Key="mp")
        s3.delete_object(Bucket=v, Key="doc", VersionId=damaged.version_ids["doc-v1"])
        s3.abort_multipart_upload(Bucket=p, Key="pending", UploadId=damaged.pending_upload)
        # What was not damaged still serves.
        assert get_body(s3, p, "keep") == damaged.objects[(p, "keep")]
        assert get_body(s3, v, "doc") == damaged.objects[(v, "doc")]
    finally:
        stop_and_check(srv)
    out = check(damaged.data_dir)
    assert out.code == 0, str(out)
    assert summary_counts(out.summary) == (0, 0, 0, 0), str(out)


# --------------------------------------------------------------------------
# maxiofs backup-metadata
# --------------------------------------------------------------------------


def backup(data_dir: Path, output: Path, force: bool = False) -> subprocess.CompletedProcess:
    return run_maxiofs("backup-metadata", "--data-dir", data_dir, "--output", output, *(["--force"] if force else []))


def partial_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".partial" in p.name)


def copy_keys(path: Path, bucket: str) -> set[str]:
    """Keys of current objects in a catalog copy, read with Python's sqlite3. (The copy is in WAL mode, so a
    `mode=ro` connection would leave -wal and -shm files next to it: a query-only connection removes them.)"""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA query_only = 1")
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = db.execute("SELECT key FROM objects WHERE bucket = ? AND delete_marker = 0", (bucket,)).fetchall()
    finally:
        db.close()
    return {bytes(k).decode() if isinstance(k, (bytes, memoryview)) else k for (k,) in rows}


BACKUP_LINE = re.compile(
    r"^backup: (?P<out>.+): (?P<buckets>\d+) bucket\(s\), (?P<objects>\d+) object\(s\), (?P<bytes>\d+) bytes, "
    r"(?P<uploads>\d+) upload\(s\), (?P<tenants>\d+) tenant\(s\), (?P<users>\d+) user\(s\), "
    r"(?P<keys>\d+) access key\(s\)$"
)


def backup_counts(proc: subprocess.CompletedProcess, output: Path) -> dict[str, int]:
    assert proc.returncode == 0, f"backup-metadata failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    m = BACKUP_LINE.match(proc.stdout.strip())
    assert m and m["out"] == str(output), proc.stdout
    return {k: int(v) for k, v in m.groupdict().items() if k != "out"}


class Writer(threading.Thread):
    """PUTs objects `during/NNNNN` as fast as it can until stopped; remembers what it wrote."""

    def __init__(self, endpoint: str, bucket: str):
        super().__init__(daemon=True)
        self.s3 = make_client(endpoint)
        self.bucket = bucket
        self.written: dict[str, bytes] = {}
        self.stop_event = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        i = 0
        try:
            while not self.stop_event.is_set():
                key = f"during/{i:05d}"
                body = unique_body(key, 3000)
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
                self.written[key] = body
                i += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def wait_for(self, n: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.written) < n:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, f"the writer wrote only {len(self.written)} objects"
            time.sleep(0.02)

    def finish(self) -> None:
        self.stop_event.set()
        self.join(30)
        assert not self.is_alive()
        assert self.error is None, f"a PUT failed during the backup: {self.error!r}"


def test_backup_under_concurrent_writes_restores_with_a_later_copy_of_the_blobs(tmp_path):
    srv = start_server(tmp_path / "live", extra_args=PLAIN)
    restored_srv = None
    writer = None
    try:
        s3 = make_client(srv.endpoint)
        bucket = unique_name("bk")
        s3.create_bucket(Bucket=bucket)
        before = {f"before/{i:03d}": unique_body(f"before-{i}", 2500) for i in range(40)}
        for key, body in before.items():
            s3.put_object(Bucket=bucket, Key=key, Body=body)

        writer = Writer(srv.endpoint, bucket)
        writer.start()
        writer.wait_for(5)
        out_dir = tmp_path / "backups"
        out_dir.mkdir()
        output = out_dir / "meta-backup.sqlite"
        written_before_backup = len(writer.written)
        counts = backup_counts(backup(srv.data_dir, output), output)
        writer.wait_for(written_before_backup + 5)  # writes went on during and after the backup
        assert counts["buckets"] == 1
        assert counts["objects"] >= len(before) + written_before_backup, counts
        assert partial_files(out_dir) == [] and sorted(p.name for p in out_dir.iterdir()) == [output.name]

        # The copy is a sound SQLite database holding every object written before the backup started.
        keys = copy_keys(output, bucket)
        assert set(before) <= keys
        assert {f"during/{i:05d}" for i in range(written_before_backup)} <= keys
        assert len(keys) == counts["objects"]

        # Then the blobs, after the catalog (while the writer still writes), keeping file times.
        restored = tmp_path / "restored" / "data"
        restored.mkdir(parents=True)
        shutil.copytree(srv.data_dir / "blobs", restored / "blobs", copy_function=shutil.copy2)
        shutil.copy2(srv.data_dir / "master.key", restored / "master.key")
        shutil.copy2(output, restored / "meta.sqlite")
        writer.finish()

        # Nothing the copy refers to is missing; blobs written after the catalog copy are orphans, not losses.
        out = check(restored)
        assert not out.missing and not out.wrong_size, str(out)
        assert out.lines[1] == f"blobs: {len(keys)} referenced, {len(keys)} present", str(out)
        assert len(out.orphans) <= len(writer.written) - written_before_backup, str(out)

        restored_srv = start_server(
            tmp_path / "restored", data_dir=restored, log_name="restored.log", extra_args=PLAIN)
        rs3 = make_client(restored_srv.endpoint)
        for key, body in before.items():
            assert get_body(rs3, bucket, key) == body, key
        listed = {
            o["Key"]
            for page in rs3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])
        }
        assert listed == keys
        for key in keys - set(before):
            assert get_body(rs3, bucket, key) == writer.written[key], key
        stop_and_check(restored_srv)
        restored_srv = None
        # The restored server's start-up collected the orphans (younger than the catalog): now it checks clean.
        out = check(restored)
        assert out.code == 0, str(out)
    finally:
        if writer is not None and writer.is_alive():
            writer.stop_event.set()
            writer.join(30)
        if restored_srv is not None:
            restored_srv.kill()
        stop_and_check(srv)


def test_changes_between_the_catalog_copy_and_the_blob_copy(tmp_path):
    """Why blobs are copied after the catalog: a write in between leaves an orphan (harmless, collected), while
    an overwrite or a delete in between removes a blob the catalog copy still refers to; check names those
    objects, and deleting them makes the restored directory whole."""
    srv = start_server(tmp_path / "live", extra_args=PLAIN)
    try:
        s3 = make_client(srv.endpoint)
        bucket = unique_name("win")
        s3.create_bucket(Bucket=bucket)
        kept = unique_body("kept", 500)
        for key, body in (("kept", kept), ("overwritten", unique_body("old", 500)), ("deleted", unique_body("d", 500))):
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        output = tmp_path / "meta-backup.sqlite"
        backup_counts(backup(srv.data_dir, output), output)
        s3.put_object(Bucket=bucket, Key="overwritten", Body=unique_body("new", 500))
        s3.delete_object(Bucket=bucket, Key="deleted")
        s3.put_object(Bucket=bucket, Key="written-after", Body=unique_body("after", 500))
        restored = tmp_path / "restored" / "data"
        restored.mkdir(parents=True)
        shutil.copytree(srv.data_dir / "blobs", restored / "blobs", copy_function=shutil.copy2)
        shutil.copy2(srv.data_dir / "master.key", restored / "master.key")
        shutil.copy2(output, restored / "meta.sqlite")
    finally:
        stop_and_check(srv)

    out = check(restored)
    assert out.code == 1, str(out)
    assert sorted(m.split(":")[0] for m in out.missing) == [f"{bucket}/deleted", f"{bucket}/overwritten"], str(out)
    assert len(out.orphans) == 2, str(out)  # the new body of `overwritten`, and `written-after`

    rsrv = start_server(tmp_path / "restored", data_dir=restored, extra_args=PLAIN)
    try:
        rs3 = make_client(rsrv.endpoint, retries={"total_max_attempts": 1})
        assert get_body(rs3, bucket, "kept") == kept
        with pytest.raises(Exception) as excinfo:
            get_body(rs3, bucket, "overwritten")
        assert getattr(excinfo.value, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode") == 500
        for key in ("overwritten", "deleted"):
            rs3.delete_object(Bucket=bucket, Key=key)
    finally:
        stop_and_check(rsrv)
    out = check(restored)
    assert out.code == 0, f"start-up collected the orphans, the deletes removed what had lost its data\n{out}"


def test_backup_refuses_to_overwrite_and_force_replaces(tmp_path):
    srv = start_server(tmp_path / "live", extra_args=PLAIN)
    try:
        s3 = make_client(srv.endpoint)
        bucket = unique_name("bk")
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="first", Body=b"1")
        out_dir = tmp_path / "backups"
        out_dir.mkdir()
        output = out_dir / "meta.sqlite"
        # A .partial file left by an earlier, interrupted run does not get in the way, and is not left behind.
        (out_dir / "meta.sqlite.partial").write_bytes(b"junk from a crash")
        first = backup_counts(backup(srv.data_dir, output), output)
        assert first["objects"] == 1 and copy_keys(output, bucket) == {"first"}
        assert partial_files(out_dir) == []
        saved = output.read_bytes()

        s3.put_object(Bucket=bucket, Key="second", Body=b"2")
        proc = backup(srv.data_dir, output)
        assert proc.returncode == 1, proc
        assert f"{output} exists" in proc.stderr and "--force" in proc.stderr, proc.stderr
        assert proc.stdout == ""
        assert output.read_bytes() == saved
        assert partial_files(out_dir) == []

        second = backup_counts(backup(srv.data_dir, output, force=True), output)
        assert second["objects"] == 2 and copy_keys(output, bucket) == {"first", "second"}
        assert partial_files(out_dir) == [] and sorted(p.name for p in out_dir.iterdir()) == ["meta.sqlite"]

        # Failures leave nothing behind either.
        nowhere = out_dir / "no-such-dir" / "meta.sqlite"
        proc = backup(srv.data_dir, nowhere)
        assert proc.returncode == 1 and proc.stderr.strip(), proc
        assert not (out_dir / "no-such-dir").exists() and partial_files(out_dir) == []
        empty = tmp_path / "empty"
        empty.mkdir()
        proc = backup(empty, out_dir / "other.sqlite")
        assert proc.returncode == 1 and "no MaxIOFS catalog at" in proc.stderr, proc
        assert sorted(p.name for p in out_dir.iterdir()) == ["meta.sqlite"]
        assert list(empty.iterdir()) == []
    finally:
        stop_and_check(srv)


# --------------------------------------------------------------------------
# maxiofs admin info, GET /api/v1/info
# --------------------------------------------------------------------------


def login(srv, username: str, password: str) -> str:
    r = requests.post(
        srv.console_endpoint + "/api/v1/auth/login", json={"username": username, "password": password}, timeout=10
    )
    assert r.status_code == 200, r.text
    return r.json()["token"]


def info_text(srv, **kw) -> dict[str, str]:
    proc = admin_cli(srv, "info", json_out=False, **kw)
    lines = proc.stdout.splitlines()
    assert len(lines) == 5, proc.stdout
    fields = {}
    for line in lines[:4]:
        name, _, value = line.partition(": ")
        fields[name] = value
    for item in lines[4].split(", "):
        name, _, value = item.partition(": ")
        fields[name] = value
    return fields


def test_admin_info_counts_storage_and_uptime(tmp_path):
    region = "eu-maint-1"
    started = dt.datetime.now(dt.timezone.utc)
    srv = start_server(tmp_path, extra_args=["--region", region, *PLAIN])
    try:
        empty = admin_cli(srv, "info")
        assert empty["counts"] == {
            "buckets": 0, "objects": 0, "uploads": 0, "tenants": 0, "users": 1, "access_keys": 0,
        }, empty  # the admin user only; the root key is not a catalog access key
        assert empty["storage"]["used_bytes"] == 0

        s3 = make_client(srv.endpoint, region=region)
        tenants = [unique_name("tn") for _ in range(2)]
        for t in tenants:
            admin_cli(srv, "tenant", "create", t)
        tadmin, member, reader = unique_name("ta"), unique_name("tu"), unique_name("tr")
        admin_cli(srv, "user", "create", tadmin, "--password", USER_PASSWORD, "--tenant", tenants[0],
                  "--role", "tenant-admin")
        admin_cli(srv, "user", "create", member, "--password", USER_PASSWORD, "--tenant", tenants[0])
        admin_cli(srv, "user", "create", reader, "--password", USER_PASSWORD, "--tenant", tenants[1],
                  "--role", "readonly")
        admin_cli(srv, "key", "create", "--user", member)
        admin_cli(srv, "key", "create", "--user", member)

        b1, b2 = unique_name("ib"), unique_name("ib")
        s3.create_bucket(Bucket=b1, CreateBucketConfiguration={"LocationConstraint": region})
        s3.create_bucket(Bucket=b2, CreateBucketConfiguration={"LocationConstraint": region})
        s3.put_bucket_versioning(Bucket=b2, VersioningConfiguration={"Status": "Enabled"})
        sizes = [100, 2000, 30000]
        for i, size in enumerate(sizes):
            s3.put_object(Bucket=b1, Key=f"o{i}", Body=os.urandom(size))
        s3.put_object(Bucket=b1, Key="o0", Body=os.urandom(150))  # an overwrite, unversioned: still 3 objects
        sizes[0] = 150
        for size in (10, 20):  # two versions of one key
            s3.put_object(Bucket=b2, Key="v", Body=os.urandom(size))
        s3.delete_object(Bucket=b2, Key="v")  # a delete marker: not an object
        up = s3.create_multipart_upload(Bucket=b1, Key="pending")["UploadId"]
        s3.upload_part(Bucket=b1, Key="pending", UploadId=up, PartNumber=1, Body=os.urandom(700))

        want_counts = {
            "buckets": 2, "objects": 3 + 2, "uploads": 1, "tenants": 2, "users": 4, "access_keys": 2,
        }
        want_used = sum(sizes) + 10 + 20 + 700
        info = admin_cli(srv, "info")
        assert info["counts"] == want_counts, info
        assert info["storage"]["used_bytes"] == want_used, info
        assert info["storage"]["total_bytes"] >= info["storage"]["available_bytes"] > 0, info
        assert info["region"] == region
        assert run_maxiofs("version").stdout.split() == ["maxiofs", info["version"]]
        started_at = dt.datetime.fromisoformat(info["started_at"].replace("Z", "+00:00"))
        assert started - dt.timedelta(seconds=2) <= started_at <= dt.datetime.now(dt.timezone.utc), info
        assert set(info) == {"version", "region", "started_at", "uptime_seconds", "storage", "counts"}, info

        # The text form says the same.
        text = info_text(srv)
        assert text["version"] == info["version"] and text["region"] == region
        assert re.fullmatch(re.escape(info["started_at"]) + r" \(up \d+ s\)", text["started"]), text
        assert re.fullmatch(
            rf"{want_used} bytes stored; file system \d+ of {info['storage']['total_bytes']} bytes available",
            text["storage"],
        ), text
        for name, value in want_counts.items():
            assert text[name] == str(value), (name, text)

        # Counts follow deletes.
        s3.delete_object(Bucket=b1, Key="o2")
        s3.abort_multipart_upload(Bucket=b1, Key="pending", UploadId=up)
        info2 = admin_cli(srv, "info")
        assert info2["counts"] == {**want_counts, "objects": 4, "uploads": 0}, info2
        assert info2["storage"]["used_bytes"] == want_used - 30000 - 700

        # Uptime grows; the start time does not move.
        time.sleep(2.2)
        later = admin_cli(srv, "info")
        assert later["uptime_seconds"] >= info["uptime_seconds"] + 2, (info, later)
        assert later["started_at"] == info["started_at"]
        elapsed = (dt.datetime.now(dt.timezone.utc) - started_at).total_seconds()
        assert later["uptime_seconds"] <= elapsed + 1

        # The API itself: global administrators only.
        token = login(srv, "admin", ADMIN_PASSWORD)
        r = requests.get(srv.console_endpoint + "/api/v1/info", headers={"Authorization": f"Bearer {token}"},
                         timeout=10)
        assert r.status_code == 200 and r.json()["counts"] == info2["counts"], r.text
        assert requests.get(srv.console_endpoint + "/api/v1/info", timeout=10).status_code == 401
        for user in (tadmin, member, reader):  # a user without a tenant is a global administrator
            token = login(srv, user, USER_PASSWORD)
            r = requests.get(srv.console_endpoint + "/api/v1/info", headers={"Authorization": f"Bearer {token}"},
                             timeout=10)
            assert r.status_code == 403, (user, r.status_code, r.text)
            proc = admin_cli(srv, "info", username=user, password=USER_PASSWORD, check=False)
            assert proc.returncode == 1, (user, proc)
            assert "Only global administrators read server information." in proc.stderr, proc.stderr
            assert proc.stdout == "", proc.stdout
            proc = admin_cli(srv, "info", username=user, password=USER_PASSWORD, json_out=False, check=False)
            assert proc.returncode == 1 and "Only global administrators" in proc.stderr, proc
    finally:
        stop_and_check(srv)
