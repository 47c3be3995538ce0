# Shared helpers for bin/cleargate: logging, ports, building, the Python venv, process cleanup.

say() { printf '\033[1m[cleargate]\033[0m %s\n' "$*" >&2; }
die() { printf '[cleargate] error: %s\n' "$*" >&2; exit 1; }

# A free TCP port on the loopback interface.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until URL answers (any HTTP status) or fails after SECONDS.
wait_http() {
  local url="$1" seconds="${2:-60}" i
  for ((i = 0; i < seconds * 5; i++)); do
    if curl -s -o /dev/null "$url"; then return 0; fi
    sleep 0.2
  done
  return 1
}

# Builds target/quarkus-app unless it is newer than every source file ("force" rebuilds).
build_gateway() {
  local jar="$ROOT/target/quarkus-app/quarkus-run.jar"
  if [[ "${1:-}" != force && -f "$jar" ]] && [[ -z "$(find "$ROOT/src/main" "$ROOT/pom.xml" -newer "$jar" -print -quit)" ]]; then
    return 0
  fi
  say "building the gateway (first time takes a few minutes)"
  "$ROOT/mvnw" -B -q -DskipTests package
}

# Builds target/quarkus-app-pg, the gateway for PostgreSQL (the database kind is fixed at build
# time), unless it is newer than every source file ("force" rebuilds). TwoReplicasIT runs it.
# Leaves target/quarkus-app (H2) as it is.
build_gateway_postgres() {
  local jar="$ROOT/target/quarkus-app-pg/quarkus-run.jar"
  if [[ "${1:-}" != force && -f "$jar" ]] && [[ -z "$(find "$ROOT/src/main" "$ROOT/pom.xml" -newer "$jar" -print -quit)" ]]; then
    return 0
  fi
  say "building the gateway for PostgreSQL (target/quarkus-app-pg)"
  "$ROOT/mvnw" -B -q -DskipTests package -Dquarkus.datasource.db-kind=postgresql \
    -Dquarkus.package.output-directory=quarkus-app-pg
}

# The project venv with the Python packages the suite and the tools need.
ensure_venv() {
  local venv="$ROOT/.venv" req="$ROOT/src/test/python/requirements.txt"
  if [[ ! -x "$venv/bin/python" ]]; then
    say "creating Python venv in .venv"
    python3 -m venv "$venv"
  fi
  local stamp="$venv/.requirements.sha"
  local want
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    say "installing Python test packages"
    "$venv/bin/pip" install -q -r "$req"
    echo "$want" > "$stamp"
  fi
}

# Background processes started by this script, killed on exit.
CLEARGATE_PIDS=()
track_pid() { CLEARGATE_PIDS+=("$1"); }
stop_tracked() {
  local pid
  for pid in "${CLEARGATE_PIDS[@]:-}"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  done
  for pid in "${CLEARGATE_PIDS[@]:-}"; do
    [[ -n "$pid" ]] && wait "$pid" 2>/dev/null || true
  done
}

# Runs the packaged gateway (GATEWAY_APP, default target/quarkus-app) in the background with extra
# -D properties; sets GATEWAY_PID.
start_gateway_bg() {
  local port="$1" log="$2"; shift 2
  ${GATEWAY_PREFIX[@]+"${GATEWAY_PREFIX[@]}"} java "${GATEWAY_JVM_OPTS[@]}" \
    -Dquarkus.http.port="$port" "$@" -jar "${GATEWAY_APP:-$ROOT/target/quarkus-app}/quarkus-run.jar" >"$log" 2>&1 &
  GATEWAY_PID=$!
  track_pid "$GATEWAY_PID"
  if ! wait_http "http://127.0.0.1:$port/q/health/live" 120; then
    tail -50 "$log" >&2
    die "the gateway did not start (log: $log)"
  fi
}
