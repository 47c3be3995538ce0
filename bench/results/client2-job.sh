#!/bin/bash
# client2's jobs (run-heavy --both, speed.md section 40).
# Job 1 (no argument): part 1, wrk's c=1 figures against what it measured and against the C client, same
# server, two rounds of the C client then wrk, JOB_SECONDS (8) each: direct (the mock), the relay, the off
# arm after the bench's warm-up; wrk runs under gdb (bench/floor/wrkcorrection.py), which dumps its
# histogram before its correction. Part 2: the bench, BENCH_ARMS="direct relay off full" BENCH_WRK_C1=1.
# Job 2 (argument abba): does the client move the gateway's c=1 figures? The off arm, then the full arm,
# after the bench's warm-up, in windows of JOB_SECONDS (10) alternating C W W C C W W C (C: the C client
# with its timeline; W: wrk under wrkcorrection.py).
set -uo pipefail
ROOT=/work/wt/client2; export CLEARGATE_ROOT=$ROOT; cd $ROOT
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:$PATH
MODE=${1:-bench}
if [[ $MODE == abba ]]; then OUT=${OUT:-/tmp/client2/job2}; S=${JOB_SECONDS:-10}
else OUT=${OUT:-/tmp/client2/job}; S=${JOB_SECONDS:-8}
fi
rm -rf "$OUT"; mkdir -p "$OUT"
for lib in "$ROOT"/bin/lib/*.sh; do source "$lib"; done
set +e

start() { # tools, the gateway's build and the mock
  find_java25; build_gateway; bench_tools
  trap stop_tracked EXIT
  MOCK_PORT="$(free_port)"
  taskset -c "$LOAD_CORE" "$ROOT/target/bench/benchmock" "$MOCK_PORT" 64 20 > /tmp/cleargate-bench-mock.log 2>&1 &
  MOCK_PID=$!; track_pid "$MOCK_PID"
  wait_http "http://127.0.0.1:$MOCK_PORT/v1/models" 30 || die "mock did not start"
}

# window C|W NAME TAG URL [header:value ...]: one window of the C client (timeline in $OUT/NAME-TAG.txt) or of wrk.
window() {
  local kind=$1 name=$2 tag=$3 url=$4 h wrk_h=(); shift 4
  if [[ $kind == C ]]; then
    bench_c1 "$url" "$S" -t "$OUT/$name-$tag.txt" "$@" 2>&1 | sed 's/^/C client: /'
  else
    for h in "$@"; do wrk_h+=(-H "${h%%:*}: ${h#*:}"); done
    taskset -c "$LOAD_CORE" python3 bench/floor/wrkcorrection.py wrk -t1 -c1 -d"${S}s" --timeout 10s \
      -s bench/wrk/chat.lua ${wrk_h[@]+"${wrk_h[@]}"} "$url"
  fi
}

compare() { # NAME URL [header:value ...]: two rounds of the C client then wrk
  local name=$1 url=$2 round; shift 2
  for round in 1 2; do
    echo "## $name, round $round, $(date +%T)"
    window C "$name" "$round" "$url" "$@"
    python3 bench/floor/wrkcorrection.py timeline "$OUT/$name-$round.txt" | sed 's/^/C client /'
    window W "$name" "$round" "$url" "$@"
  done
}

abba() { # NAME URL [header:value ...]
  local name=$1 url=$2 i=0 k; shift 2
  for k in C W W C C W W C; do
    i=$((i + 1))
    echo "## $name, window $i ($k), $(date +%T)"
    window "$k" "$name" "$i" "$url" "$@"
  done
}

if [[ $MODE == abba ]]; then
  {
    start
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
  exit
fi
(
  start
  compare direct "http://127.0.0.1:$MOCK_PORT/v1/chat/completions"
  RP="$(free_port)"
  taskset -c "$SUT_CORE" "$ROOT/target/bench/relay" "$RP" "$MOCK_PORT" > /dev/null 2>&1 &
  RPID=$!; track_pid $RPID
  wait_http "http://127.0.0.1:$RP/v1/models" 10
  bench_load "http://127.0.0.1:$RP/v1/chat/completions" 1 3 > /dev/null
  compare relay "http://127.0.0.1:$RP/v1/chat/completions"
  kill $RPID
  bench_start_off
  WARM_PID="$GATEWAY_PID"; bench_warm_up "$ARM_URL" 1
  compare off "$ARM_URL"
  kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null
) > "$OUT/part1.md" 2>&1
echo "part 2, $(date +%T)" >> "$OUT/part1.md"
BENCH_ARMS="direct relay off full" BENCH_WRK_C1=1 bin/cleargate bench > "$OUT/bench.md" 2> "$OUT/bench.err"
echo "bench rc=$? $(date +%T)" >> "$OUT/bench.err"
