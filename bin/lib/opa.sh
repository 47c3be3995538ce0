# Open Policy Agent for Cleargate: install, start/stop a loopback OPA that only the gateway may
# query and only policy administration may change, and the policy checks run by `bin/cleargate test`.
# Source this file; every function takes the repository root from CLEARGATE_ROOT (or the caller's ROOT).

OPA_VERSION="${OPA_VERSION:-v1.22.3}"
# Regal builds on the Go on these machines at this version (v0.38.x is what the module registry serves).
REGAL_VERSION="${REGAL_VERSION:-v0.38.1}"

_cg_root() {
  printf '%s' "${CLEARGATE_ROOT:-${ROOT:?set ROOT or CLEARGATE_ROOT to the repository root}}"
}

# Installs tools/bin/opa (go install; without Go, the official static release checked against its
# published SHA-256). Prints the binary's path.
opa_install() {
  local root bin
  root="$(_cg_root)"
  bin="$root/tools/bin/opa"
  if [[ -x "$bin" ]] && "$bin" version 2>/dev/null | grep -q "^Version: ${OPA_VERSION#v}$"; then
    printf '%s\n' "$bin"
    return 0
  fi
  mkdir -p "$root/tools/bin"
  if command -v go >/dev/null; then
    echo "cleargate: installing OPA $OPA_VERSION with go install (first time takes a few minutes)..." >&2
    # Static (CGO off), like OPA's own release binaries: the same file can go into the gateway image
    # (bin/lib/k8s.sh image-opa reuses it instead of building OPA a second time).
    GOBIN="$root/tools/bin" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install "github.com/open-policy-agent/opa@$OPA_VERSION" >&2 || {
      echo "cleargate: go install of OPA $OPA_VERSION failed" >&2
      return 1
    }
  else
    local base="https://github.com/open-policy-agent/opa/releases/download/$OPA_VERSION/opa_linux_amd64_static"
    local tmp
    tmp="$(mktemp -d)"
    echo "cleargate: Go not found; fetching the OPA $OPA_VERSION release binary" >&2
    curl -fsSL -o "$tmp/opa" "$base" && curl -fsSL -o "$tmp/opa.sha256" "$base.sha256" || {
      echo "cleargate: could not download OPA; install Go and retry" >&2
      rm -rf "$tmp"
      return 1
    }
    if [[ "$(sha256sum "$tmp/opa" | cut -d' ' -f1)" != "$(cut -d' ' -f1 "$tmp/opa.sha256")" ]]; then
      echo "cleargate: OPA download failed its checksum; refusing it" >&2
      rm -rf "$tmp"
      return 1
    fi
    install -m 0755 "$tmp/opa" "$bin"
    rm -rf "$tmp"
  fi
  printf '%s\n' "$bin"
}

# Installs tools/bin/regal (the Rego linter). Prints the binary's path.
regal_install() {
  local root bin
  root="$(_cg_root)"
  bin="$root/tools/bin/regal"
  # A binary built from a throwaway module does not know its own version; a marker file records it.
  if [[ -x "$bin" && "$(cat "$bin.version" 2>/dev/null)" == "$REGAL_VERSION" ]]; then
    printf '%s\n' "$bin"
    return 0
  fi
  command -v go >/dev/null || { echo "cleargate: Go is needed to install Regal" >&2; return 1; }
  mkdir -p "$root/tools/bin"
  echo "cleargate: building Regal $REGAL_VERSION (first time takes a few minutes)..." >&2
  # `go install regal@version` also asks the module registry for Regal's version list, which it does
  # not serve; building from a throwaway module that requires the exact version avoids that lookup.
  local mod
  mod="$(mktemp -d)"
  (
    cd "$mod" &&
      go mod init cleargate.local/regal-build >/dev/null 2>&1 &&
      go get "github.com/open-policy-agent/regal@$REGAL_VERSION" >/dev/null 2>&1 &&
      GOFLAGS=-buildvcs=false go build -o "$bin" github.com/open-policy-agent/regal
  ) >&2 || {
    rm -rf "$mod"
    echo "cleargate: building Regal $REGAL_VERSION failed" >&2
    return 1
  }
  rm -rf "$mod"
  printf '%s' "$REGAL_VERSION" > "$bin.version"
  printf '%s\n' "$bin"
}

# The revision of a policies directory: SHA-256 over the sorted list of its files' SHA-256 sums
# (rego and data.json), first 16 hex digits. io.cleargate.policy.PolicyTree computes the same.
policy_revision() {
  local dir="${1:?policies directory}"
  (cd "$dir" && find . -type f \( -name '*.rego' -o -name 'data.json' \) | LC_ALL=C sort | xargs -r sha256sum \
    | sha256sum | cut -c1-16)
}

_cg_token() {
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# opa_start RUN_DIR PORT [POLICIES_DIR]
# Starts OPA on 127.0.0.1:PORT serving POLICIES_DIR (default <root>/policies) with token
# authentication and the system.authz policy. Tokens: $CLEARGATE_OPA_GATEWAY_TOKEN and
# $CLEARGATE_OPA_ADMIN_TOKEN when set, else fresh random ones; either way they are written to
# RUN_DIR/opa-gateway.token and RUN_DIR/opa-admin.token (mode 600), and only their SHA-256 reaches
# OPA (RUN_DIR/opa-credentials.json). Decision logs go to RUN_DIR/opa.log (console logger, which is
# what makes OPA return decision_id). Waits until OPA answers /health.
opa_start() {
  local run="${1:?run directory}" port="${2:?port}" policies="${3:-$(_cg_root)/policies}"
  local opa
  opa="$(opa_install)" || return 1
  opa_stop "$run" # a previous OPA of this run directory would hold the old tokens
  mkdir -p "$run"
  chmod 700 "$run"
  policies="$(cd "$policies" && pwd)"
  (
    umask 077
    printf '%s' "${CLEARGATE_OPA_GATEWAY_TOKEN:-$(_cg_token)}" > "$run/opa-gateway.token"
    printf '%s' "${CLEARGATE_OPA_ADMIN_TOKEN:-$(_cg_token)}" > "$run/opa-admin.token"
    printf '{"gateway":"%s","policy_admin":"%s"}\n' \
      "$(sha256sum < "$run/opa-gateway.token" | cut -c1-64)" \
      "$(sha256sum < "$run/opa-admin.token" | cut -c1-64)" > "$run/opa-credentials.json"
    printf '{"revision":"%s"}\n' "$(policy_revision "$policies")" > "$run/opa-meta.json"
  )
  "$opa" run --server --addr "127.0.0.1:$port" \
    --authentication=token --authorization=basic \
    --set decision_logs.console=true \
    --ignore '*_test.rego' --ignore '.*' \
    --log-level info --log-format json \
    "$policies" \
    "system.credentials:$run/opa-credentials.json" \
    "cleargate.meta:$run/opa-meta.json" \
    >> "$run/opa.log" 2>&1 &
  echo $! > "$run/opa.pid"
  local i
  for i in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
      echo "cleargate: OPA listening on 127.0.0.1:$port (pid $(cat "$run/opa.pid"), log $run/opa.log)" >&2
      return 0
    fi
    kill -0 "$(cat "$run/opa.pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "cleargate: OPA did not start; see $run/opa.log" >&2
  tail -n 20 "$run/opa.log" >&2
  return 1
}

# opa_stop RUN_DIR: stops the OPA started by opa_start (by its recorded pid only).
opa_stop() {
  local run="${1:?run directory}" pid
  [[ -f "$run/opa.pid" ]] || return 0
  pid="$(cat "$run/opa.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    local i
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$run/opa.pid"
}

# The built-ins a policy may not call: network (http.send, net.lookup_ip_addr), the OPA runtime and
# its environment (opa.runtime), and what would make a decision unrepeatable (time, randomness).
OPA_DENIED_BUILTINS="http.send net.lookup_ip_addr opa.runtime time.now_ns rand.intn uuid.rfc4122 trace"
OPA_CAPABILITIES_FILE="src/main/resources/opa/capabilities.json"

# opa_capabilities_generate: rewrites $OPA_CAPABILITIES_FILE from this OPA's own capabilities minus
# OPA_DENIED_BUILTINS, with no network host allowed. The gateway compiles, tests and evaluates
# drafts with it, policy_checks and the Kubernetes bundle check policies/ against it.
opa_capabilities_generate() {
  local root opa
  root="$(_cg_root)"
  opa="$(opa_install)" || return 1
  mkdir -p "$(dirname "$root/$OPA_CAPABILITIES_FILE")"
  "$opa" capabilities --current | OPA_DENIED_BUILTINS="$OPA_DENIED_BUILTINS" python3 -c '
import json, os, sys
caps = json.load(sys.stdin)
denied = set(os.environ["OPA_DENIED_BUILTINS"].split())
caps["builtins"] = [b for b in caps["builtins"] if b["name"] not in denied]
caps["allow_net"] = []
json.dump(caps, sys.stdout, indent=1, sort_keys=True)
print()
' > "$root/$OPA_CAPABILITIES_FILE"
}

# policy_checks [POLICIES_DIR] [COVERAGE_THRESHOLD]: formatting, lint and tests with coverage.
policy_checks() {
  local root policies threshold opa regal
  root="$(_cg_root)"
  policies="${1:-$root/policies}"
  threshold="${2:-90}"
  opa="$(opa_install)" || return 1
  regal="$(regal_install)" || return 1
  echo "cleargate: opa fmt (policies must be formatted)" >&2
  "$opa" fmt --list --fail "$policies" || { echo "cleargate: run '$opa fmt -w $policies'" >&2; return 1; }
  echo "cleargate: opa check against the sandbox capabilities ($OPA_CAPABILITIES_FILE)" >&2
  "$opa" check --capabilities "$root/$OPA_CAPABILITIES_FILE" "$policies" || return 1
  echo "cleargate: regal lint" >&2
  (cd "$root" && "$regal" lint "$policies") || return 1
  echo "cleargate: opa test (coverage threshold $threshold%)" >&2
  mkdir -p "$root/target"
  if ! "$opa" test "$policies" --coverage --threshold "$threshold" --format json > "$root/target/opa-coverage.json"; then
    "$opa" test "$policies" -v >&2 || true
    echo "cleargate: policy tests failed or coverage is below $threshold% (report: target/opa-coverage.json)" >&2
    return 1
  fi
  "$opa" test "$policies"
}
