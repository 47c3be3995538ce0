#!/usr/bin/env bash
# Embedded engine benchmark: Java engine (f32, bf16, FP8) vs transformers (f32, bf16) vs its read-bandwidth bound (see README.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv-engine"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$root/src/test/python/requirements-engine.txt"
fi
model="${1:-$root/target/bench-engine/model}"
if [[ ! -f "$model/config.json" ]]; then
  "$venv/bin/python" "$root/src/test/python/make_engine_fixtures.py" bench "$model"
fi
command -v /usr/bin/time >/dev/null || { echo "bench/engine: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
"$venv/bin/python" "$root/bench/engine/bench.py" "$model"
# Quality cost of the optional int8 weight-only mode: perplexity on a fixed text against the stored weights.
# shellcheck source=../../bin/lib/engine.sh
source "$root/bin/lib/engine.sh"
cleargate_engine perplexity --model "$model" --text "$root/bench/engine/perplexity.txt" \
  | tee "$root/bench/results/engine-int8-perplexity-$(date +%Y%m%d-%H%M%S).json"
