#!/usr/bin/env python3
"""Multipart upload benchmark: MaxIOFS side by side with the shared harness's peers (rclone, SeaweedFS).

For each repetition, interleaved across targets:
  * upload  - one object of --size-mb through CreateMultipartUpload, --part-mb parts sent by --conc threads
              (presigned UploadPart URLs, UNSIGNED-PAYLOAD, as ../shared/bench does), CompleteMultipartUpload;
              reports MB/s over the whole upload and server CPU seconds per GB (from /proc, pid tree).
  * complete - the time CompleteMultipartUpload takes for an upload of --complete-parts parts (each the
              5 MiB minimum but the last; the parts are uploaded first, untimed).

Reuses the shared harness (Presigner, load_peer, /proc accounting): run ../shared/bench/peers.sh start first,
or use bench/run.sh multipart, which does.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("SHARED_BENCH", os.path.join(HERE, "..", "..", "shared", "bench")))
import bench as sb  # noqa: E402  the shared harness

MiB = 1024 * 1024


def call(t, method, path, body=None, timeout=600):
    st, headers, data = sb.http_call(t, method, path, body, timeout=timeout)
    if st >= 300:
        raise RuntimeError(f"{t.name}: {method} {path[:60]}... -> HTTP {st}: {data[:300]!r}")
    return headers, data


def create(t, bucket, key):
    _, data = call(t, "POST", t.signer.url("POST", f"/{bucket}/{key}", {"uploads": ""}), b"")
    return re.search(rb"<UploadId>([^<]+)</UploadId>", data).group(1).decode()


def put_parts(t, bucket, key, upload_id, sizes, body, conc):
    """Uploads parts 1..len(sizes) with `conc` threads; returns their ETags in order."""
    etags = [None] * len(sizes)
    todo = list(range(len(sizes)))
    lock = threading.Lock()
    errors = []

    def worker():
        while True:
            with lock:
                if not todo or errors:
                    return
                i = todo.pop(0)
            path = t.signer.url("PUT", f"/{bucket}/{key}", {"partNumber": str(i + 1), "uploadId": upload_id})
            try:
                h, _ = call(t, "PUT", path, memoryview(body)[: sizes[i]])
                etags[i] = {k.lower(): v for k, v in h.items()}["etag"]
            except Exception as e:  # noqa: BLE001
                errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    return etags


def complete(t, bucket, key, upload_id, etags):
    xml = "<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{i + 1}</PartNumber><ETag>{e}</ETag></Part>" for i, e in enumerate(etags)
    ) + "</CompleteMultipartUpload>"
    _, data = call(t, "POST", t.signer.url("POST", f"/{bucket}/{key}", {"uploadId": upload_id}), xml.encode())
    if b"<Error>" in data:  # an error after a 200 (AWS may send one while completing)
        raise RuntimeError(f"{t.name}: complete failed: {data[:300]!r}")


def cpu(t):
    return sb.cpu_seconds(sb.proc_tree(t.pid())) if t.pid() else float("nan")


def run_upload(t, bucket, size, part, conc, body):
    n = (size + part - 1) // part
    sizes = [part] * (n - 1) + [size - part * (n - 1)]
    key = f"mp-{time.time_ns()}"
    c0, w0 = cpu(t), time.perf_counter()
    uid = create(t, bucket, key)
    etags = put_parts(t, bucket, key, uid, sizes, body, conc)
    complete(t, bucket, key, uid, etags)
    secs = time.perf_counter() - w0
    cpus = cpu(t) - c0
    call(t, "DELETE", t.signer.url("DELETE", f"/{bucket}/{key}"))
    return dict(mbps=size / MiB / secs, cpu_s_per_gb=cpus / (size / 1024**3), secs=secs)


def run_complete(t, bucket, nparts, conc, body):
    sizes = [5 * MiB] * (nparts - 1) + [1]
    key = f"mpc-{time.time_ns()}"
    uid = create(t, bucket, key)
    etags = put_parts(t, bucket, key, uid, sizes, body, conc)
    c0, w0 = cpu(t), time.perf_counter()
    complete(t, bucket, key, uid, etags)
    secs = time.perf_counter() - w0
    cpus = cpu(t) - c0
    call(t, "DELETE", t.signer.url("DELETE", f"/{bucket}/{key}"))
    return dict(complete_s=secs, complete_cpu_s=cpus)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours-endpoint", required=True)
    ap.add_argument("--ours-key", required=True)
    ap.add_argument("--ours-secret", required=True)
    ap.add_argument("--ours-pid", type=int)
    ap.add_argument("--targets", default="ours,rclone,seaweedfs")
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--part-mb", type=int, default=16)
    ap.add_argument("--conc", type=int, default=8)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--complete-parts", type=int, default=1000, help="0 skips the completion test")
    ap.add_argument("--bucket", default="s3bench-mp")
    a = ap.parse_args()

    targets = []
    for name in a.targets.split(","):
        if name == "ours":
            targets.append(sb.Target("ours", "s3", a.ours_endpoint, a.ours_key, a.ours_secret, pid=a.ours_pid))
        else:
            targets.append(sb.load_peer(name))
    for t in targets:
        t.resign()
        sb.ensure_bucket(t, a.bucket)
    body = os.urandom(max(a.part_mb, 5) * MiB)
    rows = {t.name: [] for t in targets}
    for rep in range(a.reps):
        for t in targets:
            r = run_upload(t, a.bucket, a.size_mb * MiB, a.part_mb * MiB, a.conc, body)
            r["load"] = sb.loadavg1()
            rows[t.name].append(r)
            print(f"rep {rep + 1} {t.name:10s} {r['mbps']:8.1f} MB/s  {r['cpu_s_per_gb']:6.2f} CPU s/GB  "
                  f"load {r['load']:.1f}", flush=True)
    comp = {}
    if a.complete_parts > 0:
        for t in targets:
            try:
                comp[t.name] = run_complete(t, a.bucket, a.complete_parts, a.conc, body)
            except Exception as e:  # noqa: BLE001
                comp[t.name] = dict(error=str(e)[:200])
            print(f"complete {a.complete_parts} parts {t.name:10s} {comp[t.name]}", flush=True)

    def med(name, k):
        return statistics.median(r[k] for r in rows[name])

    print(f"\n{a.size_mb} MiB in {a.part_mb} MiB parts, {a.conc} parallel, {a.reps} reps (median)")
    print("| target | MB/s | CPU s/GB | ours ÷ target MB/s | ours ÷ target CPU/GB |")
    print("|---|---|---|---|---|")
    for t in targets:
        m, c = med(t.name, "mbps"), med(t.name, "cpu_s_per_gb")
        om, oc = med("ours", "mbps"), med("ours", "cpu_s_per_gb")
        print(f"| {t.name} | {m:.0f} | {c:.2f} | {om / m:.2f} | {oc / c:.2f} |")
    if comp:
        print(f"\nCompleteMultipartUpload of {a.complete_parts} parts:")
        for name, r in comp.items():
            if "error" in r:
                print(f"  {name}: ERROR {r['error']}")
            else:
                print(f"  {name}: {r['complete_s'] * 1000:.0f} ms wall, {r['complete_cpu_s'] * 1000:.0f} ms server CPU")


if __name__ == "__main__":
    main()
