# bin/cleargate bench: the gateway benchmark (method in bench/README.md). A script, not a test.

BENCH_LEVELS=(1 16 64)
BENCH_REQUESTS=(400 2000 3000)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Runs the driver against URL for every level; appends JSON lines tagged with ARM to $BENCH_OUT.
bench_arm() {
  local arm="$1" url="$2" pid="$3"; shift 3
  local i c n before after
  for i in "${!BENCH_LEVELS[@]}"; do
    c="${BENCH_LEVELS[$i]}"; n="${BENCH_REQUESTS[$i]}"
    before="$(cpu_ticks "$pid")"
    line="$(taskset -c 1 java "$ROOT/bench/driver/LoadDriver.java" "$url" "$c" "$n" json "$@")"
    after="$(cpu_ticks "$pid")"
    echo "{\"arm\":\"$arm\",\"mode\":\"json\",\"cpu_ticks\":$((after - before)),\"total_requests\":$((n + (n / 5 > 50 ? n / 5 : 50))),${line#\{}" >> "$BENCH_OUT"
    say "$arm c=$c: $line"
  done
  before="$(cpu_ticks "$pid")"
  line="$(taskset -c 1 java "$ROOT/bench/driver/LoadDriver.java" "$url" 16 160 stream "$@")"
  after="$(cpu_ticks "$pid")"
  echo "{\"arm\":\"$arm\",\"mode\":\"stream\",\"cpu_ticks\":$((after - before)),\"total_requests\":210,${line#\{}" >> "$BENCH_OUT"
  say "$arm stream c=16: $line"
}

cleargate_bench() {
  find_java25
  build_gateway
  "$ROOT/mvnw" -B -q test-compile
  command -v taskset >/dev/null || die "taskset (util-linux) is needed to pin processes to cores"
  trap stop_tracked EXIT
  local stamp; stamp="$(date -u +%Y%m%dT%H%M%SZ)"
  BENCH_OUT="$ROOT/bench/results/run-$stamp.jsonl"
  : > "$BENCH_OUT"
  local mock_port; mock_port="$(free_port)"
  # The mock: fixed 1.4 KB completion; streams are 64 chunks 20 ms apart.
  taskset -c 1 java -cp "$ROOT/target/test-classes" io.cleargate.testsupport.MockUpstream "$mock_port" 64 20 > /tmp/cleargate-bench-mock.log 2>&1 &
  local mock_pid=$!; track_pid "$mock_pid"
  wait_http "http://127.0.0.1:$mock_port/v1/models" 30 || die "mock did not start"
  bench_arm direct "http://127.0.0.1:$mock_port/v1/chat/completions" "$mock_pid"

  local gw_port; gw_port="$(free_port)"
  # One tenant at concurrency 64 against the backend's 64 slots: no other tenant to share them with.
  local backend=(-Dcleargate.backends.mock.kind=openai -Dcleargate.backends.mock.base-url="http://127.0.0.1:$mock_port/v1"
    -Dcleargate.backends.mock.models=mock -Dquarkus.log.level=WARN -Dcleargate.routing.tenant-share=1)
  GATEWAY_PREFIX=(taskset -c 0)
  start_gateway_bg "$gw_port" /tmp/cleargate-bench-gw-bare.log "${backend[@]}" \
    -Dcleargate.allow-disabled-stages=true \
    -Dcleargate.disabled-stages=authenticate,resolve-tenant,policy,input-moderation,audit,output-moderation \
    -Dquarkus.datasource.jdbc.url="jdbc:h2:mem:bench;DB_CLOSE_DELAY=-1"
  bench_arm gateway-bare "http://127.0.0.1:$gw_port/v1/chat/completions" "$GATEWAY_PID"
  kill "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true

  bench_full_gateway "$mock_port"
  bench_arm gateway-full "$FULL_URL" "$FULL_PID" "${FULL_HEADERS[@]}"
  kill "$FULL_PID" 2>/dev/null || true

  bench_portkey "$mock_port" || say "Portkey arm skipped: $(cat /tmp/cleargate-bench-portkey.reason 2>/dev/null)"
  bench_litellm "$mock_port" || say "LiteLLM arm skipped: $(cat /tmp/cleargate-bench-litellm.reason 2>/dev/null)"
  python3 "$ROOT/bench/report.py" "$BENCH_OUT" > "$ROOT/bench/results/latest.md"
  cat "$ROOT/bench/results/latest.md"
}

# The gateway with every stage on: API key, tenant, OPA decision, input and output moderation,
# residency routing and the durable audit trail (H2 file database under a temporary directory).
bench_full_gateway() {
  local mock_port="$1" data opa_port gw_port key
  data="$(mktemp -d)"
  opa_port="$(free_port)"
  gw_port="$(free_port)"
  key="cg_0be0c4a7_$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  opa_start "$data/run" "$opa_port" "$ROOT/policies" || die "OPA did not start"
  GATEWAY_PREFIX=(taskset -c 0)
  CLEARGATE_DATA_DIR="$data" CLEARGATE_OPA_URL="http://127.0.0.1:$opa_port" \
  CLEARGATE_OPA_GATEWAY_TOKEN_FILE="$data/run/opa-gateway.token" \
  start_gateway_bg "$gw_port" /tmp/cleargate-bench-gw-full.log \
    -Dcleargate.backends.mock.kind=openai -Dcleargate.backends.mock.base-url="http://127.0.0.1:$mock_port/v1" \
    -Dcleargate.backends.mock.models=mock -Dquarkus.log.level=WARN -Dcleargate.routing.tenant-share=1 \
    -Dcleargate.dev.create-key=true -Dcleargate.dev.key="$key" \
    -Dquarkus.datasource.jdbc.url="jdbc:h2:file:$data/db/cleargate;WRITE_DELAY=0"
  FULL_URL="http://127.0.0.1:$gw_port/v1/chat/completions"
  FULL_PID="$GATEWAY_PID"
  FULL_HEADERS=("authorization:Bearer $key")
  # OPA decides every request: it shares the gateway's core, as the sidecar would.
  taskset -cp 0 "$(cat "$data/run/opa.pid")" >/dev/null
}

bench_portkey() {
  local mock_port="$1" dir="$ROOT/bench/.peers/portkey"
  if [[ ! -f "$dir/node_modules/@portkey-ai/gateway/build/start-server.js" ]]; then
    mkdir -p "$dir"
    (cd "$dir" && npm install --silent --no-audit --no-fund @portkey-ai/gateway@1.15.2) \
      || { echo "npm install @portkey-ai/gateway@1.15.2 failed" > /tmp/cleargate-bench-portkey.reason; return 1; }
  fi
  local port; port="$(free_port)"
  (cd "$dir/node_modules/@portkey-ai/gateway" && PORT="$port" taskset -c 0 node build/start-server.js --port="$port" --headless > /tmp/cleargate-bench-portkey.log 2>&1) &
  local pid=$!; track_pid "$pid"
  wait_http "http://127.0.0.1:$port/" 60 || { echo "Portkey did not start" > /tmp/cleargate-bench-portkey.reason; return 1; }
  local node_pid; node_pid="$(pgrep -P "$pid" node || echo "$pid")"
  bench_arm portkey "http://127.0.0.1:$port/v1/chat/completions" "$node_pid" \
    "x-portkey-provider:openai" "x-portkey-custom-host:http://127.0.0.1:$mock_port/v1" "authorization:Bearer any"
  kill "$pid" "$node_pid" 2>/dev/null || true
}

bench_litellm() {
  local mock_port="$1" venv="$ROOT/bench/.peers/litellm-venv"
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
      api_base: http://127.0.0.1:$mock_port/v1
      api_key: any
YAML
  taskset -c 0 "$venv/bin/litellm" --config /tmp/cleargate-litellm.yaml --host 127.0.0.1 --port "$port" > /tmp/cleargate-bench-litellm.log 2>&1 &
  local pid=$!; track_pid "$pid"
  wait_http "http://127.0.0.1:$port/health/liveliness" 120 || { echo "LiteLLM did not start" > /tmp/cleargate-bench-litellm.reason; return 1; }
  bench_arm litellm "http://127.0.0.1:$port/v1/chat/completions" "$pid" "authorization:Bearer any"
  kill "$pid" 2>/dev/null || true
}
