# bin/cleargate up: OPA and the gateway on the embedded defaults (H2 under the data directory,
# the embedded engine with the bundled model), in the foreground until Ctrl-C.

cleargate_up() {
  find_java25
  command -v curl >/dev/null || die "curl is needed (apt-get install curl)"
  opa_install >/dev/null || die "could not install OPA"
  build_gateway
  local port="${CLEARGATE_PORT:-8080}"
  export CLEARGATE_DATA_DIR="${CLEARGATE_DATA_DIR:-$ROOT/data}"
  mkdir -p "$CLEARGATE_DATA_DIR"
  CLEARGATE_DATA_DIR="$(cd "$CLEARGATE_DATA_DIR" && pwd)"
  local run="$CLEARGATE_DATA_DIR/run" opa_port="${CLEARGATE_OPA_PORT:-$(free_port)}"
  trap 'stop_tracked; opa_stop "$run"; redis_stop "$run/redis"' EXIT
  opa_start "$run" "$opa_port" "$ROOT/policies" || die "OPA did not start"
  # Rate limits shared through Redis: a local server unless CLEARGATE_RATE_LIMITS_REDIS_URL names one.
  if [[ "${CLEARGATE_RATE_LIMITS_STORE:-none}" == redis && -z "${CLEARGATE_RATE_LIMITS_REDIS_URL:-}" ]]; then
    redis_install || die "could not install redis-server"
    local redis_port
    redis_port="$(free_port)"
    redis_start "$run/redis" "$redis_port" || die "redis-server did not start"
    export CLEARGATE_RATE_LIMITS_REDIS_URL="redis://127.0.0.1:$redis_port"
    say "rate limits are counted in redis-server on 127.0.0.1:$redis_port"
  fi
  export CLEARGATE_OPA_URL="http://127.0.0.1:$opa_port"
  export CLEARGATE_OPA_GATEWAY_TOKEN_FILE="$run/opa-gateway.token"
  export CLEARGATE_OPA_ADMIN_TOKEN_FILE="$run/opa-admin.token"
  export CLEARGATE_POLICIES_DIR="$ROOT/policies" CLEARGATE_OPA_BIN="$ROOT/tools/bin/opa"
  # Keycloak tokens only when a realm is named; otherwise bearer tokens are refused as not configured.
  [[ -n "${CLEARGATE_OIDC_URL:-}" ]] || export CLEARGATE_TOKEN_AUTHENTICATION=false
  say "starting the gateway on http://127.0.0.1:$port (data in $CLEARGATE_DATA_DIR)"
  java "${GATEWAY_JVM_OPTS[@]}" \
    -Dquarkus.http.port="$port" ${CLEARGATE_UP_JAVA_OPTS:-} -Dcleargate.dev.create-key=true \
    -jar "$ROOT/target/quarkus-app/quarkus-run.jar" > "$CLEARGATE_DATA_DIR/gateway.log" 2>&1 &
  GATEWAY_PID=$!
  track_pid "$GATEWAY_PID"
  if ! wait_http "http://127.0.0.1:$port/q/health/live" 120; then
    tail -40 "$CLEARGATE_DATA_DIR/gateway.log" >&2
    die "the gateway did not start (log: $CLEARGATE_DATA_DIR/gateway.log)"
  fi
  print_how_to_call "$port"
  wait "$GATEWAY_PID"
}

print_how_to_call() {
  local port="$1" key_file="$CLEARGATE_DATA_DIR/dev-key" key="<your API key>"
  [[ -s "$key_file" ]] && key="$(cat "$key_file")"
  cat >&2 <<MSG

  Cleargate is ready on http://127.0.0.1:$port  (log: $CLEARGATE_DATA_DIR/gateway.log)
  Development API key (tenant "dev", every role; also in $key_file):
    $key

  curl http://127.0.0.1:$port/v1/chat/completions -H "Authorization: Bearer \$(cat $key_file)" \\
       -H 'content-type: application/json' \\
       -d '{"model":"cleargate-tiny-moe","max_tokens":16,"messages":[{"role":"user","content":"Hello"}]}'

  Web console: http://127.0.0.1:$port/console  (sign in with the key above)

  Python: OpenAI(base_url="http://127.0.0.1:$port/v1", api_key=open("$key_file").read().strip())
  Stop with Ctrl-C.
MSG
}
