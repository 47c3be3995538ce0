# bin/cleargate bench: the gateway benchmark (method in bench/README.md). A script, not a test.
#
# Core 0 (LOAD_CORE) holds the load generator (wrk at c=64, bench/driver/c1client.c at c=1) and the mock upstream; core 1 (SUT_CORE) holds
# the system under test and, for the full arm, its OPA. Every measured run is time-based.
# Environment: BENCH_SECONDS (measured seconds per level of the direct and relay arms and of the
# profile, tail and wakeups tools, default 6), BENCH_GATEWAY_SECONDS (measured seconds per level of
# every gateway arm, ours and the peers, default 20: see below), BENCH_WARMUP (least seconds of
# unmeasured load at c=64 before a gateway arm's first level, default 20; the warm-up goes on, up to
# BENCH_WARMUP_MAX seconds per level, until the JIT compiler is quiet: see bench_warm_up), BENCH_ARMS (default
# "direct relay off full portkey litellm"; relay is bench/mock/relay.c on the gateway's core, the
# floor of what any proxy adds in this topology), BENCH_STREAM (0 skips the streaming runs), BENCH_STREAMS (streams
# measured per arm at c=16 after as many unmeasured, default 160),
# BENCH_WRK_C1 (1 also runs wrk at c=1 after the C client, for comparison only),
# BENCH_GATEWAY_OPTS (extra JVM options for both gateway arms, e.g. a flight recording),
# BENCH_APP_B (the quarkus-app directory of another build, e.g. main's: arms off-b and full-b run
# the off and full arms on it). An arm named twice in BENCH_ARMS runs twice, the second time
# reported as ARM#2, so "off-b off off-b off" is an A/B of two builds in alternating rounds.
# A gateway arm written ARM:NAME (full:young, off-b:zgc) runs with the JVM options in BENCH_OPTS_NAME
# added after the launch options (e.g. BENCH_OPTS_young="-Xmn400m") and, for the full arm, the H2 URL
# options in BENCH_H2_NAME instead of BENCH_H2_OPTIONS (e.g. BENCH_H2_small=";DB_CLOSE_ON_EXIT=FALSE;
# WRITE_DELAY=0;CACHE_SIZE=2048"), reported as gateway-ARM:NAME, so collector and store settings are
# compared in one job. Every gateway arm reports its collector's pauses in
# each measured window and its resident memory at the end (from the same allocation recording).
#
# Why gateways get longer windows: the gateway does periodic work beside its requests (the audit
# checkpoint signer every 10 s, cleargate.audit.checkpoint-every; the readiness write probe every
# 2 s), and a request's share of it is part of what a request costs. A 6 s window held one signer
# run or none, so the full arm's CPU per request at c=64, its idle burn and its ratio to Portkey
# moved with where the runs fell (bench/results/speed.md section 18). 20 s holds two runs in every
# window. The peers get the same window so that the ratios compare like with like.

BENCH_SECONDS="${BENCH_SECONDS:-6}"
BENCH_GATEWAY_SECONDS="${BENCH_GATEWAY_SECONDS:-20}"
BENCH_WARMUP="${BENCH_WARMUP:-20}"
BENCH_ARMS="${BENCH_ARMS:-direct relay off full portkey litellm}"
BENCH_STREAM="${BENCH_STREAM:-1}"
BENCH_STREAMS="${BENCH_STREAMS:-160}"
LOAD_CORE=0
SUT_CORE=1

# Per-thread CPU ticks of PID, one "ticks name" line per thread (for bench profile).
thread_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    awk -v name="$(tr " " _ 2>/dev/null < "$t/comm")" '{sub(/^.*\) /, ""); print $12 + $13, name}' "$t/stat" 2>/dev/null || true
  done
}

# CPU ticks of the JIT compiler threads of a JVM (0 for any other process).
jit_ticks() {
  thread_ticks "$1" | awk '$2 ~ /^C[12]_CompilerThre/ {t += $1} END {print t + 0}'
}

# Sum of utime + stime (clock ticks) of the given processes.
cpu_ticks() {
  local total=0 pid
  for pid in "$@"; do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}

bench_tools() {
  command -v taskset >/dev/null || die "taskset (util-linux) is needed to pin processes to cores"
  if ! command -v wrk >/dev/null; then
    say "installing wrk (the load generator) from Debian"
    apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; } \
      || die "apt-get install wrk failed"
  fi
  if ! command -v cc >/dev/null; then
    say "installing gcc (to build the benchmark's mock upstream, bench/mock) from Debian"
    apt-get install -y -q gcc libc6-dev >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q gcc libc6-dev >/dev/null; } \
      || die "apt-get install gcc failed"
  fi
  mkdir -p "$ROOT/target/bench"
  cc -O2 -pthread -o "$ROOT/target/bench/benchmock" "$ROOT/bench/mock/benchmock.c" || die "building bench/mock failed"
  cc -O2 -o "$ROOT/target/bench/relay" "$ROOT/bench/mock/relay.c" || die "building bench/mock/relay.c failed"
  cc -O2 -o "$ROOT/target/bench/c1client" "$ROOT/bench/driver/c1client.c" -lm || die "building bench/driver/c1client.c failed"
  chat_request
}

# The request of bench/wrk/chat.lua, for the C client: its method, its headers as name:value lines, its body.
chat_request() {
  local lua="$ROOT/bench/wrk/chat.lua"
  C1_METHOD="$(sed -n 's/^wrk\.method = "\(.*\)"$/\1/p' "$lua")"
  C1_BODY="$(sed -n "s/^wrk\.body = '\(.*\)'$/\1/p" "$lua")"
  mapfile -t C1_HEADERS < <(sed -n 's/^wrk\.headers\["\(.*\)"\] = "\(.*\)"$/\1:\2/p' "$lua")
  [[ -n "$C1_METHOD" && -n "$C1_BODY" && ${#C1_HEADERS[@]} -gt 0 ]] || die "cannot read the request of $lua"
}

# bench_c1 URL SECONDS [header:value ...]: the C client (bench/driver/c1client.c) at c=1 for SECONDS: one
# keep-alive connection, the request wrk sends for the arm, one at a time. Prints its JSON line (wrk's
# fields, and p999_ms); fails (after the line, the reason on stderr) if any response was not 2xx or not
# as long as the first, or the connection was lost. Why not wrk at c=1: wrk adds synthetic samples to
# its tail afterwards (coordinated-omission correction), which a closed loop at c=1 has no cause for
# (bench/README.md).
# With -T OUT first, it also writes each request's start and latency to OUT (bench tail).
bench_c1() {
  local timeline=()
  if [[ "$1" == -T ]]; then timeline=(-T "$2"); shift 2; fi
  local url="$1" seconds="$2"; shift 2
  taskset -c "$LOAD_CORE" "$ROOT/target/bench/c1client" -d "$seconds" -X "$C1_METHOD" -b "$C1_BODY" \
    "${timeline[@]}" "$url" "${C1_HEADERS[@]}" "$@"
}

# bench_load URL C SECONDS [header:value ...]: the bench's load at concurrency C: the C client at c=1,
# wrk at any other. Prints the JSON line; fails if the C client did.
bench_load() {
  local url="$1" c="$2" seconds="$3"; shift 3
  if [[ "$c" == 1 ]]; then bench_c1 "$url" "$seconds" "$@"; else bench_wrk "$url" "$c" "$seconds" "$@"; fi
}

# wrk against URL at concurrency C for SECONDS; prints wrk's JSON line (bench/wrk/chat.lua).
bench_wrk() {
  local url="$1" c="$2" seconds="$3"; shift 3
  local headers=() h
  for h in "$@"; do headers+=(-H "${h%%:*}: ${h#*:}"); done # wrk wants "name: value"
  taskset -c "$LOAD_CORE" wrk -t1 -c"$c" -d"${seconds}s" --timeout 10s -s "$ROOT/bench/wrk/chat.lua" \
    ${headers[@]+"${headers[@]}"} "$url" | tail -n 1
}

# bench_warm_up URL C [header:value ...]: load at c=64, then at c=C, each in rounds of
# BENCH_WARMUP_ROUND seconds until the JIT compiler threads of WARM_PID used less than
# BENCH_JIT_QUIET percent of a core over a round (at least BENCH_WARMUP seconds in all at c=64 and
# two rounds at c=C; at most BENCH_WARMUP_MAX seconds per level). A JVM compiles for minutes on one
# shared core; until it is done, the compiler competes with the requests for the core and what is
# measured is start-up, not the cost of a request. The full arm once still compiled at 12% of a core
# after 90 s at c=64 (the cap before speed.md section 45), hence a cap of 180 s; it binds only when the
# compiler is still busy (a threshold of 3% was measured there and not shown better, so it stays 5%).
# Sets WARM_SECONDS, WARM_SERVED, WARM_JIT_LAST (the compiler's share of a core in the last round,
# percent) and WARM_QUIET, WARM_MAX (the threshold and cap used).
bench_warm_up() {
  local url="$1" c="$2"; shift 2
  local round="${BENCH_WARMUP_ROUND:-5}" quiet="${BENCH_JIT_QUIET:-5}" max="${BENCH_WARMUP_MAX:-180}"
  local level spent min line j0 j1 hz
  hz="$(getconf CLK_TCK)"
  WARM_SECONDS=0; WARM_SERVED=0; WARM_JIT_LAST=0; WARM_QUIET="$quiet"; WARM_MAX="$max"
  for level in 64 "$c"; do
    spent=0
    if [[ "$level" == 64 ]]; then min="$BENCH_WARMUP"; else min=$((2 * round)); fi
    while ((spent < max)); do
      j0="$(jit_ticks "$WARM_PID")"
      line="$(bench_load "$url" "$level" "$round" "$@")" || die "warm-up at c=$level against $url: the client failed"
      j1="$(jit_ticks "$WARM_PID")"
      spent=$((spent + round))
      WARM_SERVED=$((WARM_SERVED + $(sed 's/.*"requests":\([0-9]*\).*/\1/' <<<"$line")))
      WARM_JIT_LAST=$(( (j1 - j0) * 100 / (hz * round) ))
      ((spent >= min && WARM_JIT_LAST < quiet)) && break
    done
    WARM_SECONDS=$((WARM_SECONDS + spent))
    say "warm-up at c=$level: ${spent} s, JIT ${WARM_JIT_LAST}% of a core in the last ${round} s"
  done
}

# bench_arm ARM URL "SUT PIDS" [header:value ...]: a warm-up, then c=1 and c=64 (JSON) and, unless
# BENCH_STREAM=0 or the arm is a peer, a streaming run at c=16. Appends JSON lines to $BENCH_OUT;
# sut_ticks is the CPU of the system under test (gateway, plus OPA for the full arm), mock_ticks
# the mock's. BENCH_SERVED counts every request the arm served, warm-up included.
bench_arm() {
  local arm="$1" url="$2" pids="$3"; shift 3
  local line c sut0 sut1 mock0 mock1 t0 t1 windows=() w seconds="$BENCH_GATEWAY_SECONDS"
  local main="${pids%% *}" jit0 jit1
  [[ "$arm" == direct* || "$arm" == relay* ]] && seconds="$BENCH_SECONDS"
  arm="$arm${ARM_ROUND:-}"
  if [[ "$arm" == gateway-* ]]; then
    WARM_PID="$main"
    bench_warm_up "$url" 1 "$@"
    echo "{\"arm\":\"$arm\",\"mode\":\"warmup\",\"seconds\":$WARM_SECONDS,\"requests\":$WARM_SERVED,\"jit_share_last\":$WARM_JIT_LAST,\"jit_quiet\":$WARM_QUIET,\"max_per_level\":$WARM_MAX}" >> "$BENCH_OUT"
    BENCH_SERVED=$WARM_SERVED
  else
    # Peers (and the mock) have no JIT on the measured core to wait for: a short fixed warm-up.
    line="$(bench_wrk "$url" 64 5 "$@")"
    BENCH_SERVED=$(( $(sed 's/.*"requests":\([0-9]*\).*/\1/' <<<"$line") ))
    line="$(bench_load "$url" 1 3 "$@")" || die "warm-up at c=1 against $url: the client failed"
    BENCH_SERVED=$((BENCH_SERVED + $(sed 's/.*"requests":\([0-9]*\).*/\1/' <<<"$line")))
  fi
  # c=1 by the C client, then (BENCH_WRK_C1=1) by wrk as well, for comparison only ("wrk_c1" rows); c=64 by wrk.
  local levels=(1 64)
  [[ "${BENCH_WRK_C1:-0}" == 1 ]] && levels=(1 wrk1 64)
  for c in "${levels[@]}"; do
    local mode=json ok=1
    [[ "$c" == wrk1 ]] && mode=wrk_c1
    # shellcheck disable=SC2086
    sut0="$(cpu_ticks $pids)"; mock0="$(cpu_ticks "$MOCK_PID")"; jit0="$(jit_ticks "$main")"; t0="$(date +%s%3N)"
    if [[ "$c" == wrk1 ]]; then line="$(bench_wrk "$url" 1 "$seconds" "$@")"
    else line="$(bench_load "$url" "$c" "$seconds" "$@")" || ok=0
    fi
    # shellcheck disable=SC2086
    sut1="$(cpu_ticks $pids)"; mock1="$(cpu_ticks "$MOCK_PID")"; jit1="$(jit_ticks "$main")"; t1="$(date +%s%3N)"
    [[ "$line" == \{*\"requests\"* ]] || die "$arm c=$c: the client printed no result"
    BENCH_SERVED=$((BENCH_SERVED + $(sed 's/.*"requests":\([0-9]*\).*/\1/' <<<"$line")))
    [[ "$c" == wrk1 ]] || windows+=("$c:$t0:$t1")
    echo "{\"arm\":\"$arm\",\"mode\":\"$mode\",\"concurrency\":${c/wrk/},\"t0\":$t0,\"t1\":$t1,\"sut_ticks\":$((sut1 - sut0)),\"jit_ticks\":$((jit1 - jit0)),\"mock_ticks\":$((mock1 - mock0)),${line#\{}" >> "$BENCH_OUT"
    say "$arm c=${c/wrk1/1 (wrk)}: $line"
    # A failed C client fails the arm: its errors are in the row (the report marks the arm), and the
    # bench exits non-zero once the report is written.
    ((ok)) || { BENCH_FAILED+=("$arm"); say "$arm c=$c: the C client failed (errors above): this arm's figures are not valid"; }
  done
  # Idle: no request at all for BENCH_IDLE seconds (after a second to let the last ones drain).
  sleep 1
  # shellcheck disable=SC2086
  sut0="$(cpu_ticks $pids)"; jit0="$(jit_ticks "$main")"
  sleep "${BENCH_IDLE:-4}"
  # shellcheck disable=SC2086
  sut1="$(cpu_ticks $pids)"; jit1="$(jit_ticks "$main")"
  echo "{\"arm\":\"$arm\",\"mode\":\"idle\",\"seconds\":${BENCH_IDLE:-4},\"sut_ticks\":$((sut1 - sut0)),\"jit_ticks\":$((jit1 - jit0))}" >> "$BENCH_OUT"
  if [[ "$BENCH_STREAM" != 0 && "$arm" != portkey* && "$arm" != litellm* ]]; then
    # shellcheck disable=SC2086
    sut0="$(cpu_ticks $pids)"; t0="$(date +%s%3N)"
    line="$(taskset -c "$LOAD_CORE" java "$ROOT/bench/driver/LoadDriver.java" "$url" 16 "$BENCH_STREAMS" stream "$@")"
    # shellcheck disable=SC2086
    sut1="$(cpu_ticks $pids)"; t1="$(date +%s%3N)"
    windows+=("stream:$t0:$t1")
    BENCH_SERVED=$((BENCH_SERVED + 2 * BENCH_STREAMS))
    echo "{\"arm\":\"$arm\",\"mode\":\"stream\",\"sut_ticks\":$((sut1 - sut0)),\"total_requests\":$((2 * BENCH_STREAMS)),${line#\{}" >> "$BENCH_OUT"
    say "$arm stream c=16: $line"
  fi
  # Bytes allocated in each measured window, from the gateway's allocation recording (bench/alloc.jfc).
  # The collector's pauses in each window (c=1, c=64, the stream run) from the same recording, and the
  # gateway's resident memory now and at its peak.
  if [[ "$arm" == gateway-* ]] && jcmd "$main" JFR.dump name=alloc filename="$ROOT/target/bench/alloc-$arm.jfr" >/dev/null 2>&1; then
    local bytes pauses
    mapfile -t bytes < <(python3 "$ROOT/bench/jfr_alloc.py" "$ROOT/target/bench/alloc-$arm.jfr" "${windows[@]#*:}")
    mapfile -t pauses < <(python3 "$ROOT/bench/jfr_alloc.py" --pauses "$ROOT/target/bench/alloc-$arm.jfr" "${windows[@]#*:}")
    for w in "${!windows[@]}"; do
      [[ "${windows[$w]%%:*}" == stream ]] || \
        echo "{\"arm\":\"$arm\",\"mode\":\"alloc\",\"concurrency\":${windows[$w]%%:*},\"bytes\":${bytes[$w]:-0}}" >> "$BENCH_OUT"
      echo "{\"arm\":\"$arm\",\"mode\":\"gc\",\"window\":\"${windows[$w]%%:*}\",${pauses[$w]#\{}" >> "$BENCH_OUT"
    done
    echo "{\"arm\":\"$arm\",\"mode\":\"memory\",\"rss_kib\":$(awk '/^VmRSS/ {print $2}' "/proc/$main/status"),\"hwm_kib\":$(awk '/^VmHWM/ {print $2}' "/proc/$main/status")}" >> "$BENCH_OUT"
  fi
}

# The mock on the load core: fixed 1.4 KB completion; streams are 64 chunks 20 ms apart. Sets MOCK_PORT, MOCK_PID.
bench_start_mock() {
  MOCK_PORT="$(free_port)"
  taskset -c "$LOAD_CORE" "$ROOT/target/bench/benchmock" "$MOCK_PORT" 64 20 > /tmp/cleargate-bench-mock.log 2>&1 &
  MOCK_PID=$!; track_pid "$MOCK_PID"
  wait_http "http://127.0.0.1:$MOCK_PORT/v1/models" 30 || die "mock did not start"
}

cleargate_bench() {
  find_java25
  build_gateway
  bench_tools
  trap stop_tracked EXIT
  bench_start_mock
  if [[ "${1:-}" == profile ]]; then
    shift
    bench_profile "$@"
    return
  fi
  if [[ "${1:-}" == tail ]]; then
    shift
    bench_tail "$@"
    return
  fi
  if [[ "${1:-}" == wakeups ]]; then
    shift
    bench_wakeups "$@"
    return
  fi
  if [[ "${1:-}" == soak ]]; then
    shift
    bench_soak "$@"
    return
  fi
  BENCH_FAILED=()
  local stamp; stamp="$(date -u +%Y%m%dT%H%M%SZ)"
  BENCH_OUT="$ROOT/bench/results/run-$stamp.jsonl"
  : > "$BENCH_OUT"
  local arm
  local -A rounds=()
  for arm in $BENCH_ARMS; do
    # A second run of an arm is reported as ARM#2 (a third as ARM#3...).
    rounds[$arm]=$(( ${rounds[$arm]:-0} + 1 ))
    ARM_ROUND=""; (( rounds[$arm] > 1 )) && ARM_ROUND="#${rounds[$arm]}"
    # off-b and full-b: the same arm on another build (BENCH_APP_B), reported as gateway-off-b...
    GATEWAY_APP="$ROOT/target/quarkus-app"; ARM_BUILD=""; ARM_OPTS=""; ARM_H2=""
    # ARM:NAME: the arm with BENCH_OPTS_NAME's JVM options and, for the full arm, BENCH_H2_NAME's H2
    # URL options in place of BENCH_H2_OPTIONS (either may be left unset), reported with :NAME after its build.
    if [[ "$arm" == *:* ]]; then
      local variant="${arm#*:}" opts_var h2_var
      opts_var="BENCH_OPTS_$variant"; h2_var="BENCH_H2_$variant"
      [[ "$variant" =~ ^[A-Za-z0-9_]+$ && -n "${!opts_var:-}${!h2_var:-}" ]] \
        || die "arm $arm needs BENCH_OPTS_$variant (JVM options) or BENCH_H2_$variant (H2 URL options)"
      ARM_OPTS="${!opts_var:-}"; ARM_H2="${!h2_var:-}"; arm="${arm%%:*}"; ARM_ROUND=":$variant$ARM_ROUND"
    fi
    if [[ "$arm" == *-b ]]; then
      [[ -f "${BENCH_APP_B:-}/quarkus-run.jar" ]] || die "arm $arm needs BENCH_APP_B, a quarkus-app directory"
      GATEWAY_APP="$BENCH_APP_B"; ARM_BUILD=-b
    fi
    case "$arm" in
      direct) bench_arm direct "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" "$MOCK_PID" ;;
      relay) bench_relay ;;
      off|off-b) bench_gateway_off ;;
      full|full-b) bench_gateway_full ;;
      portkey) bench_portkey || say "Portkey arm skipped: $(cat /tmp/cleargate-bench-portkey.reason 2>/dev/null)" ;;
      litellm) bench_litellm || say "LiteLLM arm skipped: $(cat /tmp/cleargate-bench-litellm.reason 2>/dev/null)" ;;
      *) die "unknown bench arm '$arm' (direct relay off full portkey litellm, off-b full-b)" ;;
    esac
  done
  ARM_ROUND=""; ARM_BUILD=""; GATEWAY_APP="$ROOT/target/quarkus-app"
  python3 "$ROOT/bench/report.py" "$BENCH_OUT" > "$ROOT/bench/results/latest.md"
  cat "$ROOT/bench/results/latest.md"
  ((${#BENCH_FAILED[@]} == 0)) || die "the c=1 client failed in: ${BENCH_FAILED[*]} (errors in the report)"
}

# One tenant at concurrency 64 against the backend's 64 slots: no other tenant to share them with.
# The gateway records its threads' allocation counters from start (bench/alloc.jfc; starting it
# later would set the JIT to work in the measured window).
bench_gateway_backend() {
  echo "-XX:StartFlightRecording:name=alloc,settings=$ROOT/bench/alloc.jfc,maxage=20m" \
    -Dcleargate.backends.mock.kind=openai -Dcleargate.backends.mock.base-url="http://127.0.0.1:$MOCK_PORT/v1" \
    -Dcleargate.backends.mock.models=mock -Dquarkus.log.level=WARN \
    -Dcleargate.routing.tenant-share=1
}

# The gateway with every governance stage switched off (routing stays: the dispatcher serves a plan).
# Sets ARM_URL, ARM_PIDS, ARM_HEADERS.
bench_start_off() {
  local port; port="$(free_port)"
  GATEWAY_PREFIX=(taskset -c "$SUT_CORE")
  # shellcheck disable=SC2046,SC2086
  start_gateway_bg "$port" /tmp/cleargate-bench-gw-off.log $(bench_gateway_backend) ${BENCH_GATEWAY_OPTS:-} ${ARM_OPTS:-} \
    -Dcleargate.allow-disabled-stages=true \
    -Dcleargate.disabled-stages=authenticate,resolve-tenant,policy,input-moderation,audit,output-moderation,model-refusal \
    -Dquarkus.datasource.jdbc.url="jdbc:h2:mem:bench;DB_CLOSE_DELAY=-1"
  ARM_URL="http://127.0.0.1:$port/v1/chat/completions"; ARM_PIDS="$GATEWAY_PID"; ARM_HEADERS=()
}

bench_gateway_off() {
  bench_start_off
  bench_arm "gateway-off${ARM_BUILD:-}" "$ARM_URL" "$ARM_PIDS"
  kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true
}

# The gateway with every stage on: API key, tenant, OPA decision, input and output moderation,
# residency routing, model-refusal detection and the durable audit trail (H2 file database under
# a temporary directory). OPA shares the gateway's core, as a sidecar would. Also records the H2
# file's growth per served request.
# Sets ARM_URL, ARM_PIDS (gateway and OPA), ARM_HEADERS and ARM_DATA (the data directory).
bench_start_full() {
  local opa_port port key opa_pid
  ARM_DATA="$(mktemp -d)"
  opa_port="$(free_port)"
  port="$(free_port)"
  key="cg_0be0c4a7_$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  # The dev tenant's policy as shipped, but with limits no bench run reaches (6,000 requests a
  # minute would turn a long warm-up into 429s): the limit is still counted and enforced per request.
  cp -r "$ROOT/policies" "$ARM_DATA/policies"
  python3 - "$ARM_DATA/policies/cleargate/tenants/dev/data.json" <<'PY' || die "cannot raise the bench tenant's limits"
import json, sys
path = sys.argv[1]
data = json.load(open(path))
data["limits"]["requests_per_minute"] = 100_000_000
data["limits"]["tokens_per_minute"] = 2_000_000_000
json.dump(data, open(path, "w"), indent=2)
PY
  opa_start "$ARM_DATA/run" "$opa_port" "$ARM_DATA/policies" >/dev/null 2>&1 || die "OPA did not start"
  opa_pid="$(cat "$ARM_DATA/run/opa.pid")"
  track_pid "$opa_pid"
  taskset -cp "$SUT_CORE" "$opa_pid" >/dev/null
  GATEWAY_PREFIX=(taskset -c "$SUT_CORE")
  # The H2 URL as production's (application.properties): without DB_CLOSE_ON_EXIT=FALSE, H2's own
  # exit hook closes the store under the gateway's shutdown, before the writer's last batch and its
  # shutdown compaction.
  # shellcheck disable=SC2046,SC2086
  CLEARGATE_DATA_DIR="$ARM_DATA" CLEARGATE_OPA_URL="http://127.0.0.1:$opa_port" \
  CLEARGATE_OPA_GATEWAY_TOKEN_FILE="$ARM_DATA/run/opa-gateway.token" \
  start_gateway_bg "$port" /tmp/cleargate-bench-gw-full.log $(bench_gateway_backend) ${BENCH_GATEWAY_OPTS:-} ${ARM_OPTS:-} \
    -Dcleargate.dev.create-key=true -Dcleargate.dev.key="$key" \
    -Dquarkus.datasource.jdbc.url="jdbc:h2:file:$ARM_DATA/db/cleargate${ARM_H2:-${BENCH_H2_OPTIONS:-;DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0;CACHE_SIZE=2048}}"
  ARM_URL="http://127.0.0.1:$port/v1/chat/completions"; ARM_PIDS="$GATEWAY_PID $opa_pid"
  ARM_HEADERS=("authorization:Bearer $key")
}

bench_stop_full() {
  kill "$GATEWAY_PID" 2>/dev/null || true; wait "$GATEWAY_PID" 2>/dev/null || true
  opa_stop "$ARM_DATA/run"
  rm -rf "$ARM_DATA"
}

# Bytes of the H2 store in a data directory's db/, without the audit journal's two files: those are
# written full of zeros when created (cleargate.audit.journal-size each), a fixed size, not growth.
h2_bytes() {
  find "$1/db" -type f ! -name '*.journal-*.log' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}

journal_bytes() {
  find "$1/db" -type f -name '*.journal-*.log' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}

bench_gateway_full() {
  local db0 db1 db2
  bench_start_full
  db0="$(h2_bytes "$ARM_DATA")"
  bench_arm "gateway-full${ARM_BUILD:-}" "$ARM_URL" "$ARM_PIDS" "${ARM_HEADERS[@]}"
  db1="$(h2_bytes "$ARM_DATA")"
  kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true
  db2="$(h2_bytes "$ARM_DATA")"
  echo "{\"arm\":\"gateway-full${ARM_BUILD:-}${ARM_ROUND:-}\",\"mode\":\"storage\",\"served\":$BENCH_SERVED,\"db_start\":$db0,\"db_end\":$db1,\"db_after_stop\":$db2,\"journal\":$(journal_bytes "$ARM_DATA")}" >> "$BENCH_OUT"
  say "gateway-full H2 grew by $((db1 - db0)) bytes for $BENCH_SERVED requests ($((db2 - db0)) after shutdown)"
  bench_stop_full
}

# bin/cleargate bench profile off|full [C]: a flight recording (CPU-time samples, allocation samples,
# thread allocation counters) of one gateway arm under wrk at concurrency C (default 1) for
# BENCH_SECONDS, after the arm's warm-up (C=stream: the bench's stream run instead, 2 x BENCH_STREAMS
# streams at c=16 after a JSON warm-up at c=16; "requests" are then streams); writes target/bench/profile-ARM-cC.jfr, the summary by
# stage (bench/jfr_profile.py: CPU and KB per request, hottest frames) to
# target/bench/profile-ARM-cC.md, and a flame graph (.svg) with its collapsed stacks (.collapsed).
# Starting a recording re-instruments classes and sends the JIT back to work, so a throwaway
# recording with the same settings starts before the warm-up and the measured one after it.
bench_profile() {
  local arm="${1:?off or full}" c="${2:-1}" out sut0 sut1 line requests
  out="$ROOT/target/bench/profile-$arm-c$c"
  local settings=(settings=profile "jdk.CPUTimeSample#enabled=true" "jdk.CPUTimeSample#throttle=2ms")
  "bench_start_$arm"
  jcmd "$GATEWAY_PID" JFR.start name=warm "${settings[@]}" >/dev/null
  WARM_PID="$GATEWAY_PID"
  bench_warm_up "$ARM_URL" "${c/stream/16}" ${ARM_HEADERS[@]+"${ARM_HEADERS[@]}"}
  jcmd "$GATEWAY_PID" JFR.start name=bench "${settings[@]}" >/dev/null
  # shellcheck disable=SC2086
  sut0="$(cpu_ticks $ARM_PIDS)"
  thread_ticks "$GATEWAY_PID" | sort -k2 > /tmp/cleargate-bench-threads.0
  if [[ "$c" == stream ]]; then
    # The bench's stream run (c=16, BENCH_STREAMS measured after as many unmeasured), all recorded.
    line="$(taskset -c "$LOAD_CORE" java "$ROOT/bench/driver/LoadDriver.java" "$ARM_URL" 16 "$BENCH_STREAMS" stream \
      ${ARM_HEADERS[@]+"${ARM_HEADERS[@]}"})"
    line="$(sed "s/\"requests\":[0-9]*/\"requests\":$((2 * BENCH_STREAMS))/" <<<"$line")"
  else
    line="$(bench_load "$ARM_URL" "$c" "$BENCH_SECONDS" ${ARM_HEADERS[@]+"${ARM_HEADERS[@]}"})" || die "$arm c=$c: the client failed"
  fi
  # shellcheck disable=SC2086
  sut1="$(cpu_ticks $ARM_PIDS)"
  thread_ticks "$GATEWAY_PID" | sort -k2 > /tmp/cleargate-bench-threads.1
  jcmd "$GATEWAY_PID" JFR.stop name=bench filename="$out.jfr" >/dev/null
  jcmd "$GATEWAY_PID" JFR.stop name=warm >/dev/null
  requests="$(sed 's/.*"requests":\([0-9]*\).*/\1/' <<<"$line")"
  say "$arm c=$c: $line; CPU $((sut1 - sut0)) ticks (gateway threads by CPU ticks in the window:)"
  # Threads are matched by name (several may share one); sums per name.
  awk 'NR==FNR {a[$2] += $1; next} {b[$2] += $1} END {for (n in b) if (b[n] - a[n] > 0) print b[n] - a[n], n}' \
    /tmp/cleargate-bench-threads.0 /tmp/cleargate-bench-threads.1 | sort -rn | head -15 >&2
  if [[ "$arm" == full ]]; then bench_stop_full; else kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true; fi
  {
    echo "# Profile: gateway $arm, c=$c (\`bin/cleargate bench profile $arm $c\`)"
    echo
    echo "load: $line"
    echo
    echo "CPU of the system under test over the window: $((sut1 - sut0)) ticks of 10 ms for $requests requests;"
    echo "by thread (ticks): $(awk 'NR==FNR {a[$2] += $1; next} {b[$2] += $1} END {for (n in b) if (b[n] - a[n] > 0) print b[n] - a[n], n}' \
      /tmp/cleargate-bench-threads.0 /tmp/cleargate-bench-threads.1 | sort -rn | head -8 | paste -sd, -)"
    echo
    # CPU of the threads JFR samples: all but the JIT compilers, the VM thread (GC, safepoints) and JFR's own.
    local java_ticks
    java_ticks="$(awk 'NR==FNR {a[$2] += $1; next} {b[$2] += $1} END {for (n in b) print b[n] - a[n], n}' \
      /tmp/cleargate-bench-threads.0 /tmp/cleargate-bench-threads.1 \
      | awk '$2 !~ /^(C[12]_CompilerThre|VM_Thread|JFR_|GC_|VM_Periodic)/ {t += $1} END {print t + 0}')"
    echo "Of the gateway's CPU, JIT compiler threads: $(awk 'NR==FNR {a[$2] += $1; next} {b[$2] += $1} END {for (n in b) print b[n] - a[n], n}' \
      /tmp/cleargate-bench-threads.0 /tmp/cleargate-bench-threads.1 | awk '$2 ~ /^C[12]_CompilerThre/ {t += $1} END {print t + 0}') ticks;"
    echo "threads JFR samples (request threads, event loop, audit writer, ...): $java_ticks ticks."
    echo
    python3 "$ROOT/bench/jfr_profile.py" "$out.jfr" "$requests" "$out" \
      "$(awk -v t="$java_ticks" -v r="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.4f", t * 1000 / hz / r}')"
  } > "$out.md"
  cat "$out.md"
}

# bin/cleargate bench tail off|full: after the arm's warm-up, one client at c=1 for BENCH_SECONDS
# (bench/driver/c1client.c -T, the bench's own c=1 client) writes down when each request started and how long it took, while a
# flight recording runs; bench/jfr_tail.py then names, for each request slower than the run's p99,
# what the recording saw while it was in flight (a collector pause, a scheduled job, a question to
# OPA, a slow fsync or upstream read, the JIT). Writes target/bench/tail-ARM.md.
#
# bin/cleargate bench tail off|full stream: the same for the bench's stream run (c=16, BENCH_STREAMS
# measured after as many unmeasured, after a JSON warm-up at c=16): the driver writes down when each
# measured stream was sent and each token came (LOADDRIVER_TIMELINE), and bench/jfr_stream_tail.py
# names what the slow first tokens and the gaps over 21 ms overlapped. Writes target/bench/tail-ARM-stream.md.
bench_tail() {
  local arm="${1:?off or full}" mode="${2:-}" out
  out="$ROOT/target/bench/tail-$arm${mode:+-$mode}"
  local settings=(settings=profile "jdk.CPUTimeSample#enabled=true" "jdk.CPUTimeSample#throttle=2ms"
    "jdk.SocketRead#threshold=0ms" "jdk.SocketRead#throttle=off" "jdk.FileForce#threshold=0ms"
    "jdk.Compilation#threshold=1ms")
  # Every socket read: JDK 25's profile settings keep at most 300 a second, which dropped most of
  # them (the questions to OPA among them). A stream run also records every virtual thread's start,
  # so that each stream's first token can be split into its phases (bench/jfr_stream_phases.py).
  [[ "$mode" == stream ]] && settings+=("jdk.VirtualThreadStart#enabled=true")
  "bench_start_$arm"
  jcmd "$GATEWAY_PID" JFR.start name=warm "${settings[@]}" >/dev/null
  WARM_PID="$GATEWAY_PID"
  bench_warm_up "$ARM_URL" "$([[ "$mode" == stream ]] && echo 16 || echo 1)" ${ARM_HEADERS[@]+"${ARM_HEADERS[@]}"}
  jcmd "$GATEWAY_PID" JFR.start name=tail "${settings[@]}" >/dev/null
  if [[ "$mode" == stream ]]; then
    LOADDRIVER_TIMELINE="$out.txt" taskset -c "$LOAD_CORE" java "$ROOT/bench/driver/LoadDriver.java" "$ARM_URL" 16 \
      "$BENCH_STREAMS" stream ${ARM_HEADERS[@]+"${ARM_HEADERS[@]}"} >&2
  else
    bench_c1 -T "$out.txt" "$ARM_URL" "$BENCH_SECONDS" ${ARM_HEADERS[@]+"${ARM_HEADERS[@]}"} >&2
  fi
  jcmd "$GATEWAY_PID" JFR.stop name=tail filename="$out.jfr" >/dev/null
  jcmd "$GATEWAY_PID" JFR.stop name=warm >/dev/null
  if [[ "$arm" == full ]]; then bench_stop_full; else kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true; fi
  if [[ "$mode" == stream ]]; then
    { echo "# Slow first tokens and late chunks of streams: gateway $arm (\`bin/cleargate bench tail $arm stream\`)"; echo
      python3 "$ROOT/bench/jfr_stream_tail.py" "$out.txt" "$out.jfr"
      echo "### Each first token by phase (\`bench/jfr_stream_phases.py\`)"; echo
      python3 "$ROOT/bench/jfr_stream_phases.py" "$out.txt" "$out.jfr"; } > "$out.md"
  else
    { echo "# Slow requests at c=1: gateway $arm (\`bin/cleargate bench tail $arm\`)"; echo
      python3 "$ROOT/bench/jfr_tail.py" "$out.txt" "$out.jfr"; } > "$out.md"
  fi
  cat "$out.md"
}

# bin/cleargate bench wakeups off|full: after the arm's warm-up, at c=1 and at c=64 for
# BENCH_SECONDS each, how often each of the gateway's threads was put to sleep and woken per request
# and its CPU per request (bench/wakeups.py, from /proc). At c=1 every wake-up is a hand-off of one
# request (event loop, virtual-thread carrier, socket poller, timers); load lets one wake-up serve
# many, which is what idle burn measures. Writes target/bench/wakeups-ARM.md.
bench_wakeups() {
  local arm="${1:?off or full}" out c line requests
  out="$ROOT/target/bench/wakeups-$arm.md"
  "bench_start_$arm"
  WARM_PID="$GATEWAY_PID"
  bench_warm_up "$ARM_URL" 1 ${ARM_HEADERS[@]+"${ARM_HEADERS[@]}"}
  echo "# Wake-ups per request: gateway $arm (\`bin/cleargate bench wakeups $arm\`)" > "$out"
  for c in 1 64; do
    python3 "$ROOT/bench/wakeups.py" "$GATEWAY_PID" snapshot /tmp/cleargate-bench-wakeups.json
    line="$(bench_load "$ARM_URL" "$c" "$BENCH_SECONDS" ${ARM_HEADERS[@]+"${ARM_HEADERS[@]}"})" || die "$arm c=$c: the client failed"
    requests="$(sed 's/.*"requests":\([0-9]*\).*/\1/' <<<"$line")"
    { echo; echo "## c=$c"; echo; echo "load: $line"; echo
      python3 "$ROOT/bench/wakeups.py" "$GATEWAY_PID" report /tmp/cleargate-bench-wakeups.json "$requests"; } >> "$out"
  done
  if [[ "$arm" == full ]]; then bench_stop_full; else kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true; fi
  cat "$out"
}

# bin/cleargate bench soak [SECONDS] [C]: the full arm under wrk at concurrency C (default 4), each
# connection pausing SOAK_DELAY_MS (50) between requests (at most 80 requests/s, under the dev
# tenant's rate limit), for SECONDS (default 180) in windows of SOAK_WINDOW seconds (default 15); after each window, the
# gateway's resident memory, its heap right after a full GC (jcmd GC.run, then GC.heap_info), the
# H2 file and requests served so far. Stops by itself; writes bench/results/soak.md.
bench_soak() {
  local seconds="${1:-180}" c="${2:-4}" window="${SOAK_WINDOW:-15}" served=0 errors=0 elapsed=0 line n rss heap db
  local out="$ROOT/bench/results/soak.md"
  bench_start_full
  {
    echo "# Soak: full arm, c=$c, ${seconds} s (\`bin/cleargate bench soak $seconds $c\`, $(date -u +%Y-%m-%dT%H:%MZ))"
    echo
    echo "Resident memory (VmRSS) and heap used right after a full GC, sampled after each ${window} s window;"
    echo "the H2 file (audit trail) per request served so far."
    echo
    echo "| t s | requests | of which not 2xx | req/s | RSS MiB | heap after GC MiB | H2 file MiB | H2 bytes/request |"
    echo "|---|---|---|---|---|---|---|---|"
  } > "$out"
  while (( elapsed < seconds )); do
    line="$(CLEARGATE_WRK_DIR="$ROOT/bench/wrk" taskset -c "$LOAD_CORE" wrk -t1 -c"$c" -d"${window}s" --timeout 10s \
      -s "$ROOT/bench/wrk/soak.lua" -H "${ARM_HEADERS[0]%%:*}: ${ARM_HEADERS[0]#*:}" "$ARM_URL" | tail -n 1)"
    n=$(( $(sed 's/.*"requests":\([0-9]*\).*/\1/' <<<"$line") ))
    errors=$((errors + $(sed 's/.*"errors":\([0-9]*\).*/\1/' <<<"$line")))
    served=$((served + n)); elapsed=$((elapsed + window))
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$GATEWAY_PID/status")
    jcmd "$GATEWAY_PID" GC.run >/dev/null
    # Heap in use right after that full GC, whatever the collector (one core: Serial): the used
    # columns of jstat (survivors, eden, old), in KiB.
    heap=$(jstat -gc "$GATEWAY_PID" | awk 'NR == 1 {for (i = 1; i <= NF; i++) col[$i] = i}
      NR == 2 {print $col["S0U"] + $col["S1U"] + $col["EU"] + $col["OU"]}')
    db="$(h2_bytes "$ARM_DATA")"
    awk -v t="$elapsed" -v s="$served" -v e="$errors" -v n="$n" -v w="$window" -v r="$rss" -v h="$heap" -v d="$db" \
      'BEGIN {printf "| %d | %d | %d | %.0f | %.1f | %.1f | %.1f | %.0f |\n", t, s, e, n / w, r / 1024, h / 1024, d / 1048576, d / s}' >> "$out"
    say "soak t=${elapsed}s: $n requests, RSS ${rss} KiB, heap after GC ${heap} KiB, H2 ${db} bytes"
  done
  kill "$GATEWAY_PID" 2>/dev/null || true; wait "$GATEWAY_PID" 2>/dev/null || true
  db="$(h2_bytes "$ARM_DATA")"
  awk -v s="$served" -v d="$db" -v j="$(journal_bytes "$ARM_DATA")" 'BEGIN {printf "\nAfter shutdown: H2 file %.1f MiB, %.0f bytes per request served (the audit journal'"'"'s files, a fixed %.1f MiB, not counted).\n", d / 1048576, d / s, j / 1048576}' >> "$out"
  bench_stop_full
  cat "$out"
}

# The floor: a byte relay (bench/mock/relay.c, one epoll thread, a connection to the mock per client
# connection) on the gateway's core. What it adds and its idle burn are the topology's own price.
bench_relay() {
  local port; port="$(free_port)"
  taskset -c "$SUT_CORE" "$ROOT/target/bench/relay" "$port" "$MOCK_PORT" > /tmp/cleargate-bench-relay.log 2>&1 &
  local pid=$!; track_pid "$pid"
  wait_http "http://127.0.0.1:$port/v1/models" 10 || die "relay did not start"
  bench_arm relay "http://127.0.0.1:$port/v1/chat/completions" "$pid"
  kill "$pid" 2>/dev/null || true
}

bench_portkey() {
  local dir="$ROOT/bench/.peers/portkey"
  if [[ ! -f "$dir/node_modules/@portkey-ai/gateway/build/start-server.js" ]]; then
    mkdir -p "$dir"
    (cd "$dir" && npm install --silent --no-audit --no-fund @portkey-ai/gateway@1.15.2) \
      || { echo "npm install @portkey-ai/gateway@1.15.2 failed" > /tmp/cleargate-bench-portkey.reason; return 1; }
  fi
  local port; port="$(free_port)"
  (cd "$dir/node_modules/@portkey-ai/gateway" && PORT="$port" exec taskset -c "$SUT_CORE" node build/start-server.js --port="$port" --headless > /tmp/cleargate-bench-portkey.log 2>&1) &
  local pid=$!; track_pid "$pid"
  wait_http "http://127.0.0.1:$port/" 60 || { echo "Portkey did not start" > /tmp/cleargate-bench-portkey.reason; return 1; }
  bench_arm portkey "http://127.0.0.1:$port/v1/chat/completions" "$pid" \
    "x-portkey-provider:openai" "x-portkey-custom-host:http://127.0.0.1:$MOCK_PORT/v1" "authorization:Bearer any"
  kill "$pid" 2>/dev/null || true
}

bench_litellm() {
  local venv="$ROOT/bench/.peers/litellm-venv"
  if [[ ! -x "$venv/bin/litellm" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "litellm[proxy]==1.74.9" > /tmp/cleargate-bench-litellm-pip.log 2>&1 \
      || { echo "pip refused litellm[proxy]==1.74.9 (see /tmp/cleargate-bench-litellm-pip.log)" > /tmp/cleargate-bench-litellm.reason; return 1; }
  fi
  local port; port="$(free_port)"
  cat > /tmp/cleargate-litellm.yaml <<YAML
model_list:
  - model_name: mock
    litellm_params:
      model: openai/mock
      api_base: http://127.0.0.1:$MOCK_PORT/v1
      api_key: any
YAML
  taskset -c "$SUT_CORE" "$venv/bin/litellm" --config /tmp/cleargate-litellm.yaml --host 127.0.0.1 --port "$port" > /tmp/cleargate-bench-litellm.log 2>&1 &
  local pid=$!; track_pid "$pid"
  wait_http "http://127.0.0.1:$port/health/liveliness" 120 || { echo "LiteLLM did not start" > /tmp/cleargate-bench-litellm.reason; return 1; }
  bench_arm litellm "http://127.0.0.1:$port/v1/chat/completions" "$pid" "authorization:Bearer any"
  kill "$pid" 2>/dev/null || true
}
