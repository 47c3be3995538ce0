#!/usr/bin/env bash
# bench/opa/run.sh [SECONDS]: what one decision costs OPA itself, without the gateway. OPA serves
# policies/ on core 1 with the flags bin/lib/opa.sh gives it (token authentication, the system.authz
# policy, the console decision log that makes OPA return decision ids, info logging) and three
# variants (error logging; no decision log; neither); wrk on core 0 posts the bench tenant's
# decision input (decision.lua) at c=1 and c=16 for SECONDS (default 6) each. Prints, per variant
# and concurrency, wrk's figures, OPA's CPU per decision (utime + stime from /proc) and the log
# bytes it wrote per decision. Every decision here is uncached: this is what the gateway pays for
# each request whose policy input differs from the last second's (see bench/results/speed.md, section 9).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
for lib in "$ROOT"/bin/lib/*.sh; do
  # shellcheck source=/dev/null
  source "$lib"
done
seconds="${1:-6}"
command -v wrk >/dev/null || die "wrk is needed (bin/cleargate bench installs it)"
opa="$(opa_install)"
run="$(mktemp -d)"
trap 'rm -rf "$run"' EXIT
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$run/gateway.token"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$run/admin.token"
printf '{"gateway":"%s","policy_admin":"%s"}\n' "$(sha256sum < "$run/gateway.token" | cut -c1-64)" \
  "$(sha256sum < "$run/admin.token" | cut -c1-64)" > "$run/credentials.json"
printf '{"revision":"bench"}\n' > "$run/meta.json"
port="$(free_port)"
url="http://127.0.0.1:$port/v1/data/cleargate/decision"
auth="authorization: Bearer $(cat "$run/gateway.token")"

variant() {
  local name="$1" pid c t0 t1 b0 b1 line n
  shift
  taskset -c 1 "$opa" run --server --addr "127.0.0.1:$port" --authentication=token --authorization=basic \
    --ignore '*_test.rego' --ignore '.*' --log-format json "$@" "$ROOT/policies" \
    "system.credentials:$run/credentials.json" "cleargate.meta:$run/meta.json" > "$run/opa-$name.log" 2>&1 &
  pid=$!
  wait_http "http://127.0.0.1:$port/health" 30 || die "OPA did not start ($name)"
  taskset -c 0 wrk -t1 -c4 -d3s -s "$ROOT/bench/opa/decision.lua" -H "$auth" "$url" > /dev/null # warm-up
  for c in 1 16; do
    t0=$(awk '{print $14 + $15}' "/proc/$pid/stat"); b0=$(wc -c < "$run/opa-$name.log")
    line="$(taskset -c 0 wrk -t1 -c"$c" -d"${seconds}s" -s "$ROOT/bench/opa/decision.lua" -H "$auth" "$url" | tail -n 1)"
    t1=$(awk '{print $14 + $15}' "/proc/$pid/stat"); b1=$(wc -c < "$run/opa-$name.log")
    n=$(sed 's/.*"requests":\([0-9]*\).*/\1/' <<<"$line")
    echo "$name c=$c $line opa_cpu_us_per_decision=$(( (t1 - t0) * 1000000 / $(getconf CLK_TCK) / n )) log_bytes_per_decision=$(( (b1 - b0) / n ))"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

variant as-shipped --set decision_logs.console=true --log-level info
variant log-level-error --set decision_logs.console=true --log-level error
variant no-decision-log --log-level info
variant neither --log-level error
