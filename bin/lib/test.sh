# bin/cleargate test: everything the suite needs, then every test. .ci/run calls this.

cleargate_test() {
  find_java25
  ensure_venv
  say "Java tests (unit and integration)"
  "$ROOT/mvnw" -B verify
  build_gateway
  sdk_tests
  say "all suites passed"
}

# The official openai Python SDK against a packaged gateway in front of the mock upstream.
sdk_tests() {
  say "openai SDK compatibility tests"
  local mock_port gw_port log_dir
  mock_port="$(free_port)"
  gw_port="$(free_port)"
  log_dir="$(mktemp -d)"
  trap stop_tracked RETURN
  java -cp "$ROOT/target/test-classes" io.cleargate.testsupport.MockUpstream "$mock_port" 8 0 >"$log_dir/mock.log" 2>&1 &
  track_pid $!
  wait_http "http://127.0.0.1:$mock_port/v1/models" 30 || die "mock upstream did not start"
  start_gateway_bg "$gw_port" "$log_dir/gateway.log" \
    -Dcleargate.backends.mock.kind=openai \
    -Dcleargate.backends.mock.base-url="http://127.0.0.1:$mock_port/v1" \
    -Dcleargate.backends.mock.models=mock \
    -Dquarkus.datasource.jdbc.url="jdbc:h2:mem:sdk;DB_CLOSE_DELAY=-1"
  CLEARGATE_URL="http://127.0.0.1:$gw_port" "$ROOT/.venv/bin/python" -m pytest -q "$ROOT/src/test/python/sdk"
}
