# Keycloak for development and tests: the server distribution from the Maven repository, run on
# JDK 25, bound to 127.0.0.1, with an in-memory database and the realm kept in the repository
# (k8s/keycloak/cleargate-realm.json) imported at every start.
#
# Source this file, then:
#   keycloak_install ROOT                 unpack the distribution under ROOT/tools (once)
#   keycloak_start ROOT PORT LOG_FILE     start in the background, wait until the realm answers
#                                         (prints the pid; writes it to ROOT/tools/keycloak-PORT.pid).
#                                         The management interface takes PORT+1. The first start
#                                         also re-augments the server (a minute or two, once).
#   keycloak_stop ROOT PORT               stop the server started by keycloak_start on PORT
#   keycloak_home ROOT                    print the installation directory
#
# Environment: KEYCLOAK_VERSION (default below), KEYCLOAK_ADMIN_PASSWORD (bootstrap admin of the
# master realm; default "admin", acceptable because the server only listens on loopback).

KEYCLOAK_VERSION="${KEYCLOAK_VERSION:-26.5.6}"

keycloak_home() {
  echo "$1/tools/keycloak-$KEYCLOAK_VERSION"
}

keycloak_install() {
  local root="$1" home
  home="$(keycloak_home "$root")"
  [[ -x "$home/bin/kc.sh" ]] && return 0
  mkdir -p "$root/tools"
  echo "keycloak: fetching keycloak-quarkus-dist $KEYCLOAK_VERSION (about 165 MB, once)..." >&2
  (cd "$root" && ./mvnw -q -B dependency:copy \
      -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
      -DoutputDirectory=tools/) || { echo "keycloak: download failed" >&2; return 1; }
  local zip="$root/tools/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
  # Unpack next to the final place and rename, so an interrupted unzip never looks installed.
  rm -rf "$home.partial" && mkdir -p "$home.partial"
  if command -v unzip >/dev/null; then
    unzip -q "$zip" -d "$home.partial"
  else
    (cd "$home.partial" && "${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/jar" xf "$zip")
  fi || { echo "keycloak: cannot unpack $zip" >&2; return 1; }
  local inner
  inner="$(find "$home.partial" -mindepth 1 -maxdepth 1 -type d | head -n1)"
  mv "$inner" "$home" && rm -rf "$home.partial" "$zip"
  chmod +x "$home"/bin/*.sh
}

keycloak_start() {
  local root="$1" port="$2" log="$3" home
  home="$(keycloak_home "$root")"
  keycloak_install "$root" || return 1
  source "$root/bin/lib/java.sh"
  find_java25
  mkdir -p "$home/data/import"
  cp "$root/k8s/keycloak/cleargate-realm.json" "$home/data/import/cleargate-realm.json"
  local mgmt_port=$((port + 1))
  # setsid makes kc.sh a process-group leader, so stopping the group also stops its java child.
  # The subshell has no job control, so setsid does not fork and $! is the group's leader.
  (
    export KC_BOOTSTRAP_ADMIN_USERNAME=admin
    export KC_BOOTSTRAP_ADMIN_PASSWORD="${KEYCLOAK_ADMIN_PASSWORD:-admin}"
    # JBoss Threads resets thread locals through java.lang internals, which JDK 24+ closes by default.
    export JAVA_OPTS_APPEND="${JAVA_OPTS_APPEND:-} --add-opens=java.base/java.lang=ALL-UNNAMED"
    set +m
    setsid "$home/bin/kc.sh" start-dev \
        --http-host=127.0.0.1 --http-port="$port" \
        --http-management-port="$mgmt_port" \
        --db=dev-mem --import-realm --cache=local \
        </dev/null >"$log" 2>&1 &
    echo $! >"$root/tools/keycloak-$port.pid"
  )
  local pid
  pid="$(cat "$root/tools/keycloak-$port.pid")"
  local url="http://127.0.0.1:$port/realms/cleargate/.well-known/openid-configuration"
  for _ in $(seq 1 ${KEYCLOAK_START_TIMEOUT_HALF_SECONDS:-600}); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then
      echo "$pid"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "keycloak: exited during start; last lines of $log:" >&2
      tail -n 30 "$log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "keycloak: not ready in time; see $log" >&2
  keycloak_stop "$root" "$port"
  return 1
}

keycloak_stop() {
  local root="$1" port="$2" pidfile
  pidfile="$root/tools/keycloak-$port.pid"
  [[ -f "$pidfile" ]] || return 0
  local pid
  pid="$(cat "$pidfile")"
  # kc.sh runs java as a child: signal the whole process group that setsid created.
  if kill -0 -- "-$pid" 2>/dev/null; then
    kill -- "-$pid" 2>/dev/null
    for _ in $(seq 1 60); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 -- "-$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
}
