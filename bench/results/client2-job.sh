#!/bin/bash
# client2's job (run-heavy --both, speed.md section 40). Part 1: wrk's c=1 figures against what it measured,
# against the C client, same server, alternating: direct (the mock), the relay, the off arm after the bench's
# warm-up; wrk runs under gdb (bench/floor/wrkcorrection.py), which dumps its histogram before its
# correction. Part 2: the bench, BENCH_ARMS="direct relay off full" BENCH_WRK_C1=1.
set -uo pipefail
ROOT=/work/wt/client2; export CLEARGATE_ROOT=$ROOT; cd $ROOT
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 PATH=/usr/lib/jvm/temurin-25-jdk-amd64/bin:$PATH
OUT=${OUT:-/tmp/client2/job}; rm -rf "$OUT"; mkdir -p "$OUT"
S=${JOB_SECONDS:-8}
(
  for lib in "$ROOT"/bin/lib/*.sh; do source "$lib"; done
  set +e
  find_java25; build_gateway; bench_tools
  trap stop_tracked EXIT
  MOCK_PORT="$(free_port)"
  taskset -c "$LOAD_CORE" "$ROOT/target/bench/benchmock" "$MOCK_PORT" 64 20 > /tmp/cleargate-bench-mock.log 2>&1 &
  MOCK_PID=$!; track_pid "$MOCK_PID"
  wait_http "http://127.0.0.1:$MOCK_PORT/v1/models" 30 || die "mock did not start"
  compare() { # NAME URL [header:value ...]: two rounds of the C client then wrk, S seconds each
    local name=$1 url=$2 round h wrk_h=(); shift 2
    for h in "$@"; do wrk_h+=(-H "${h%%:*}: ${h#*:}"); done
    for round in 1 2; do
      echo "## $name, round $round, $(date +%T)"
      bench_c1 "$url" "$S" -t "$OUT/$name-$round.txt" "$@" 2>&1 | sed 's/^/C client: /'
      python3 bench/floor/wrkcorrection.py timeline "$OUT/$name-$round.txt" | sed 's/^/C client /'
      taskset -c "$LOAD_CORE" python3 bench/floor/wrkcorrection.py wrk -t1 -c1 -d"${S}s" --timeout 10s \
        -s bench/wrk/chat.lua ${wrk_h[@]+"${wrk_h[@]}"} "$url"
    done
  }
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
