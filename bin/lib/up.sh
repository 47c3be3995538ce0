# bin/cleargate up: the gateway on the embedded defaults.

cleargate_up() {
  find_java25
  build_gateway
  local port="${CLEARGATE_PORT:-8080}"
  export CLEARGATE_DATA_DIR="${CLEARGATE_DATA_DIR:-$ROOT/data}"
  mkdir -p "$CLEARGATE_DATA_DIR"
  trap stop_tracked EXIT
  local props=(-Dquarkus.http.port="$port")
  say "Cleargate is starting on http://127.0.0.1:$port (data in $CLEARGATE_DATA_DIR)"
  java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED "${props[@]}" \
    -jar "$ROOT/target/quarkus-app/quarkus-run.jar" &
  GATEWAY_PID=$!
  track_pid "$GATEWAY_PID"
  if wait_http "http://127.0.0.1:$port/q/health/live" 120; then
    say "ready: http://127.0.0.1:$port/v1  (models: curl http://127.0.0.1:$port/v1/models)"
  fi
  wait "$GATEWAY_PID"
}
