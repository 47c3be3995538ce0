# Audit trail commands for bin/cleargate (sourced).
#   cleargate audit export --out FILE [--tenant T] [--from TIME] [--to TIME] [--csv]
#   cleargate audit verify FILE [--pubkey HEX]
# Talks to a running gateway at CLEARGATE_URL with the key in CLEARGATE_KEY (defaults: the local
# development gateway and ${CLEARGATE_DATA_DIR:-data}/dev-key).

audit_export() {
  local out="" tenant="" from="" to="" format="jsonl"
  while [ $# -gt 0 ]; do
    case "$1" in
      --out) out="$2"; shift 2 ;;
      --tenant) tenant="$2"; shift 2 ;;
      --from) from="$2"; shift 2 ;;
      --to) to="$2"; shift 2 ;;
      --csv) format="csv"; shift ;;
      *) echo "audit export: unknown option $1" >&2; return 2 ;;
    esac
  done
  if [ -z "$out" ]; then
    echo "usage: cleargate audit export --out FILE [--tenant T] [--from TIME] [--to TIME] [--csv]" >&2
    return 2
  fi
  local url="${CLEARGATE_URL:-http://127.0.0.1:8080}"
  local key="${CLEARGATE_KEY:-}"
  if [ -z "$key" ]; then
    local key_file="${CLEARGATE_DATA_DIR:-data}/dev-key"
    if [ ! -r "$key_file" ]; then
      echo "audit export: set CLEARGATE_KEY or create $key_file" >&2
      return 2
    fi
    key="$(tr -d '\n' < "$key_file")"
  fi
  local tmp="$out.partial"
  # The key goes through a header file on stdin, never on the command line (ps shows arguments).
  local status
  status=$(printf 'Authorization: Bearer %s\n' "$key" | curl -sS -o "$tmp" -w '%{http_code}' -H @- -G \
      --data-urlencode "format=$format" \
      ${tenant:+--data-urlencode "tenant=$tenant"} \
      ${from:+--data-urlencode "from=$from"} \
      ${to:+--data-urlencode "to=$to"} \
      "$url/audit/export") || { rm -f "$tmp"; echo "audit export: cannot reach $url" >&2; return 1; }
  if [ "$status" != "200" ]; then
    echo "audit export: HTTP $status: $(cat "$tmp")" >&2
    rm -f "$tmp"
    return 1
  fi
  mv "$tmp" "$out"
  echo "wrote $out ($(wc -l < "$out") lines)"
}

audit_verify() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  python3 "$root/audit/verify" "$@"
}

# Dispatches "cleargate audit SUBCOMMAND ...".
audit_command() {
  local sub="${1:-}"
  shift || true
  case "$sub" in
    export) audit_export "$@" ;;
    verify) audit_verify "$@" ;;
    *) echo "usage: cleargate audit export|verify ..." >&2; return 2 ;;
  esac
}
