#!/usr/bin/env bash
# llama.cpp as the embedded engine's peer (not a test, not part of `bin/cleargate test`).
# llama-bench comes from bin/lib/llama.sh (built once from the llama.cpp that the llama-cpp-python sdist
# vendors, into tools/); the benchmark checkpoint is converted to GGUF with that llama.cpp's own
# convert_hf_to_gguf.py (architecture deepseek2) at the precision the Java engine reads it in.
#
#   bench/engine/llama.sh convert            GGUF f32 (from model/) and bf16 (from model-bf16/), once
#   bench/engine/llama.sh run f32|bf16       one measurement: llama-bench, then the Java engine, on the same
#                                            weights, threads, prompt and decode lengths; writes
#                                            bench/results/engine-llama-<prec>-<date>.json
#   bench/engine/llama.sh                    convert, then run f32 and bf16
#
# The checkpoints (target/bench-engine/model, model-bf16) are made as bench/engine/run.sh makes them if
# missing. Each `run` takes
# about a minute; give it the whole machine (nothing else running) so the two engines see the same one.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
model="${MODEL_DIR:-$ROOT/target/bench-engine/model}"
engine_venv="$ROOT/.venv-engine"
export THREADS="${THREADS:-$(nproc)}" PROMPT_TOKENS="${PROMPT_TOKENS:-64}" DECODE_TOKENS="${DECODE_TOKENS:-64}"
# A fresh machine has none of it: the engine venv (torch, transformers), the benchmark checkpoint and its
# bf16 copy are made here the way bench/engine/run.sh makes them (minutes, once; target/ keeps them).
if [[ ! -x "$engine_venv/bin/python" ]] || ! "$engine_venv/bin/python" -c 'import torch, transformers' 2>/dev/null; then
  python3 -m venv "$engine_venv"
  "$engine_venv/bin/pip" install -q -r "$ROOT/src/test/python/requirements-engine.txt"
fi
if [[ ! -f "$model/config.json" ]]; then
  "$engine_venv/bin/python" "$ROOT/src/test/python/make_engine_fixtures.py" bench "$model"
fi
if [[ ! -f "$model-bf16/config.json" ]]; then
  "$engine_venv/bin/python" "$ROOT/bench/engine/bench.py" "$model" --checkpoints-only >&2
fi
# shellcheck source=../../bin/lib/llama.sh
source "$ROOT/bin/lib/llama.sh"
llama="$(llama_install llama-bench)"

source_of() { [[ $1 == f32 ]] && echo "$model" || echo "$model-$1"; }
gguf_of() { echo "$model-$1.gguf"; }

convert() {
  local prec
  for prec in f32 bf16; do
    [[ -f "$(gguf_of "$prec")" ]] && continue
    [[ -f "$(source_of "$prec")/config.json" ]] || { echo "no $(source_of "$prec"): run bench/engine/run.sh" >&2; exit 1; }
    # The engine venv has torch and safetensors; gguf-py comes from the llama.cpp source tree.
    "$engine_venv/bin/python" "$ROOT/bench/engine/llama_peer.py" convert "$llama/src" "$(source_of "$prec")" \
      "$(gguf_of "$prec").tmp" "$prec" >&2
    mv "$(gguf_of "$prec").tmp" "$(gguf_of "$prec")"
  done
}

run() {
  local prec="$1" out
  [[ -f "$(gguf_of "$prec")" ]] || convert
  out="$(mktemp -d)"
  # llama-bench: pp = one batch of the prompt, tg = greedy decode; warm-up run first, 3 repetitions.
  "$llama/bin/llama-bench" -m "$(gguf_of "$prec")" -t "$THREADS" -p "$PROMPT_TOKENS" -n "$DECODE_TOKENS" \
    -r 3 -o json > "$out/llama.json"
  # shellcheck source=../../bin/lib/engine.sh
  source "$ROOT/bin/lib/engine.sh"
  CLEARGATE_ENGINE_JAVA_OPTS="-Dcleargate.engine.threads=$THREADS ${CLEARGATE_ENGINE_JAVA_OPTS:-}" \
    cleargate_engine bench --model "$(source_of "$prec")" --prompt-tokens "$PROMPT_TOKENS" \
    --decode-tokens "$DECODE_TOKENS" | tail -1 > "$out/java.json"
  mkdir -p "$ROOT/bench/results"
  python3 "$ROOT/bench/engine/llama_peer.py" report "$prec" "$out/llama.json" "$out/java.json" \
    | tee "$ROOT/bench/results/engine-llama-$prec-$(date +%Y%m%d-%H%M%S).json"
  rm -rf "$out"
}

case "${1:-all}" in
  convert) convert ;;
  run) run "${2:?precision: f32 or bf16}" ;;
  all) convert; run f32; run bf16 ;;
  *) echo "usage: bench/engine/llama.sh [convert | run f32|bf16]" >&2; exit 2 ;;
esac
