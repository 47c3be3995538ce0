#!/bin/bash
# client2's second job (run-heavy --both, speed.md section 40): does the client move the gateway's c=1 figures?
# The off arm, then the full arm, after the bench's warm-up, in windows of JOB_SECONDS (10) alternating
# C W W C C W W C (C: the C client with its timeline; W: wrk under gdb, bench/floor/wrkcorrection.py, which
# prints what wrk measured and what it printed).
set -uo pipefail
ROOT=/work/wt/client2; export CLEARGATE_ROOT=$ROOT; cd $ROOT
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:$PATH
OUT=${OUT:-/tmp/client2/job2}; rm -rf "$OUT"; mkdir -p "$OUT"
S=${JOB_SECONDS:-10}
for lib in "$ROOT"/bin/lib/*.sh; do source "$lib"; done
set +e
find_java25; build_gateway; bench_tools
trap stop_tracked EXIT
MOCK_PORT="$(free_port)"
taskset -c "$LOAD_CORE" "$ROOT/target/bench/benchmock" "$MOCK_PORT" 64 20 > /tmp/cleargate-bench-mock.log 2>&1 &
MOCK_PID=$!; track_pid "$MOCK_PID"
wait_http "http://127.0.0.1:$MOCK_PORT/v1/models" 30 || die "mock did not start"
abba() { # NAME URL [header:value ...]
  local name=$1 url=$2 i=0 k h wrk_h=(); shift 2
  for h in "$@"; do wrk_h+=(-H "${h%%:*}: ${h#*:}"); done
  for k in C W W C C W W C; do
    i=$((i + 1))
    echo "## $name, window $i ($k), $(date +%T)"
    if [[ $k == C ]]; then
      bench_c1 "$url" "$S" -t "$OUT/$name-$i.txt" "$@" 2>&1 | sed 's/^/C client: /'
    else
      taskset -c "$LOAD_CORE" python3 bench/floor/wrkcorrection.py wrk -t1 -c1 -d"${S}s" --timeout 10s \
        -s bench/wrk/chat.lua ${wrk_h[@]+"${wrk_h[@]}"} "$url"
    fi
  done
}
{
  bench_start_off
  WARM_PID="$GATEWAY_PID"; bench_warm_up "$ARM_URL" 1
  abba off "$ARM_URL"
  kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null
  bench_start_full
  WARM_PID="$GATEWAY_PID"; bench_warm_up "$ARM_URL" 1 "${ARM_HEADERS[@]}"
  abba full "$ARM_URL" "${ARM_HEADERS[@]}"
  bench_stop_full
  echo "done $(date +%T)"
} > "$OUT/out.md" 2>&1
