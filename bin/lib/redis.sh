# The shared rate-limit store: Debian's redis-server (Valkey speaks the same protocol; Debian 12
# ships Redis 7.0). The tests start their own servers (io.cleargate.testsupport.RedisServer);
# bin/cleargate up starts one when CLEARGATE_RATE_LIMITS_STORE=redis names no server of its own.

# Installs redis-server from Debian's packages when missing.
redis_install() {
  command -v redis-server >/dev/null && return 0
  say "installing redis-server (Debian package, the shared rate-limit store)"
  command -v apt-get >/dev/null || { echo "redis: apt-get is needed to install redis-server" >&2; return 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server >/dev/null; } \
    || { echo "redis: apt-get install redis-server failed" >&2; return 1; }
  # Debian's package enables a system service on port 6379 where an init system runs it; ours are
  # per run, on free loopback ports, so that one is left as the system administrator set it.
}

# redis_start RUN_DIR PORT: a server on 127.0.0.1:PORT keeping nothing on disk; its pid in
# RUN_DIR/redis.pid, its log in RUN_DIR/redis.log. Waits until it answers PING.
redis_start() {
  local run="$1" port="$2" i
  mkdir -p "$run"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$run" --save '' --appendonly no --protected-mode yes \
    --daemonize no --loglevel warning >"$run/redis.log" 2>&1 &
  echo $! >"$run/redis.pid"
  for ((i = 0; i < 100; i++)); do
    [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]] && return 0
    kill -0 "$(cat "$run/redis.pid")" 2>/dev/null || break
    sleep 0.1
  done
  cat "$run/redis.log" >&2
  return 1
}

# redis_stop RUN_DIR: stops the server redis_start started there (by its pid).
redis_stop() {
  local run="$1" pid
  [[ -f "$run/redis.pid" ]] || return 0
  pid="$(cat "$run/redis.pid")"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$run/redis.pid"
}
