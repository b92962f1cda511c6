#!/usr/bin/env bash
# Benchmarks the release build of MaxIOFS side by side with rclone, SeaweedFS and nginx, using the
# shared harness in ../shared/bench (wrk with presigned URLs; interleaved runs; server CPU per op).
#
#   bench/run.sh [small|large|multipart|all]     default: all (multipart is separate: it writes ~6 GB)
#
# Environment: MAXIOFS_FSYNC (default false: the peers do not fsync either; say which mode you report),
# BENCH_REPS (3), BENCH_DUR (5), BENCH_TESTS (overrides the test list of the chosen set),
# SHARED_BENCH (path to the shared harness).
set -euo pipefail
cd "$(dirname "$0")/.."
HARNESS=${SHARED_BENCH:-$(cd .. && pwd)/shared/bench}
[ -x "$HARNESS/bench.py" ] || { echo "shared harness not found at $HARNESS (set SHARED_BENCH)" >&2; exit 2; }
which=${1:-all}
reps=${BENCH_REPS:-3}
dur=${BENCH_DUR:-5}
fsync=${MAXIOFS_FSYNC:-false}

swift build -c release --product maxiofs
"$HARNESS/setup.sh"
"$HARNESS/peers.sh" start all

run_dir=$(mktemp -d /tmp/maxiofs-bench.XXXXXX)
port=19300
ak=AKIABENCHBENCHBENCH0
sk=benchsecretbenchsecretbenchsecretbench00
MAXIOFS_ROOT_ACCESS_KEY=$ak MAXIOFS_ROOT_SECRET_KEY=$sk .build/release/maxiofs serve \
    --data-dir "$run_dir/data" --s3-address 127.0.0.1:$port --console-address 127.0.0.1:$((port + 1)) \
    --fsync "$fsync" --log-level warning >"$run_dir/server.log" 2>&1 &
pid=$!
echo "$pid" >"$run_dir/server.pid"
cleanup() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    "$HARNESS/peers.sh" stop all || true
    rm -rf "$run_dir/data"
}
trap cleanup EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$((port + 1))/health" >/dev/null && break; sleep 0.2; done
echo "ours: fsync=$fsync pid=$pid log=$run_dir/server.log"

common=(--ours-endpoint "http://127.0.0.1:$port" --ours-key "$ak" --ours-secret "$sk" --ours-pid "$pid" --reps "$reps")
if [ "$which" = small ] || [ "$which" = all ]; then
    "$HARNESS/bench.py" "${common[@]}" --tests "${BENCH_TESTS:-get4k,put4k,head4k,list1k,delete4k}" --conc 8 --dur "$dur"
fi
if [ "$which" = large ] || [ "$which" = all ]; then
    "$HARNESS/bench.py" "${common[@]}" --tests "${BENCH_TESTS:-get64m,put64m}" --conc 1 --dur $((dur + 3))
fi
if [ "$which" = multipart ]; then
    python3 bench/multipart.py --ours-endpoint "http://127.0.0.1:$port" --ours-key "$ak" --ours-secret "$sk" \
        --ours-pid "$pid" --reps "$reps" ${BENCH_MP_ARGS:-}
fi
echo "peak/idle RSS of ours: see the RSS column; idle: $(ps -o rss= -p "$pid") KiB after the runs"
