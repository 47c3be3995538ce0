# bin/cleargate test: everything the suite needs, then every test. .ci/run calls this.

cleargate_test() {
  find_java25
  command -v curl >/dev/null || die "curl is needed (apt-get install curl)"
  ensure_venv
  opa_install >/dev/null || die "could not install OPA"
  regal_install >/dev/null || die "could not install Regal"
  keycloak_install "$ROOT" >/dev/null || die "could not install Keycloak"
  ensure_postgresql
  redis_install || die "could not install redis-server (the shared rate-limit store the tests run)"
  console_browser_install "$ROOT" || die "could not install the console's browser test tools"
  say "policy checks (opa fmt, regal lint, opa test with coverage)"
  policy_checks "$ROOT/policies" 90
  say "Kubernetes manifests (kustomize render, kubeconform against the kept schemas, promtool)"
  k8s_validate
  say "PostgreSQL build of the gateway (database kind is fixed at build time; used by TwoReplicasIT)"
  build_gateway_postgres
  say "Java tests (unit and integration)"
  "$ROOT/mvnw" -B verify
  say "the engine's kernels at narrower vectors (256 and 128 bits, as on AVX2 and NEON machines)"
  local bytes
  for bytes in 32 16; do
    "$ROOT/mvnw" -B -q surefire:test -Dtest='KernelsTest,ModelParityTest,Bf16CheckpointTest,Fp8CheckpointTest' \
      -Dcleargate.jvm.args="--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:MaxVectorSize=$bytes" \
      || die "the engine's kernels failed with $((bytes * 8))-bit vectors"
  done
  build_gateway
  sdk_tests
  say "all suites passed"
}

# Debian's PostgreSQL binaries for the audit tests on a real server (the test harness runs them).
ensure_postgresql() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    say "installing PostgreSQL (Debian package)"
    command -v apt-get >/dev/null || die "PostgreSQL is needed: install Debian's postgresql package"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; } \
      || die "could not install PostgreSQL"
  fi
}

# Node.js (Debian's package when missing) and the pinned openai Node SDK, installed into the
# git-ignored src/test/node/sdk/node_modules from its package-lock.json.
ensure_node_sdk() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    say "installing Node.js (Debian packages nodejs, npm)"
    command -v apt-get >/dev/null || die "Node.js is needed: install Debian's nodejs and npm packages"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null; } \
      || die "could not install Node.js"
  fi
  local dir="$ROOT/src/test/node/sdk"
  if [[ ! -d "$dir/node_modules/openai" ]]; then
    say "installing the openai Node SDK (npm ci)"
    (cd "$dir" && npm ci --silent --no-audit --no-fund) || die "could not install the openai Node SDK"
  fi
}

# The official openai Python SDK against a packaged gateway (with OPA and the development key)
# in front of the mock upstream, then the official Node SDK against the same gateway.
sdk_tests() {
  ensure_node_sdk
  say "openai SDK compatibility tests"
  local mock_port gw_port opa_port data
  mock_port="$(free_port)"
  gw_port="$(free_port)"
  opa_port="$(free_port)"
  data="$(mktemp -d)"
  java -cp "$ROOT/target/test-classes" io.cleargate.testsupport.MockUpstream "$mock_port" 8 0 >"$data/mock.log" 2>&1 &
  track_pid $!
  wait_http "http://127.0.0.1:$mock_port/v1/models" 30 || die "mock upstream did not start"
  opa_start "$data/run" "$opa_port" "$ROOT/policies" || die "OPA did not start"
  CLEARGATE_DATA_DIR="$data" CLEARGATE_OPA_URL="http://127.0.0.1:$opa_port" \
  CLEARGATE_OPA_GATEWAY_TOKEN_FILE="$data/run/opa-gateway.token" \
  start_gateway_bg "$gw_port" "$data/gateway.log" \
    -Dcleargate.dev.create-key=true \
    -Dcleargate.backends.mock.kind=openai \
    -Dcleargate.backends.mock.base-url="http://127.0.0.1:$mock_port/v1" \
    -Dcleargate.backends.mock.models=mock \
    -Dcleargate.backends.mock.embedding-models=mock-embed \
    -Dcleargate.backends.mock.served-names.mock-embed=mock-embedder-v1 \
    -Dquarkus.datasource.jdbc.url="jdbc:h2:file:$data/db/cleargate"
  local status=0
  CLEARGATE_URL="http://127.0.0.1:$gw_port" CLEARGATE_KEY="$(cat "$data/dev-key" 2>/dev/null || echo none)" \
    "$ROOT/.venv/bin/python" -m pytest -q "$ROOT/src/test/python/sdk" || status=$?
  say "openai Node SDK compatibility tests"
  CLEARGATE_URL="http://127.0.0.1:$gw_port" CLEARGATE_KEY="$(cat "$data/dev-key" 2>/dev/null || echo none)" \
    node --test "$ROOT/src/test/node/sdk/" || status=$?
  stop_tracked
  opa_stop "$data/run"
  [[ $status -eq 0 ]] || tail -30 "$data/gateway.log" >&2
  rm -rf "$data" # its audit store and development key are this run's alone
  [[ $status -eq 0 ]] || die "SDK tests failed"
}
